//! Tests of the results tooling (`plot`, `compare`, `merge`) on committed
//! fixture results in `tests/fixtures/`.
//!
//! The fixtures are synthetic and deterministic: regenerate them with
//! `cargo test -p bench-client --test tooling -- --ignored regenerate_fixtures`
//! after a change to the generator below.

use std::path::{Path, PathBuf};

use bench_client::compare::shape::check_same_shape;
use bench_client::compare::{self, Limits, Verdict};
use bench_client::hdr;
use bench_client::merge;
use bench_client::metric::Metric;
use bench_client::plot;
use bench_client::report::load::load_all;
use bench_client::result::{PhaseLatency, Phases, RunResult, TlsInfo, SCHEMA_VERSION};

// ---------------------------------------------------------------------------
// Fixture generator

/// A 64-bit LCG (Knuth's MMIX constants): enough randomness for synthetic
/// latencies, and the same numbers on every machine.
struct Lcg(u64);

impl Lcg {
    fn next_f64(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// What a synthetic run looks like.
struct Spec {
    seed: u64,
    label: Option<&'static str>,
    hostname: &'static str,
    started_at: &'static str,
    clients: u32,
    conns: u32,
    payload_bytes: u64,
    /// Median latency, µs; the distribution is log-logistic (shape 4), so
    /// p99 ≈ 3.2 × median and p99.9 ≈ 5.6 × median.
    median_us: f64,
    requests_per_sec: f64,
    duration_s: u64,
    errors: u64,
}

impl Spec {
    fn base(seed: u64) -> Spec {
        Spec {
            seed,
            label: None,
            hostname: "bench-1",
            started_at: "2026-11-25T19:20:00.000Z",
            clients: 10,
            conns: 4,
            payload_bytes: 0,
            median_us: 1000.0,
            requests_per_sec: 8000.0,
            duration_s: 5,
            errors: 0,
        }
    }
}

/// A run whose latency samples follow the spec's distribution exactly up to
/// stratification jitter (quantile i of n drawn from [i/n, (i+1)/n)), so
/// that the only differences between fixtures are the ones injected.
fn synth(spec: &Spec) -> RunResult {
    let mut rng = Lcg(spec.seed);
    let requests = (spec.requests_per_sec * spec.duration_s as f64).round() as u64;
    let mut all = hdr::new_histogram();
    let mut per_second: Vec<_> = (0..spec.duration_s).map(|_| hdr::new_histogram()).collect();
    for i in 0..requests {
        let u = (i as f64 + rng.next_f64()) / requests as f64;
        let us = spec.median_us * (u / (1.0 - u)).powf(0.25);
        hdr::record(&mut all, us.round() as u64);
        let second = (rng.next_f64() * spec.duration_s as f64) as usize;
        hdr::record(&mut per_second[second], us.round() as u64);
    }
    let timeline: Vec<serde_json::Value> = per_second
        .iter()
        .enumerate()
        .map(|(t, h)| {
            serde_json::json!({
                "t_s": t, "requests": h.len(), "errors": 0,
                "p50_us": hdr::percentile(h, hdr::Percentile::P50), "p99_us": hdr::percentile(h, hdr::Percentile::P99),
            })
        })
        .collect();
    let clients: Vec<serde_json::Value> = (0..spec.clients)
        .map(|id| {
            let n = requests / spec.clients as u64
                + u64::from((id as u64) < requests % spec.clients as u64);
            serde_json::json!({"id": id, "requests": n, "errors": 0})
        })
        .collect();
    let errors_by_kind = if spec.errors > 0 {
        serde_json::json!({"timeout": spec.errors})
    } else {
        serde_json::json!({})
    };
    // Built as JSON, as the engine writes it, so that optional fields added
    // to the format later take their defaults here.
    let doc = serde_json::json!({
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "bench-client", "version": "0.1.0"},
        "started_at": spec.started_at,
        "label": spec.label,
        "host": {
            "os": "linux", "kernel": "6.1.0-synthetic", "cpu": "Synthetic CPU",
            "cores": 2, "hostname": spec.hostname,
        },
        "config": {
            "url": "http://127.0.0.1:40000/",
            "method": if spec.payload_bytes > 0 { "POST" } else { "GET" },
            "headers": [],
            "max_clients": spec.clients,
            "max_conns": spec.conns,
            "connections": spec.clients * spec.conns,
            "threads": 2,
            "duration_s": spec.duration_s as f64,
            "requests": null,
            "payload_bytes": spec.payload_bytes,
            "body_file": null,
            "connection_per_request": false,
            "timeout_s": 10.0,
            "warmup_s": 1.0,
            "rate": null,
            "server": "selector",
        },
        "target": {
            "url": "http://127.0.0.1:40000/",
            "server": {"model": "selector", "totals": null},
        },
        "interrupted": false,
        "summary": {
            "requests": requests,
            "errors": spec.errors,
            "duration_s": spec.duration_s as f64,
            "requests_per_sec": requests as f64 / spec.duration_s as f64,
            "bytes_sent": requests * (80 + spec.payload_bytes),
            "bytes_received": requests * 120,
            "status_codes": {"200": requests},
            "errors_by_kind": errors_by_kind,
        },
        "latency": hdr::latency_from(&all),
        "timeline": timeline,
        "clients": clients,
        "fairness": {"jain": 1.0},
    });
    serde_json::from_value(doc).expect("the synthetic result matches the format")
}

/// Every fixture: file name and spec.
fn fixture_specs() -> Vec<(&'static str, Spec)> {
    let mut out = Vec::new();
    // Three baseline runs, a little apart as repeated real runs are.
    for (i, f) in [1.0, 1.006, 0.993].into_iter().enumerate() {
        out.push((
            ["baseline-1.json", "baseline-2.json", "baseline-3.json"][i],
            Spec {
                median_us: 1000.0 * f,
                requests_per_sec: 8000.0 / f,
                ..Spec::base(100 + i as u64)
            },
        ));
    }
    // The same load 20 % worse: latencies × 1.2 (so p99 +20 %), req/s × 0.8.
    for (i, f) in [1.0, 1.006, 0.993].into_iter().enumerate() {
        out.push((
            ["regressed-1.json", "regressed-2.json", "regressed-3.json"][i],
            Spec {
                label: Some(["slower-1", "slower-2", "slower-3"][i]),
                median_us: 1200.0 * f,
                requests_per_sec: 6400.0 / f,
                ..Spec::base(200 + i as u64)
            },
        ));
    }
    // Within ±2 % of the baseline.
    for (i, f) in [1.018, 0.985, 1.007].into_iter().enumerate() {
        out.push((
            ["noise-1.json", "noise-2.json", "noise-3.json"][i],
            Spec {
                median_us: 1000.0 * f,
                requests_per_sec: 8000.0 / (2.0 - f),
                ..Spec::base(300 + i as u64)
            },
        ));
    }
    // Another load shape.
    out.push((
        "shape-50x4-64k.json",
        Spec {
            clients: 50,
            payload_bytes: 65536,
            median_us: 6000.0,
            requests_per_sec: 6000.0,
            ..Spec::base(400)
        },
    ));
    // Two generator hosts at the same time, 1.4 s apart, the second slower.
    out.push((
        "host-a.json",
        Spec {
            label: Some("two-hosts"),
            hostname: "gen-a",
            errors: 3,
            ..Spec::base(500)
        },
    ));
    out.push((
        "host-b.json",
        Spec {
            label: Some("two-hosts"),
            hostname: "gen-b",
            started_at: "2026-11-25T19:20:01.400Z",
            median_us: 1500.0,
            requests_per_sec: 6000.0,
            ..Spec::base(501)
        },
    ));
    out
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

#[test]
#[ignore = "writes tests/fixtures/; run by hand after changing the generator"]
fn regenerate_fixtures() {
    std::fs::create_dir_all(fixtures_dir()).unwrap();
    for (name, spec) in fixture_specs() {
        bench_client::report::json::save(&synth(&spec), &fixtures_dir().join(name)).unwrap();
    }
}

// ---------------------------------------------------------------------------
// Helpers

fn fixture(name: &str) -> PathBuf {
    fixtures_dir().join(name)
}

fn load(names: &[&str]) -> Vec<RunResult> {
    let paths: Vec<PathBuf> = names.iter().map(|n| fixture(n)).collect();
    load_all(&paths).unwrap()
}

const BASELINE: [&str; 3] = ["baseline-1.json", "baseline-2.json", "baseline-3.json"];
const REGRESSED: [&str; 3] = ["regressed-1.json", "regressed-2.json", "regressed-3.json"];
const NOISE: [&str; 3] = ["noise-1.json", "noise-2.json", "noise-3.json"];

fn verdict(c: &compare::Comparison, m: Metric) -> Verdict {
    c.metrics.iter().find(|x| x.metric == m).unwrap().verdict
}

/// A minimal well-formedness check: every tag opened is closed in order,
/// and the document is one `<svg>` element.
fn assert_balanced_svg(doc: &str) {
    assert!(doc.starts_with("<svg"), "{}", &doc[..doc.len().min(80)]);
    let mut stack: Vec<String> = Vec::new();
    let mut rest = doc;
    let mut roots = 0;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let end = rest.find('>').expect("unterminated tag");
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            let open = stack.pop().unwrap_or_else(|| panic!("stray </{name}>"));
            assert_eq!(open, name.trim(), "mismatched closing tag");
            if stack.is_empty() {
                roots += 1;
            }
        } else if !tag.ends_with('/') && !tag.starts_with('?') && !tag.starts_with('!') {
            let name: String = tag.chars().take_while(|c| !c.is_whitespace()).collect();
            stack.push(name);
        }
        assert!(!tag.contains('<'), "'<' inside a tag: {tag}");
    }
    assert!(stack.is_empty(), "unclosed tags: {stack:?}");
    assert_eq!(roots, 1, "more than one root element");
    assert!(doc.trim_end().ends_with("</svg>"));
}

