//! Three reference HTTP/1.1 servers, one per classic concurrency model, plus
//! the HTTP/2 test target.
//!
//! * [`Model::Sync`]: one thread, one connection at a time (blocking I/O).
//! * [`Model::Selector`]: one thread, non-blocking sockets on a `mio` event loop.
//! * [`Model::Fork`]: a child process per connection, reaped on SIGCHLD.
//!
//! All three share [`http`] (request framing over `httparse`, routes, responses)
//! and differ only in how they wait for sockets. `bench-client serve MODEL`
//! calls [`serve`] directly, so the benchmark binary is self-contained.
//!
//! [`Model::H2`] is not a fourth model but a target for testing HTTP/2
//! clients ([`http2`]): the `h2` crate on one current-thread tokio runtime,
//! the same routes (through [`http::plan`]), the same listening and totals
//! lines, and flags that make it misbehave on purpose. The three classic
//! models stay HTTP/1.1 only.
//!
//! ```no_run
//! use clap::Parser;
//! use reference_servers::{serve, Model, ServerArgs};
//!
//! #[derive(Parser)]
//! struct Cli {
//!     #[command(flatten)]
//!     server: ServerArgs,
//! }
//!
//! let cli = Cli::parse_from(["demo", "--addr", "127.0.0.1:0"]);
//! serve(Model::Sync, &cli.server)?; // until SIGINT or SIGTERM
//! # Ok::<(), anyhow::Error>(())
//! ```

pub mod blocking;
pub mod cli;
pub mod fork;
pub mod http;
pub mod http2;
pub mod log;
pub mod selector;
pub mod signals;
pub mod sync;
pub mod timers;
pub mod tls;
pub mod totals;
pub mod wire;

use std::io::Write;
use std::net::{SocketAddr, TcpListener};

use anyhow::Context;
use nix::sys::socket::{self, Backlog};

pub use cli::{Model, ServerArgs};

/// Listen queue length: deep enough that a burst of a few hundred connects
/// waits in the kernel instead of being dropped and retried a second later.
const LISTEN_BACKLOG: i32 = 1024;

/// Runs `model` until SIGINT or SIGTERM: prints `listening on http://IP:PORT`
/// (or `https://IP:PORT cert=PATH` with `--tls`/`--tls-cert`) once ready,
/// then one JSON totals line on shutdown.
pub fn serve(model: Model, args: &ServerArgs) -> anyhow::Result<()> {
    args.check_for(model).map_err(anyhow::Error::msg)?;
    signals::ignore_sigpipe().context("cannot ignore SIGPIPE")?;
    match model {
        Model::Sync => sync::run(args),
        Model::Selector => selector::run(args),
        Model::Fork => fork::run(args),
        Model::H2 => http2::run(args),
    }
}

/// Raises the soft RLIMIT_NOFILE to the hard limit and returns the new soft
/// limit (the old one if raising fails, which only costs capacity).
pub fn raise_nofile_limit() -> u64 {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((soft, hard)) if soft < hard => match setrlimit(Resource::RLIMIT_NOFILE, hard, hard) {
            Ok(()) => hard,
            Err(_) => soft,
        },
        Ok((soft, _)) => soft,
        Err(_) => 0,
    }
}

/// Prints the [`ListeningLine`](wire::listening::ListeningLine) that
/// scripts, tests and bench-client wait for (`https://` with `cert=PATH`
/// for a TLS server), and flushes it.
pub fn print_listening(addr: SocketAddr, tls: Option<&tls::TlsServer>) {
    use wire::listening::ListeningLine;
    let line = match tls {
        None => ListeningLine::http(addr),
        Some(tls) => ListeningLine::https(addr, tls.cert_path()),
    };
    let mut out = std::io::stdout().lock();
    // A closed stdout must not stop the server; the line is only a courtesy.
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Prints the totals line on shutdown, and flushes it.
pub fn print_totals(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Binds a blocking TCP listener (SO_REUSEADDR, close-on-exec, as std does)
/// with a deeper listen queue than std's 128.
pub fn bind_listener(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    let listener = TcpListener::bind(addr).with_context(|| {
        format!("cannot listen on {addr}: is another server using it? try --addr 127.0.0.1:0")
    })?;
    // Linux lets listen(2) on a listening socket change its queue length.
    let backlog = Backlog::new(LISTEN_BACKLOG).unwrap_or(Backlog::MAXCONN);
    socket::listen(&listener, backlog)
        .with_context(|| format!("cannot set the listen queue on {addr}"))?;
    Ok(listener)
}
