//! Command-line syntax: clap derive types only. Nothing here is validated
//! beyond what clap checks; [`crate::config`] turns [`RunArgs`] into a
//! [`crate::config::Config`] the engine can trust.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use reference_servers::{Model, ServerArgs};

use crate::compare::CompareArgs;
use crate::findmax::FindMaxArgs;
use crate::merge::MergeArgs;
use crate::plot::PlotArgs;

/// The URL used when none is given.
pub const DEFAULT_URL: &str = "http://127.0.0.1:8888/";

/// The exit statuses, the same for every subcommand, as a literal so that
/// each command's help can `concat!` it.
#[macro_export]
macro_rules! exit_status_help {
    () => {
        "Exit status:
  0        the run completed and every check passed
  1        a check failed (by default: no request succeeded, i.e. no complete response
           with a status below 400), or the target refused the connection at start-up
  2        bad usage or input
  3        bench-client itself failed (the result could not be saved, --server would not start)
  130/143  interrupted by SIGINT/SIGTERM (wins over a failed check; the partial result is saved)"
    };
}

const AFTER_HELP: &str = concat!(
    "Examples:
  bench-client --server selector -c 200 --payload 64k     # a built-in server, 200 connections
  bench-client -c 50 -d 30 --fail-on 'p99>50ms' http://127.0.0.1:8080/
  bench-client -R 2000 -d 1m -o - http://127.0.0.1:8080/ | jq .latency.percentiles

Verdict: every run ends with VALID or NOT VALID (the JSON's `verdict`). NOT VALID means the
figures may measure bench-client, not the server:
  - a worker thread used >= 90 % of a CPU, or was busy (outside its wait for events, or
    waiting for a CPU) >= 90 % of the measured phase (if that lasted 0.25 s or more);
  - open loop (-R): the achieved rate was below 99 % of the target, or the schedule's p99
    lateness was over 1 ms (judged over 100 or more sends on their timer);
  - connects failed for lack of local ports (EADDRNOTAVAIL) or descriptors (EMFILE, ENFILE).
A server sharing bench-client's CPUs is a warning only. --fail-on generator fails such a run.

Phases (the result's `phases`, the summary's Phases table), each clock exactly:
  resolve        the URL's host name resolved, once before the run (none with --resolve)
  connect        per new connection: connect() called -> socket established
  tls_handshake  per new https connection: socket established -> handshake done
  ttfb           per response: request's first byte handed to the socket (or TLS) -> the
                 response's first byte read (decrypted)
Connections count when made for a measured request (and, without --warmup, the open loop's
early connects). `latency` is unchanged: it spans the whole request.

HTTPS: trust is the system roots, or --cacert FILE, or -k. A refused certificate, or a plain
HTTP answer to the handshake, fails every request alike: the run stops at once (exit 1), saying
whose certificate and why. TLS flags with an http:// URL are a usage error (exit 2).

",
    exit_status_help!()
);

/// `bench-client [OPTIONS] [URL]`, or one of the subcommands.
#[derive(Debug, Parser)]
#[command(
    name = "bench-client",
    version,
    about = "HTTP/1.1 load generator: N clients x M connections, HDR latency histograms, JSON results",
    args_conflicts_with_subcommands = true,
    after_help = AFTER_HELP
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
    #[command(
        after_help = "Example:\n  bench-client serve selector --addr :8890     # then: bench-client http://127.0.0.1:8890/"
    )]
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
    /// Find the highest rate a server sustains while objectives hold (open-loop trials).
    FindMax(Box<FindMaxArgs>),
    /// Print a shell completion script.
    #[command(
        after_help = "Example:\n  bench-client completions bash > ~/.local/share/bash-completion/completions/bench-client"
    )]
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// Options of a load run.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Target URL: http:// or https:// [default: http://127.0.0.1:8888/].
    #[arg(value_name = "URL")]
    pub url: Option<String>,

    /// Requests from a vegeta targets file (METHOD URL, Header: value lines, @BODY-FILE,
    /// '# weight: N'; blank lines between targets) instead of a URL.
    #[arg(long, value_name = "FILE")]
    pub targets: Option<PathBuf>,

    /// Which target each request uses: random (by weight, seeded by --seed) or round-robin
    /// (each connection walks its host's targets from a staggered start) [default: random].
    #[arg(long, value_name = "random|round-robin")]
    pub targets_order: Option<String>,

    /// Total connections, as in wrk and oha: N clients x 1 connection, or N / M clients with
    /// --max-conns M [default: 10].
    #[arg(short = 'c', long, value_name = "N", allow_hyphen_values = true)]
    pub connections: Option<String>,

    /// Number of clients; each client is a group of --max-conns connections [default: 10, or
    /// --connections / --max-conns].
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub max_clients: Option<String>,

    /// Connections per client [default: 1].
    #[arg(long, value_name = "M", allow_hyphen_values = true)]
    pub max_conns: Option<String>,

    /// Worker threads, each one event loop [default: available cores, at most the connections].
    #[arg(short = 't', long, value_name = "T", allow_hyphen_values = true)]
    pub threads: Option<String>,

    /// Length of the measured run: 10 (seconds), 10s, 500ms, 2m [default: 10s].
    #[arg(
        short = 'd',
        long,
        value_name = "DURATION",
        conflicts_with = "requests",
        allow_hyphen_values = true
    )]
    pub duration: Option<String>,

    /// Total number of requests, then stop (instead of --duration). Exact: responses plus failed
    /// attempts add up to N, and against a healthy server its count equals N.
    /// Warm-up requests come on top.
    #[arg(short = 'n', long, value_name = "N", allow_hyphen_values = true)]
    pub requests: Option<String>,

    /// Open loop: total requests per second over all connections, with latency
    /// measured from each request's intended send time.
    #[arg(
        short = 'R',
        long,
        value_name = "REQ_PER_SEC",
        allow_hyphen_values = true
    )]
    pub rate: Option<String>,

    /// A load stage, DURATION:TARGET, repeatable, in order: the load moves linearly from the
    /// previous stage's target (0 before the first) to TARGET over DURATION. A rate ending in /s
    /// is an open loop (30s:1000/s), a plain number a count of connections, a closed loop
    /// (1m:200); one kind per run. The stages set the run's length: not with -d, -n or -R.
    #[arg(
        long = "stage",
        value_name = "DURATION:TARGET",
        allow_hyphen_values = true
    )]
    pub stages: Vec<String>,

    /// Open loop: how requests are spread in time: uniform (evenly, the default) or poisson
    /// (a Poisson process at the rate, repeatable with --seed).
    #[arg(long, value_name = "uniform|poisson")]
    pub arrivals: Option<String>,

    /// Seed of --arrivals poisson and of --targets-order random [default: a random seed,
    /// recorded in the result].
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub seed: Option<String>,

    /// Request body of SIZE bytes: 512, 64k, 64KB, 64KiB (all 65536), 1m, 1MiB. Implies POST.
    #[arg(
        long,
        value_name = "SIZE",
        conflicts_with = "body_file",
        allow_hyphen_values = true
    )]
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
    /// With --http2: one stream per connection, then close.
    #[arg(long)]
    pub connection_per_request: bool,

    /// Speak HTTP/2: h2 by ALPN for https:// (failing clearly if the server offers only
    /// http/1.1), h2c with prior knowledge for http://. --http2=auto falls back to HTTP/1.1
    /// when the server does not speak HTTP/2, and records what was used. h2load's
    /// `-c N -m M` is `--max-clients N --http2 --streams M` here (our -m is the method).
    #[arg(
        long = "http2",
        visible_alias = "h2",
        value_name = "auto",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "on"
    )]
    pub http2: Option<String>,

    /// HTTP/2: concurrent streams per connection (the server's
    /// SETTINGS_MAX_CONCURRENT_STREAMS caps it) [default: 1].
    #[arg(long, value_name = "M", requires = "http2")]
    pub streams: Option<u32>,

    /// Per-request timeout; a timed-out request is counted and its connection replaced.
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "10s",
        allow_hyphen_values = true
    )]
    pub timeout: String,

    /// Load sent before the measured run and discarded.
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "0s",
        allow_hyphen_values = true
    )]
    pub warmup: String,

    /// Begin the measured phase at TIME: RFC 3339 (2026-11-29T19:00:00Z, 19:00:00.250Z,
    /// or with an offset) or +DURATION from launch (+5s). Connects and warms up shortly
    /// before; the result records the intended and actual start and the clock's sync state.
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub start_at: Option<String>,

    /// Make shard I (0-based) of N of a distributed run: this process takes its exact share
    /// of the connections, -n and the rate (the shards add up to the whole run).
    #[arg(long, value_name = "I/N", conflicts_with = "shards")]
    pub shard: Option<String>,

    /// As --shard I/N, with I read from $JOB_COMPLETION_INDEX (a Kubernetes Indexed Job).
    #[arg(long, value_name = "N")]
    pub shards: Option<String>,

    /// The id shared by all shards of a run, recorded in each result and checked by merge
    /// [default: $BENCH_RUN_ID, else a random id when not sharded].
    #[arg(long, value_name = "ID")]
    pub run_id: Option<String>,

    /// Fail the run (exit 1) when EXPR holds at the end, e.g. 'p99>50ms', 'p99.9>200ms',
    /// 'max>1s', 'mean>10ms', 'errors>0', 'error_rate>1%', 'rps<1000', 'non2xx>0' (repeatable).
    /// In an open loop the percentiles are the corrected ones. 'generator' fails a run whose
    /// verdict is NOT VALID (see Verdict below). Without any, a run fails only when no request
    /// succeeded.
    #[arg(long, value_name = "EXPR")]
    pub fail_on: Vec<String>,

    /// Open loop: do not ask the kernel for a 100 µs scheduler slice per worker thread. By
    /// default bench-client asks (Linux 6.12+, no privilege needed), so that a timer wake-up
    /// preempts a busy neighbour sooner and requests go out closer to their due time; this
    /// turns it off, to measure what it buys.
    #[arg(long)]
    pub no_short_slice: bool,

    /// Start this reference server on a free port, drive it, stop it and keep its totals.
    #[arg(long, value_enum, value_name = "MODEL")]
    pub server: Option<Model>,

    #[command(flatten)]
    pub tls: TlsArgs,

    /// Pin the --server child to these CPUs (e.g. 0 or 0,2-3), so that on one machine the
    /// server and the generator do not share cores; pin bench-client itself with taskset.
    #[arg(long, value_name = "CPUS", requires = "server")]
    pub server_cpus: Option<String>,

    /// Serve live metrics (OpenMetrics text at GET /metrics) on this address while the run
    /// goes, e.g. 0.0.0.0:9464, or 127.0.0.1:0 for any free port; the address is printed to
    /// stderr as `metrics on http://IP:PORT/metrics`.
    #[arg(long, value_name = "ADDR")]
    pub metrics_addr: Option<String>,

    /// Write the JSON result here, or to stdout with `-o -` (the text summary then goes to
    /// stderr) [default: a new file in --results-dir named after the UTC start time and the
    /// label or server, e.g. 20261125T192000Z-selector.json].
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