// ---------------------------------------------------------------------------
// compare

#[test]
fn compare_catches_the_injected_20_percent_regression() {
    let c = compare::compare(&load(&BASELINE), &load(&REGRESSED), &Limits::default(), 3.0);
    assert!(matches!(c.method, compare::Method::Bootstrap { .. }));
    assert!(!c.pass);
    for m in [
        Metric::Rps,
        Metric::Percentile(50.0),
        Metric::Percentile(90.0),
        Metric::Percentile(99.0),
        Metric::Percentile(99.9),
    ] {
        assert_eq!(verdict(&c, m), Verdict::Regression, "{}", m.name());
    }
    assert_eq!(verdict(&c, Metric::ErrorRate), Verdict::NoChange);
    let p99 = c
        .metrics
        .iter()
        .find(|m| m.metric == Metric::Percentile(99.0))
        .unwrap();
    assert!((p99.change - 20.0).abs() < 2.0, "p99 change {}", p99.change);
    let (lo, hi) = p99.ci.unwrap();
    assert!(lo > 0.0 && lo <= p99.change && p99.change <= hi);
    let rps = c.metrics.iter().find(|m| m.metric == Metric::Rps).unwrap();
    assert!((rps.change + 20.0).abs() < 2.0, "rps change {}", rps.change);
    assert!(c.regressions.iter().any(|r| r == "p99") && c.regressions.iter().any(|r| r == "rps"));
}

