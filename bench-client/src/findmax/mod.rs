//! `bench-client find-max`: the highest open-loop rate a server sustains
//! while every objective (`--slo 'p99<100ms'`) holds. The search rule is a
//! sans-IO state machine ([`search`]); this module runs its trials, each one
//! a normal run through [`crate::run::measure`] saved into the output
//! folder, judges them, and writes `summary.json` ([`summary`]) and the
//! knee chart ([`chart`]).

pub mod chart;
pub mod search;
pub mod summary;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{anyhow, Context as _};
use reference_servers::Model;

use crate::cli::{RunArgs, DEFAULT_URL};
use crate::config::{parse_duration, Config};
use crate::exit::{self, UsageError};
use crate::metric::{Check, CheckOutcome};
use crate::report::diagnosis::{Limit, WarningKind};
use crate::report::format;
use crate::result::RunResult;
use crate::{run, signals};
use search::{Outcome, Search, Settings, Step};
use summary::{Summary, TrialRecord};

/// Connections are sized so that each is busy for at most half of its
/// share of the schedule at the objective's latency: `rate x latency x 2`.
const CONNECTION_HEADROOM: f64 = 2.0;
/// Set-up and tear-down of one trial (server start, connects), for the budget.
const TRIAL_OVERHEAD: Duration = Duration::from_millis(500);

/// `bench-client find-max [OPTIONS] --slo EXPR -o DIR [URL]`.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = "\
The search: open-loop trials (uniform arrivals) from --start-rate, the rate doubled after each
passing trial until one fails; then the interval [highest passing, lowest failing] is halved,
each midpoint passing only when --repeats trials in a row pass. It stops when the interval's
width is at most --precision of its low end (the low end confirmed by --repeats trials), or
before a trial would overrun --budget. A trial passes when every objective holds and its
verdict is valid; an open loop whose server could not keep up (rate not held, every connection
busy) fails. A trial whose verdict is not valid for bench-client's sake is no evidence: it is
retried with twice the threads (up to --max-threads), then the search stops. Connections:
rate x the largest latency objective (1 s without one) x 2, at least 4, unless --connections.

Writes DIR/trial-NN-RATErps.json (each a normal result), DIR/summary.json (max_rate,
interval, objectives, settings and every trial; see results/format/README.md) and
DIR/knee.svg (latency percentiles and achieved rate against the offered rate).

Exit status: 0 a rate met the objectives; 1 none did; 2 bad usage; 3 bench-client failed
(e.g. a file could not be written); 130/143 interrupted (the summary so far is written).

Example:
  bench-client find-max --server sync --connection-per-request --slo 'p99<100ms' -o out/fm http://127.0.0.1/delay/10")]
