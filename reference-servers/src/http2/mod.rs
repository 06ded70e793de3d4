//! The HTTP/2 test target: a small server on the `h2` crate and one
//! current-thread tokio runtime, for testing HTTP/2 clients. It is not a
//! fourth classic model (those stay HTTP/1.1 and teach concurrency); it
//! shares with them what a client compares: the routes ([`http::plan`]),
//! the limits (`--max-body` → 413, `--max-buffered` → 503 for `/echo`,
//! `--read-timeout`), the `listening on` line and the totals line.
//!
//! The plain listener speaks h2c with prior knowledge only (no HTTP/1.1
//! Upgrade); with `--tls`/`--tls-cert` it speaks h2 over TLS, ALPN `h2`
//! only. Misbehaviour on demand: `--max-concurrent-streams`,
//! `--goaway-after`, `--reset-path` (see [`ServerArgs`]).
//!
//! Totals: `connections` are accepted TCP connections; `requests` are
//! responses whose last frame (END_STREAM) was handed to the connection;
//! `body_bytes` are the request-body bytes of those. Streams reset by
//! either side are not requests.
//!
//! [`http::plan`]: crate::http::plan

mod stream;

use std::cell::Cell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use h2::Reason;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinSet, LocalSet};
use tokio::time::{sleep_until, timeout, timeout_at, Instant};

use crate::http::{BodyBudget, MAX_HEAD_BYTES, SHUTDOWN_GRACE};
use crate::log::Log;
use crate::signals::{shutdown_requested, Signals};
use crate::totals::Totals;
use crate::{bind_listener, print_listening, print_totals, Model, ServerArgs};

/// SETTINGS_MAX_CONCURRENT_STREAMS without `--max-concurrent-streams`:
/// h2 announces no limit at all, and a test target must not let one client
/// open unbounded streams; 256 is far above what any client here asks for.
pub const DEFAULT_MAX_CONCURRENT_STREAMS: u32 = 256;

/// Receive window of each stream. The protocol's 64 KiB default makes a
/// 1 MiB `/echo` upload wait for 16 WINDOW_UPDATE round trips; 4 MiB lets
/// it flow at once, and bodies are discarded or bounded by `--max-buffered`,
/// so the window is not memory the server commits to.
const STREAM_WINDOW: u32 = 4 << 20;

/// Receive window of a whole connection: room for four streams' windows, so
/// parallel uploads on one connection do not serialize on it.
const CONNECTION_WINDOW: u32 = 16 << 20;

/// After SIGINT/SIGTERM, how long connections get to finish before the
/// totals are printed anyway: the grace every model gives a request still
/// arriving, plus a second to send its response (as the selector's drain).
const DRAIN_LIMIT: Duration = SHUTDOWN_GRACE.saturating_add(Duration::from_secs(1));

/// How often the accept loop looks for SIGINT/SIGTERM.
const SIGNAL_CHECK: Duration = Duration::from_millis(50);

/// Pause after a failed accept (EMFILE and the like), so that a full fd
/// table does not spin the loop.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// What every connection and stream needs to know, fixed at start-up.
struct Config {
    read_timeout: Duration,
    max_body: u64,
    budget: &'static BodyBudget,
    goaway_after: Option<u64>,
    reset_path: Option<String>,
    builder: h2::server::Builder,
    tls: Option<tokio_rustls::TlsAcceptor>,
    log: Log,
    totals: Totals,
    /// Flips to true on SIGINT/SIGTERM.
    stopping: watch::Receiver<bool>,
}

