//! The metric vocabulary of a saved run and the `METRIC OP VALUE` check
//! expression, in one place: `run --fail-on`, `compare --max-regression` and
//! SLO objectives all name metrics the same way and read them from a
//! [`RunResult`] the same way.
//!
//! ```
//! use bench_client::metric::{Check, Metric};
//!
//! let check = Check::parse("p99 > 50ms").unwrap();
//! assert_eq!(check.metric, Metric::Percentile(99.0));
//! assert_eq!(check.threshold, 50_000.0); // µs
//! ```

use serde::{Deserialize, Serialize};

use crate::hdr::Percentile;
use crate::report::format;
use crate::result::RunResult;

/// The accepted metric names, as error messages list them. A test keeps it
/// equal to the names [`Metric::parse`] accepts.
const METRIC_NAMES: &str =
    "succeeded, errors, error_rate, non2xx, rps, mean, max, p50, p75, p90, p99, p99.9, p99.99";

/// A number a run can be judged by.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Metric {
    /// Complete responses with a status below 400: what a run's default
    /// check (`succeeded<1`) asks for at least one of.
    Succeeded,
    /// Failed requests, all kinds (`summary.errors`).
    Errors,
    /// `errors / (requests + errors)`, a fraction from 0 to 1.
    ErrorRate,
    /// Responses whose status is not 2xx.
    Non2xx,
    /// Completed responses per second.
    Rps,
    /// Mean latency, µs.
    Mean,
    /// Largest latency, µs.
    Max,
    /// A latency percentile, µs: one of the stored [`crate::hdr::Percentile`]s
    /// below 100 (`max` is the 100th), e.g. `99.9`.
    Percentile(f64),
    /// The reasons the run's verdict is not valid (0 for a valid run): what
    /// the bare check `generator` (`--fail-on generator`) fails on. Not a
    /// metric name of its own: [`Metric::parse`] does not accept it.
    Generator,
}

impl Metric {
    /// A metric by name (case-insensitive): `errors`, `error_rate`,
    /// `non2xx`, `rps`, `mean`, `max`, `p50`, `p75`, `p90`, `p99`, `p99.9`,
    /// `p99.99`.
    pub fn parse(name: &str) -> Result<Metric, MetricError> {
        let lower = name.trim().to_ascii_lowercase();
        let metric = match lower.as_str() {
            "succeeded" => Metric::Succeeded,
            "errors" => Metric::Errors,
            "error_rate" => Metric::ErrorRate,
            "non2xx" => Metric::Non2xx,
            "rps" => Metric::Rps,
            "mean" => Metric::Mean,
            "max" => Metric::Max,
            other => other
                .strip_prefix('p')
                // Only the stored percentiles: any other would need the
                // histogram decoded, and "p100" is spelled "max".
                .and_then(|key| key.parse::<Percentile>().ok())
                .filter(|p| *p != Percentile::Max)
                .map(|p| Metric::Percentile(p.value()))
                .ok_or_else(|| MetricError::UnknownMetric {
                    name: name.trim().to_string(),
                })?,
        };
        Ok(metric)
    }

    /// The canonical name, which [`Metric::parse`] reads back.
    pub fn name(&self) -> String {
        match self {
            Metric::Succeeded => "succeeded".into(),
            Metric::Errors => "errors".into(),
            Metric::ErrorRate => "error_rate".into(),
            Metric::Non2xx => "non2xx".into(),
            Metric::Rps => "rps".into(),
            Metric::Mean => "mean".into(),
            Metric::Max => "max".into(),
            Metric::Percentile(p) => format!("p{p}"),
            Metric::Generator => "generator".into(),
        }
    }

