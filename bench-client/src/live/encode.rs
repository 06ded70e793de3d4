//! The OpenMetrics text of one scrape (OpenMetrics 1.0: families with
//! `# TYPE` and `# HELP`, counters sampled as `NAME_total`, the histogram as
//! cumulative `_bucket{le}` with `_count` and `_sum`, `# EOF` last).
//!
//! Written by hand rather than through a client library: five families
//! read from our own atomics need no registry, and the text stays exactly
//! what the tests pin.

use std::fmt::Write as _;

use crate::engine::{Snapshot, LATENCY_BOUNDS};
use crate::stats::Failure;

/// What a scrape reports: the workers' counts, and the rates the metrics
/// thread works out.
#[derive(Debug, Clone)]
pub struct Sample<'a> {
    pub counts: &'a Snapshot,
    /// Complete responses per second over about the last second.
    pub rate_achieved: f64,
    /// The rate the plan asks for now; `None` in a closed loop, which has
    /// none (the family is left out).
    pub rate_target: Option<f64>,
}

/// The exposition of `s`, every sample carrying `labels` first (a shard's
/// `shard` and `run_id`; none for a run on its own).
pub fn encode(s: &Sample<'_>, labels: &[(String, String)]) -> String {
    let common = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
        .collect::<Vec<_>>()
        .join(",");
    // `{common}` or `{common,extra}`, or nothing when both are empty.
    let set = |extra: &str| -> String {
        match (common.is_empty(), extra.is_empty()) {
            (true, true) => String::new(),
            (true, false) => format!("{{{extra}}}"),
            (false, true) => format!("{{{common}}}"),
            (false, false) => format!("{{{common},{extra}}}"),
        }
    };
    let c = s.counts;
    let mut text = String::with_capacity(4096);

    family(
        &mut text,
        "bench_requests",
        "counter",
        None,
        "Complete responses (any status) in the measured phase.",
    );
    let _ = writeln!(text, "bench_requests_total{} {}", set(""), c.requests);

    family(
        &mut text,
        "bench_errors",
        "counter",
        None,
        "Failed request attempts in the measured phase, by kind.",
    );
    // Every kind, zeros included, so that each series exists from the
    // first scrape and sums over shards never miss one.
    for kind in Failure::ALL {
        let _ = writeln!(
            text,
            "bench_errors_total{} {}",
            set(&format!("kind=\"{}\"", kind.name())),
            c.errors_by_kind[kind.index()]
        );
    }

    family(
        &mut text,
        "bench_in_flight",
        "gauge",
        None,
        "Requests begun and not yet answered or failed.",
    );
    let _ = writeln!(text, "bench_in_flight{} {}", set(""), c.in_flight);

    family(
        &mut text,
        "bench_rate_achieved",
        "gauge",
        None,
        "Complete responses per second over the last second.",
    );
    let _ = writeln!(
        text,
        "bench_rate_achieved{} {}",
        set(""),
        number(s.rate_achieved)
    );

    if let Some(target) = s.rate_target {
        family(
            &mut text,
            "bench_rate_target",
            "gauge",
            None,
            "Requests per second the open loop asks for now.",
        );
        let _ = writeln!(text, "bench_rate_target{} {}", set(""), number(target));
    }

    family(
        &mut text,
        "bench_latency_seconds",
        "histogram",
        Some("seconds"),
        "Latency as the run records it (from the intended send time in an open loop), \
         timeouts included; fixed buckets, the same on every shard.",
    );
    let mut cumulative = 0;
    let les = LATENCY_BOUNDS.iter().map(|&(_, le)| le).chain(["+Inf"]);
    for (n, le) in c.latency.iter().zip(les) {
        cumulative += n;
        let _ = writeln!(
            text,
            "bench_latency_seconds_bucket{} {cumulative}",
            set(&format!("le=\"{le}\""))
        );
    }
    let _ = writeln!(text, "bench_latency_seconds_count{} {cumulative}", set(""));
    let _ = writeln!(
        text,
        "bench_latency_seconds_sum{} {}",
        set(""),
        number(c.latency_sum_us as f64 / 1e6)
    );
    text += "# EOF\n";
    text
}

/// A family's metadata lines.
fn family(text: &mut String, name: &str, kind: &str, unit: Option<&str>, help: &str) {
    let _ = writeln!(text, "# TYPE {name} {kind}");
    if let Some(unit) = unit {
        let _ = writeln!(text, "# UNIT {name} {unit}");
    }
    let _ = writeln!(text, "# HELP {name} {help}");
}

/// A label value as OpenMetrics quotes it.
fn escape(v: &str) -> String {
    v.replace('\\', r"\\")
        .replace('"', "\\\"")
        .replace('\n', r"\n")
}