#[test]
fn compare_regression_within_a_raised_limit_passes() {
    let limits = Limits::parse(&["25%".to_string()]).unwrap();
    let c = compare::compare(&load(&BASELINE), &load(&REGRESSED), &limits, 3.0);
    assert!(c.pass);
    assert_eq!(verdict(&c, Metric::Percentile(99.0)), Verdict::Worse);
    // ...and a per-metric override tightens one metric again.
    let limits = Limits::parse(&["25%".to_string(), "p99=10%".to_string()]).unwrap();
    let c = compare::compare(&load(&BASELINE), &load(&REGRESSED), &limits, 3.0);
    assert_eq!(c.regressions, vec!["p99"]);
}

#[test]
fn compare_improvement_is_better_not_a_regression() {
    let c = compare::compare(&load(&REGRESSED), &load(&BASELINE), &Limits::default(), 3.0);
    assert!(c.pass);
    assert_eq!(verdict(&c, Metric::Rps), Verdict::Better);
    assert_eq!(verdict(&c, Metric::Percentile(99.0)), Verdict::Better);
}

#[test]
fn compare_identical_runs_pass() {
    let c = compare::compare(&load(&BASELINE), &load(&BASELINE), &Limits::default(), 3.0);
    assert!(c.pass);
    for m in &c.metrics {
        assert_eq!(m.change, 0.0, "{}", m.metric.name());
        assert_eq!(m.verdict, Verdict::NoChange, "{}", m.metric.name());
    }
}

#[test]
fn compare_noise_within_the_threshold_passes() {
    let c = compare::compare(&load(&BASELINE), &load(&NOISE), &Limits::default(), 3.0);
    assert!(c.pass, "{}", compare::render::terminal(&c));
    for m in &c.metrics {
        assert!(m.change.abs() < 3.0, "{} {}", m.metric.name(), m.change);
    }
}

#[test]
fn compare_one_run_a_side_uses_the_noise_threshold_and_says_so() {
    let base = load(&["baseline-1.json"]);
    let c = compare::compare(&base, &load(&["noise-2.json"]), &Limits::default(), 3.0);
    assert!(matches!(
        c.method,
        compare::Method::NoiseThreshold { threshold_pct } if threshold_pct == 3.0
    ));
    assert!(c.pass);
    assert!(c.metrics.iter().all(|m| m.ci.is_none()));
    let text = compare::render::terminal(&c);
    assert!(text.contains("no statistical test"), "{text}");
    assert!(text.contains("noise threshold of 3%"), "{text}");

    let c = compare::compare(&base, &load(&["regressed-1.json"]), &Limits::default(), 3.0);
    assert!(!c.pass);
    assert_eq!(verdict(&c, Metric::Percentile(99.0)), Verdict::Regression);
}

#[test]
fn compare_markdown_and_json_name_the_regression() {
    let c = compare::compare(&load(&BASELINE), &load(&REGRESSED), &Limits::default(), 3.0);
    let md = compare::render::markdown(&c);
    assert!(md.contains("| metric | baseline | candidate |"), "{md}");
    assert!(md.contains("FAIL"), "{md}");
    assert!(
        md.lines()
            .any(|l| l.starts_with("| p99 (") && l.contains("**REGRESSION**")),
        "{md}"
    );
    let json: serde_json::Value = serde_json::to_value(&c).unwrap();
    assert_eq!(json["pass"], false);
    assert!(json["regressions"]
        .as_array()
        .unwrap()
        .contains(&"p99".into()));
    assert_eq!(json["method"]["kind"], "bootstrap");
    // Metrics are named as everywhere else (metric.rs), not by enum variant.
    let names: Vec<&str> = json["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["metric"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["rps", "p50", "p90", "p99", "p99.9", "error_rate"]);
}

#[test]
fn load_shape_mismatch_names_the_fields() {
    let paths = [fixture("baseline-1.json"), fixture("shape-50x4-64k.json")];
    let runs = load_all(&paths).unwrap();
    let pairs: Vec<(&Path, &RunResult)> = paths.iter().map(PathBuf::as_path).zip(&runs).collect();
    let err = check_same_shape(&pairs).unwrap_err().to_string();
    assert!(err.contains("shape-50x4-64k.json"), "{err}");
    assert!(err.contains("clients 10 vs 50"), "{err}");
    assert!(err.contains("payload_bytes 0 vs 65536"), "{err}");
    assert!(err.contains("method GET vs POST"), "{err}");
    assert!(err.contains("--force"), "{err}");
    assert!(!err.contains("conns"), "conns are equal: {err}");
    // Same shape: fine.
    let same = load(&BASELINE);
    let pairs: Vec<(&Path, &RunResult)> = same.iter().map(|r| (Path::new("x"), r)).collect();
    check_same_shape(&pairs).unwrap();
}

#[test]
fn a_bad_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("broken.json");
    std::fs::write(&bad, "{ not json").unwrap();
    let err = load_all(&[fixture("baseline-1.json"), bad.clone()]).unwrap_err();
    assert!(format!("{err:#}").contains("broken.json"), "{err:#}");
    let missing = dir.path().join("missing.json");
    let err = load_all(&[missing]).unwrap_err();
    assert!(format!("{err:#}").contains("missing.json"), "{err:#}");
}