    /// The unit of [`Metric::value`] and of a check's threshold: `us`,
    /// `ratio`, `count` or `req/s`.
    pub fn unit(&self) -> &'static str {
        match self {
            Metric::Succeeded | Metric::Errors | Metric::Non2xx | Metric::Generator => "count",
            Metric::ErrorRate => "ratio",
            Metric::Rps => "req/s",
            Metric::Mean | Metric::Max | Metric::Percentile(_) => "us",
        }
    }

    fn is_latency(&self) -> bool {
        self.unit() == "us"
    }

    /// The metric's value in `r`, in [`Metric::unit`]. `None` for a latency
    /// metric of a run that completed no request: its histogram holds at most
    /// timeouts, whose elapsed times are not a latency of the target.
    pub fn value(&self, r: &RunResult) -> Option<f64> {
        let s = &r.summary;
        if self.is_latency() && s.requests == 0 {
            return None;
        }
        Some(match self {
            Metric::Succeeded => s
                .status_codes
                .iter()
                .filter(|(code, _)| matches!(code.parse::<u16>(), Ok(0..=399)))
                .map(|(_, n)| *n)
                .sum::<u64>() as f64,
            Metric::Errors => s.errors as f64,
            Metric::ErrorRate => {
                let attempted = s.requests + s.errors;
                if attempted == 0 {
                    0.0
                } else {
                    s.errors as f64 / attempted as f64
                }
            }
            Metric::Non2xx => s
                .status_codes
                .iter()
                .filter(|(code, _)| !matches!(code.parse::<u16>(), Ok(200..=299)))
                .map(|(_, n)| *n)
                // Summed as integers: an empty f64 sum is -0.0, shown as "-0".
                .sum::<u64>() as f64,
            Metric::Rps => s.requests_per_sec,
            Metric::Mean => r.latency.mean,
            Metric::Generator => crate::report::diagnosis::verdict_of(r).reasons.len() as f64,
            Metric::Max => r.latency.max as f64,
            Metric::Percentile(p) => {
                // A percentile no result stores has no value: it is never
                // answered with another one.
                let p = Percentile::from_value(*p).ok()?;
                match r.latency.percentiles.get(p.key()) {
                    Some(&us) => us as f64,
                    // Older or hand-made results may lack a key; the
                    // histogram has every percentile.
                    None => {
                        let h = crate::hdr::decode(&r.latency.hdr).ok()?;
                        crate::hdr::percentile(&h, p) as f64
                    }
                }
            }
        })
    }

    /// True for throughput (`rps`), where less is worse; false for every
    /// other metric.
    pub fn higher_is_better(&self) -> bool {
        matches!(self, Metric::Rps)
    }
}

/// The comparison of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Gt,
    Ge,
    Lt,
    Le,
}

impl Op {
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Le => "<=",
        }
    }

    fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Op::Gt => value > threshold,
            Op::Ge => value >= threshold,
            Op::Lt => value < threshold,
            Op::Le => value <= threshold,
        }
    }
}

/// `METRIC OP VALUE`, e.g. `p99>50ms`, `p99.9>200ms`, `max>1s`, `mean>10ms`,
/// `errors>0`, `error_rate>1%`, `rps<1000`, `non2xx>0`.
///
/// The expression states the *failure* condition (a k6 threshold inverted):
/// the check fails when it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub metric: Metric,
    pub op: Op,
    /// In the metric's base unit ([`Metric::unit`]): µs for latency, a
    /// fraction from 0 to 1 for `error_rate`, a count, or req/s.
    pub threshold: f64,
    /// The expression as written, trimmed.
    pub text: String,
}

