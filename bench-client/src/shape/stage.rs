//! One stage of a load shape (`--stage DURATION:TARGET`) and the list of
//! them a run follows, validated once so that the curves built from it
//! ([`super::curve`]) never meet a shape they cannot follow.
//!
//! A target ending in `/s` is a request rate (an open loop), a plain number
//! a connection count (a closed loop); one run uses one kind, because a
//! rate and a count are not points on one curve. Durations are read by the
//! one duration parser both crates share
//! ([`reference_servers::wire::units`]), so `30s`, `2m`, `1h30m` and a bare
//! `30` mean here what they mean in `-d`.

use std::fmt;
use std::time::Duration;

use reference_servers::wire::units;

/// The accepted stage spellings, quoted in every stage error.
pub const STAGE_FORMS: &str =
    "DURATION:RATE/s or DURATION:CONNECTIONS, such as 30s:1000/s or 1m:200";

/// The longest a stage, and all stages together, may last: a year, as `-d`,
/// so that adding the whole run to an `Instant` can never overflow.
pub const MAX_RUN: Duration = Duration::from_secs(365 * 24 * 3600);

/// What a stage moves the load towards.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// Requests per second in all (`1000/s`): an open loop.
    Rate(f64),
    /// Open connections in all (`200`): a closed loop.
    Connections(u32),
}

/// The two kinds of load a run can follow; a run uses one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Targets are rates: requests are sent on a schedule.
    Open,
    /// Targets are connection counts: each connection sends as soon as it can.
    Closed,
}

impl Target {
    pub fn kind(&self) -> Kind {
        match self {
            Target::Rate(_) => Kind::Open,
            Target::Connections(_) => Kind::Closed,
        }
    }
}

/// One `--stage`: over `duration`, the load moves linearly from the
/// previous stage's target (0 before the first) to `target`; a duration of
/// zero is a step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stage {
    pub duration: Duration,
    pub target: Target,
}

/// Why a `--stage` value was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid stage '{stage}': {reason}; expected {STAGE_FORMS}")]
pub struct StageError {
    /// The value as given.
    pub stage: String,
    /// What is wrong with it.
    pub reason: String,
}

impl Stage {
    /// Parses `DURATION:RATE/s` (`30s:1000/s`, `2m:0.5/s`) or
    /// `DURATION:CONNECTIONS` (`1m:200`).
    pub fn parse(text: &str) -> Result<Stage, StageError> {
        let bad = |reason: String| StageError {
            stage: text.to_string(),
            reason,
        };
        let Some((duration, target)) = text.split_once(':') else {
            return Err(bad("no ':' between the duration and the target".into()));
        };
        let duration = units::parse_duration(duration, MAX_RUN)
            .map_err(|e| bad(format!("the duration '{}' is not {e}", duration.trim())))?;
        let target = target.trim();
        let target = if let Some(rate) = target.strip_suffix("/s") {
            Target::Rate(parse_rate(rate).map_err(|reason| bad(reason.to_string()))?)
        } else {
            Target::Connections(
                parse_connections(target).map_err(|reason| bad(reason.to_string()))?,
            )
        };
        Ok(Stage { duration, target })
    }
}

/// A rate: a finite, non-negative decimal number (`1000`, `0.5`, `0`).
/// Digits and one dot only, so `inf`, `NaN`, `-1` and `1e3` are refused
/// before `f64::from_str` could read them.
fn parse_rate(text: &str) -> Result<f64, &'static str> {
    let t = text.trim();
    let plain = t.bytes().any(|b| b.is_ascii_digit())
        && t.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && t.bytes().filter(|&b| b == b'.').count() <= 1;
    if !plain {
        return Err("the rate is not a number of requests per second at or above 0");
    }
    match t.parse::<f64>() {
        Ok(r) if r.is_finite() => Ok(r),
        _ => Err("the rate is too large"),
    }
}

