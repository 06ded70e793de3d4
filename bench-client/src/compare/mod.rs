//! `bench-client compare`: the regression gate. Compares repeated runs of one
//! load shape (baseline vs candidate) metric by metric, says whether each
//! change is significant, and fails (exit 1) when a significant regression
//! exceeds its limit.
//!
//! With two or more runs a side the test is a percentile-bootstrap 95 %
//! confidence interval of the change of means ([`stats`]); with one run a side
//! there is nothing to estimate noise from, so a change counts only beyond a
//! fixed noise threshold, and the output says so.

pub mod render;
pub mod shape;
pub mod stats;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use serde::Serialize;

use crate::metric::Metric;
use crate::report::load::load_all;
use crate::result::RunResult;
use shape::check_same_shape;
use stats::{bootstrap_ci, change, mean, ChangeKind};

/// Output format of `compare`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// An aligned plain-text table.
    Terminal,
    /// A GitHub-flavoured Markdown table, for a CI comment.
    Markdown,
    /// The whole comparison as JSON.
    Json,
}

/// Exit status: 0 no significant regression beyond its limit, 1 one or more,
/// 2 the comparison could not be made.
#[derive(Debug, Clone, clap::Args)]
#[command(
    after_help = "Exit status: 0 no significant regression beyond its limit; 1 at least one; 2 error (unreadable file, different load shapes, bad option).\n\nExample: bench-client compare base-1.json base-2.json base-3.json --against new-1.json new-2.json new-3.json --max-regression 5% --max-regression p99=10%"
)]
pub struct CompareArgs {
    /// Baseline result files (repeated runs of one configuration).
    #[arg(required = true, value_name = "BASELINE.json")]
    pub baseline: Vec<PathBuf>,
    /// Candidate result files, compared with the baseline.
    #[arg(long, required = true, num_args = 1.., value_name = "CANDIDATE.json")]
    pub against: Vec<PathBuf>,
    /// Largest tolerated significant regression: `5%` for every metric, or
    /// `METRIC=PCT` for one (metrics: rps, p50, p90, p99, p99.9, error_rate;
    /// error_rate in percentage points). Repeatable; the last one for a
    /// metric wins.
    #[arg(long, value_name = "[METRIC=]PCT", default_value = "5%")]
    pub max_regression: Vec<String>,
    /// With one run a side: a change smaller than this is noise.
    #[arg(long, value_name = "PCT", default_value = "3%")]
    pub noise_threshold: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Terminal)]
    pub format: Format,
    /// Compare even when the load shapes differ, or when a run's verdict is
    /// not valid (its figures may measure bench-client, not the server).
    #[arg(long)]
    pub force: bool,
}