impl Check {
    pub fn parse(expr: &str) -> Result<Check, MetricError> {
        let text = expr.trim();
        if text.eq_ignore_ascii_case(GENERATOR) {
            // The verdict: fails when it has a reason, i.e. is not valid.
            return Ok(Check {
                metric: Metric::Generator,
                op: Op::Gt,
                threshold: 0.0,
                text: GENERATOR.to_string(),
            });
        }
        let syntax = || MetricError::Syntax {
            expr: text.to_string(),
        };
        let at = text.find(['<', '>']).ok_or_else(syntax)?;
        let (name, rest) = text.split_at(at);
        let (op, value) = match rest.as_bytes() {
            [b'>', b'=', ..] => (Op::Ge, &rest[2..]),
            [b'<', b'=', ..] => (Op::Le, &rest[2..]),
            [b'>', ..] => (Op::Gt, &rest[1..]),
            _ => (Op::Lt, &rest[1..]),
        };
        let (name, value) = (name.trim(), value.trim());
        // `p99>>5ms`, `p99=>5ms`, `>5ms`, `p99>`: not a typo to guess at.
        if name.is_empty()
            || name.contains('=')
            || value.is_empty()
            || value.starts_with(['<', '>', '='])
        {
            return Err(syntax());
        }
        let metric = Metric::parse(name).map_err(|_| MetricError::UnknownMetricInCheck {
            expr: text.to_string(),
            name: name.to_string(),
        })?;
        let threshold = parse_threshold(metric, value).map_err(|reason| MetricError::Value {
            expr: text.to_string(),
            reason,
        })?;
        Ok(Check {
            metric,
            op,
            threshold,
            text: text.to_string(),
        })
    }

    /// An objective, `METRIC OP VALUE` stating what must hold (`p99<100ms`,
    /// `error_rate<=1%`), read as the check that fails when it does not: the
    /// same metrics and values as [`Check::parse`], the operator negated,
    /// the text kept as written. `generator` is no objective (a trial's
    /// verdict is judged apart) and is refused.
    pub fn objective(expr: &str) -> Result<Check, MetricError> {
        let mut check = Check::parse(expr)?;
        if check.metric == Metric::Generator {
            return Err(MetricError::Syntax {
                expr: check.text.clone(),
            });
        }
        check.op = match check.op {
            Op::Lt => Op::Ge,
            Op::Le => Op::Gt,
            Op::Gt => Op::Le,
            Op::Ge => Op::Lt,
        };
        Ok(check)
    }

    pub fn evaluate(&self, r: &RunResult) -> CheckOutcome {
        let value = self.metric.value(r);
        CheckOutcome {
            expr: self.text.clone(),
            metric: self.metric.name(),
            value,
            threshold: self.threshold,
            unit: self.metric.unit().to_string(),
            // No latency at all is the worst latency, not a pass.
            failed: value.map_or(true, |v| self.op.holds(v, self.threshold)),
        }
    }
}

/// The bare check on the run's verdict (`--fail-on generator`).
pub const GENERATOR: &str = "generator";

/// A non-negative finite number.
fn number(s: &str) -> Option<f64> {
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
}

/// `value` in `metric`'s base unit, or why it is not one.
fn parse_threshold(metric: Metric, value: &str) -> Result<f64, String> {
    match metric.unit() {
        "us" => {
            // `ms` and `us` before `s`, which ends them both.
            let units = [("us", 1.0), ("µs", 1.0), ("ms", 1e3), ("s", 1e6)];
            let unit = units.iter().find(|(u, _)| value.ends_with(u));
            match unit {
                Some((u, scale)) => number(&value[..value.len() - u.len()])
                    .map(|v| v * scale)
                    // Finite after scaling too: `1e303s` overflows to
                    // infinity, which a result's JSON cannot hold.
                    .filter(|us| us.is_finite())
                    .ok_or_else(|| {
                        format!(
                            "'{value}' is not a latency; expected a number with a unit such as 500us, 50ms or 1.5s"
                        )
                    }),
                None if number(value).is_some() => Err(format!(
                    "a latency needs a unit: write {value}us, {value}ms or {value}s"
                )),
                None => Err(format!(
                    "'{value}' is not a latency; expected a number with a unit such as 500us, 50ms or 1.5s"
                )),
            }
        }
        "ratio" => {
            let rate = match value.strip_suffix('%') {
                Some(pct) => number(pct).map(|v| v / 100.0),
                None => number(value),
            };
            rate.filter(|r| *r <= 1.0).ok_or_else(|| {
                format!(
                    "'{value}' is not an error rate; expected a percentage from 0% to 100% such as 1%, or a fraction from 0 to 1 such as 0.01"
                )
            })
        }
        _ => number(value).ok_or_else(|| {
            format!(
                "'{value}' is not a valid {}; expected a non-negative number such as 0 or 1000",
                metric.name()
            )
        }),
    }
}

