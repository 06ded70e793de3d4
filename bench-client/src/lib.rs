//! bench-client: an HTTP/1.1 load generator.
//!
//! The pipeline, one module per stage:
//! [`cli`] (clap types) → [`config`] (validated) → [`engine`] (worker event
//! loops over [`http`] connections, recording into [`stats`]) → [`run`]
//! (merged stats → [`result::RunResult`]) → [`report`] (JSON file, text
//! summary). [`main_with_args`] is the whole binary.

pub mod cli;
pub mod clock;
pub mod compare;
pub mod config;
pub mod engine;
pub mod exit;
pub mod findmax;
pub mod hdr;
pub mod host;
pub mod http;
pub mod live;
pub mod merge;
pub mod metric;
pub mod plot;
pub mod progress;
pub mod report;
pub mod result;
pub mod run;
pub mod shape;
pub mod shard;
pub mod signals;
pub mod start;
pub mod stats;
pub mod supervisor;
pub mod tls;
pub mod watcher;

use std::ffi::OsString;
use std::io::Write as _;
use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _};

use crate::cli::{Cli, Command};
use crate::config::Config;

/// Runs bench-client with `args` (the program name first) and returns its
/// exit status, as [`exit`] defines them: 0 success, 1 a failed check (or an
/// unreachable target), 2 bad usage or input, 3 bench-client's own failure,
/// 130/143 after SIGINT/SIGTERM.
pub fn main_with_args<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let mut command = Cli::command();
    // https://no-color.org: any non-empty value turns colour off.
    if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        command = command.color(clap::ColorChoice::Never);
    }
    let cli = match command
        .try_get_matches_from(args)
        .and_then(|m| Cli::from_arg_matches(&m))
    {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // clap's own status: 0 for --help and --version, 2 for usage.
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
        Some(Command::FindMax(args)) => findmax::run(&args),
        Some(Command::Completions { shell }) => {
            // Into memory first: clap_complete panics on a write error, and
            // `| head` is the reader's choice, not a failure.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "bench-client", &mut script);
            let mut out = std::io::stdout().lock();
            match out.write_all(&script).and_then(|()| out.flush()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    Err(anyhow::Error::new(e).context("cannot write the completion script"))
                }
                _ => Ok(ExitCode::SUCCESS),
            }
        }
        None => Config::from_args(&cli.run)
            .map_err(anyhow::Error::from)
            .and_then(|config| run::run(&config)),
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            // The whole chain on one line: `error: what failed: why`.
            eprintln!("error: {e:#}");
            exit::code(exit::status_of(&e))
        }
    }
}
