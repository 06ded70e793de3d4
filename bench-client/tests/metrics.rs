//! `--metrics-addr`: the live metrics scraped from a real run while it
//! goes, read by a real OpenMetrics parser (Python's `prometheus_client`,
//! which must be installed: `python3 -m pip install prometheus-client`),
//! and a scraper that hangs or sends garbage, which must not hold the run.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::{load, path_str, result_path, tempdir, ChildGuard, BIN};
use serde_json::Value;

/// Only a hang takes this long.
const HANG: Duration = Duration::from_secs(30);

/// A run with `--metrics-addr 127.0.0.1:0`, its metrics address once printed.
struct Run {
    child: ChildGuard,
    metrics: SocketAddr,
    stderr: JoinHandle<String>,
}

fn start(args: &[&str], out: &std::path::Path) -> Run {
    let mut child = Command::new(BIN)
        .args(args)
        .args(["--metrics-addr", "127.0.0.1:0", "-q", "-o", path_str(out)])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn bench-client");
    let stderr = child.stderr.take().expect("stderr");
    let child = ChildGuard(child);
    let (tx, rx) = mpsc::channel();
    let stderr = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("metrics on http://") {
                let _ = tx.send(url.trim_end_matches("/metrics").to_string());
            }
            all += &line;
            all.push('\n');
        }
        all
    });
    let addr = rx
        .recv_timeout(HANG)
        .expect("bench-client printed `metrics on http://IP:PORT/metrics`");
    let metrics = addr.parse().unwrap_or_else(|e| panic!("{addr:?}: {e}"));
    Run {
        child,
        metrics,
        stderr,
    }
}

impl Run {
    /// Waits for the exit, which must be 0; returns stderr.
    fn finish(mut self) -> String {
        let status = self.child.wait_bounded(HANG);
        let stderr = self.stderr.join().expect("stderr reader");
        assert_eq!(status.code(), Some(0), "stderr: {stderr}");
        stderr
    }
}

/// `GET path` over a fresh connection: (status line, headers, body).
fn get(addr: SocketAddr, path: &str) -> (String, String, String) {
    let mut s = TcpStream::connect_timeout(&addr, HANG).expect("connect to the metrics port");
    s.set_read_timeout(Some(HANG)).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).expect("the whole answer");
    let (head, body) = reply.split_once("\r\n\r\n").expect("a head and a body");
    let (status, headers) = head.split_once("\r\n").unwrap_or((head, ""));
    (status.to_string(), headers.to_string(), body.to_string())
}

/// One family as the parser gives it.
#[derive(Debug)]
struct Family {
    kind: String,
    /// (sample name, labels, value).
    samples: Vec<(String, BTreeMap<String, String>, f64)>,
}

impl Family {
    fn value(&self, name: &str) -> f64 {
        self.samples
            .iter()
            .find(|(n, _, _)| n == name)
            .unwrap_or_else(|| panic!("no {name} in {self:?}"))
            .2
    }

    fn sum(&self, name: &str) -> f64 {
        self.samples
            .iter()
            .filter(|(n, _, _)| n == name)
            .map(|s| s.2)
            .sum()
    }
}