/// Exit status 0: pass; 1: a significant regression beyond its limit; 2: the
/// comparison could not be made (bad file, other load shapes, bad option), so
/// that a CI gate can tell a regression from a broken setup.
pub fn run(args: &CompareArgs) -> anyhow::Result<ExitCode> {
    let (cmp, out) = match execute(args) {
        Ok(done) => done,
        Err(e) => {
            eprintln!("error: {e:#}");
            return Ok(ExitCode::from(2));
        }
    };
    print!("{out}");
    Ok(if cmp.pass {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `compare` without the printing: the comparison and its rendering in the
/// requested format.
pub fn execute(args: &CompareArgs) -> anyhow::Result<(Comparison, String)> {
    let limits = Limits::parse(&args.max_regression)?;
    let noise = parse_pct(&args.noise_threshold)
        .with_context(|| format!("--noise-threshold {:?}", args.noise_threshold))?;
    let baseline = load_all(&args.baseline)?;
    let candidate = load_all(&args.against)?;
    if !args.force {
        let all: Vec<(&Path, &RunResult)> = args
            .baseline
            .iter()
            .chain(&args.against)
            .map(PathBuf::as_path)
            .zip(baseline.iter().chain(&candidate))
            .collect();
        check_same_shape(&all)?;
        check_valid(&all)?;
    }
    let mut cmp = compare(&baseline, &candidate, &limits, noise);
    cmp.baseline_files = args.baseline.clone();
    cmp.candidate_files = args.against.clone();
    let out = match args.format {
        Format::Terminal => render::terminal(&cmp),
        Format::Markdown => render::markdown(&cmp),
        Format::Json => serde_json::to_string_pretty(&cmp)? + "\n",
    };
    Ok((cmp, out))
}

/// Refuses to call a regression between runs whose verdicts are not valid:
/// a busy generator's figures say nothing about the server.
fn check_valid(runs: &[(&Path, &RunResult)]) -> anyhow::Result<()> {
    let invalid: Vec<String> = runs
        .iter()
        .filter_map(|(path, r)| {
            let v = crate::report::diagnosis::verdict_of(r);
            (!v.valid).then(|| format!("{}: {}", path.display(), v.reasons.join("; ")))
        })
        .collect();
    if invalid.is_empty() {
        return Ok(());
    }
    anyhow::bail!(
        "{} of the runs are NOT VALID, so their figures may measure bench-client rather than \
         the server and no regression can be called (pass --force to compare anyway):\n  {}",
        invalid.len(),
        invalid.join("\n  ")
    )
}

/// The metrics `compare` reports on, in output order. Names, parsing and the
/// values read from a run come from [`crate::metric`], the one vocabulary.
pub const METRICS: [Metric; 6] = [
    Metric::Rps,
    Metric::Percentile(50.0),
    Metric::Percentile(90.0),
    Metric::Percentile(99.0),
    Metric::Percentile(99.9),
    Metric::ErrorRate,
];

/// Error rates are compared in percentage points, everything else in %.
pub fn change_kind(m: Metric) -> ChangeKind {
    match m {
        Metric::ErrorRate => ChangeKind::Absolute,
        _ => ChangeKind::Relative,
    }
}

/// The unit `compare` shows a metric in: `req/s`, `ms` or `%`.
pub fn display_unit(m: Metric) -> &'static str {
    match m.unit() {
        "us" => "ms",
        "ratio" => "%",
        unit => unit,
    }
}

/// The value of `m` in one run in [`display_unit`]: req/s, latency in ms,
/// or the error rate in % of attempted requests. `None` when the run has
/// no data for it (a latency of a run that completed no request).
pub fn display_value(m: Metric, run: &RunResult) -> Option<f64> {
    let v = m.value(run)?;
    Some(match m.unit() {
        "us" => v / 1000.0,
        "ratio" => v * 100.0,
        _ => v,
    })
}

fn serialize_name<S: serde::Serializer>(m: &Metric, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&m.name())
}

/// `--max-regression`: a default and per-metric overrides, in % (percentage
/// points for the error rate).
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    pub default: f64,
    /// Overrides in the order given; a later one for the same metric wins.
    pub per_metric: Vec<(Metric, f64)>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            default: 5.0,
            per_metric: Vec::new(),
        }
    }
}

impl Limits {
    pub fn parse(specs: &[String]) -> anyhow::Result<Self> {
        let mut limits = Limits::default();
        for spec in specs {
            match spec.split_once('=') {
                Some((metric, pct)) => {
                    let m = Metric::parse(metric)
                        .with_context(|| format!("--max-regression {spec:?}"))?;
                    if !METRICS.contains(&m) {
                        let names: Vec<String> = METRICS.iter().map(Metric::name).collect();
                        anyhow::bail!(
                            "--max-regression {spec:?}: compare does not report {}; it reports {}",
                            m.name(),
                            names.join(", ")
                        );
                    }
                    let v = parse_pct(pct).with_context(|| format!("--max-regression {spec:?}"))?;
                    limits.per_metric.push((m, v));
                }
                None => {
                    limits.default =
                        parse_pct(spec).with_context(|| format!("--max-regression {spec:?}"))?;
                }
            }
        }
        Ok(limits)
    }

    pub fn of(&self, m: Metric) -> f64 {
        self.per_metric
            .iter()
            .rev()
            .find(|(pm, _)| *pm == m)
            .map_or(self.default, |(_, v)| *v)
    }
}

/// `5%`, `5` or `0.5%` → 5.0 / 5.0 / 0.5.
pub fn parse_pct(s: &str) -> anyhow::Result<f64> {
    let t = s.trim();
    let t = t.strip_suffix('%').unwrap_or(t).trim();
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => anyhow::bail!("{s:?} is not a percentage; expected a number like 5% or 0.5%"),
    }
}

/// How significance was decided.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Method {
    /// Two or more runs a side.
    Bootstrap { confidence: f64, resamples: usize },
    /// One run on a side: only changes beyond the threshold (in %) count.
    NoiseThreshold { threshold_pct: f64 },
}

/// What a metric's change means for the gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Not significant.
    NoChange,
    Better,
    /// Significantly worse, within the limit.
    Worse,
    /// Significantly worse beyond the limit: fails the gate.
    Regression,
    /// A latency metric where some run completed no request: there is no
    /// latency to compare (the error rate and req/s still show the failure).
    NoData,
}