/// The result of one [`Check`] on one run: data, so that the text report,
/// the JSON result and an exit status can each use it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckOutcome {
    /// The expression as written, e.g. `"p99>50ms"`.
    pub expr: String,
    /// The metric's canonical name.
    pub metric: String,
    /// Measured value in `unit`; `None` when the run has no data for it.
    pub value: Option<f64>,
    /// The limit, in `unit`.
    pub threshold: f64,
    /// `"us"`, `"ratio"`, `"count"` or `"req/s"`.
    pub unit: String,
    /// True when the failure condition held, or when a latency metric has no
    /// value (no data fails the check).
    pub failed: bool,
}

impl CheckOutcome {
    /// One line for people, e.g. `p99>50ms failed: p99 was 73.20ms, 23.20ms
    /// over the limit` or `error_rate>1% passed: error_rate was 0.00%`.
    pub fn describe(&self) -> String {
        let verdict = if self.failed { "failed" } else { "passed" };
        if self.metric == GENERATOR {
            let run = if self.failed { "NOT VALID" } else { "VALID" };
            return format!("{} {verdict}: the run is {run}", self.expr);
        }
        let Some(value) = self.value else {
            return format!(
                "{} {verdict}: no {} (the run completed no request)",
                self.expr, self.metric
            );
        };
        let shown = self.format(value);
        if !self.failed {
            return format!("{} {verdict}: {} was {shown}", self.expr, self.metric);
        }
        let beyond = if value > self.threshold {
            format!(
                "{} over the limit",
                self.format_diff(value - self.threshold)
            )
        } else if value < self.threshold {
            format!(
                "{} under the limit",
                self.format_diff(self.threshold - value)
            )
        } else {
            "at the limit".to_string()
        };
        format!(
            "{} {verdict}: {} was {shown}, {beyond}",
            self.expr, self.metric
        )
    }

    fn format(&self, v: f64) -> String {
        match self.unit.as_str() {
            "us" => format::latency_us(v),
            "ratio" => format!("{:.2}%", v * 100.0),
            "req/s" => format!("{} req/s", format::rate_short(v)),
            _ => format::number(v),
        }
    }

    /// A difference of two error rates is in percentage points, not %.
    fn format_diff(&self, d: f64) -> String {
        match self.unit.as_str() {
            "ratio" => format!("{:.2} percentage points", d * 100.0),
            _ => self.format(d),
        }
    }
}