pub struct FindMaxArgs {
    /// Target URL, http:// or https://; with --server, only its path is used.
    #[arg(value_name = "URL", default_value = DEFAULT_URL)]
    pub url: String,
    /// An objective that must hold, METRIC OP VALUE in the --fail-on vocabulary but stating
    /// what must hold, not the failure: 'p99<100ms', 'p99.9<=250ms', 'error_rate<1%'
    /// (repeatable; all must hold).
    #[arg(long, value_name = "EXPR", required = true)]
    pub slo: Vec<String>,
    /// Folder for the trials, summary.json and knee.svg.
    #[arg(short = 'o', long, value_name = "DIR")]
    pub output: PathBuf,
    /// Measured length of one trial.
    #[arg(long, value_name = "DURATION", default_value = "10s")]
    pub trial_duration: String,
    /// Warm-up before each trial's measured phase (discarded).
    #[arg(long, value_name = "DURATION", default_value = "2s")]
    pub warmup: String,
    /// Passing trials a rate needs near the boundary.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub repeats: u32,
    /// Stop when the interval is at most this wide, relative to its low end.
    #[arg(long, value_name = "PCT", default_value = "5%")]
    pub precision: String,
    /// Time for the whole search.
    #[arg(long, value_name = "DURATION", default_value = "5m")]
    pub budget: String,
    /// The first rate tried, req/s.
    #[arg(long, value_name = "REQ_PER_SEC", default_value_t = 10.0)]
    pub start_rate: f64,
    /// No rate above this is tried, req/s.
    #[arg(long, value_name = "REQ_PER_SEC", default_value_t = 1e6)]
    pub max_rate: f64,
    /// Worker threads of the first trial.
    #[arg(short = 't', long, value_name = "T", default_value_t = 1)]
    pub threads: u32,
    /// Most worker threads a retry of a not-valid trial may use [default: available cores].
    #[arg(long, value_name = "T")]
    pub max_threads: Option<u32>,
    /// Connections for every trial instead of sizing them for the rate.
    #[arg(short = 'c', long, value_name = "N")]
    pub connections: Option<u32>,
    /// A new TCP connection for every request (for servers that close).
    #[arg(long)]
    pub connection_per_request: bool,
    /// HTTP method [default: GET].
    #[arg(short = 'm', long, value_name = "METHOD")]
    pub method: Option<String>,
    /// Extra request header, "Name: value" (repeatable).
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// Per-request timeout.
    #[arg(long, value_name = "DURATION", default_value = "10s")]
    pub timeout: String,
    /// Start this reference server for each trial.
    #[arg(long, value_enum, value_name = "MODEL")]
    pub server: Option<Model>,
    /// Pin the --server child to these CPUs.
    #[arg(long, value_name = "CPUS", requires = "server")]
    pub server_cpus: Option<String>,
    #[command(flatten)]
    pub tls: crate::cli::TlsArgs,
}

/// What every trial shares, validated once.
struct Plan {
    args: FindMaxArgs,
    objectives: Vec<Check>,
    /// The largest latency objective, seconds (1 s without one).
    latency_bound_s: f64,
    settings: Settings,
    trial_duration: Duration,
    warmup: Duration,
}

pub fn run(args: &FindMaxArgs) -> anyhow::Result<ExitCode> {
    let plan = validate(args)?;
    if args.output.join(summary::SUMMARY_FILE).exists() {
        return Err(UsageError(anyhow!(
            "{} already holds a search ({}); choose another folder, so that its trials do not mix",
            args.output.display(),
            summary::SUMMARY_FILE
        ))
        .into());
    }
    signals::install().context("cannot install the SIGINT/SIGTERM handlers")?;
    std::fs::create_dir_all(&args.output)
        .with_context(|| format!("cannot create {}", args.output.display()))?;
    let started_at = SystemTime::now();
    let started = Instant::now();
    let mut search = Search::new(plan.settings.clone());
    let mut trials: Vec<TrialRecord> = Vec::new();
    let mut interrupted = None;
    println!(
        "find-max: {} objective(s) {}; trials of {} after {} warm-up, {} repeats at the boundary, \
         precision {}%, budget {}",
        plan.objectives.len(),
        args.slo.join(", "),
        format::duration_s(plan.trial_duration.as_secs_f64()),
        format::duration_s(plan.warmup.as_secs_f64()),
        plan.settings.repeats,
        plan.settings.precision * 100.0,
        format::duration_s(plan.settings.budget.as_secs_f64()),
    );
    let answer = loop {
        let (rate, threads) = match search.next(started.elapsed()) {
            Step::Trial { rate, threads } => (rate, threads),
            Step::Done(answer) => break answer,
        };
        let n = trials.len() + 1;
        let connections = plan.connections_for(rate, threads);
        let file = format!("trial-{n:02}-{}rps.json", rate_name(rate));
        let config = plan.trial_config(rate, threads, connections, &args.output.join(&file))?;
        let measured = run::measure(&config, false)?;
        measured
            .saved
            .with_context(|| format!("cannot save trial {n}"))?;
        let result = measured.result;
        let (outcome, checks) = judge(&result, &plan.objectives);
        println!(
            "{}",
            trial_line(n, rate, threads, connections, &result, outcome, &checks)
        );
        trials.push(TrialRecord::new(
            &file,
            rate,
            threads,
            connections,
            outcome,
            &result,
            checks,
        ));
        if let Some(signal) = measured.interrupted {
            interrupted = Some(signal);
            break search.interrupt();
        }
        search.record(outcome);
    };
    let summary = Summary::new(
        &plan,
        started_at,
        started.elapsed(),
        &answer,
        trials,
        interrupted.is_some(),
    );
    let chart = chart::knee(&summary).context("cannot draw the knee chart")?;
    let chart_path = args.output.join(summary::CHART_FILE);
    std::fs::write(&chart_path, chart)
        .with_context(|| format!("cannot write {}", chart_path.display()))?;
    let path = args.output.join(summary::SUMMARY_FILE);
    summary.save(&path)?;
    println!("{}", summary.conclusion());
    println!("Saved: {} and {}", path.display(), chart_path.display());
    Ok(exit::code(match interrupted {
        Some(signal) => signals::exit_status(signal),
        None if summary.max_rate.is_some() => exit::OK,
        None => exit::CHECK_FAILED,
    }))
}

