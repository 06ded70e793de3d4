//! `DIR/summary.json` of a `find-max` search: these structs are its format,
//! documented in `results/format/README.md` and checked against
//! `results/format/find-max.schema.json`. Units are in the names; rates
//! are requests per second.

use std::path::Path;
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use super::search::{Answer, Outcome, Stop};
use super::Plan;
use crate::metric::CheckOutcome;
use crate::report::format;
use crate::result::{RunResult, Tool, Verdict};

pub const SUMMARY_FILE: &str = "summary.json";
pub const CHART_FILE: &str = "knee.svg";

/// Version of this format.
pub const SUMMARY_VERSION: u32 = 1;

/// The whole search.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    pub schema_version: u32,
    pub tool: Tool,
    /// Wall-clock start of the search, RFC 3339 UTC.
    pub started_at: String,
    /// The target as given (with `--server`, each trial's own URL is in its file).
    pub url: String,
    /// `--server` model, if bench-client started one for each trial.
    pub server: Option<String>,
    /// The highest rate at which every trial passed; null when none did.
    pub max_rate: Option<f64>,
    /// `[low, high]`: `low` is `max_rate` (0 when none), `high` the lowest
    /// rate that failed an objective (null when none did).
    pub interval: (f64, Option<f64>),
    /// Why the search ended: `converged`, `budget`, `generator`,
    /// `nothing_passed`, `max_rate` or `interrupted`.
    pub stop: Stop,
    /// The objectives, as written (`--slo`).
    pub objectives: Vec<String>,
    pub settings: SearchSettings,
    /// Time the whole search took.
    pub elapsed_s: f64,
    /// Every trial, in order.
    pub trials: Vec<TrialRecord>,
    /// The knee chart, beside this file.
    pub chart: String,
}

/// The search's knobs, as used.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SearchSettings {
    pub start_rate: f64,
    pub growth: f64,
    /// The stopping width, relative to the interval's low end (0.05 = 5 %).
    pub precision: f64,
    pub repeats: u32,
    pub max_rate: f64,
    pub trial_duration_s: f64,
    pub warmup_s: f64,
    pub budget_s: f64,
    /// Threads of the first trial, and the most a retry may use.
    pub threads: u32,
    pub max_threads: u32,
    /// `--connections`; null when connections were sized for each rate.
    pub connections: Option<u32>,
    /// The latency connections were sized for (the largest latency
    /// objective, 1 s without one), seconds.
    pub connection_latency_s: f64,
    pub connection_per_request: bool,
}

/// One trial, as the search saw it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrialRecord {
    /// The trial's normal result file, beside `summary.json`.
    pub file: String,
    /// The offered (target) rate.
    pub rate: f64,
    pub achieved_rate: f64,
    pub threads: u32,
    pub connections: u32,
    /// `pass`, `fail`, or `invalid` (no evidence about the server).
    pub outcome: TrialOutcome,
    pub verdict: Verdict,
    pub requests: u64,
    pub errors: u64,
    /// Corrected latency percentiles, µs; null when nothing completed.
    pub p50_us: Option<u64>,
    pub p90_us: Option<u64>,
    pub p99_us: Option<u64>,
    /// Each objective on this trial.
    pub objectives: Vec<CheckOutcome>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrialOutcome {
    Pass,
    Fail,
    Invalid,
}

impl From<Outcome> for TrialOutcome {
    fn from(o: Outcome) -> TrialOutcome {
        match o {
            Outcome::Pass => TrialOutcome::Pass,
            Outcome::Fail => TrialOutcome::Fail,
            Outcome::Invalid => TrialOutcome::Invalid,
        }
    }
}

impl TrialRecord {
    pub fn new(
        file: &str,
        rate: f64,
        threads: u32,
        connections: u32,
        outcome: Outcome,
        r: &RunResult,
        objectives: Vec<CheckOutcome>,
    ) -> TrialRecord {
        let pct = |key: &str| {
            (r.summary.requests > 0)
                .then(|| r.latency.percentiles.get(key).copied())
                .flatten()
        };
        TrialRecord {
            file: file.to_string(),
            rate,
            achieved_rate: r.summary.achieved_rate.unwrap_or(0.0),
            threads,
            connections,
            outcome: outcome.into(),
            verdict: crate::report::diagnosis::verdict_of(r),
            requests: r.summary.requests,
            errors: r.summary.errors,
            p50_us: pct("50"),
            p90_us: pct("90"),
            p99_us: pct("99"),
            objectives,
        }
    }
}

impl Summary {
    pub(super) fn new(
        plan: &Plan,
        started_at: SystemTime,
        elapsed: Duration,
        answer: &Answer,
        trials: Vec<TrialRecord>,
        interrupted: bool,
    ) -> Summary {
        let s = &plan.settings;
        Summary {
            schema_version: SUMMARY_VERSION,
            tool: Tool {
                name: "bench-client".to_string(),
                version: env!("CARGO_PKG_VERSION").to_string(),
            },
            started_at: humantime::format_rfc3339_millis(started_at).to_string(),
            url: plan.args.url.clone(),
            server: plan.args.server.map(|m| m.name().to_string()),
            max_rate: answer.max_rate,
            interval: (answer.low, answer.high),
            stop: if interrupted {
                Stop::Interrupted
            } else {
                answer.stop
            },
            objectives: plan.args.slo.iter().map(|s| s.trim().to_string()).collect(),
            settings: SearchSettings {
                start_rate: s.start_rate,
                growth: s.growth,
                precision: s.precision,
                repeats: s.repeats,
                max_rate: s.max_rate,
                trial_duration_s: plan.trial_duration.as_secs_f64(),
                warmup_s: plan.warmup.as_secs_f64(),
                budget_s: s.budget.as_secs_f64(),
                threads: s.threads,
                max_threads: s.max_threads,
                connections: plan.args.connections,
                connection_latency_s: plan.latency_bound_s,
                connection_per_request: plan.args.connection_per_request,
            },
            elapsed_s: elapsed.as_secs_f64(),
            trials,
            chart: CHART_FILE.to_string(),
        }
    }

    /// The answer in one line for people.
    pub fn conclusion(&self) -> String {
        let objectives = self.objectives.join(", ");
        let why = match self.stop {
            Stop::Converged => "the interval is within the precision",
            Stop::Budget => "the time budget ran out",
            Stop::Generator => {
                "bench-client could not offer a higher rate validly, even with the most threads"
            }
            Stop::NothingPassed => "every rate down to the minimum failed",
            Stop::MaxRate => "--max-rate passed",
            Stop::Interrupted => "interrupted",
        };
        let high = self.interval.1.map_or("not found".to_string(), |h| {
            format!("{} req/s", format::rate(h))
        });
        match self.max_rate {
            Some(rate) => format!(
                "Max rate: {} req/s meeting {objectives} (interval [{} req/s, {high}]; stopped: {why}; {} trials)",
                format::rate(rate),
                format::rate(self.interval.0),
                self.trials.len()
            ),
            None => format!(
                "Max rate: none; no rate met {objectives} (lowest failing: {high}; stopped: {why}; {} trials)",
                self.trials.len()
            ),
        }
    }

    /// Writes the summary as pretty JSON.
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let text = serde_json::to_string_pretty(self)? + "\n";
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
    }
}
