//! `h2-server`: the HTTP/2 test target (see `reference_servers::http2`).

use std::process::ExitCode;

use clap::Parser;
use reference_servers::{serve, Model, ServerArgs};

#[derive(Parser)]
#[command(
    version,
    about = "The HTTP/2 test target (h2c with prior knowledge, or h2 over TLS); prints its totals as JSON on SIGINT/SIGTERM"
)]
struct Cli {
    #[command(flatten)]
    server: ServerArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match serve(Model::H2, &cli.server) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("h2-server: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
