//! Command-line syntax: clap derive types only. Nothing here is validated
//! beyond what clap checks; [`crate::config`] turns [`RunArgs`] into a
//! [`crate::config::Config`] the engine can trust.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use reference_servers::{Model, ServerArgs};

use crate::compare::CompareArgs;
use crate::merge::MergeArgs;
use crate::plot::PlotArgs;

/// The URL used when none is given.
pub const DEFAULT_URL: &str = "http://127.0.0.1:8888/";

/// `bench-client [OPTIONS] [URL]`, or one of the subcommands.
#[derive(Debug, Parser)]
#[command(
    name = "bench-client",
    version,
    about = "HTTP/1.1 load generator: N clients x M connections, HDR latency histograms, JSON results",
    args_conflicts_with_subcommands = true,
    after_help = "Example: bench-client --server selector --max-clients 50 --max-conns 4 --payload 64k"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub run: RunArgs,
}

/// Everything that is not a load run.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a reference server in the foreground (what `--server MODEL` starts as a child process).
    Serve {
        /// Concurrency model of the server.
        #[arg(value_enum)]
        model: Model,
        #[command(flatten)]
        args: ServerArgs,
    },
    /// Plot saved results.
    Plot(PlotArgs),
    /// Compare saved results.
    Compare(CompareArgs),
    /// Merge saved results of several generator hosts into one.
    Merge(MergeArgs),
}

/// Options of a load run.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Target URL (plain http://).
    #[arg(value_name = "URL", default_value = DEFAULT_URL)]
    pub url: String,

    /// Number of clients; each client is a group of --max-conns connections.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub max_clients: u32,

    /// Connections per client.
    #[arg(long, value_name = "M", default_value_t = 1)]
    pub max_conns: u32,

    /// Worker threads, each one event loop [default: available cores, at most N x M].
    #[arg(short = 't', long, value_name = "T")]
    pub threads: Option<u32>,

    /// Length of the measured run: 10s, 500ms, 2m [default: 10s].
    #[arg(
        short = 'd',
        long,
        value_name = "DURATION",
        conflicts_with = "requests"
    )]
    pub duration: Option<String>,

    /// Total number of requests, then stop (instead of --duration). Exact: responses plus failed
    /// attempts add up to N, and against a healthy server its count equals N.
    /// Warm-up requests come on top.
    #[arg(short = 'n', long, value_name = "N")]
    pub requests: Option<u64>,

    /// Open loop: total requests per second over all connections, with latency
    /// measured from each request's intended send time.
    #[arg(short = 'R', long, value_name = "REQ_PER_SEC")]
    pub rate: Option<f64>,

    /// Request body of SIZE bytes: 512, 64k (= 65536), 1m, 64KiB, 1MiB. Implies POST.
    #[arg(long, value_name = "SIZE", conflicts_with = "body_file")]
    pub payload: Option<String>,

    /// Request body read from a file. Implies POST.
    #[arg(long, value_name = "PATH")]
    pub body_file: Option<PathBuf>,

    /// HTTP method [default: GET, or POST with a body].
    #[arg(short = 'm', long, value_name = "METHOD")]
    pub method: Option<String>,

    /// Extra request header, "Name: value" (repeatable). Host, User-Agent and Connection
    /// replace the defaults; Content-Length and Transfer-Encoding are refused (the body
    /// is framed from --payload or --body-file).
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,

    /// Open a new TCP connection for every request (connect time is part of the latency).
    #[arg(long)]
    pub connection_per_request: bool,

    /// Per-request timeout; a timed-out request is counted and its connection replaced.
    #[arg(long, value_name = "DURATION", default_value = "10s")]
    pub timeout: String,

    /// Load sent before the measured run and discarded.
    #[arg(long, value_name = "DURATION", default_value = "0s")]
    pub warmup: String,

    /// Start this reference server on a free port, drive it, stop it and keep its totals.
    #[arg(long, value_enum, value_name = "MODEL")]
    pub server: Option<Model>,

    /// Pin the --server child to these CPUs (e.g. 0 or 0,2-3), so that on one machine the
    /// server and the generator do not share cores; pin bench-client itself with taskset.
    #[arg(long, value_name = "CPUS", requires = "server")]
    pub server_cpus: Option<String>,

    /// Write the JSON result here [default: a new file in --results-dir named after the UTC
    /// start time and the label or server, e.g. 20261125T192000Z-selector.json].
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Folder for results saved without --output.
    #[arg(long, value_name = "DIR", default_value = "results")]
    pub results_dir: PathBuf,

    /// Do not save a JSON result.
    #[arg(long, conflicts_with = "output")]
    pub no_save: bool,

    /// Label stored in the result and used in its file name.
    #[arg(long, value_name = "TEXT")]
    pub label: Option<String>,

    /// No progress bar.
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn url_and_subcommands_do_not_clash() {
        let cli = Cli::try_parse_from(["bench-client", "http://127.0.0.1:1/x"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.run.url, "http://127.0.0.1:1/x");
        let cli = Cli::try_parse_from(["bench-client", "serve", "sync"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Serve {
                model: Model::Sync,
                ..
            })
        ));
    }

    #[test]
    fn duration_and_requests_conflict() {
        let err = Cli::try_parse_from(["bench-client", "-d", "1s", "-n", "5"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
    }
}