/// Reads the flags that are not a trial's own (a trial's are validated by
/// [`Config::from_args`] on the first trial).
fn validate(args: &FindMaxArgs) -> anyhow::Result<Plan> {
    let objectives: Vec<Check> = args
        .slo
        .iter()
        .map(|e| Check::objective(e))
        .collect::<Result<_, _>>()
        .map_err(|e| UsageError(anyhow!("--slo: {e}")))?;
    let usage = |flag: &str, value: String, expected: &str| {
        UsageError(anyhow!("invalid {flag} '{value}': expected {expected}"))
    };
    let precision = crate::compare::parse_pct(&args.precision)
        .ok()
        .filter(|p| *p > 0.0 && *p <= 100.0)
        .ok_or_else(|| {
            usage(
                "--precision",
                args.precision.clone(),
                "a percentage such as 5%",
            )
        })?
        / 100.0;
    let positive = |flag: &str, v: f64| {
        (v.is_finite() && v > 0.0)
            .then_some(v)
            .ok_or_else(|| usage(flag, v.to_string(), "a rate above 0"))
    };
    let start_rate = positive("--start-rate", args.start_rate)?;
    let max_rate = positive("--max-rate", args.max_rate)?;
    if args.repeats == 0 || args.threads == 0 || args.connections == Some(0) {
        return Err(usage(
            "--repeats/--threads/--connections",
            "0".into(),
            "at least 1",
        )
        .into());
    }
    let trial_duration = parse_duration("--trial-duration", &args.trial_duration, false)?;
    let warmup = parse_duration("--warmup", &args.warmup, true)?;
    let budget = parse_duration("--budget", &args.budget, false)?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
    let max_threads = args.max_threads.unwrap_or(cores).max(args.threads);
    let latency_bound_s = objectives
        .iter()
        .filter(|c| c.metric.unit() == "us")
        .map(|c| c.threshold / 1e6)
        .fold(None, |m: Option<f64>, t| Some(m.map_or(t, |m| m.max(t))))
        .unwrap_or(1.0);
    Ok(Plan {
        args: args.clone(),
        objectives,
        latency_bound_s,
        settings: Settings {
            start_rate,
            growth: 2.0,
            precision,
            repeats: args.repeats,
            max_rate,
            min_rate: (start_rate / 64.0).min(1.0),
            budget,
            trial_cost: trial_duration + warmup + TRIAL_OVERHEAD,
            threads: args.threads,
            max_threads,
        },
        trial_duration,
        warmup,
    })
}

