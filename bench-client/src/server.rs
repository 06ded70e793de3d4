//! Starting a reference server as a child process for `--server MODEL`.

use std::net::SocketAddr;

use crate::result::ServerTotals;

/// A reference server running as a child process.
pub struct SpawnedServer {
    addr: SocketAddr,
    pid: u32,
}

impl SpawnedServer {
    /// Runs `<current_exe> serve MODEL --addr 127.0.0.1:0 [extra...]` as a child process.
    pub fn start(model: reference_servers::Model, extra_args: &[String]) -> anyhow::Result<Self> {
        let _ = (model, extra_args);
        anyhow::bail!("--server is not implemented yet")
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// SIGTERM, wait (bounded), parse its JSON totals line.
    pub fn stop(self) -> anyhow::Result<Option<ServerTotals>> {
        anyhow::bail!("--server is not implemented yet")
    }
}