/// A connection count: digits only, at most `u32::MAX`.
fn parse_connections(text: &str) -> Result<u32, &'static str> {
    let t = text.trim();
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err("the target is neither a rate ending in /s nor a whole number of connections");
    }
    t.parse()
        .map_err(|_| "the connection count is larger than 4294967295")
}

impl fmt::Display for Stage {
    /// The stage as `--stage` reads it back (`30s:1000/s`, `1m:200`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = humantime::format_duration(self.duration).to_string();
        let d = d.replace(' ', "");
        let d = if d.is_empty() { "0s".to_string() } else { d };
        match self.target {
            Target::Rate(r) => write!(f, "{d}:{r}/s"),
            Target::Connections(c) => write!(f, "{d}:{c}"),
        }
    }
}

/// A run's stages, checked: at least one, one kind only, lasting more than
/// zero in all and at most [`MAX_RUN`], every rate finite and at or above 0.
#[derive(Debug, Clone, PartialEq)]
pub struct Stages {
    stages: Vec<Stage>,
    kind: Kind,
    total: Duration,
}

/// Why a list of stages cannot be run; each message says what to change.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StagesError {
    #[error("no stages: give at least one --stage DURATION:TARGET, such as --stage 30s:1000/s")]
    Empty,
    #[error(
        "stage {first_index} ({first}) is {} and stage {other_index} ({other}) is {}: \
         one run uses one kind; write every target as a rate ending in /s (open loop) \
         or every target as a connection count (closed loop)",
        kind_words(.first.target.kind()),
        kind_words(.other.target.kind())
    )]
    MixedKinds {
        /// 1-based positions, as the user counts `--stage` flags.
        first_index: usize,
        first: Stage,
        other_index: usize,
        other: Stage,
    },
    #[error("the stages last 0s in all: give at least one stage a duration above 0, such as --stage 30s:1000/s")]
    NoDuration,
    #[error("the stages last {} days in all, more than the longest run (365 days): shorten them",
        .total.as_secs().div_ceil(86_400))]
    TooLong { total: Duration },
    #[error("every stage's target is 0, so nothing would be sent: give at least one stage a target above 0, such as --stage 30s:1000/s or --stage 1m:200")]
    NoLoad,
    #[error("stage {index} ({stage}) has a rate that is negative or not a number: give a rate at or above 0, such as 1000/s")]
    BadRate { index: usize, stage: Stage },
}

fn kind_words(kind: Kind) -> &'static str {
    match kind {
        Kind::Open => "a request rate",
        Kind::Closed => "a connection count",
    }
}

impl Stages {
    /// Checks `stages`, in the order given.
    pub fn new(stages: Vec<Stage>) -> Result<Stages, StagesError> {
        let first = *stages.first().ok_or(StagesError::Empty)?;
        let kind = first.target.kind();
        let mut total = Duration::ZERO;
        for (i, stage) in stages.iter().enumerate() {
            if stage.target.kind() != kind {
                return Err(StagesError::MixedKinds {
                    first_index: 1,
                    first,
                    other_index: i + 1,
                    other: *stage,
                });
            }
            if let Target::Rate(r) = stage.target {
                if !(r.is_finite() && r >= 0.0) {
                    return Err(StagesError::BadRate {
                        index: i + 1,
                        stage: *stage,
                    });
                }
            }
            total = total.saturating_add(stage.duration);
        }
        if total.is_zero() {
            return Err(StagesError::NoDuration);
        }
        // A target above 0 reached only by a last step of length 0 is never
        // in force, so look at what the stages ramp from and to.
        let mut previous = 0.0;
        let mut load = false;
        for stage in &stages {
            let target = match stage.target {
                Target::Rate(r) => r,
                Target::Connections(c) => f64::from(c),
            };
            load |= !stage.duration.is_zero() && (previous > 0.0 || target > 0.0);
            previous = target;
        }
        if !load {
            return Err(StagesError::NoLoad);
        }
        if total > MAX_RUN {
            return Err(StagesError::TooLong { total });
        }
        Ok(Stages {
            stages,
            kind,
            total,
        })
    }

