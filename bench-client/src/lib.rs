//! bench-client: an HTTP/1.1 load generator.
//!
//! The pipeline, one module per stage:
//! [`cli`] (clap types) → [`config`] (validated) → [`engine`] (worker event
//! loops over [`http`] connections, recording into [`stats`]) → [`run`]
//! (merged stats → [`result::RunResult`]) → [`report`] (JSON file, text
//! summary). [`main_with_args`] is the whole binary.

pub mod cli;
pub mod compare;
pub mod config;
pub mod engine;
pub mod hdr;
pub mod host;
pub mod http;
pub mod merge;
pub mod metric;
pub mod plot;
pub mod progress;
pub mod report;
pub mod result;
pub mod run;
pub mod server;
pub mod signals;
pub mod stats;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser as _;

use crate::cli::{Cli, Command};
use crate::config::{Config, ConfigError};

/// Runs bench-client with `args` (the program name first) and returns its
/// exit status: 0 on success, 1 on an error, 2 on bad usage (clap's errors
/// and invalid option values), 130/143 after SIGINT/SIGTERM.
pub fn main_with_args<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(e.exit_code().clamp(0, 255) as u8);
        }
    };
    let outcome = match cli.command {
        Some(Command::Serve { model, args }) => {
            reference_servers::serve(model, &args).map(|()| ExitCode::SUCCESS)
        }
        Some(Command::Plot(args)) => plot::run(&args),
        Some(Command::Compare(args)) => compare::run(&args),
        Some(Command::Merge(args)) => merge::run(&args),
        None => Config::from_args(&cli.run)
            .map_err(anyhow::Error::from)
            .and_then(|config| run::run(&config)),
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            // The whole chain on one line: `error: what failed: why`.
            eprintln!("error: {e:#}");
            if e.downcast_ref::<ConfigError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