// ---------------------------------------------------------------------------
// merge

#[test]
fn merge_of_two_hosts_sums_counts_and_merges_histograms_exactly() {
    let paths = [fixture("host-a.json"), fixture("host-b.json")];
    let mut runs = load_all(&paths).unwrap();
    // The OS causes add up like the kinds (the fixtures carry none).
    runs[0].summary.errors_by_cause = [("reset:ECONNRESET".to_string(), 2)].into();
    runs[1].summary.errors_by_cause = [
        ("reset:ECONNRESET".to_string(), 1),
        ("read:EOF".to_string(), 4),
    ]
    .into();
    let pairs: Vec<(&Path, &RunResult)> = paths.iter().map(PathBuf::as_path).zip(&runs).collect();
    let m = merge::merge(&pairs).unwrap();
    let (a, b) = (&runs[0], &runs[1]);

    assert_eq!(m.summary.requests, a.summary.requests + b.summary.requests);
    assert_eq!(m.summary.errors, 3);
    assert_eq!(m.summary.errors_by_kind["timeout"], 3);
    assert_eq!(m.summary.errors_by_cause["reset:ECONNRESET"], 3);
    assert_eq!(m.summary.errors_by_cause["read:EOF"], 4);
    assert_eq!(
        m.summary.status_codes["200"],
        a.summary.requests + b.summary.requests
    );
    let h = hdr::decode(&m.latency.hdr).unwrap();
    let (ha, hb) = (
        hdr::decode(&a.latency.hdr).unwrap(),
        hdr::decode(&b.latency.hdr).unwrap(),
    );
    assert_eq!(h.len(), ha.len() + hb.len());
    let (pa, pb, pm) = (
        a.latency.percentiles["99"],
        b.latency.percentiles["99"],
        m.latency.percentiles["99"],
    );
    assert!(pa.min(pb) < pm && pm < pa.max(pb), "{pa} {pm} {pb}");
    assert_eq!(m.latency.max, a.latency.max.max(b.latency.max));

    // Union window: b starts 1.4 s later and runs 5 s.
    assert!(
        (m.summary.duration_s - 6.4).abs() < 1e-6,
        "{}",
        m.summary.duration_s
    );
    assert_eq!(m.started_at, a.started_at);
    // Timelines on wall-clock seconds: b's second 0 lands in merged second 1.
    assert_eq!(m.timeline.len(), 6);
    assert_eq!(m.timeline[0].requests, a.timeline[0].requests);
    assert_eq!(
        m.timeline[1].requests,
        a.timeline[1].requests + b.timeline[0].requests
    );
    assert_eq!(m.timeline[5].requests, b.timeline[4].requests);
    let timeline_total: u64 = m.timeline.iter().map(|e| e.requests).sum();
    assert_eq!(timeline_total, m.summary.requests);

    assert_eq!(m.clients.len(), a.clients.len() + b.clients.len());
    let ids: Vec<u32> = m.clients.iter().map(|c| c.id).collect();
    assert_eq!(ids, (0..m.clients.len() as u32).collect::<Vec<_>>());
    assert!(m.fairness.jain < 1.0 && m.fairness.jain > 0.5);
    assert_eq!(m.config.max_clients, 20);
    assert_eq!(m.sources.len(), 2);
    assert_eq!(m.sources[1].host.hostname, "gen-b");
    assert_eq!(m.sources[1].requests, b.summary.requests);
    assert_eq!(m.host.hostname, "gen-a+gen-b");
    assert_eq!(m.label.as_deref(), Some("two-hosts"));

    // Merging a merged result with a third run keeps every source.
    let third = &load(&["baseline-1.json"])[0];
    let again = merge::merge(&[(Path::new("m"), &m), (Path::new("c"), third)]).unwrap();
    assert_eq!(again.sources.len(), 3);
    assert_eq!(
        hdr::decode(&again.latency.hdr).unwrap().len(),
        h.len() + third.summary.requests
    );
}