/// `text` parsed by `prometheus_client`'s OpenMetrics parser, which
/// rejects anything the format does not allow.
fn parse(text: &str) -> BTreeMap<String, Family> {
    const SCRIPT: &str = r#"
import json, sys
try:
    from prometheus_client.openmetrics.parser import text_string_to_metric_families
except ImportError:
    sys.exit(3)
out = {}
for f in text_string_to_metric_families(sys.stdin.read()):
    out[f.name] = {"type": f.type, "samples": [[s.name, s.labels, s.value] for s in f.samples]}
print(json.dumps(out))
"#;
    let mut child = Command::new("python3")
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs (the metrics test needs it, with: python3 -m pip install prometheus-client)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_ne!(
        out.status.code(),
        Some(3),
        "Python's prometheus_client is missing; install it: python3 -m pip install prometheus-client"
    );
    assert!(
        out.status.success(),
        "the OpenMetrics parser refused the text: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: BTreeMap<String, Value> = serde_json::from_slice(&out.stdout).unwrap();
    json.into_iter()
        .map(|(name, f)| {
            let samples = f["samples"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| {
                    (
                        s[0].as_str().unwrap().to_string(),
                        serde_json::from_value(s[1].clone()).unwrap(),
                        s[2].as_f64().unwrap(),
                    )
                })
                .collect();
            let kind = f["type"].as_str().unwrap().to_string();
            (name, Family { kind, samples })
        })
        .collect()
}

/// Scrapes until some request has been answered (the run is under way),
/// and parses that scrape.
fn scrape_under_way(run: &Run) -> (String, BTreeMap<String, Family>) {
    let deadline = Instant::now() + HANG;
    loop {
        let (status, headers, body) = get(run.metrics, "/metrics");
        assert_eq!(status, "HTTP/1.1 200 OK");
        assert!(
            headers.contains(
                "Content-Type: application/openmetrics-text; version=1.0.0; charset=utf-8"
            ),
            "{headers}"
        );
        let families = parse(&body);
        if families["bench_requests"].value("bench_requests_total") > 0.0 {
            return (body, families);
        }
        assert!(
            Instant::now() < deadline,
            "no request answered yet:\n{body}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// What every scrape must show.
fn check_families(f: &BTreeMap<String, Family>) {
    for (name, kind) in [
        ("bench_requests", "counter"),
        ("bench_errors", "counter"),
        ("bench_in_flight", "gauge"),
        ("bench_rate_achieved", "gauge"),
        ("bench_latency_seconds", "histogram"),
    ] {
        let family = f.get(name).unwrap_or_else(|| panic!("no {name} in {f:?}"));
        assert_eq!(family.kind, kind, "{name}");
    }
    let kinds: Vec<&str> = f["bench_errors"]
        .samples
        .iter()
        .map(|(_, l, _)| l["kind"].as_str())
        .collect();
    assert!(
        kinds.contains(&"timeout") && kinds.contains(&"reset"),
        "{kinds:?}"
    );
    let requests = f["bench_requests"].value("bench_requests_total");
    let errors = f["bench_errors"].sum("bench_errors_total");
    let latency = &f["bench_latency_seconds"];
    let count = latency.value("bench_latency_seconds_count");
    assert!(
        count <= requests + errors,
        "{count} latencies but {requests} requests and {errors} errors"
    );
    let buckets: Vec<f64> = latency
        .samples
        .iter()
        .filter(|(n, _, _)| n == "bench_latency_seconds_bucket")
        .map(|s| s.2)
        .collect();
    assert_eq!(buckets.len(), 17);
    assert_eq!(buckets.last(), Some(&count));
    assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{buckets:?}");
}

#[test]
fn a_closed_loop_run_is_scraped_while_it_goes() {
    let dir = tempdir();
    let out = result_path(dir.path(), "r.json");
    let run = start(
        &["--server", "selector", "-d", "3s", "-c", "4", "-t", "1"],
        &out,
    );
    let (_, f) = scrape_under_way(&run);
    check_families(&f);
    assert!(
        !f.contains_key("bench_rate_target"),
        "a closed loop has no target rate"
    );
    for family in f.values() {
        for (name, labels, _) in &family.samples {
            assert!(
                !labels.contains_key("shard") && !labels.contains_key("run_id"),
                "a run on its own has no shard labels: {name} {labels:?}"
            );
        }
    }
    let scraped = f["bench_requests"].value("bench_requests_total");
    let (status, _, _) = get(run.metrics, "/");
    assert!(status.starts_with("HTTP/1.1 404 "), "{status}");
    run.finish();
    let result = load(&out);
    assert!(result.summary.requests as f64 >= scraped);
}

#[test]
fn an_http2_open_loop_reports_its_target_rate() {
    let (_server, addr) = common::serve("h2");
    let dir = tempdir();
    let out = result_path(dir.path(), "r.json");
    let url = format!("http://{addr}/");
    let run = start(
        &[
            &url, "--http2", "-R", "200", "-d", "3s", "-c", "4", "-t", "1",
        ],
        &out,
    );
    let (_, f) = scrape_under_way(&run);
    check_families(&f);
    assert_eq!(
        f["bench_rate_target"].value("bench_rate_target"),
        200.0,
        "{f:?}"
    );
    run.finish();
    assert!(load(&out).summary.requests > 0);
}

#[test]
fn a_silent_or_garbled_scraper_cannot_hold_the_run() {
    let dir = tempdir();
    let out = result_path(dir.path(), "r.json");
    let run = start(
        &["--server", "selector", "-d", "2s", "-c", "2", "-t", "1"],
        &out,
    );
    // Connects and sends nothing, and never closes.
    let mut silent = TcpStream::connect(run.metrics).unwrap();
    let mut garbage = TcpStream::connect(run.metrics).unwrap();
    garbage.write_all(b"\x00\x01\x02 not http\r\n\r\n").unwrap();
    // A real scrape behind them is still answered.
    let (_, f) = scrape_under_way(&run);
    check_families(&f);
    // The silent one was let go (EOF, not our timeout), the garbage refused.
    silent.set_read_timeout(Some(HANG)).unwrap();
    let mut nothing = Vec::new();
    silent
        .read_to_end(&mut nothing)
        .expect("the metrics thread closes a silent scraper");
    assert!(nothing.is_empty());
    garbage.set_read_timeout(Some(HANG)).unwrap();
    let mut refused = String::new();
    garbage.read_to_string(&mut refused).unwrap();
    assert!(refused.starts_with("HTTP/1.1 400 "), "{refused:?}");
    // One more that stays silent to the end: the run still ends and saves.
    let _held = TcpStream::connect(run.metrics).unwrap();
    run.finish();
    assert!(load(&out).summary.requests > 0);
}

#[test]
fn an_address_that_cannot_be_bound_names_the_flag() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = tempdir();
    let run = common::run_client(
        &[
            "--server",
            "selector",
            "-n",
            "10",
            "--metrics-addr",
            &addr,
            "--no-save",
        ],
        dir.path(),
        HANG,
    );
    assert_eq!(run.code(), 2, "stderr: {}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("error: cannot listen on --metrics-addr {addr}: ")),
        "{}",
        run.stderr
    );
}
