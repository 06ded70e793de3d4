//! The synchronous (iterative) server: one thread; blocking accept → read the
//! whole request → respond → next connection. While it serves one client,
//! every other client waits in the listen queue; that is this model's lesson.
//! `--read-timeout` bounds how long one idle client can hold the others up.

use std::io;
use std::net::TcpListener;
use std::time::Duration;

use anyhow::Context;
use nix::poll::{PollFd, PollFlags, PollTimeout};

use crate::blocking::{serve_connection, ConnectionConfig};
use crate::signals::{shutdown_requested, Signals};
use crate::totals::Totals;
use crate::{bind_listener, print_listening, print_totals, Model, ServerArgs};

pub fn run(args: &ServerArgs) -> anyhow::Result<()> {
    let listener = bind_listener(args.addr)?;
    // Non-blocking only so that accept can never hang after poll: a connection
    // reset while queued would otherwise block accept until the next client.
    listener
        .set_nonblocking(true)
        .context("cannot make the listener non-blocking")?;
    let signals = Signals::install(false)?;
    let totals = Totals::new();
    print_listening(
        listener
            .local_addr()
            .context("cannot read the bound address")?,
    );
    let config = ConnectionConfig::from_args(args, args.keep_alive, "sync-server");
    while !shutdown_requested() {
        match listener.accept() {
            Ok((stream, peer)) => {
                totals.add_connection();
                serve_connection(stream, peer, &config, &totals);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                wait_for_client(&listener, &signals)?;
            }
            Err(e) => accept_failed("sync-server", &e)?,
        }
    }
    config.log.finish();
    print_totals(&totals.json_line(Model::Sync));
    Ok(())
}

/// Blocks until a client is waiting or a signal arrives.
pub(crate) fn wait_for_client(listener: &TcpListener, signals: &Signals) -> anyhow::Result<()> {
    use std::os::fd::AsFd;
    let mut fds = [
        PollFd::new(listener.as_fd(), PollFlags::POLLIN),
        PollFd::new(signals.wake_fd(), PollFlags::POLLIN),
    ];
    match nix::poll::poll(&mut fds, PollTimeout::NONE) {
        Ok(_) | Err(nix::errno::Errno::EINTR) => {
            signals.drain();
            Ok(())
        }
        Err(e) => Err(e).context("cannot wait for connections (poll)"),
    }
}

/// Decides whether an accept error is worth stopping for. Aborted handshakes
/// and resource shortages are the clients' or the moment's, not fatal.
pub(crate) fn accept_failed(log_name: &str, error: &io::Error) -> anyhow::Result<()> {
    use nix::errno::Errno;
    match error.raw_os_error().map(Errno::from_raw) {
        Some(Errno::EINTR | Errno::ECONNABORTED | Errno::EPROTO) => Ok(()),
        Some(Errno::EMFILE | Errno::ENFILE | Errno::ENOBUFS | Errno::ENOMEM) => {
            eprintln!("{log_name}: cannot accept: {error}; retrying shortly");
            // Without a pause the listener stays readable and this spins.
            std::thread::sleep(Duration::from_millis(50));
            Ok(())
        }
        _ if error.kind() == io::ErrorKind::Interrupted => Ok(()),
        _ => Err(anyhow::Error::new(io::Error::new(
            error.kind(),
            error.to_string(),
        )))
        .context("cannot accept connections"),
    }
}