/// Phase histograms merge exactly like latency, counts add up, handshakes
/// too; a phase absent from one input is absent from the merge.
#[test]
fn merge_adds_phase_histograms_and_tls_handshakes() {
    let paths = [fixture("host-a.json"), fixture("host-b.json")];
    let mut runs = load_all(&paths).unwrap();
    for (r, full) in runs.iter_mut().zip([1, 2]) {
        let block = |l: &bench_client::result::Latency| PhaseLatency {
            count: hdr::decode(&l.hdr).unwrap().len(),
            latency: l.clone(),
        };
        r.phases = Some(Phases {
            resolve_us: Some(10),
            connect: block(&r.latency),
            tls_handshake: Some(block(&r.latency)),
            ttfb: block(&r.latency),
        });
        r.tls = Some(TlsInfo {
            version: Some("TLSv1_3".into()),
            cipher: None,
            handshakes_full: full,
            handshakes_resumed: 10,
            resumption: true,
            fatal: None,
        });
    }
    let pairs: Vec<(&Path, &RunResult)> = paths.iter().map(PathBuf::as_path).zip(&runs).collect();
    let m = merge::merge(&pairs).unwrap();
    let p = m.phases.as_ref().expect("phases merged");
    let total = hdr::decode(&m.latency.hdr).unwrap().len();
    assert_eq!(p.connect.count, total);
    assert_eq!(hdr::decode(&p.connect.latency.hdr).unwrap().len(), total);
    assert_eq!(p.tls_handshake.as_ref().unwrap().count, total);
    assert_eq!(p.ttfb.latency.max, m.latency.max);
    assert_eq!(p.resolve_us, None);
    let t = m.tls.as_ref().expect("tls merged");
    assert_eq!((t.handshakes_full, t.handshakes_resumed), (3, 20));
    assert_eq!(t.version.as_deref(), Some("TLSv1_3"));

    runs[1].phases.as_mut().unwrap().tls_handshake = None;
    let pairs: Vec<(&Path, &RunResult)> = paths.iter().map(PathBuf::as_path).zip(&runs).collect();
    let m = merge::merge(&pairs).unwrap();
    assert!(m.phases.unwrap().tls_handshake.is_none());
}

#[test]
fn merge_refuses_a_bad_started_at_naming_the_file() {
    let mut a = load(&["host-a.json"]).remove(0);
    a.started_at = "yesterday".into();
    let b = load(&["host-b.json"]).remove(0);
    let err = merge::merge(&[(Path::new("odd.json"), &a), (Path::new("b.json"), &b)]).unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains("odd.json") && msg.contains("yesterday"),
        "{msg}"
    );
}

// ---------------------------------------------------------------------------
// plot

fn prepared(names: &[&str]) -> Vec<plot::PreparedRun> {
    let paths: Vec<PathBuf> = names.iter().map(|n| fixture(n)).collect();
    let runs = load_all(&paths).unwrap();
    plot::prepare(&runs, &paths).unwrap()
}

#[test]
fn plot_labels_runs_by_label_else_server_and_load() {
    let p = prepared(&[
        "baseline-1.json",
        "baseline-2.json",
        "regressed-1.json",
        "shape-50x4-64k.json",
    ]);
    let labels: Vec<&str> = p.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "selector 10x4",
            "selector 10x4 #2",
            "slower-1",
            "selector 50x4 64KiB"
        ]
    );
}

/// The contents of every `<text>` element, trimmed and unescaped.
fn svg_texts(doc: &str) -> Vec<String> {
    doc.split("<text")
        .skip(1)
        .filter_map(|t| {
            let body = &t[t.find('>')? + 1..t.find("</text>")?];
            Some(
                body.trim()
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&amp;", "&"),
            )
        })
        .collect()
}

#[test]
fn plot_svg_is_well_formed_and_carries_each_label() {
    let p = prepared(&["baseline-1.json", "regressed-1.json", "shape-50x4-64k.json"]);
    let doc = plot::svg::stacked(&p, "fixtures & <friends>").unwrap();
    assert_balanced_svg(&doc);
    let texts = svg_texts(&doc);
    let count = |s: &str| texts.iter().filter(|t| *t == s).count();
    // Each label in the three legends and beside its bar.
    for r in &p {
        assert_eq!(count(&r.label), 4, "{}: {texts:?}", r.label);
    }
    assert_eq!(count("fixtures & <friends>"), 1);
    // The nines axis is labelled as promised.
    for tick in ["0%", "50%", "90%", "99%", "99.9%", "99.99%"] {
        assert_eq!(count(tick), 1, "{tick}: {texts:?}");
    }
    for caption in [
        "Latency by percentile",
        "Requests per second over time",
        "p99 latency over time",
        "Requests per second by run",
    ] {
        assert_eq!(count(caption), 1, "{caption}");
    }
    // Bars are labelled with their req/s.
    for r in &p {
        assert_eq!(count(&format!("{:.0}", r.run.summary.requests_per_sec)), 1);
    }
}

#[test]
fn plot_spectrum_follows_the_histogram() {
    let p = prepared(&["baseline-1.json"]);
    let s = &p[0].spectrum;
    assert!(s.len() > 20);
    assert!(s.windows(2).all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1));
    let p99_ms = p[0].run.latency.percentiles["99"] as f64 / 1000.0;
    // The point nearest x = 2 (the 99th percentile) is close to p99.
    let near = s
        .iter()
        .min_by(|a, b| (a.0 - 2.0).abs().total_cmp(&(b.0 - 2.0).abs()))
        .unwrap();
    assert!((near.1 / p99_ms - 1.0).abs() < 0.1, "{near:?} vs {p99_ms}");
    assert_eq!(p[0].rps_over_time.len(), 5);
}

