//! `selector-server`: the selector reference HTTP/1.1 server (see `reference_servers`).

use std::process::ExitCode;

use clap::Parser;
use reference_servers::{serve, Model, ServerArgs};

#[derive(Parser)]
#[command(
    version,
    about = "The selector reference HTTP/1.1 server; prints its totals as JSON on SIGINT/SIGTERM"
)]
struct Cli {
    #[command(flatten)]
    server: ServerArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match serve(Model::Selector, &cli.server) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("selector-server: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