#[derive(Debug, Clone, Serialize)]
pub struct MetricComparison {
    /// Serialized as its name, e.g. `p99.9`.
    #[serde(serialize_with = "serialize_name")]
    pub metric: Metric,
    /// `ms`, `req/s` or `%`.
    pub unit: &'static str,
    pub higher_is_better: bool,
    /// One per run, in `unit`; null for a run without data for the metric.
    pub baseline_values: Vec<Option<f64>>,
    pub candidate_values: Vec<Option<f64>>,
    /// Null when some run of the side has no data.
    pub baseline_mean: Option<f64>,
    pub candidate_mean: Option<f64>,
    /// Change of means, in % (`change_unit` = `%`) or percentage points
    /// (`pp`); 0 when the verdict is `no_data`.
    pub change: f64,
    pub change_unit: &'static str,
    /// Bootstrap confidence interval of `change`; absent with one run a side.
    pub ci: Option<(f64, f64)>,
    pub significant: bool,
    /// The regression limit applied, in `change_unit`.
    pub limit: f64,
    pub verdict: Verdict,
}

#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub baseline_files: Vec<PathBuf>,
    pub candidate_files: Vec<PathBuf>,
    pub baseline_runs: usize,
    pub candidate_runs: usize,
    pub method: Method,
    pub metrics: Vec<MetricComparison>,
    /// Names of the metrics with verdict `regression`.
    pub regressions: Vec<String>,
    pub pass: bool,
    /// `--targets` runs with the same targets: each target's latency and
    /// errors, side by side (shown, not gated: the totals gate).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<TargetComparison>,
    /// Why there is no per-target table when some run had targets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub targets_note: Option<String>,
}

/// One target in both sides' runs: the means over each side's runs.
#[derive(Debug, Clone, Serialize)]
pub struct TargetComparison {
    pub key: String,
    pub baseline_p50_ms: f64,
    pub candidate_p50_ms: f64,
    pub baseline_p99_ms: f64,
    pub candidate_p99_ms: f64,
    /// Change of the p99 mean, in %.
    pub p99_change_pct: f64,
    /// Failed attempts over all attempts, in %.
    pub baseline_error_pct: f64,
    pub candidate_error_pct: f64,
}

/// Target by target when every run has the same targets (keys, in order);
/// otherwise why only the totals are compared.
fn compare_targets(
    baseline: &[RunResult],
    candidate: &[RunResult],
) -> (Vec<TargetComparison>, Option<String>) {
    let runs: Vec<&RunResult> = baseline.iter().chain(candidate).collect();
    if runs.iter().all(|r| r.targets.is_empty()) {
        return (Vec::new(), None);
    }
    let keys = |r: &RunResult| r.targets.iter().map(|t| t.key.clone()).collect::<Vec<_>>();
    let first = keys(runs[0]);
    if runs.iter().any(|r| keys(r) != first) {
        return (
            Vec::new(),
            Some("the runs' targets differ: compared totals only".to_string()),
        );
    }
    let side = |runs: &[RunResult], i: usize| {
        let n = runs.len().max(1) as f64;
        let ms = |r: &RunResult, k: &str| {
            r.targets[i]
                .latency
                .percentiles
                .get(k)
                .copied()
                .unwrap_or(0) as f64
                / 1000.0
        };
        let p50 = runs.iter().map(|r| ms(r, "50")).sum::<f64>() / n;
        let p99 = runs.iter().map(|r| ms(r, "99")).sum::<f64>() / n;
        let (errors, all) = runs.iter().fold((0, 0), |(e, a), r| {
            let t = &r.targets[i];
            (e + t.errors, a + t.errors + t.requests)
        });
        let error_pct = if all > 0 {
            errors as f64 * 100.0 / all as f64
        } else {
            0.0
        };
        (p50, p99, error_pct)
    };
    let rows = first
        .into_iter()
        .enumerate()
        .map(|(i, key)| {
            let (b50, b99, be) = side(baseline, i);
            let (c50, c99, ce) = side(candidate, i);
            TargetComparison {
                key,
                baseline_p50_ms: b50,
                candidate_p50_ms: c50,
                baseline_p99_ms: b99,
                candidate_p99_ms: c99,
                p99_change_pct: change(b99, c99, ChangeKind::Relative),
                baseline_error_pct: be,
                candidate_error_pct: ce,
            }
        })
        .collect();
    (rows, None)
}

/// Confidence of the bootstrap interval.
pub const CONFIDENCE: f64 = 0.95;

