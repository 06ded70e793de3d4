//! `sync-server`: the sync reference HTTP/1.1 server (see `reference_servers`).

use std::process::ExitCode;

use clap::Parser;
use reference_servers::{serve, Model, ServerArgs};

#[derive(Parser)]
#[command(
    version,
    about = "The sync reference HTTP/1.1 server; prints its totals as JSON on SIGINT/SIGTERM"
)]
struct Cli {
    #[command(flatten)]
    server: ServerArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match serve(Model::Sync, &cli.server) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("sync-server: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
