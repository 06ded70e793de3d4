//! `results/format/schema.json` against the result model: documents built in
//! process (closed and open loop, every optional field), hand-broken
//! documents that must be rejected, the example in `results/format/README.md`, and
//! the real output of the `bench-client` binary.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bench_client::hdr;
use bench_client::report::diagnosis::{diagnose, Limit, Warning, WarningKind};
use bench_client::result::*;
use serde_json::{json, Value};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("bench-client lives inside the workspace")
        .to_path_buf()
}

fn validator() -> jsonschema::Validator {
    let path = repo_root().join("results/format/schema.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let schema: Value = serde_json::from_str(&text).expect("schema.json is JSON");
    jsonschema::validator_for(&schema).expect("schema.json is a valid JSON Schema")
}

/// Every schema error of `doc`, one per line, for assertion messages.
fn errors(v: &jsonschema::Validator, doc: &Value) -> String {
    v.iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect::<Vec<_>>()
        .join("\n")
}

fn assert_valid(v: &jsonschema::Validator, doc: &Value) {
    let errs = errors(v, doc);
    assert!(errs.is_empty(), "schema rejected a valid document:\n{errs}");
}

fn latency(samples: &[(u64, u64)]) -> Latency {
    let mut h = hdr::new_histogram();
    for &(us, n) in samples {
        h.record_n(us, n).unwrap();
    }
    hdr::latency_from(&h)
}

/// A closed-loop run against a spawned server, every nullable field set.
fn closed_loop() -> RunResult {
    let host = Host {
        os: "linux".into(),
        kernel: "6.1.0".into(),
        cpu: "Test CPU".into(),
        cores: 2,
        hostname: "h".into(),
    };
    RunResult {
        schema_version: SCHEMA_VERSION,
        tool: Tool {
            name: "bench-client".into(),
            version: "0.1.0".into(),
        },
        started_at: "2026-11-25T19:20:00.123Z".into(),
        label: Some("l".into()),
        host,
        sources: Vec::new(),
        config: RunConfig {
            url: "http://127.0.0.1:1/".into(),
            method: "POST".into(),
            headers: vec!["X-A: b".into()],
            max_clients: 2,
            max_conns: 3,
            connections: 6,
            threads: 2,
            duration_s: Some(1.5),
            requests: None,
            payload_bytes: 65_536,
            body_file: Some("body.bin".into()),
            connection_per_request: true,
            timeout_s: 10.0,
            warmup_s: 0.5,
            rate: None,
            stages: Vec::new(),
            arrivals: None,
            seed: None,
            server: Some("fork".into()),
            server_cpus: Some(vec![0]),
            targets_file: None,
            targets_order: None,
            protocol: Some("h2".into()),
            streams: Some(10),
        },
        target: Target {
            url: "http://127.0.0.1:1/".into(),
            server: Some(ServerInfo {
                model: "fork".into(),
                totals: Some(ServerTotals {
                    model: "fork".into(),
                    connections: 10,
                    requests: 10,
                    body_bytes: 655_360,
                    // Non-zero, so the schema sees the TLS counts too.
                    tls_full: 3,
                    tls_resumed: 7,
                }),
            }),
        },
        interrupted: true,
        summary: Summary {
            requests: 10,
            errors: 1,
            duration_s: 1.5,
            requests_per_sec: 6.67,
            bytes_sent: 700_000,
            bytes_received: 1_000,
            status_codes: BTreeMap::from([("200".into(), 9), ("503".into(), 1)]),
            errors_by_kind: BTreeMap::from([("connect_refused".into(), 1)]),
            errors_by_cause: BTreeMap::from([("connect_refused:ECONNREFUSED".into(), 1)]),
            target_rate: None,
            achieved_rate: None,
            late_sends: None,
            pacing: None,
        },
        latency: latency(&[(120, 9), (5_000, 1)]),
        latency_uncorrected: None,
        timeline: vec![TimelineEntry {
            t_s: 0,
            requests: 10,
            errors: 1,
            p50_us: 120,
            p99_us: 5_000,
            target_rate: None,
            achieved_rate: None,
            target_connections: Some(4),
            connections: Some(3),
        }],
        stages: Vec::new(),
        clients: vec![
            ClientCount {
                id: 0,
                requests: 6,
                errors: 0,
            },
            ClientCount {
                id: 1,
                requests: 4,
                errors: 1,
            },
        ],
        fairness: Fairness { jain: 0.96 },
        checks: Vec::new(),
        warnings: Vec::new(),
        verdict: None,
        generator: None,
        targets: Vec::new(),
        phases: Some(Phases {
            resolve_us: Some(42),
            connect: phase(&[(80, 6)]),
            tls_handshake: Some(phase(&[(900, 5), (2_000, 1)])),
            ttfb: phase(&[(100, 10)]),
        }),
        tls: Some(TlsInfo {
            version: Some("TLSv1_3".into()),
            cipher: Some("TLS13_AES_256_GCM_SHA384".into()),
            handshakes_full: 1,
            handshakes_resumed: 5,
            resumption: true,
            fatal: Some("TLS: the server's certificate has expired".into()),
        }),
        http2: Some(Http2Info {
            requested: "auto".into(),
            fell_back: false,
            server_max_streams: Some(128),
            streams_in_flight: 10,
            stream_window: 4 << 20,
            connection_window: 16 << 20,
            goaways: 1,
            resent: 3,
        }),
        shard: Some(ShardInfo {
            index: 1,
            count: 3,
            run_id: "3f1c9a2e-job-uid".into(),
        }),
        start: Some(StartInfo {
            intended: "2026-11-25T19:20:00.000000Z".into(),
            actual: "2026-11-25T19:20:00.000412Z".into(),
            late_ms: 0.412,
            clock: bench_client::clock::ClockInfo {
                synchronized: true,
                est_error_us: Some(120),
                max_error_us: Some(16_000),
                status: "TIME_OK".into(),
            },
            spread_ms: None,
        }),
    }
}

fn phase(samples: &[(u64, u64)]) -> PhaseLatency {
    PhaseLatency {
        count: samples.iter().map(|s| s.1).sum(),
        latency: latency(samples),
    }
}

/// One warning of every kind, hand-made so that the schema is checked
/// against each kind's fields whatever `diagnose` happens to say.
fn every_warning() -> Vec<Warning> {
    [
        WarningKind::RequestsFailed {
            failed: 1,
            attempted: 11,
            failed_pct: 100.0 / 11.0,
            errors_by_kind: BTreeMap::from([("connect_refused".into(), 1)]),
        },
        WarningKind::Non2xx {
            responses: 1,
            share_pct: 10.0,
        },
        WarningKind::RateNotHeld {
            target_rate: 2_000.0,
            achieved_rate: 1_500.0,
            connections: 6,
            mean_service_time_us: 4_000.0,
            capacity_rate: Some(1_500.0),
            limit: Limit::Server,
        },
        WarningKind::RateNotHeld {
            target_rate: 2_000.0,
            achieved_rate: 1_500.0,
            connections: 6,
            mean_service_time_us: 0.0,
            capacity_rate: None,
            limit: Limit::Client,
        },
        WarningKind::StageRateNotHeld {
            stage: 2,
            start_s: 1.0,
            end_s: 2.0,
            target_rate: 2_000.0,
            achieved_rate: 1_500.0,
            connections: 6,
            capacity_rate: Some(1_500.0),
            limit: Limit::Server,
        },
        WarningKind::LateSends {
            late_sends: 3,
            late_pct: 30.0,
        },
        WarningKind::StarvedClients {
            starved: 1,
            clients: 2,
        },
        WarningKind::NoServerTotals {
            server: "fork".into(),
        },
        WarningKind::ServerCountMismatch {
            server_requests: 9,
            client_requests: 10,
        },
        WarningKind::OnlyTimeouts { timeouts: 2 },
        WarningKind::Interrupted { duration_s: 1.5 },
        WarningKind::SharedCpus {
            server: "fork".into(),
            client_cores: 2,
        },
        WarningKind::WorkerBusy {
            worker: 1,
            cpu_pct: 40.0,
            busy_pct: 99.0,
        },
        WarningKind::ScheduleLate {
            schedule_error_p99_us: 2_500,
        },
        WarningKind::LocalResources {
            ports: 3,
            descriptors: 0,
        },
        WarningKind::StreamsCapped {
            streams: 10,
            streams_in_flight: 8,
            server_max_streams: 8,
            connections: 6,
        },
        WarningKind::StartSpread {
            spread_ms: 72.5,
            limit_ms: 50.0,
        },
    ]
    .into_iter()
    .map(Warning::new)
    .collect()
}

/// An open-loop merged run: every optional field present.
fn open_loop() -> RunResult {
    let mut r = closed_loop();
    r.warnings = every_warning();
    r.verdict = Some(bench_client::report::diagnosis::verdict(&r.warnings));
    r.generator = Some(Generator {
        workers: vec![
            GeneratorWorker {
                cpu_s: 0.5,
                wall_s: 2.0,
                cpu_share: 0.25,
                cpu_wait_s: 0.1,
                busy_share: 0.3,
            },
            GeneratorWorker {
                cpu_s: 0.8,
                wall_s: 2.0,
                cpu_share: 0.4,
                cpu_wait_s: 1.18,
                busy_share: 0.99,
            },
        ],
    });
    r.config.rate = Some(2_000.0);
    r.summary.target_rate = Some(2_000.0);
    r.summary.achieved_rate = Some(1_999.5);
    r.summary.late_sends = Some(3);
    r.summary.pacing = Some(Pacing {
        timer_sends: 19_990,
        schedule_error_p50_us: 35,
        schedule_error_p99_us: 80,
        schedule_error_max_us: 1_400,
        late_sends_busy: 1,
    });
    r.latency_uncorrected = Some(latency(&[(100, 10)]));
    for e in &mut r.timeline {
        e.target_rate = Some(2_000.0);
        e.achieved_rate = Some(1_999.0);
    }
    r.config.arrivals = Some("poisson".into());
    r.config.seed = Some(u64::MAX);
    r.config.targets_file = Some("targets.txt".into());
    r.config.targets_order = Some("round-robin".into());
    r.targets = vec![TargetResult {
        key: "POST http://127.0.0.1:40000/echo".into(),
        weight: 3,
        requests: 900,
        errors: 2,
        status_codes: [("200".to_string(), 900)].into_iter().collect(),
        errors_by_kind: [("timeout".to_string(), 2)].into_iter().collect(),
        latency: latency(&[(100, 902)]),
    }];
    r.config.stages = vec![
        StageConfig {
            duration_s: 1.0,
            target_rate: Some(2_000.0),
            target_connections: None,
        },
        StageConfig {
            duration_s: 0.5,
            target_rate: Some(2_000.0),
            target_connections: None,
        },
    ];
    r.stages = vec![StageResult {
        start_s: 0.0,
        end_s: 1.0,
        target_rate: Some(2_000.0),
        mean_target_rate: Some(1_000.0),
        achieved_rate: Some(999.0),
        target_connections: None,
        requests: 999,
        errors: 1,
        sent: 999,
        requests_per_sec: 999.0,
        p50_us: 100,
        p99_us: 5_000,
    }];
    r.sources = vec![Source {
        host: r.host.clone(),
        started_at: "2026-11-25T19:19:00Z".into(),
        label: Some("a".into()),
        requests: 10,
        shard: Some(ShardInfo {
            index: 0,
            count: 1,
            run_id: "r".into(),
        }),
    }];
    // A merged run: the whole run, with the spread of its inputs' starts.
    r.shard = None;
    if let Some(start) = r.start.as_mut() {
        start.spread_ms = Some(3.25);
    }
    r
}

/// A bare run: every nullable field null, -n instead of -d, no server.
fn minimal() -> RunResult {
    let mut r = closed_loop();
    r.label = None;
    r.host.hostname = String::new();
    r.config.duration_s = None;
    r.config.requests = Some(10);
    r.config.body_file = None;
    r.config.server = None;
    r.target.server = None;
    r.timeline.clear();
    r.clients.truncate(1);
    r.fairness.jain = 1.0;
    r.shard = None;
    r.start = None;
    r
}

fn doc(r: &RunResult) -> Value {
    serde_json::to_value(r).unwrap()
}

#[test]
fn built_results_validate() {
    let v = validator();
    assert_valid(&v, &doc(&closed_loop()));
    assert_valid(&v, &doc(&open_loop()));
    assert_valid(&v, &doc(&minimal()));
    // A run whose server printed no totals line.
    let mut r = closed_loop();
    r.target.server.as_mut().unwrap().totals = None;
    assert_valid(&v, &doc(&r));
}

/// Each case breaks one thing the schema promises; each must be rejected.
#[test]
fn broken_documents_are_rejected() {
    let v = validator();
    type Break = fn(&mut Value);
    let cases: Vec<(&str, Break)> = vec![
        ("missing summary", |d| {
            d.as_object_mut().unwrap().remove("summary");
        }),
        ("missing latency.hdr", |d| {
            d["latency"].as_object_mut().unwrap().remove("hdr");
        }),
        ("missing percentile 99", |d| {
            d["latency"]["percentiles"]
                .as_object_mut()
                .unwrap()
                .remove("99");
        }),
        ("requests as a string", |d| {
            d["summary"]["requests"] = json!("10")
        }),
        ("negative count", |d| d["summary"]["errors"] = json!(-1)),
        ("fractional count", |d| {
            d["summary"]["bytes_sent"] = json!(1.5)
        }),
        ("unit other than us", |d| d["latency"]["unit"] = json!("ms")),
        ("hdr not base64", |d| {
            d["latency"]["hdr"] = json!("not base64!")
        }),
        ("unknown top-level field", |d| d["extra"] = json!(1)),
        ("unknown config field", |d| {
            d["config"]["colour"] = json!("red")
        }),
        ("newer schema_version", |d| d["schema_version"] = json!(2)),
        ("local time", |d| {
            d["started_at"] = json!("2026-11-25T20:20:00+01:00")
        }),
        ("unknown server model", |d| {
            d["config"]["server"] = json!("nginx")
        }),
        ("status code key not a code", |d| {
            d["summary"]["status_codes"]["ok"] = json!(1)
        }),
        ("jain above 1", |d| d["fairness"]["jain"] = json!(1.5)),
        ("interrupted as a string", |d| {
            d["interrupted"] = json!("no")
        }),
        ("open loop without latency_uncorrected", |d| {
            d["summary"]["target_rate"] = json!(100.0);
            d["summary"]["achieved_rate"] = json!(100.0);
            d["summary"]["late_sends"] = json!(0);
        }),
        ("unknown warning kind", |d| {
            d["warnings"] = json!([{ "kind": "bogus", "message": "m" }])
        }),
        ("warning without its message", |d| {
            d["warnings"] = json!([{ "kind": "only_timeouts", "timeouts": 1 }])
        }),
        ("warning without a figure", |d| {
            d["warnings"] = json!([{ "kind": "only_timeouts", "message": "m" }])
        }),
        (
            "warning with a figure of another kind",
            |d| {
                d["warnings"] = json!([{ "kind": "only_timeouts", "timeouts": 1, "starved": 1, "message": "m" }])
            },
        ),
        ("rate limit neither server nor client", |d| {
            let mut w = serde_json::to_value(&every_warning()[2]).unwrap();
            w["limit"] = json!("network");
            d["warnings"] = json!([w]);
        }),
        ("protocol other than http/1.1, h2 or h2c", |d| {
            d["config"]["protocol"] = json!("http/2")
        }),
        ("zero streams", |d| d["config"]["streams"] = json!(0)),
        ("negative http2.resent", |d| {
            d["http2"]["resent"] = json!(-1)
        }),
        ("http2.requested neither on nor auto", |d| {
            d["http2"]["requested"] = json!("yes")
        }),
        ("http2 without streams_in_flight", |d| {
            d["http2"]
                .as_object_mut()
                .unwrap()
                .remove("streams_in_flight");
        }),
        ("a stream window above HTTP/2's 2^31-1", |d| {
            d["http2"]["stream_window"] = json!(1u64 << 31)
        }),
        ("open loop without late_sends", |d| {
            d["summary"]["target_rate"] = json!(100.0);
            d["summary"]["achieved_rate"] = json!(100.0);
            d["latency_uncorrected"] = d["latency"].clone();
        }),
    ];
    for (name, break_it) in cases {
        let mut d = doc(&closed_loop());
        break_it(&mut d);
        assert!(!v.is_valid(&d), "schema accepted a document with {name}");
    }
}

/// Every path to an object key in `v`, as JSON-pointer segments.
fn key_paths(v: &Value, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                prefix.push(k.clone());
                out.push(prefix.clone());
                key_paths(child, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                prefix.push(i.to_string());
                key_paths(child, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

fn parent_mut<'a>(d: &'a mut Value, path: &[String]) -> &'a mut Value {
    path[..path.len() - 1].iter().fold(d, |v, seg| match v {
        Value::Array(a) => &mut a[seg.parse::<usize>().unwrap()],
        v => &mut v[seg.as_str()],
    })
}

/// The schema must never be laxer than the loader: whatever the schema
/// accepts, `RunResult` must deserialize. Checked by dropping each key and
/// by giving each key a value of the wrong type, one at a time.
#[test]
fn schema_accepts_nothing_the_loader_rejects() {
    let v = validator();
    let full = doc(&open_loop());
    let mut paths = Vec::new();
    key_paths(&full, &mut Vec::new(), &mut paths);
    assert!(paths.len() > 80, "walked only {} keys", paths.len());
    let mut rejected_by_both = 0;
    for path in &paths {
        let key = path.last().unwrap();
        let original = parent_mut(&mut full.clone(), path)[key.as_str()].clone();
        let wrong = match original {
            Value::String(_) => json!(12),
            _ => json!("x"),
        };
        let mut removed = full.clone();
        parent_mut(&mut removed, path)
            .as_object_mut()
            .unwrap()
            .remove(key);
        let mut retyped = full.clone();
        parent_mut(&mut retyped, path)[key.as_str()] = wrong;
        for (what, d) in [("without", removed), ("with a wrong type for", retyped)] {
            let schema_ok = v.is_valid(&d);
            let serde_ok = serde_json::from_value::<RunResult>(d.clone()).is_ok();
            assert!(
                !schema_ok || serde_ok,
                "schema accepts a document {what} /{} that the loader rejects",
                path.join("/")
            );
            if !schema_ok && !serde_ok {
                rejected_by_both += 1;
            }
        }
    }
    // Sanity: the mutations do break documents, for both.
    assert!(
        rejected_by_both > 80,
        "only {rejected_by_both} mutations rejected"
    );
}

/// The example in results/format/README.md is a real, valid result.
#[test]
fn readme_example_validates_and_loads() {
    let readme = std::fs::read_to_string(repo_root().join("results/format/README.md")).unwrap();
    let start = readme
        .find("```json\n")
        .expect("results/format/README.md has a ```json example")
        + "```json\n".len();
    let end = start + readme[start..].find("```").expect("closing fence");
    let example: Value = serde_json::from_str(&readme[start..end]).expect("example is JSON");
    assert_valid(&validator(), &example);
    let r: RunResult = serde_json::from_value(example).expect("example loads");
    let h = hdr::decode(&r.latency.hdr).expect("example hdr decodes");
    assert_eq!(h.len(), r.summary.requests, "example hdr count");
    assert_eq!(
        hdr::percentile(&h, hdr::Percentile::P99),
        r.latency.percentiles["99"]
    );
    assert_eq!(h.max(), r.latency.max);
    assert_eq!(r.warnings, diagnose(&r), "example warnings");
}

/// Runs the real binary with `args` plus `--quiet -o FILE` (bounded in
/// time), checks the file against the schema and returns it.
fn run_real(args: &[&str]) -> RunResult {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_bench-client"))
        .args(args)
        .args(["--quiet", "-o"])
        .arg(&out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run bench-client");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("bench-client {args:?} did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert!(
        status.success(),
        "bench-client {args:?} failed ({status}): {stderr}"
    );

    let text = std::fs::read_to_string(&out).expect("result file written");
    let d: Value = serde_json::from_str(&text).expect("result is JSON");
    assert_valid(&validator(), &d);
    serde_json::from_value(d).expect("result loads")
}

/// The histogram in `l` holds `count` samples and gives `l`'s own p99 and max.
fn assert_hdr_matches(l: &Latency, count: u64, what: &str) {
    let h = hdr::decode(&l.hdr).unwrap_or_else(|e| panic!("{what}.hdr: {e}"));
    assert_eq!(h.len(), count, "{what}.hdr count vs summary.requests");
    assert_eq!(
        hdr::percentile(&h, hdr::Percentile::P99),
        l.percentiles["99"],
        "{what} p99"
    );
    assert_eq!(h.max(), l.max, "{what} max");
}

#[test]
fn real_output_validates_and_hdr_matches_summary() {
    let r = run_real(&[
        "--server",
        "selector",
        "-n",
        "200",
        "--max-clients",
        "2",
        "--max-conns",
        "2",
    ]);
    assert_eq!(r.summary.requests, 200);
    // Timed-out requests are recorded too; none are expected here.
    assert_eq!(r.summary.errors, 0, "{:?}", r.summary.errors_by_kind);
    assert_hdr_matches(&r.latency, r.summary.requests, "latency");
    // The server was started unpinned: the one warning a clean run gets.
    let kinds: Vec<&WarningKind> = r.warnings.iter().map(|w| &w.kind).collect();
    assert_eq!(
        kinds,
        [&WarningKind::SharedCpus {
            server: "selector".into(),
            client_cores: r.host.cores,
        }]
    );
    // Every run records its verdict and one entry per worker.
    assert!(
        r.verdict.as_ref().is_some_and(|v| v.valid),
        "{:?}",
        r.verdict
    );
    let workers = &r.generator.as_ref().expect("generator figures").workers;
    assert_eq!(workers.len(), r.config.threads as usize);
}

/// Every warning kind is in the schema's list, and the loader reads each
/// back as it was written.
#[test]
fn every_warning_kind_validates_and_loads() {
    let v = validator();
    let r = open_loop();
    let d = doc(&r);
    assert_valid(&v, &d);
    let written: Vec<&str> = d["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["kind"].as_str().unwrap())
        .collect();
    let text = std::fs::read_to_string(repo_root().join("results/format/schema.json")).unwrap();
    let schema: Value = serde_json::from_str(&text).unwrap();
    let listed: Vec<&str> = schema["properties"]["warnings"]["items"]["properties"]["kind"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    let mut distinct = written.clone();
    distinct.dedup();
    assert_eq!(distinct, listed);
    let back: RunResult = serde_json::from_value(d).unwrap();
    assert_eq!(back.warnings, r.warnings);
}

#[test]
fn real_open_loop_output_validates_and_both_hdrs_match() {
    let r = run_real(&[
        "--server",
        "selector",
        "--rate",
        "400",
        "-n",
        "100",
        "--max-clients",
        "2",
        "--max-conns",
        "1",
    ]);
    assert_eq!(r.summary.requests, 100);
    assert_eq!(r.summary.errors, 0, "{:?}", r.summary.errors_by_kind);
    assert_eq!(r.summary.target_rate, Some(400.0));
    assert_hdr_matches(&r.latency, r.summary.requests, "latency");
    let unc = r.latency_uncorrected.as_ref().expect("latency_uncorrected");
    assert_hdr_matches(unc, r.summary.requests, "latency_uncorrected");
}

/// A real `--targets` run's fields validate and load, and each target's
/// histogram holds its own requests.
#[test]
fn real_targets_output_validates() {
    let (mut server, addr) = {
        let mut child = Command::new(env!("CARGO_BIN_EXE_bench-client"))
            .args(["serve", "selector", "--addr", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn server");
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        let addr = reference_servers::wire::listening::ListeningLine::parse(&line)
            .expect("listening line")
            .addr;
        (child, addr)
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.txt");
    std::fs::write(
        &file,
        format!("GET http://{addr}/\n# weight: 3\n\nPOST http://{addr}/echo\n"),
    )
    .unwrap();
    let r = run_real(&["--targets", file.to_str().unwrap(), "-n", "200", "-c", "2"]);
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(r.targets.len(), 2);
    assert_eq!(r.config.targets_order.as_deref(), Some("random"));
    assert!(r.config.seed.is_some(), "a random order records its seed");
    for t in &r.targets {
        assert_hdr_matches(&t.latency, t.requests + t.errors, &t.key);
    }
}

/// The stages' fields, written by real runs of both kinds, validate and
/// load; the open loop's requests are what its curve integrates to.
#[test]
fn real_staged_output_validates() {
    let r = run_real(&[
        "--server",
        "selector",
        "--stage",
        "500ms:400/s",
        "--stage",
        "500ms:400/s",
        "--arrivals",
        "uniform",
        "-c",
        "2",
    ]);
    // Λ = 400 / 2 · 0.5 + 400 · 0.5.
    assert_eq!(r.summary.requests, 300);
    assert_eq!(r.config.stages.len(), 2);
    assert_eq!(r.config.arrivals.as_deref(), Some("uniform"));
    assert_eq!(r.config.seed, None);
    assert_eq!(r.stages.len(), 2);
    assert_eq!(r.stages[0].requests + r.stages[1].requests, 300);
    let r = run_real(&[
        "--server", "selector", "--stage", "500ms:2", "--stage", "500ms:0",
    ]);
    assert_eq!(r.config.stages[0].target_connections, Some(2));
    assert_eq!(r.config.connections, 2, "the pool is sized to the peak");
    assert!(r.timeline[0].target_connections.is_some());
    assert!(r.timeline[0].connections.is_some());
}