    /// Parses and checks `--stage` values, in order.
    pub fn parse<S: AsRef<str>>(values: &[S]) -> Result<Stages, StagesParseError> {
        let stages = values
            .iter()
            .map(|v| Stage::parse(v.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Stages::new(stages)?)
    }

    pub fn as_slice(&self) -> &[Stage] {
        &self.stages
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The whole run: the sum of the stages' durations.
    pub fn total(&self) -> Duration {
        self.total
    }
}

/// A `--stage` value that does not parse, or a list that cannot be run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StagesParseError {
    #[error(transparent)]
    Stage(#[from] StageError),
    #[error(transparent)]
    Stages(#[from] StagesError),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn parses_rates_and_counts() {
        let table: &[(&str, Duration, Target)] = &[
            ("30s:1000/s", secs(30), Target::Rate(1000.0)),
            ("2m:1000/s", secs(120), Target::Rate(1000.0)),
            ("30s:0/s", secs(30), Target::Rate(0.0)),
            ("0:500/s", secs(0), Target::Rate(500.0)),
            ("1.5:0.5/s", Duration::from_millis(1500), Target::Rate(0.5)),
            (
                "500ms:.25/s",
                Duration::from_millis(500),
                Target::Rate(0.25),
            ),
            ("1h30m:10/s", secs(5400), Target::Rate(10.0)),
            ("1m:200", secs(60), Target::Connections(200)),
            (" 1m : 200 ", secs(60), Target::Connections(200)),
            ("0s:0", secs(0), Target::Connections(0)),
            ("10:4294967295", secs(10), Target::Connections(u32::MAX)),
        ];
        for &(text, duration, target) in table {
            assert_eq!(
                Stage::parse(text),
                Ok(Stage { duration, target }),
                "Stage::parse({text:?})"
            );
        }
    }

    #[test]
    fn refuses_what_is_not_a_stage_and_says_why() {
        let table: &[(&str, &str)] = &[
            ("30s", "no ':' between the duration and the target"),
            ("", "no ':' between the duration and the target"),
            ("soon:100/s", "the duration 'soon' is not a duration such as 10 (seconds), 1.5, 10s, 500ms, 2m or 1h30m"),
            (":100/s", "the duration '' is not a duration such as 10 (seconds), 1.5, 10s, 500ms, 2m or 1h30m"),
            ("-1s:100/s", "the duration '-1s' is not a duration such as 10 (seconds), 1.5, 10s, 500ms, 2m or 1h30m"),
            ("400d:1/s", "the duration '400d' is not a duration of at most 365 days"),
            ("30s:", "the target is neither a rate ending in /s nor a whole number of connections"),
            ("30s:fast", "the target is neither a rate ending in /s nor a whole number of connections"),
            ("30s:1.5", "the target is neither a rate ending in /s nor a whole number of connections"),
            ("30s:-3", "the target is neither a rate ending in /s nor a whole number of connections"),
            ("30s:100/m", "the target is neither a rate ending in /s nor a whole number of connections"),
            ("30s:4294967296", "the connection count is larger than 4294967295"),
            ("30s:/s", "the rate is not a number of requests per second at or above 0"),
            ("30s:-1/s", "the rate is not a number of requests per second at or above 0"),
            ("30s:inf/s", "the rate is not a number of requests per second at or above 0"),
            ("30s:NaN/s", "the rate is not a number of requests per second at or above 0"),
            ("30s:1e3/s", "the rate is not a number of requests per second at or above 0"),
            ("30s:1.2.3/s", "the rate is not a number of requests per second at or above 0"),
            ("1:30s:1/s", "the rate is not a number of requests per second at or above 0"),
        ];
        for &(text, reason) in table {
            let e = Stage::parse(text).unwrap_err();
            assert_eq!(e.reason, reason, "Stage::parse({text:?})");
            assert_eq!(
                e.to_string(),
                format!("invalid stage '{text}': {reason}; expected DURATION:RATE/s or DURATION:CONNECTIONS, such as 30s:1000/s or 1m:200")
            );
        }
        // Far beyond f64: digits only, but not a finite rate.
        let huge = format!("1s:{}/s", "9".repeat(400));
        assert_eq!(
            Stage::parse(&huge).unwrap_err().reason,
            "the rate is too large"
        );
    }

    #[test]
    fn stages_display_as_they_parse() {
        for text in [
            "30s:1000/s",
            "2m:0.5/s",
            "0s:7/s",
            "1h30m:200",
            "1s 500ms:3",
        ] {
            let stage = Stage::parse(text).unwrap();
            let written = stage.to_string();
            assert_eq!(Stage::parse(&written), Ok(stage), "{text} -> {written}");
        }
        assert_eq!(Stage::parse("90s:200").unwrap().to_string(), "1m30s:200");
    }

    #[test]
    fn a_valid_list_keeps_its_order_kind_and_total() {
        let s = Stages::parse(&["30s:1000/s", "2m:1000/s", "30s:0/s"]).unwrap();
        assert_eq!(s.kind(), Kind::Open);
        assert_eq!(s.total(), secs(180));
        assert_eq!(s.as_slice()[1], Stage::parse("2m:1000/s").unwrap());
        let s = Stages::parse(&["0:50", "1m:200"]).unwrap();
        assert_eq!(s.kind(), Kind::Closed);
        assert_eq!(s.total(), secs(60));
    }

    #[test]
    fn list_errors_say_what_to_do() {
        let msg = |values: &[&str]| Stages::parse(values).unwrap_err().to_string();
        assert_eq!(
            msg(&[]),
            "no stages: give at least one --stage DURATION:TARGET, such as --stage 30s:1000/s"
        );
        assert_eq!(
            msg(&["30s:1000/s", "1m:1000/s", "1m:200"]),
            "stage 1 (30s:1000/s) is a request rate and stage 3 (1m:200) is a connection count: \
             one run uses one kind; write every target as a rate ending in /s (open loop) \
             or every target as a connection count (closed loop)"
        );
        assert_eq!(
            msg(&["0s:1000/s", "0:10/s"]),
            "the stages last 0s in all: give at least one stage a duration above 0, such as --stage 30s:1000/s"
        );
        assert_eq!(
            msg(&["200d:1/s", "200d:1/s"]),
            "the stages last 400 days in all, more than the longest run (365 days): shorten them"
        );
        assert!(msg(&["30s:1000/s", "bad"]).starts_with("invalid stage 'bad': "));
        let no_load = "every stage's target is 0, so nothing would be sent: give at least one \
             stage a target above 0, such as --stage 30s:1000/s or --stage 1m:200";
        assert_eq!(msg(&["30s:0/s", "1m:0/s"]), no_load);
        assert_eq!(msg(&["30s:0"]), no_load);
        assert_eq!(msg(&["30s:0/s", "0s:100/s"]), no_load);
        // A step up at the start, or a ramp down from it, is load.
        assert!(Stages::parse(&["0s:100/s", "30s:0/s"]).is_ok());
        assert!(Stages::parse(&["1s:0", "0s:1", "1s:1"]).is_ok());
    }

    #[test]
    fn stages_built_directly_are_checked_too() {
        for r in [f64::NAN, f64::INFINITY, -1.0] {
            let e = Stages::new(vec![Stage {
                duration: secs(1),
                target: Target::Rate(r),
            }])
            .unwrap_err();
            assert!(
                matches!(e, StagesError::BadRate { index: 1, .. }),
                "{r}: {e}"
            );
        }
    }
}
