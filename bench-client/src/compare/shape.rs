//! The load shape of a run (what load was applied, to what), and the check
//! that `compare` and `merge` make before mixing runs: numbers from different
//! loads are not comparable, and mixing them silently is the classic mistake.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::result::RunResult;
use reference_servers::wire::url::UrlParts;

/// One field on which two runs' load shapes differ, with both values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldDiff {
    pub field: &'static str,
    pub expected: String,
    pub found: String,
}

/// The fields of a run that define its load; everything else (duration,
/// threads, host) may vary between runs that are still comparable.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadShape {
    pub clients: u32,
    pub conns: u32,
    pub payload_bytes: u64,
    pub rate: Option<f64>,
    /// The server model when bench-client started the server (its port is
    /// random, so only the model and the path identify the target), else the
    /// whole URL.
    pub target: String,
    pub method: String,
    pub connection_per_request: bool,
    /// `--stage`s as typed (`1s:200/s 2m:200/s`), or `none`.
    pub stages: String,
    /// Open loop: `uniform` (also what a result without the field had)
    /// or `poisson`; `none` in a closed loop. The seed is not part of the
    /// shape: two seeds draw the same load.
    pub arrivals: String,
    /// `--targets`: the order, then each target's key and weight in file
    /// order (`random: GET http://h/a x1, ...`); `none` without a file.
    /// Which targets, and in what mix, is the load as much as the rate is.
    pub targets: String,
    /// `http/1.1` (also what a result without the field had), `h2` or
    /// `h2c`: the same connections carry a different load over each.
    pub protocol: String,
    /// Requests a connection carries at once, as asked (`--streams`; 1
    /// over HTTP/1.1 and in older results). What the server allowed is a
    /// result of the run, not its shape.
    pub streams: u32,
}

impl LoadShape {
    pub fn of(run: &RunResult) -> Self {
        let model = run
            .target
            .server
            .as_ref()
            .map(|s| s.model.clone())
            .or_else(|| run.config.server.clone());
        let target = match model {
            Some(m) => format!(
                "{m} server {}",
                UrlParts::split(&run.config.url).path_and_query()
            ),
            None => run.config.url.clone(),
        };
        Self {
            clients: run.config.max_clients,
            conns: run.config.max_conns,
            payload_bytes: run.config.payload_bytes,
            rate: run.config.rate,
            target,
            method: run.config.method.clone(),
            connection_per_request: run.config.connection_per_request,
            stages: stages_text(&run.config.stages),
            arrivals: match (&run.config.arrivals, run.summary.target_rate) {
                (Some(a), _) => a.clone(),
                (None, Some(_)) => "uniform".to_string(),
                (None, None) => "none".to_string(),
            },
            targets: targets_text(run),
            protocol: run.config.protocol().to_string(),
            streams: run.config.streams_per_connection(),
        }
    }

    /// The fields on which `other` differs from `self`.
    pub fn diff(&self, other: &LoadShape) -> Vec<FieldDiff> {
        let mut out = Vec::new();
        let mut check = |field: &'static str, a: String, b: String| {
            if a != b {
                out.push(FieldDiff {
                    field,
                    expected: a,
                    found: b,
                });
            }
        };
        check(
            "clients",
            self.clients.to_string(),
            other.clients.to_string(),
        );
        check("conns", self.conns.to_string(), other.conns.to_string());
        check(
            "payload_bytes",
            self.payload_bytes.to_string(),
            other.payload_bytes.to_string(),
        );
        let rate = |r: Option<f64>| r.map_or("none".to_string(), |r| format!("{r}/s"));
        check("rate", rate(self.rate), rate(other.rate));
        check("target", self.target.clone(), other.target.clone());
        check("method", self.method.clone(), other.method.clone());
        check(
            "connection_per_request",
            self.connection_per_request.to_string(),
            other.connection_per_request.to_string(),
        );
        check("stages", self.stages.clone(), other.stages.clone());
        check("arrivals", self.arrivals.clone(), other.arrivals.clone());
        check("targets", self.targets.clone(), other.targets.clone());
        check("protocol", self.protocol.clone(), other.protocol.clone());
        check(
            "streams",
            self.streams.to_string(),
            other.streams.to_string(),
        );
        out
    }
}

fn targets_text(run: &RunResult) -> String {
    if run.targets.is_empty() {
        return "none".to_string();
    }
    let list: Vec<String> = run
        .targets
        .iter()
        .map(|t| format!("{} x{}", t.key, t.weight))
        .collect();
    format!(
        "{}: {}",
        run.config.targets_order.as_deref().unwrap_or("random"),
        list.join(", ")
    )
}