/// A float as OpenMetrics writes it; Rust's `Display` never uses an
/// exponent and spells the non-finite values otherwise.
fn number(x: f64) -> String {
    if x.is_nan() {
        "NaN".to_string()
    } else if x.is_infinite() {
        if x > 0.0 { "+Inf" } else { "-Inf" }.to_string()
    } else {
        format!("{x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::LATENCY_BUCKETS;

    fn counts() -> Snapshot {
        let mut c = Snapshot {
            requests: 7,
            in_flight: 3,
            latency_sum_us: 1_500_250,
            ..Snapshot::default()
        };
        c.errors_by_kind[Failure::Timeout.index()] = 1;
        c.latency[0] = 2; // <= 100 µs
        c.latency[3] = 4; // <= 1 ms
        c.latency[LATENCY_BUCKETS - 1] = 2; // > 10 s
        c
    }

    #[test]
    fn the_exact_text_of_a_closed_loop_run_on_its_own() {
        let c = counts();
        let text = encode(
            &Sample {
                counts: &c,
                rate_achieved: 12.5,
                rate_target: None,
            },
            &[],
        );
        let expected = "\
# TYPE bench_requests counter
# HELP bench_requests Complete responses (any status) in the measured phase.
bench_requests_total 7
# TYPE bench_errors counter
# HELP bench_errors Failed request attempts in the measured phase, by kind.
bench_errors_total{kind=\"connect_refused\"} 0
bench_errors_total{kind=\"connect_timeout\"} 0
bench_errors_total{kind=\"connect\"} 0
bench_errors_total{kind=\"reset\"} 0
bench_errors_total{kind=\"read\"} 0
bench_errors_total{kind=\"write\"} 0
bench_errors_total{kind=\"timeout\"} 1
bench_errors_total{kind=\"invalid_response\"} 0
bench_errors_total{kind=\"tls\"} 0
bench_errors_total{kind=\"tls_handshake_timeout\"} 0
bench_errors_total{kind=\"stream_reset\"} 0
bench_errors_total{kind=\"http2\"} 0
# TYPE bench_in_flight gauge
# HELP bench_in_flight Requests begun and not yet answered or failed.
bench_in_flight 3
# TYPE bench_rate_achieved gauge
# HELP bench_rate_achieved Complete responses per second over the last second.
bench_rate_achieved 12.5
# TYPE bench_latency_seconds histogram
# UNIT bench_latency_seconds seconds
# HELP bench_latency_seconds Latency as the run records it (from the intended send time in an open loop), timeouts included; fixed buckets, the same on every shard.
bench_latency_seconds_bucket{le=\"0.0001\"} 2
bench_latency_seconds_bucket{le=\"0.00025\"} 2
bench_latency_seconds_bucket{le=\"0.0005\"} 2
bench_latency_seconds_bucket{le=\"0.001\"} 6
bench_latency_seconds_bucket{le=\"0.0025\"} 6
bench_latency_seconds_bucket{le=\"0.005\"} 6
bench_latency_seconds_bucket{le=\"0.01\"} 6
bench_latency_seconds_bucket{le=\"0.025\"} 6
bench_latency_seconds_bucket{le=\"0.05\"} 6
bench_latency_seconds_bucket{le=\"0.1\"} 6
bench_latency_seconds_bucket{le=\"0.25\"} 6
bench_latency_seconds_bucket{le=\"0.5\"} 6
bench_latency_seconds_bucket{le=\"1.0\"} 6
bench_latency_seconds_bucket{le=\"2.5\"} 6
bench_latency_seconds_bucket{le=\"5.0\"} 6
bench_latency_seconds_bucket{le=\"10.0\"} 6
bench_latency_seconds_bucket{le=\"+Inf\"} 8
bench_latency_seconds_count 8
bench_latency_seconds_sum 1.50025
# EOF
";
        assert_eq!(text, expected);
    }

    #[test]
    fn a_shard_labels_every_sample_and_an_open_loop_has_a_target() {
        let c = counts();
        let labels = [
            ("shard".to_string(), "2".to_string()),
            ("run_id".to_string(), "a\"b\\c\nd".to_string()),
        ];
        let text = encode(
            &Sample {
                counts: &c,
                rate_achieved: 0.0,
                rate_target: Some(1000.0),
            },
            &labels,
        );
        let common = r#"shard="2",run_id="a\"b\\c\nd""#;
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            assert!(
                line.contains(&format!("{{{common}")),
                "{line} lacks the shard's labels first"
            );
        }
        assert!(text.contains(&format!("bench_rate_target{{{common}}} 1000\n")));
        assert!(text.contains(&format!(
            "bench_latency_seconds_bucket{{{common},le=\"+Inf\"}} 8\n"
        )));
        assert!(text.contains(&format!(
            "bench_errors_total{{{common},kind=\"timeout\"}} 1\n"
        )));
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn numbers_are_written_as_openmetrics_reads_them() {
        assert_eq!(number(0.0), "0");
        assert_eq!(number(1e-7), "0.0000001");
        assert_eq!(number(f64::NAN), "NaN");
        assert_eq!(number(f64::INFINITY), "+Inf");
    }
}
