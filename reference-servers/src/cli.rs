//! Command-line options shared by the three server binaries and by
//! `bench-client serve`.

use std::net::SocketAddr;

/// The concurrency model a server uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Model {
    Sync,
    Selector,
    Fork,
}

impl Model {
    pub fn name(self) -> &'static str {
        match self {
            Model::Sync => "sync",
            Model::Selector => "selector",
            Model::Fork => "fork",
        }
    }
}

/// Options common to all servers.
#[derive(Debug, Clone, clap::Args)]
pub struct ServerArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8888")]
    pub addr: SocketAddr,
}