/// The https flags (and `--resolve`), shared by a load run and `find-max`.
#[derive(Debug, Clone, Args)]
pub struct TlsArgs {
    /// With --server: the server speaks TLS with a certificate it makes, and bench-client
    /// drives it at https://IP:PORT trusting exactly that certificate.
    #[arg(long, requires = "server")]
    pub tls: bool,

    /// https: trust the PEM certificates in FILE (one or more) instead of the system roots.
    #[arg(long, value_name = "FILE", conflicts_with = "insecure")]
    pub cacert: Option<PathBuf>,

    /// https: accept any server certificate (its handshake signatures are still checked).
    #[arg(short = 'k', long)]
    pub insecure: bool,

    /// https: client certificate (PEM; with --key).
    #[arg(long, value_name = "FILE")]
    pub cert: Option<PathBuf>,

    /// https: the client certificate's private key (PEM).
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,

    /// https: only this TLS version, 1.2 or 1.3 [default: either].
    #[arg(long, value_name = "VERSION")]
    pub tls_version: Option<String>,

    /// https: resume TLS sessions on new connections (on), or make every handshake a full one
    /// (off) [default: on].
    #[arg(long, value_name = "on|off", default_value = "on")]
    pub tls_resume: String,

    /// Connect to ADDR for HOST:PORT, as in curl; SNI and the Host header keep HOST
    /// (http and https).
    #[arg(long, value_name = "HOST:PORT:ADDR")]
    pub resolve: Option<String>,
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
        assert_eq!(cli.run.url.as_deref(), Some("http://127.0.0.1:1/x"));
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