/// Runs the HTTP/2 test target until SIGINT or SIGTERM; prints the
/// listening line once ready and the totals line at the end.
pub fn run(args: &ServerArgs) -> anyhow::Result<()> {
    let tls = crate::tls::setup(args)?;
    let listener = bind_listener(args.addr)?;
    listener
        .set_nonblocking(true)
        .context("cannot make the listener non-blocking")?;
    let addr = listener
        .local_addr()
        .context("cannot read the bound address")?;
    // Installed for the flag only; its self-pipe has no reader here.
    let _signals = Signals::install(false)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    let (stop, stopping) = watch::channel(false);
    let config = Rc::new(Config {
        read_timeout: args.read_timeout,
        max_body: args.max_body,
        budget: BodyBudget::leak(args.max_buffered),
        goaway_after: args.goaway_after,
        reset_path: args.reset_path.clone(),
        builder: builder(args),
        tls: tls.as_ref().map(|tls| {
            // The shared config offers http/1.1; this server speaks h2 only,
            // so a client that cannot is refused in the handshake.
            let mut config = (*tls.config).clone();
            config.alpn_protocols = vec![b"h2".to_vec()];
            tokio_rustls::TlsAcceptor::from(Arc::new(config))
        }),
        log: Log::new("h2-server"),
        totals: Totals::new(),
        stopping,
    });
    LocalSet::new().block_on(&runtime, async {
        let listener =
            TcpListener::from_std(listener).context("cannot register the listener with tokio")?;
        let mut signal_check = tokio::time::interval(SIGNAL_CHECK);
        signal_check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        print_listening(addr, tls.as_ref());
        let mut connections = JoinSet::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((tcp, peer)) => {
                        config.totals.add_connection();
                        connections.spawn_local(connection(tcp, peer, Rc::clone(&config)));
                    }
                    Err(err) => {
                        config.log.connection_error("accept", &err);
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                    }
                },
                () = signalled(&mut signal_check) => break,
                // Reaps finished connections, so the set holds live ones only.
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
        drop(listener);
        // No receiver can be gone while `config` holds one.
        let _ = stop.send(true);
        let drained = timeout(DRAIN_LIMIT, async {
            while connections.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            config.log.line(format_args!(
                "{} connections still open after {DRAIN_LIMIT:?}; closing them",
                connections.len()
            ));
        }
        anyhow::Ok(())
    })?;
    config.log.finish();
    print_totals(&config.totals.json_line(Model::H2));
    // Removes a --tls certificate file, now that no client can need it.
    drop(tls);
    Ok(())
}

/// The HTTP/2 settings this server announces.
fn builder(args: &ServerArgs) -> h2::server::Builder {
    let mut builder = h2::server::Builder::new();
    builder
        .initial_window_size(STREAM_WINDOW)
        .initial_connection_window_size(CONNECTION_WINDOW)
        .max_concurrent_streams(
            args.max_concurrent_streams
                .unwrap_or(DEFAULT_MAX_CONCURRENT_STREAMS),
        )
        // The classic models' bound on a request head (they answer 431);
        // h2 answers a larger header list with 431 too.
        .max_header_list_size(MAX_HEAD_BYTES as u32);
    builder
}

/// Returns once SIGINT or SIGTERM has arrived. The flag [`Signals`] sets is
/// looked at every [`SIGNAL_CHECK`]: watching its self-pipe through tokio
/// would need `unsafe` (`AsyncFd::register`) or a second set of handlers
/// (tokio's `signal` feature), for a shutdown that may well take 50 ms.
async fn signalled(check: &mut tokio::time::Interval) {
    while !shutdown_requested() {
        check.tick().await;
    }
}

/// One TCP connection: TLS (if any) and the HTTP/2 preface within one
/// `--read-timeout`, then streams until the connection closes.
async fn connection(tcp: TcpStream, peer: SocketAddr, config: Rc<Config>) {
    // Small frames (headers, WINDOW_UPDATE, the last DATA) must not wait for
    // Nagle behind an unacknowledged segment.
    let _ = tcp.set_nodelay(true);
    let deadline = Instant::now() + config.read_timeout;
    let served = match &config.tls {
        None => serve_h2(tcp, deadline, &config).await,
        Some(acceptor) => match timeout_at(deadline, acceptor.accept(tcp)).await {
            Err(_) => Err("no TLS handshake within --read-timeout".to_string()),
            Ok(Err(err)) => Err(format!("TLS handshake failed: {err}")),
            Ok(Ok(tls)) => {
                crate::tls::count_handshake(tls.get_ref().1, &config.totals);
                serve_h2(tls, deadline, &config).await
            }
        },
    };
    if let Err(why) = served {
        config
            .log
            .line(format_args!("dropping the connection from {peer}: {why}"));
    }
}