/// The comparison itself, on loaded runs (no I/O). `noise_threshold` is in %.
pub fn compare(
    baseline: &[RunResult],
    candidate: &[RunResult],
    limits: &Limits,
    noise_threshold: f64,
) -> Comparison {
    let method = if baseline.len() >= 2 && candidate.len() >= 2 {
        Method::Bootstrap {
            confidence: CONFIDENCE,
            resamples: stats::RESAMPLES,
        }
    } else {
        Method::NoiseThreshold {
            threshold_pct: noise_threshold,
        }
    };
    let metrics: Vec<MetricComparison> = METRICS
        .iter()
        .map(|&m| compare_metric(m, baseline, candidate, limits.of(m), method))
        .collect();
    let regressions: Vec<String> = metrics
        .iter()
        .filter(|c| c.verdict == Verdict::Regression)
        .map(|c| c.metric.name())
        .collect();
    let (targets, targets_note) = compare_targets(baseline, candidate);
    Comparison {
        targets,
        targets_note,
        baseline_files: Vec::new(),
        candidate_files: Vec::new(),
        baseline_runs: baseline.len(),
        candidate_runs: candidate.len(),
        method,
        pass: regressions.is_empty(),
        metrics,
        regressions,
    }
}

fn compare_metric(
    m: Metric,
    baseline: &[RunResult],
    candidate: &[RunResult],
    limit: f64,
    method: Method,
) -> MetricComparison {
    let b: Vec<Option<f64>> = baseline.iter().map(|r| display_value(m, r)).collect();
    let c: Vec<Option<f64>> = candidate.iter().map(|r| display_value(m, r)).collect();
    let kind = change_kind(m);
    // A latency of a run without a completed request is missing, not 0:
    // comparing a 0 would call any real latency an infinite regression, or
    // a broken run an improvement. req/s and the error rate still gate it.
    let present = |v: &[Option<f64>]| v.iter().copied().collect::<Option<Vec<f64>>>();
    let (delta, ci, significant) = match (present(&b), present(&c)) {
        (Some(bv), Some(cv)) => {
            let delta = change(mean(&bv), mean(&cv), kind);
            match method {
                Method::Bootstrap { confidence, .. } => {
                    let ci = bootstrap_ci(&bv, &cv, kind, confidence);
                    let sig = ci.is_some_and(|(lo, hi)| lo > 0.0 || hi < 0.0);
                    (Some(delta), ci, sig)
                }
                Method::NoiseThreshold { threshold_pct } => {
                    (Some(delta), None, delta.abs() > threshold_pct)
                }
            }
        }
        _ => (None, None, false),
    };
    // The change in the "worse" direction, positive when worse.
    let worsening = delta.map(|d| if m.higher_is_better() { -d } else { d });
    let verdict = match (worsening, significant) {
        (None, _) => Verdict::NoData,
        (Some(_), false) => Verdict::NoChange,
        (Some(w), true) if w <= 0.0 => Verdict::Better,
        (Some(w), true) if w > limit => Verdict::Regression,
        (Some(_), true) => Verdict::Worse,
    };
    let side_mean = |v: &[Option<f64>]| present(v).map(|v| mean(&v));
    MetricComparison {
        metric: m,
        unit: display_unit(m),
        higher_is_better: m.higher_is_better(),
        baseline_mean: side_mean(&b),
        candidate_mean: side_mean(&c),
        baseline_values: b,
        candidate_values: c,
        change: delta.unwrap_or(0.0),
        change_unit: match kind {
            ChangeKind::Relative => "%",
            ChangeKind::Absolute => "pp",
        },
        ci,
        significant,
        limit,
        verdict,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_compare_one_by_one_when_both_sides_have_the_same() {
        let mut base = crate::report::testing::closed_loop_result();
        let t = |key: &str, p99: u64| crate::result::TargetResult {
            key: key.into(),
            weight: 1,
            requests: 99,
            errors: 1,
            status_codes: Default::default(),
            errors_by_kind: Default::default(),
            latency: {
                let mut l = base_latency();
                l.percentiles.insert("99".into(), p99);
                l
            },
        };
        base.targets = vec![t("GET http://h/a", 1_000), t("GET http://h/b", 2_000)];
        let mut cand = base.clone();
        cand.targets[1] = t("GET http://h/b", 3_000);
        let c = compare(&[base.clone()], &[cand.clone()], &Limits::default(), 5.0);
        assert_eq!(c.targets.len(), 2);
        assert_eq!(c.targets[1].p99_change_pct, 50.0);
        assert_eq!(c.targets[0].baseline_error_pct, 1.0);
        assert!(render::terminal(&c).contains("GET http://h/b"));
        cand.targets.pop();
        let c = compare(&[base], &[cand], &Limits::default(), 5.0);
        assert!(c.targets.is_empty());
        assert!(c.targets_note.unwrap().contains("totals only"));
    }

    fn base_latency() -> crate::result::Latency {
        crate::report::testing::closed_loop_result().latency
    }

    #[test]
    fn runs_that_are_not_valid_are_refused_naming_file_and_reason() {
        let valid = crate::report::testing::closed_loop_result();
        let mut invalid = valid.clone();
        invalid.verdict = Some(crate::result::Verdict {
            valid: false,
            reasons: vec!["worker 0 busy 99 % of the run".into()],
        });
        let (a, b) = (Path::new("a.json"), Path::new("b.json"));
        assert!(check_valid(&[(a, &valid), (b, &valid)]).is_ok());
        let e = check_valid(&[(a, &valid), (b, &invalid)]).unwrap_err();
        assert_eq!(
            format!("{e:#}"),
            "1 of the runs are NOT VALID, so their figures may measure bench-client rather than \
             the server and no regression can be called (pass --force to compare anyway):\n  \
             b.json: worker 0 busy 99 % of the run"
        );
    }

    #[test]
    fn limits_parse_default_and_overrides() {
        let l = Limits::parse(&["5%".into(), "p99=10%".into(), "error_rate=0.5".into()]).unwrap();
        assert_eq!(l.of(Metric::Rps), 5.0);
        assert_eq!(l.of(Metric::Percentile(99.0)), 10.0);
        assert_eq!(l.of(Metric::ErrorRate), 0.5);
        let l = Limits::parse(&["P99=10%".into(), "p99=2%".into()]).unwrap();
        assert_eq!(l.of(Metric::Percentile(99.0)), 2.0, "the last one wins");
        let e = Limits::parse(&["p42=1%".into()]).unwrap_err();
        assert_eq!(
            format!("{e:#}"),
            "--max-regression \"p42=1%\": unknown metric 'p42': expected one of succeeded, errors, error_rate, \
             non2xx, rps, mean, max, p50, p75, p90, p99, p99.9, p99.99"
        );
        let e = Limits::parse(&["lots".into()]).unwrap_err();
        assert!(format!("{e:#}").contains("not a percentage"), "{e:#}");
    }

    /// The vocabulary is shared, but compare reports on six metrics only:
    /// a limit on any other would silently never apply.
    #[test]
    fn limits_refuse_a_metric_compare_does_not_report() {
        for (spec, name) in [
            ("max=5%", "max"),
            ("errors=1%", "errors"),
            ("p75=5%", "p75"),
        ] {
            let e = Limits::parse(&[spec.into()]).unwrap_err();
            assert_eq!(
                format!("{e:#}"),
                format!(
                    "--max-regression \"{spec}\": compare does not report {name}; \
                     it reports rps, p50, p90, p99, p99.9, error_rate"
                )
            );
        }
    }

    /// Review finding: against a baseline whose requests all failed (p50 of
    /// 0), a healthy candidate failed the gate with a "+inf" latency
    /// regression; latency metrics now say there is no data, and the error
    /// rate tells the story.
    #[test]
    fn a_run_without_completed_requests_has_no_latency_to_compare() {
        let good = crate::report::testing::closed_loop_result();
        let mut broken = good.clone();
        broken.summary.requests = 0;
        broken.summary.requests_per_sec = 0.0;
        broken.latency = crate::hdr::latency_from(&crate::hdr::new_histogram());
        let c = compare(
            std::slice::from_ref(&broken),
            std::slice::from_ref(&good),
            &Limits::default(),
            3.0,
        );
        for mc in &c.metrics {
            let want = match mc.metric {
                Metric::Rps | Metric::ErrorRate => Verdict::Better,
                _ => Verdict::NoData,
            };
            assert_eq!(mc.verdict, want, "{:?}", mc.metric);
            if want == Verdict::NoData {
                assert_eq!(mc.baseline_values, vec![None]);
                assert_eq!(mc.baseline_mean, None);
            }
        }
        assert!(c.pass);
        let c = compare(&[good], &[broken], &Limits::default(), 3.0);
        assert_eq!(c.regressions, vec!["rps", "error_rate"]);
        assert!(render::terminal(&c).contains("no data"));
    }
}