#[test]
fn plot_html_is_self_contained_with_a_table_and_each_label() {
    let p = prepared(&["baseline-1.json", "regressed-1.json", "shape-50x4-64k.json"]);
    let page = plot::html::page(&p, "report").unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("<table>") && page.contains("<th>p99.9 ms</th>"));
    for r in &p {
        assert!(page.contains(&r.label), "{}", r.label);
    }
    // Two loads, so two groups of four charts.
    assert_eq!(page.matches("<svg").count(), 8);
    assert_eq!(page.matches("<h2>Load ").count(), 2);
    assert!(!page.contains("src=\"http") && !page.contains("href=\"http"));
    // Key figures in the table: the baseline's req/s.
    assert!(page.contains(&format!(
        "<td>{:.1}</td>",
        p[0].run.summary.requests_per_sec
    )));
}

// ---------------------------------------------------------------------------
// The subcommands' argument parsing and run functions (in-process; the
// binary-level tests below need main.rs to dispatch the subcommands).

#[derive(clap::Parser)]
struct Wrap {
    #[command(subcommand)]
    cmd: Sub,
}

#[derive(clap::Subcommand)]
enum Sub {
    Compare(compare::CompareArgs),
    Merge(merge::MergeArgs),
    Plot(plot::PlotArgs),
}

fn parse(args: &[&str]) -> Sub {
    use clap::Parser as _;
    Wrap::try_parse_from(std::iter::once("bench-client").chain(args.iter().copied()))
        .unwrap_or_else(|e| panic!("{args:?}: {e}"))
        .cmd
}

fn fx(name: &str) -> String {
    fixture(name).display().to_string()
}

fn compare_args(args: &[&str]) -> compare::CompareArgs {
    let mut full = vec!["compare"];
    full.extend_from_slice(args);
    match parse(&full) {
        Sub::Compare(a) => a,
        _ => unreachable!(),
    }
}

#[test]
fn compare_cli_fails_on_the_regression_and_passes_identical_runs() {
    let (b, r) = (BASELINE.map(fx), REGRESSED.map(fx));
    let a = compare_args(&[&b[0], &b[1], &b[2], "--against", &r[0], &r[1], &r[2]]);
    assert_eq!(a.format, compare::Format::Terminal);
    let (cmp, text) = compare::execute(&a).unwrap();
    assert!(!cmp.pass);
    assert!(
        text.contains("FAIL: significant regression beyond its limit in rps"),
        "{text}"
    );
    assert!(
        text.contains("percentile bootstrap 95% confidence interval"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("p99 ") && l.contains("REGRESSION")),
        "{text}"
    );

    let a = compare_args(&[&b[0], &b[1], &b[2], "--against", &b[0], &b[1], &b[2]]);
    let (cmp, text) = compare::execute(&a).unwrap();
    assert!(cmp.pass, "{text}");
    assert!(text.contains("PASS"), "{text}");
}

#[test]
fn compare_cli_limits_and_formats() {
    let (b, r) = (BASELINE.map(fx), REGRESSED.map(fx));
    let a = compare_args(&[
        &b[0],
        &b[1],
        &b[2],
        "--against",
        &r[0],
        &r[1],
        &r[2],
        "--max-regression",
        "30%",
        "--max-regression",
        "p99=15%",
        "--format",
        "json",
    ]);
    let (cmp, text) = compare::execute(&a).unwrap();
    assert_eq!(cmp.regressions, vec!["p99"]);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["regressions"], serde_json::json!(["p99"]));
    assert_eq!(v["candidate_files"][2], r[2]);

    let a = compare_args(&[&b[0], "--against", &r[0], "--format", "markdown"]);
    let (_, md) = compare::execute(&a).unwrap();
    assert!(md.contains("no statistical test"), "{md}");
    assert!(md.contains("**REGRESSION**"), "{md}");

    let a = compare_args(&[&b[0], "--against", &r[0], "--max-regression", "p42=1%"]);
    let err = compare::execute(&a).unwrap_err();
    assert!(format!("{err:#}").contains("unknown metric"), "{err:#}");
}

#[test]
fn compare_cli_refuses_other_load_shapes_unless_forced() {
    let (b, s) = (fx("baseline-1.json"), fx("shape-50x4-64k.json"));
    let err = compare::execute(&compare_args(&[&b, "--against", &s])).unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains("shape-50x4-64k.json") && msg.contains("clients 10 vs 50"),
        "{msg}"
    );
    let (cmp, _) = compare::execute(&compare_args(&[&b, "--against", &s, "--force"])).unwrap();
    assert!(
        !cmp.pass,
        "6x slower runs compared by force are a regression"
    );
}

#[test]
fn merge_cli_writes_a_loadable_result() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sub/all.json");
    let out_s = out.display().to_string();
    let a = match parse(&[
        "merge",
        &fx("host-a.json"),
        &fx("host-b.json"),
        "-o",
        &out_s,
    ]) {
        Sub::Merge(a) => a,
        _ => unreachable!(),
    };
    merge::run(&a).unwrap();
    let m = bench_client::report::json::load(&out).unwrap();
    assert_eq!(m.sources.len(), 2);
    // No temporary file left beside it.
    let names: Vec<_> = std::fs::read_dir(out.parent().unwrap()).unwrap().collect();
    assert_eq!(names.len(), 1);

    // One input is not a merge.
    use clap::Parser as _;
    assert!(Wrap::try_parse_from(["x", "merge", &fx("host-a.json"), "-o", &out_s]).is_err());
    // Different shapes are refused, naming the file.
    let a = match parse(&[
        "merge",
        &fx("host-a.json"),
        &fx("shape-50x4-64k.json"),
        "-o",
        &out_s,
    ]) {
        Sub::Merge(a) => a,
        _ => unreachable!(),
    };
    let err = format!("{:#}", merge::execute(&a).unwrap_err());
    assert!(
        err.contains("shape-50x4-64k.json") && err.contains("payload_bytes"),
        "{err}"
    );
}

