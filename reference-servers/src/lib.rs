//! Three reference HTTP/1.1 servers, one per classic concurrency model.
//!
//! * [`Model::Sync`]: one thread, one connection at a time (blocking I/O).
//! * [`Model::Selector`]: one thread, non-blocking sockets on a `mio` event loop.
//! * [`Model::Fork`]: a child process per connection, reaped on SIGCHLD.
//!
//! All three share [`http`] (request framing over `httparse`, routes, responses)
//! and differ only in how they wait for sockets. `bench-client serve MODEL`
//! calls [`serve`] directly, so the benchmark binary is self-contained.

pub mod cli;

pub use cli::{Model, ServerArgs};

/// Runs `model` until SIGINT or SIGTERM: prints `listening on http://IP:PORT`
/// once ready, then one JSON totals line on shutdown.
pub fn serve(model: Model, args: &ServerArgs) -> anyhow::Result<()> {
    let _ = (model, args);
    anyhow::bail!("not implemented yet")
}
