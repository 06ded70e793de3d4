//! The synchronous (iterative) server: one thread; blocking accept → read the
//! whole request → respond → next connection. While it serves one client,
//! every other client waits in the listen queue; that is this model's lesson.
//! `--read-timeout` bounds how long one idle client can hold the others up.

use std::io;

use anyhow::Context;

use crate::blocking::{accept_failed, serve_connection, wait_for_client, ConnectionConfig};
use crate::signals::{shutdown_requested, Signals};
use crate::totals::Totals;
use crate::{bind_listener, print_listening, print_totals, Model, ServerArgs};

pub fn run(args: &ServerArgs) -> anyhow::Result<()> {
    let tls = crate::tls::setup(args)?;
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
        tls.as_ref(),
    );
    let config = ConnectionConfig::from_args(args, args.keep_alive, "sync-server", tls.as_ref());
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
    // Removes a --tls certificate file, now that no client can need it.
    drop(tls);
    Ok(())
}