#[test]
fn plot_cli_writes_svg_and_html_and_refuses_other_formats() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["p.svg", "p.html"] {
        let out = dir.path().join(name).display().to_string();
        let a = match parse(&[
            "plot",
            &fx("baseline-1.json"),
            &fx("noise-1.json"),
            "-o",
            &out,
        ]) {
            Sub::Plot(a) => a,
            _ => unreachable!(),
        };
        plot::run(&a).unwrap();
        let doc = std::fs::read_to_string(&out).unwrap();
        assert!(doc.contains("selector 10x4 #2"), "{name}");
    }
    assert_balanced_svg(&std::fs::read_to_string(dir.path().join("p.svg")).unwrap());
    let out = dir.path().join("p.png").display().to_string();
    let a = match parse(&["plot", &fx("baseline-1.json"), "-o", &out]) {
        Sub::Plot(a) => a,
        _ => unreachable!(),
    };
    let err = plot::run(&a).unwrap_err().to_string();
    assert!(
        err.contains("p.png") && err.contains("OUT.svg or OUT.html"),
        "{err}"
    );
    assert!(!dir.path().join("p.png").exists());
}

// ---------------------------------------------------------------------------
// The real binary: exit codes and messages as a CI job sees them.

fn bench_client(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bench-client"))
        .args(args)
        .output()
        .expect("bench-client runs");
    (
        out.status.code().expect("exited, not killed"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn binary_compare_exit_codes_are_0_pass_1_regression_2_error() {
    let (b, r, n) = (BASELINE.map(fx), REGRESSED.map(fx), NOISE.map(fx));
    let (code, out, _) = bench_client(&[
        "compare",
        &b[0],
        &b[1],
        &b[2],
        "--against",
        &b[0],
        &b[1],
        &b[2],
    ]);
    assert_eq!(code, 0, "{out}");
    let (code, out, _) = bench_client(&[
        "compare",
        &b[0],
        &b[1],
        &b[2],
        "--against",
        &n[0],
        &n[1],
        &n[2],
    ]);
    assert_eq!(code, 0, "noise within the threshold: {out}");
    let (code, out, _) = bench_client(&[
        "compare",
        &b[0],
        &b[1],
        &b[2],
        "--against",
        &r[0],
        &r[1],
        &r[2],
        "--format",
        "markdown",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("| p99 (lower is better) |") && out.contains("**REGRESSION**"),
        "{out}"
    );

    let (code, out, err) =
        bench_client(&["compare", &b[0], "--against", &fx("shape-50x4-64k.json")]);
    assert_eq!(code, 2, "{out}");
    assert!(out.is_empty());
    assert!(err.starts_with("error: load shapes differ from "), "{err}");
    assert!(
        err.contains("clients 10 vs 50, payload_bytes 0 vs 65536"),
        "{err}"
    );

    let (code, _, err) = bench_client(&["compare", &b[0], "--against", "no/such/file.json"]);
    assert_eq!(code, 2);
    assert!(err.contains("no/such/file.json"), "{err}");
}

#[test]
fn binary_merge_then_plot() {
    let dir = tempfile::tempdir().unwrap();
    let all = dir.path().join("all.json").display().to_string();
    let (code, _, err) =
        bench_client(&["merge", &fx("host-a.json"), &fx("host-b.json"), "-o", &all]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("merged 2 runs"), "{err}");
    let html = dir.path().join("r.html").display().to_string();
    let (code, _, err) = bench_client(&["plot", &all, &fx("host-a.json"), "-o", &html]);
    assert_eq!(code, 0, "{err}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("two-hosts #2") && page.contains("(merged from 2)"));
}

/// `compare A --against B C`: one baseline run against two candidates, the
/// candidates' values averaged (CI gates often have one stored baseline).
#[test]
fn binary_compare_takes_several_files_after_against() {
    let (b, n) = (fx("baseline-1.json"), NOISE.map(fx));
    let (code, out, err) =
        bench_client(&["compare", &b, "--against", &n[0], &n[1], "--format", "json"]);
    assert_eq!(code, 0, "{err}{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["baseline_runs"], 1);
    assert_eq!(v["candidate_runs"], 2);
    assert_eq!(v["candidate_files"], serde_json::json!([n[0], n[1]]));
    let rps = &v["metrics"][0];
    assert_eq!(rps["metric"], "rps");
    assert_eq!(rps["candidate_values"].as_array().unwrap().len(), 2);
    let runs = load(&["noise-1.json", "noise-2.json"]);
    let want = (runs[0].summary.requests_per_sec + runs[1].summary.requests_per_sec) / 2.0;
    assert_eq!(rps["candidate_mean"].as_f64().unwrap(), want);
}

/// A copy of fixture `name` in `dir` that started at `started_at`.
fn fixture_started_at(dir: &Path, name: &str, started_at: &str) -> String {
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture(name)).unwrap()).unwrap();
    doc["started_at"] = started_at.into();
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string(&doc).unwrap()).unwrap();
    path.display().to_string()
}

fn merge_args(args: &[&str]) -> merge::MergeArgs {
    let mut full = vec!["merge"];
    full.extend_from_slice(args);
    match parse(&full) {
        Sub::Merge(a) => a,
        _ => unreachable!(),
    }
}

/// Finding: two back-to-back 5 s runs of one host merged into one "run" of
/// 21 s with a 16 s gap in its timeline and a third of its real rate.
#[test]
fn merge_refuses_runs_not_measured_at_the_same_time_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let a = fixture_started_at(dir.path(), "host-a.json", "2026-11-25T19:20:00.000Z");
    let b = fixture_started_at(dir.path(), "host-b.json", "2026-11-25T19:20:16.000Z");
    let out = dir.path().join("all.json").display().to_string();
    let err = merge::execute(&merge_args(&[&a, &b, "-o", &out])).unwrap_err();
    assert_eq!(
        format!("{err:#}"),
        format!(
            "{a} (measured 2026-11-25T19:20:00.000Z .. 2026-11-25T19:20:05.000Z) and \
             {b} (measured 2026-11-25T19:20:16.000Z .. 2026-11-25T19:20:21.000Z) were not measured \
             at the same time: merged, they would be one run with a gap (pass --force to merge them anyway)"
        )
    );
    // Back to back, touching: still not the same time.
    let b = fixture_started_at(dir.path(), "host-b.json", "2026-11-25T19:20:05.000Z");
    assert!(merge::execute(&merge_args(&[&a, &b, "-o", &out])).is_err());
    // One millisecond of overlap is enough.
    let b = fixture_started_at(dir.path(), "host-b.json", "2026-11-25T19:20:04.999Z");
    merge::execute(&merge_args(&[&a, &b, "-o", &out])).unwrap();

    let b = fixture_started_at(dir.path(), "host-b.json", "2026-11-25T19:20:16.000Z");
    let m = merge::execute(&merge_args(&[&a, &b, "-o", &out, "--force"])).unwrap();
    assert_eq!(m.summary.duration_s, 21.0, "forced, the gap is kept");
}

#[test]
fn binary_merge_exits_2_on_runs_not_measured_at_the_same_time() {
    let dir = tempfile::tempdir().unwrap();
    let a = fixture_started_at(dir.path(), "host-a.json", "2026-11-25T19:20:00.000Z");
    let b = fixture_started_at(dir.path(), "host-b.json", "2026-11-25T19:20:16.000Z");
    let out = dir.path().join("all.json");
    let out_s = out.display().to_string();
    let (code, stdout, err) = bench_client(&["merge", &a, &b, "-o", &out_s]);
    assert_eq!(code, 2, "{err}");
    assert!(stdout.is_empty());
    assert!(
        err.starts_with(&format!(
            "error: {a} (measured 2026-11-25T19:20:00.000Z .. "
        )),
        "{err}"
    );
    assert!(!out.exists(), "nothing written");
    let (code, _, err) = bench_client(&["merge", &a, &b, "-o", &out_s, "--force"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("over 21.0 s"), "{err}");
}

/// A CI script tells "the inputs do not go together" from a regression or
/// a crash by one exit status, whichever tool refused them.
#[test]
fn binary_compare_and_merge_exit_2_alike_on_a_load_shape_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("all.json");
    let (a, s) = (fx("host-a.json"), fx("shape-50x4-64k.json"));
    let (code, _, compare_err) = bench_client(&["compare", &a, "--against", &s]);
    assert_eq!(code, 2, "{compare_err}");
    let out_s = out.display().to_string();
    let (code, _, merge_err) = bench_client(&["merge", &a, &s, "-o", &out_s]);
    assert_eq!(code, 2, "{merge_err}");
    assert!(!out.exists());
    assert_eq!(merge_err, compare_err, "the same refusal, word for word");
    assert!(
        merge_err.starts_with(&format!("error: load shapes differ from {a} (pass --force")),
        "{merge_err}"
    );
    // Other refused inputs are exit 2 as well: a missing file...
    let (code, _, err) = bench_client(&["merge", &a, "no/such.json", "-o", &out_s]);
    assert_eq!(code, 2, "{err}");
    // ...and the same run twice.
    let (code, _, err) = bench_client(&["merge", &a, &a, "-o", &out_s]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("hold the same run"), "{err}");
    assert!(!out.exists());
}

/// Every subcommand's help ends with an example, and the example is one
/// the parser accepts (a stale example is worse than none).
#[test]
fn binary_help_of_each_tool_ends_with_a_working_example() {
    use clap::Parser as _;
    for sub in ["plot", "compare", "merge"] {
        let (code, out, err) = bench_client(&[sub, "--help"]);
        assert_eq!(code, 0, "{err}");
        let last = out.trim_end().lines().last().unwrap();
        let example = last
            .strip_prefix(&format!("Example: bench-client {sub} "))
            .unwrap_or_else(|| panic!("{sub} --help ends with {last:?}"));
        let args = std::iter::once("bench-client")
            .chain(std::iter::once(sub))
            .chain(example.split_whitespace());
        Wrap::try_parse_from(args).unwrap_or_else(|e| panic!("{last}: {e}"));
    }
}