/// A metric name or check expression that cannot be read. Messages quote the
/// input and list the accepted forms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetricError {
    #[error("unknown metric '{name}': expected one of {}", METRIC_NAMES)]
    UnknownMetric { name: String },
    #[error(
        "invalid check '{expr}': expected METRIC OP VALUE such as p99>50ms, error_rate>1%, rps<1000 (metrics: {}; operators: > >= < <=)",
        METRIC_NAMES
    )]
    Syntax { expr: String },
    #[error(
        "invalid check '{expr}': unknown metric '{name}'; expected one of {}",
        METRIC_NAMES
    )]
    UnknownMetricInCheck { expr: String, name: String },
    #[error("invalid check '{expr}': {reason}")]
    Value { expr: String, reason: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Metric; 13] = [
        Metric::Succeeded,
        Metric::Errors,
        Metric::ErrorRate,
        Metric::Non2xx,
        Metric::Rps,
        Metric::Mean,
        Metric::Max,
        Metric::Percentile(50.0),
        Metric::Percentile(75.0),
        Metric::Percentile(90.0),
        Metric::Percentile(99.0),
        Metric::Percentile(99.9),
        Metric::Percentile(99.99),
    ];

    #[test]
    fn names_round_trip_and_are_the_listed_ones() {
        for m in ALL {
            assert_eq!(Metric::parse(&m.name()).unwrap(), m, "{}", m.name());
            assert_eq!(
                Metric::parse(&m.name().to_ascii_uppercase()).unwrap(),
                m,
                "{}",
                m.name()
            );
        }
        let names: Vec<String> = ALL.iter().map(Metric::name).collect();
        assert_eq!(names.join(", "), METRIC_NAMES);
    }

    #[test]
    fn unknown_metric_names_are_refused_listing_the_known_ones() {
        for bad in ["p42", "p100", "p", "latency", "p99.999", "error-rate", ""] {
            assert_eq!(
                Metric::parse(bad).unwrap_err().to_string(),
                format!("unknown metric '{bad}': expected one of succeeded, errors, error_rate, non2xx, rps, mean, max, p50, p75, p90, p99, p99.9, p99.99"),
            );
        }
    }

    #[test]
    fn only_rps_is_better_higher() {
        for m in ALL {
            assert_eq!(m.higher_is_better(), m == Metric::Rps, "{}", m.name());
        }
    }

    /// One row per accepted form: expression, metric, operator, threshold
    /// in the base unit.
    #[test]
    fn every_form_parses_to_the_base_unit() {
        let table: &[(&str, Metric, Op, f64)] = &[
            ("p99>50ms", Metric::Percentile(99.0), Op::Gt, 50_000.0),
            ("p99.9>200ms", Metric::Percentile(99.9), Op::Gt, 200_000.0),
            (
                "p99.99>=1.5s",
                Metric::Percentile(99.99),
                Op::Ge,
                1_500_000.0,
            ),
            ("p50<=800us", Metric::Percentile(50.0), Op::Le, 800.0),
            ("p75>800µs", Metric::Percentile(75.0), Op::Gt, 800.0),
            ("p90 > 2 ms", Metric::Percentile(90.0), Op::Gt, 2_000.0),
            ("max>1s", Metric::Max, Op::Gt, 1_000_000.0),
            ("mean>10ms", Metric::Mean, Op::Gt, 10_000.0),
            ("MEAN>0.5ms", Metric::Mean, Op::Gt, 500.0),
            ("errors>0", Metric::Errors, Op::Gt, 0.0),
            ("error_rate>1%", Metric::ErrorRate, Op::Gt, 0.01),
            ("error_rate > 0.5 %", Metric::ErrorRate, Op::Gt, 0.005),
            ("error_rate>=0.01", Metric::ErrorRate, Op::Ge, 0.01),
            ("error_rate>100%", Metric::ErrorRate, Op::Gt, 1.0),
            ("rps<1000", Metric::Rps, Op::Lt, 1000.0),
            ("  rps <  1e3  ", Metric::Rps, Op::Lt, 1000.0),
            ("non2xx>0", Metric::Non2xx, Op::Gt, 0.0),
        ];
        for &(expr, metric, op, threshold) in table {
            let c = Check::parse(expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
            assert_eq!((c.metric, c.op), (metric, op), "{expr}");
            assert!(
                (c.threshold - threshold).abs() < 1e-9 * threshold.max(1.0),
                "{expr}: {} != {threshold}",
                c.threshold
            );
            assert_eq!(c.text, expr.trim());
        }
    }

    #[test]
    fn bad_expressions_are_refused_saying_what_is_expected() {
        let syntax = |e: &str| {
            format!(
                "invalid check '{e}': expected METRIC OP VALUE such as p99>50ms, error_rate>1%, rps<1000 \
                 (metrics: succeeded, errors, error_rate, non2xx, rps, mean, max, p50, p75, p90, p99, p99.9, p99.99; \
                 operators: > >= < <=)"
            )
        };
        let latency = |e: &str, v: &str| {
            format!("invalid check '{e}': '{v}' is not a latency; expected a number with a unit such as 500us, 50ms or 1.5s")
        };
        let rate = |e: &str, v: &str| {
            format!(
                "invalid check '{e}': '{v}' is not an error rate; expected a percentage from 0% to 100% such as 1%, \
                 or a fraction from 0 to 1 such as 0.01"
            )
        };
        let table: Vec<(&str, String)> = vec![
            ("p99>>5ms", syntax("p99>>5ms")),
            ("p99=>5ms", syntax("p99=>5ms")),
            ("p99=5ms", syntax("p99=5ms")),
            ("p99 50ms", syntax("p99 50ms")),
            (">5ms", syntax(">5ms")),
            ("p99>", syntax("p99>")),
            ("", syntax("")),
            (" p99<>1ms ", syntax("p99<>1ms")),
            (
                "p42>5ms",
                "invalid check 'p42>5ms': unknown metric 'p42'; expected one of succeeded, errors, error_rate, non2xx, rps, \
                 mean, max, p50, p75, p90, p99, p99.9, p99.99"
                    .into(),
            ),
            (
                "p99>50",
                "invalid check 'p99>50': a latency needs a unit: write 50us, 50ms or 50s".into(),
            ),
            ("p99>fast", latency("p99>fast", "fast")),
            ("p99>-5ms", latency("p99>-5ms", "-5ms")),
            ("max>5%", latency("max>5%", "5%")),
            ("p99>5 minutes", latency("p99>5 minutes", "5 minutes")),
            // Found by fuzzing: finite as written, infinite in µs.
            ("p99>1e303s", latency("p99>1e303s", "1e303s")),
            ("error_rate>5", rate("error_rate>5", "5")),
            ("error_rate>101%", rate("error_rate>101%", "101%")),
            ("error_rate>1ms", rate("error_rate>1ms", "1ms")),
            (
                "rps<1k",
                "invalid check 'rps<1k': '1k' is not a valid rps; expected a non-negative number such as 0 or 1000"
                    .into(),
            ),
            (
                "errors>-1",
                "invalid check 'errors>-1': '-1' is not a valid errors; expected a non-negative number such as 0 or 1000"
                    .into(),
            ),
            (
                "non2xx>NaN",
                "invalid check 'non2xx>NaN': 'NaN' is not a valid non2xx; expected a non-negative number such as 0 or 1000"
                    .into(),
            ),
        ];
        for (expr, want) in table {
            let got = Check::parse(expr).map(|c| c.text).unwrap_err().to_string();
            assert_eq!(got, want, "{expr:?}");
        }
    }

    /// A run with 1000 responses (990 × 200, 6 × 503, 4 × 404), 10 errors,
    /// p99 of 73.2 ms.
    fn run() -> RunResult {
        let mut r = crate::report::testing::closed_loop_result();
        r.summary.requests = 1000;
        r.summary.errors = 10;
        r.summary.requests_per_sec = 500.0;
        r.summary.status_codes = [("200", 990), ("503", 6), ("404", 4)]
            .map(|(k, v)| (k.to_string(), v))
            .into();
        r.latency.mean = 12_345.6;
        r.latency.max = 1_250_000;
        r.latency.percentiles.insert("99".into(), 73_200);
        r.latency.percentiles.insert("99.9".into(), 200_000);
        r
    }

    #[test]
    fn values_come_from_the_summary_and_the_latency_block() {
        let r = run();
        let table: &[(&str, f64)] = &[
            ("errors", 10.0),
            ("error_rate", 10.0 / 1010.0),
            ("non2xx", 10.0),
            ("rps", 500.0),
            ("mean", 12_345.6),
            ("max", 1_250_000.0),
            ("p99", 73_200.0),
            ("p99.9", 200_000.0),
        ];
        for &(name, want) in table {
            assert_eq!(Metric::parse(name).unwrap().value(&r), Some(want), "{name}");
        }
    }

    #[test]
    fn a_missing_percentile_key_is_read_from_the_histogram() {
        let mut h = crate::hdr::new_histogram();
        for us in 1..=1000 {
            crate::hdr::record(&mut h, us);
        }
        let mut r = run();
        r.latency = crate::hdr::latency_from(&h);
        let stored = r.latency.percentiles.remove("90").unwrap();
        assert_eq!(
            Metric::Percentile(90.0).value(&r),
            Some(stored as f64),
            "the same as the stored key"
        );
        // A percentile no result stores is refused, not read as the maximum.
        assert_eq!(Metric::Percentile(99.5).value(&r), None);
        assert!(Metric::parse("p99.5").is_err());
    }

    #[test]
    fn nothing_attempted_is_no_error_rate_and_no_completed_request_no_latency() {
        let mut r = run();
        r.summary.requests = 0;
        r.summary.errors = 0;
        r.summary.requests_per_sec = 0.0;
        r.summary.status_codes.clear();
        for m in ALL {
            let want = match m {
                Metric::Succeeded
                | Metric::Errors
                | Metric::ErrorRate
                | Metric::Non2xx
                | Metric::Rps => Some(0.0),
                _ => None,
            };
            assert_eq!(m.value(&r), want, "{}", m.name());
        }
        r.summary.errors = 4;
        assert_eq!(Metric::ErrorRate.value(&r), Some(1.0));
    }

    #[test]
    fn evaluate_fails_when_the_condition_holds() {
        let r = run();
        // (expression, failed)
        let table = [
            ("p99>50ms", true),
            ("p99>73.2ms", false),
            ("p99>=73.2ms", true),
            ("p99<=100ms", true),
            ("p99.9>200ms", false),
            ("max>1s", true),
            ("mean>20ms", false),
            ("errors>0", true),
            ("errors>10", false),
            ("error_rate>1%", false),
            ("error_rate>0.5%", true),
            ("non2xx>=10", true),
            ("non2xx>10", false),
            ("rps<1000", true),
            ("rps<500", false),
            ("rps<=500", true),
        ];
        for (expr, failed) in table {
            let o = Check::parse(expr).unwrap().evaluate(&r);
            assert_eq!(o.failed, failed, "{}", o.describe());
        }
    }

    #[test]
    fn outcomes_carry_value_unit_and_a_sentence() {
        let r = run();
        let o = Check::parse("p99>50ms").unwrap().evaluate(&r);
        assert_eq!(
            o,
            CheckOutcome {
                expr: "p99>50ms".into(),
                metric: "p99".into(),
                value: Some(73_200.0),
                threshold: 50_000.0,
                unit: "us".into(),
                failed: true,
            }
        );
        let table = [
            (
                "p99>50ms",
                "p99>50ms failed: p99 was 73.20ms, 23.20ms over the limit",
            ),
            (
                "p99 > 100ms",
                "p99 > 100ms passed: p99 was 73.20ms",
            ),
            ("max>1s", "max>1s failed: max was 1.25s, 250.00ms over the limit"),
            ("p99>=73.2ms", "p99>=73.2ms failed: p99 was 73.20ms, at the limit"),
            ("mean>500us", "mean>500us failed: mean was 12.35ms, 11.85ms over the limit"),
            ("errors>0", "errors>0 failed: errors was 10, 10 over the limit"),
            (
                "error_rate>0.5%",
                "error_rate>0.5% failed: error_rate was 0.99%, 0.49 percentage points over the limit",
            ),
            ("non2xx>=10", "non2xx>=10 failed: non2xx was 10, at the limit"),
            (
                "rps<1000",
                "rps<1000 failed: rps was 500.0 req/s, 500.0 req/s under the limit",
            ),
        ];
        for (expr, want) in table {
            assert_eq!(Check::parse(expr).unwrap().evaluate(&r).describe(), want);
        }
        let mut clean = run();
        clean.summary.errors = 0;
        assert_eq!(
            Check::parse("error_rate>1%")
                .unwrap()
                .evaluate(&clean)
                .describe(),
            "error_rate>1% passed: error_rate was 0.00%"
        );
    }

    /// Sentences spell numbers as the summary does: `800.00µs`, not `800us`.
    #[test]
    fn outcomes_spell_numbers_as_the_summary_does() {
        let o = CheckOutcome {
            expr: "p99>500us".into(),
            metric: "p99".into(),
            value: Some(800.0),
            threshold: 500.0,
            unit: "us".into(),
            failed: true,
        };
        assert_eq!(
            o.describe(),
            "p99>500us failed: p99 was 800.00µs, 300.00µs over the limit"
        );
    }

    #[test]
    fn a_latency_check_on_a_run_without_responses_fails_for_lack_of_data() {
        let mut r = run();
        r.summary.requests = 0;
        for expr in ["p99>50ms", "p99<50ms", "mean>1s"] {
            let o = Check::parse(expr).unwrap().evaluate(&r);
            assert!(o.failed && o.value.is_none(), "{expr}");
        }
        assert_eq!(
            Check::parse("p99>50ms").unwrap().evaluate(&r).describe(),
            "p99>50ms failed: no p99 (the run completed no request)"
        );
    }

    #[test]
    fn outcomes_round_trip_through_json() {
        let o = Check::parse("p99>50ms").unwrap().evaluate(&run());
        let json = serde_json::to_string(&o).unwrap();
        assert_eq!(serde_json::from_str::<CheckOutcome>(&json).unwrap(), o);
    }

    #[test]
    fn generator_fails_a_run_whose_verdict_is_not_valid() {
        let check = Check::parse(" Generator ").unwrap();
        assert_eq!(check.metric, Metric::Generator);
        assert_eq!(check.text, "generator");
        // Not a metric name of its own: only the bare check.
        assert!(Metric::parse("generator").is_err());
        let mut r = run();
        let o = check.evaluate(&r);
        assert!(!o.failed);
        assert_eq!(o.describe(), "generator passed: the run is VALID");
        r.verdict = Some(crate::result::Verdict {
            valid: false,
            reasons: vec!["worker 0 busy 99 % of the run".into()],
        });
        let o = check.evaluate(&r);
        assert!(o.failed);
        assert_eq!(o.value, Some(1.0));
        assert_eq!(o.describe(), "generator failed: the run is NOT VALID");
    }

    #[test]
    fn an_objective_is_the_check_that_fails_when_it_does_not_hold() {
        let r = run();
        let p99 = Metric::Percentile(99.0).value(&r).unwrap();
        for (objective, op) in [
            ("p99<", Op::Ge),
            ("p99<=", Op::Gt),
            ("p99>", Op::Le),
            ("p99>=", Op::Lt),
        ] {
            let o = Check::objective(&format!("{objective}{}us", p99)).unwrap();
            assert_eq!(o.op, op, "{objective}");
            assert_eq!(o.text, format!("{objective}{p99}us"));
            // At the value itself: `<` and `>` do not hold, `<=` and `>=` do.
            let holds = objective.ends_with('=');
            assert_eq!(o.evaluate(&r).failed, !holds, "{objective}");
            // And --fail-on with the same text fails exactly when it holds.
            let f = Check::parse(&format!("{objective}{p99}us")).unwrap();
            assert_eq!(f.evaluate(&r).failed, holds, "{objective}");
        }
        let o = Check::objective("p99<1s").unwrap();
        assert!(!o.evaluate(&r).failed);
        assert_eq!(
            o.evaluate(&r).describe(),
            format!("p99<1s passed: p99 was {}", format::latency_us(p99))
        );
        assert!(Check::objective("p99<1ms").unwrap().evaluate(&r).failed || p99 < 1000.0);
        assert!(Check::objective("generator").is_err());
        assert_eq!(
            Check::objective("p99<").unwrap_err(),
            Check::parse("p99<").unwrap_err()
        );
    }
}