impl Plan {
    /// Enough connections that one is rarely busy when its next send is due.
    fn connections_for(&self, rate: f64, threads: u32) -> u32 {
        self.args.connections.unwrap_or_else(|| {
            let sized = (rate * self.latency_bound_s * CONNECTION_HEADROOM).ceil();
            (sized.min(10_000.0) as u32).max(4).max(threads)
        })
    }

    /// A normal run's configuration for one trial.
    fn trial_config(
        &self,
        rate: f64,
        threads: u32,
        connections: u32,
        out: &Path,
    ) -> anyhow::Result<Config> {
        let a = &self.args;
        let run = RunArgs {
            url: Some(a.url.clone()),
            targets: None,
            targets_order: None,
            connections: Some(connections.to_string()),
            max_clients: None,
            max_conns: None,
            threads: Some(threads.to_string()),
            duration: Some(a.trial_duration.clone()),
            requests: None,
            rate: Some(format!("{rate}")),
            stages: Vec::new(),
            arrivals: None,
            seed: None,
            payload: None,
            body_file: None,
            method: a.method.clone(),
            headers: a.headers.clone(),
            connection_per_request: a.connection_per_request,
            http2: None,
            streams: None,
            timeout: a.timeout.clone(),
            warmup: a.warmup.clone(),
            start_at: None,
            shard: None,
            shards: None,
            run_id: None,
            fail_on: Vec::new(),
            no_short_slice: false,
            server: a.server,
            server_cpus: a.server_cpus.clone(),
            metrics_addr: None,
            tls: a.tls.clone(),
            output: Some(out.to_path_buf()),
            results_dir: PathBuf::from("results"),
            no_save: false,
            label: Some(format!("find-max {} req/s", rate_name(rate))),
            quiet: true,
        };
        Ok(Config::from_args(&run)?)
    }
}

/// A trial's outcome and its objectives' outcomes. Not valid for the
/// generator's sake (a busy worker, a late schedule, local ports or
/// descriptors run out, a rate not held with connections to spare) is no
/// evidence; a rate not held because every connection was busy is the
/// server's limit, a failure.
pub fn judge(r: &RunResult, objectives: &[Check]) -> (Outcome, Vec<CheckOutcome>) {
    let checks: Vec<CheckOutcome> = objectives.iter().map(|c| c.evaluate(r)).collect();
    let server_limit = |k: &WarningKind| {
        matches!(
            k,
            WarningKind::RateNotHeld {
                limit: Limit::Server,
                ..
            }
        )
    };
    let outcome = if r
        .warnings
        .iter()
        .any(|w| w.kind.invalidates() && !server_limit(&w.kind))
    {
        Outcome::Invalid
    } else if checks.iter().any(|c| c.failed)
        || r.summary.requests == 0
        || r.warnings.iter().any(|w| server_limit(&w.kind))
    {
        Outcome::Fail
    } else {
        Outcome::Pass
    };
    (outcome, checks)
}

/// A rate as a file name part: `40`, `97.5`.
fn rate_name(rate: f64) -> String {
    format::number(rate)
}

fn trial_line(
    n: usize,
    rate: f64,
    threads: u32,
    connections: u32,
    r: &RunResult,
    outcome: Outcome,
    checks: &[CheckOutcome],
) -> String {
    let verdict = match outcome {
        Outcome::Pass => "pass".to_string(),
        Outcome::Fail => "FAIL".to_string(),
        Outcome::Invalid => format!(
            "NOT VALID, no evidence: {}",
            crate::report::diagnosis::verdict_of(r).reasons.join("; ")
        ),
    };
    let objectives: Vec<String> = checks.iter().map(CheckOutcome::describe).collect();
    format!(
        "trial {n}: {} req/s ({threads} threads, {connections} connections): {verdict}; achieved {} req/s; {}",
        format::rate(rate),
        format::rate(r.summary.achieved_rate.unwrap_or(0.0)),
        objectives.join("; ")
    )
}

#[cfg(test)]
mod tests;