/// A run's stages as typed, space-separated; `none` without stages.
fn stages_text(stages: &[crate::result::StageConfig]) -> String {
    if stages.is_empty() {
        return "none".to_string();
    }
    stages
        .iter()
        .map(|s| match (s.target_rate, s.target_connections) {
            (Some(r), _) => format!("{}s:{r}/s", s.duration_s),
            (None, Some(c)) => format!("{}s:{c}", s.duration_s),
            (None, None) => format!("{}s", s.duration_s),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs whose load shapes differ from the first run's, refused unless forced.
#[derive(Debug, Clone, thiserror::Error)]
pub struct ShapeMismatch {
    pub reference: PathBuf,
    /// Each differing file with the fields that differ.
    pub mismatches: Vec<(PathBuf, Vec<FieldDiff>)>,
}

impl fmt::Display for ShapeMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "load shapes differ from {} (pass --force to use these runs anyway):",
            self.reference.display()
        )?;
        for (path, diffs) in &self.mismatches {
            let fields: Vec<String> = diffs
                .iter()
                .map(|d| format!("{} {} vs {}", d.field, d.expected, d.found))
                .collect();
            write!(f, "\n  {}: {}", path.display(), fields.join(", "))?;
        }
        Ok(())
    }
}

/// Checks that every run has the first run's load shape.
pub fn check_same_shape(runs: &[(&Path, &RunResult)]) -> Result<(), ShapeMismatch> {
    let Some((ref_path, first)) = runs.first() else {
        return Ok(());
    };
    let reference = LoadShape::of(first);
    let mismatches: Vec<(PathBuf, Vec<FieldDiff>)> = runs[1..]
        .iter()
        .filter_map(|(path, run)| {
            let d = reference.diff(&LoadShape::of(run));
            (!d.is_empty()).then(|| (path.to_path_buf(), d))
        })
        .collect();
    if mismatches.is_empty() {
        Ok(())
    } else {
        Err(ShapeMismatch {
            reference: ref_path.to_path_buf(),
            mismatches,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::StageConfig;

    /// Stages and arrivals are part of the load: a ramp is not a plateau,
    /// and Poisson arrivals are not uniform ones; the seed is not.
    #[test]
    fn stages_and_arrivals_are_part_of_the_shape() {
        let a = crate::report::testing::open_loop_result();
        assert_eq!(
            LoadShape::of(&a).arrivals,
            "uniform",
            "older results were uniform"
        );
        let mut b = a.clone();
        b.config.stages = vec![StageConfig {
            duration_s: 30.0,
            target_rate: Some(1000.0),
            target_connections: None,
        }];
        b.config.arrivals = Some("poisson".into());
        b.config.seed = Some(7);
        let fields: Vec<&str> = LoadShape::of(&a)
            .diff(&LoadShape::of(&b))
            .iter()
            .map(|d| d.field)
            .collect();
        assert_eq!(fields, ["stages", "arrivals"]);
        let mut c = b.clone();
        c.config.seed = Some(8);
        assert!(LoadShape::of(&b).diff(&LoadShape::of(&c)).is_empty());
        assert_eq!(LoadShape::of(&b).stages, "30s:1000/s");
    }

    fn fields(a: &RunResult, b: &RunResult) -> Vec<&'static str> {
        LoadShape::of(a)
            .diff(&LoadShape::of(b))
            .iter()
            .map(|d| d.field)
            .collect()
    }

    fn h2c(streams: u32) -> RunResult {
        let mut r = crate::report::testing::closed_loop_result();
        r.config.protocol = Some("h2c".into());
        r.config.streams = Some(streams);
        r
    }

    /// The same connections over HTTP/2 with 10 streams carry ten times
    /// the requests at once: not the load of HTTP/1.1, nor of 1 stream.
    #[test]
    fn protocol_and_streams_are_part_of_the_shape() {
        let old = crate::report::testing::closed_loop_result();
        assert_eq!(fields(&old, &h2c(10)), ["protocol", "streams"]);
        assert_eq!(fields(&h2c(1), &h2c(10)), ["streams"]);
        let mut h2 = h2c(10);
        h2.config.protocol = Some("h2".into());
        assert_eq!(fields(&h2c(10), &h2), ["protocol"]);
        let diff = LoadShape::of(&old).diff(&LoadShape::of(&h2c(10)));
        assert_eq!(
            (diff[0].expected.as_str(), diff[0].found.as_str()),
            ("http/1.1", "h2c")
        );
    }

    /// Results made before HTTP/2 have neither field, and were HTTP/1.1
    /// with one request per connection; so is an `--http2=auto` run that
    /// fell back, whatever `--streams` it was given.
    #[test]
    fn older_and_fallen_back_results_are_http1_with_one_stream() {
        let old = crate::report::testing::closed_loop_result();
        let mut new = old.clone();
        new.config.protocol = Some("http/1.1".into());
        assert!(fields(&old, &new).is_empty());
        new.config.streams = Some(10);
        assert!(fields(&old, &new).is_empty());
        assert_eq!(LoadShape::of(&old).protocol, "http/1.1");
        assert_eq!(LoadShape::of(&old).streams, 1);
    }

    #[test]
    fn check_same_shape_names_the_streams() {
        let (a, b) = (h2c(1), h2c(10));
        let e = check_same_shape(&[(Path::new("a.json"), &a), (Path::new("b.json"), &b)])
            .unwrap_err()
            .to_string();
        assert!(e.contains("b.json: streams 1 vs 10"), "{e}");
        assert!(e.contains("--force"), "{e}");
    }
}