/// How a connection is shutting down, once it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Closing {
    /// Serving as usual.
    No,
    /// Graceful GOAWAY sent (`--goaway-after` or SIGINT/SIGTERM): open
    /// streams finish.
    Gracefully,
    /// Idle for `--read-timeout`: GOAWAY sent; the connection must be gone
    /// by this instant, whether or not the peer reads it.
    By(Instant),
}

/// Open streams of one connection, and since when none has been open.
struct Activity {
    open: Cell<usize>,
    idle_since: Cell<Instant>,
}

/// Held by a stream's task while it runs: the connection is not idle.
struct OpenStream(Rc<Activity>);

impl OpenStream {
    fn new(activity: &Rc<Activity>) -> OpenStream {
        activity.open.set(activity.open.get() + 1);
        OpenStream(Rc::clone(activity))
    }
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        let open = self.0.open.get() - 1;
        self.0.open.set(open);
        if open == 0 {
            self.0.idle_since.set(Instant::now());
        }
    }
}

/// The HTTP/2 connection over `io`; the preface must arrive by `deadline`.
async fn serve_h2<T>(io: T, deadline: Instant, config: &Rc<Config>) -> Result<(), String>
where
    T: AsyncRead + AsyncWrite + Unpin,
{
    let mut conn = match timeout_at(deadline, config.builder.handshake::<T, Bytes>(io)).await {
        Err(_) => return Err("no HTTP/2 preface within --read-timeout".into()),
        Ok(Err(err)) => return Err(format!("not an HTTP/2 client: {err}")),
        Ok(Ok(conn)) => conn,
    };
    let activity = Rc::new(Activity {
        open: Cell::new(0),
        idle_since: Cell::new(Instant::now()),
    });
    let mut stopping = config.stopping.clone();
    let mut accepted = 0u64;
    let mut closing = Closing::No;
    loop {
        let idle_check = match closing {
            Closing::By(by) => by,
            _ => activity.idle_since.get() + config.read_timeout,
        };
        tokio::select! {
            next = conn.accept() => match next {
                None => return Ok(()),
                Some(Err(err)) => return ended(err),
                Some(Ok((request, respond))) => {
                    accepted += 1;
                    let open = OpenStream::new(&activity);
                    tokio::task::spawn_local(stream::serve(request, respond, Rc::clone(config), open));
                    if config.goaway_after == Some(accepted) && closing == Closing::No {
                        conn.graceful_shutdown();
                        closing = Closing::Gracefully;
                    }
                }
            },
            () = sleep_until(idle_check) => match closing {
                Closing::By(_) => return Err("the peer did not read the GOAWAY within --read-timeout".into()),
                // Streams still open: not idle; look again later.
                _ if activity.open.get() > 0 => activity.idle_since.set(Instant::now()),
                _ if activity.idle_since.get() + config.read_timeout > Instant::now() => {}
                // Abrupt, not graceful: a graceful GOAWAY waits for a PING
                // the silent peer may never answer. No stream is open, so
                // nothing is cut short.
                _ => {
                    conn.abrupt_shutdown(Reason::NO_ERROR);
                    closing = Closing::By(Instant::now() + config.read_timeout);
                }
            },
            Ok(()) = stopping.changed(), if closing == Closing::No => {
                conn.graceful_shutdown();
                closing = Closing::Gracefully;
            }
        }
    }
}

/// A connection error: an I/O error or a protocol error the peer caused is
/// worth a log line; a GOAWAY this server sent is the normal end.
fn ended(err: h2::Error) -> Result<(), String> {
    if err.is_go_away() && !err.is_remote() && err.reason() == Some(Reason::NO_ERROR) {
        return Ok(());
    }
    Err(format!("HTTP/2 connection error: {err}"))
}
