//! `--targets FILE` end to end: the real binary against real selector
//! servers. The servers count requests in total only, so per-target shares
//! are checked against the weights (binomially for a seeded random order,
//! exactly for round-robin) and per-host sums against each server's own
//! totals, exactly.

mod common;

use std::path::Path;
use std::time::Duration;

use bench_client::result::RunResult;
use common::*;

const LIMIT: Duration = Duration::from_secs(60);

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    path_str(&p).to_string()
}

fn requests_of(r: &RunResult) -> Vec<u64> {
    r.targets.iter().map(|t| t.requests).collect()
}

/// Three targets weighted 1:2:7, a seeded random order over 2,000
/// requests: each target's share is within 4 sigma of its weight's, and
/// the same seed gives the same counts again.
#[test]
fn random_order_follows_the_weights() {
    let (_s, addr) = serve("selector");
    let dir = tempdir();
    let file = write(
        dir.path(),
        "t.txt",
        &format!(
            "GET http://{addr}/\n# weight: 1\n\nGET http://{addr}/?b\n# weight: 2\n\n\
             GET http://{addr}/?c\n# weight: 7\n"
        ),
    );
    let args = [
        "--targets",
        &file,
        "-n",
        "2000",
        "-c",
        "4",
        "-t",
        "2",
        "--seed",
        "42",
    ];
    let (r, _) = run_saved(&args, LIMIT);
    assert_eq!(r.summary.errors, 0, "{:?}", r.summary.errors_by_kind);
    let counts = requests_of(&r);
    assert_eq!(counts.iter().sum::<u64>(), 2000);
    for (n, w) in counts.iter().zip([1.0f64, 2.0, 7.0]) {
        let p = w / 10.0;
        let (mean, sigma) = (2000.0 * p, (2000.0 * p * (1.0 - p)).sqrt());
        assert!(
            (*n as f64 - mean).abs() <= 4.0 * sigma,
            "{counts:?}: {n} is not within 4 sigma of {mean}"
        );
    }
    assert_eq!(r.config.targets_order.as_deref(), Some("random"));
    assert_eq!(r.config.seed, Some(42));
    let keys: Vec<&str> = r.targets.iter().map(|t| t.key.as_str()).collect();
    assert_eq!(keys[0], format!("GET http://{addr}/"), "file order");
    assert_eq!(r.targets[2].weight, 7);
    // Per target, as in the totals: statuses and latency counts add up.
    for t in &r.targets {
        assert_eq!(t.status_codes.get("200"), Some(&t.requests));
        let h = bench_client::hdr::decode(&t.latency.hdr).unwrap();
        assert_eq!(h.len(), t.requests);
    }
}

/// Round-robin with one connection: every cycle of the weights is walked
/// in full, so 10 cycles of 1:2:7 are exactly 10, 20 and 70 requests.
#[test]
fn round_robin_gives_exact_shares() {
    let (_s, addr) = serve("selector");
    let dir = tempdir();
    let file = write(
        dir.path(),
        "t.txt",
        &format!(
            "GET http://{addr}/\n\nGET http://{addr}/?b\n# weight: 2\n\n\
             GET http://{addr}/?c\n# weight: 7\n"
        ),
    );
    let args = [
        "--targets",
        &file,
        "--targets-order",
        "round-robin",
        "-n",
        "100",
        "-c",
        "1",
    ];
    let (r, _) = run_saved(&args, LIMIT);
    assert_eq!(requests_of(&r), [10, 20, 70]);
    assert_eq!(r.config.targets_order.as_deref(), Some("round-robin"));
    assert_eq!(r.config.seed, None, "round-robin takes no seed");
}

/// Two hosts in one file: connections are shared out by weight (3:1 of
/// 4), and each server's own count equals the client's sum over its
/// targets, exactly.
#[test]
fn two_hosts_each_get_their_share() {
    let a = CountedServer::start("selector", &[]);
    let b = CountedServer::start("selector", &[]);
    let (aa, ba) = (a.addr, b.addr);
    let dir = tempdir();
    let file = write(
        dir.path(),
        "t.txt",
        &format!("GET http://{aa}/\n# weight: 2\n\nGET http://{ba}/\n\nGET http://{aa}/?x\n\n"),
    );
    let (r, _) = run_saved(&["--targets", &file, "-n", "1000", "-c", "4"], LIMIT);
    assert_eq!(r.summary.errors, 0, "{:?}", r.summary.errors_by_kind);
    let counts = requests_of(&r);
    assert_eq!(counts.iter().sum::<u64>(), 1000);
    assert!(counts.iter().all(|&n| n > 0), "{counts:?}");
    // Each server also got the start-up probe's connection, no request.
    let (ta, tb) = (a.totals(), b.totals());
    assert_eq!(ta.requests, counts[0] + counts[2]);
    assert_eq!(tb.requests, counts[1]);
    assert_eq!(
        (ta.connections, tb.connections),
        (3 + 1, 1 + 1),
        "3 of 4 connections for the host of weight 3, 1 for the other"
    );
}

/// `@body` is read from the targets file's folder and sent: the server
/// counts its bytes; a file header overrides a `-H` of the same name
/// (`Connection: close`, which the server shows by its connection count).
#[test]
fn bodies_are_sent_and_file_headers_win() {
    let s = CountedServer::start("selector", &[]);
    let addr = s.addr;
    let dir = tempdir();
    std::fs::create_dir(dir.path().join("bodies")).unwrap();
    std::fs::write(dir.path().join("bodies/b.json"), b"{\"hello\":1}").unwrap();
    let file = write(
        dir.path(),
        "t.txt",
        &format!("POST http://{addr}/echo\nConnection: close\n@bodies/b.json\n"),
    );
    let (r, _) = run_saved(
        &[
            "--targets",
            &file,
            "-n",
            "20",
            "-c",
            "1",
            "-H",
            "Connection: keep-alive",
        ],
        LIMIT,
    );
    assert_eq!(r.summary.errors, 0, "{:?}", r.summary.errors_by_kind);
    assert_eq!(r.targets[0].status_codes.get("200"), Some(&20));
    let t = s.totals();
    assert_eq!(t.requests, 20);
    assert_eq!(
        t.body_bytes,
        20 * 11,
        "every request carried the 11-byte body"
    );
    assert_eq!(t.connections, 20 + 1, "one per request, and the probe");
}

/// `--payload` is the body of targets with none of their own.
#[test]
fn payload_is_the_default_body() {
    let s = CountedServer::start("selector", &[]);
    let addr = s.addr;
    let dir = tempdir();
    let file = write(
        dir.path(),
        "t.txt",
        &format!("POST http://{addr}/echo\n\nGET http://{addr}/\n"),
    );
    let (r, _) = run_saved(
        &[
            "--targets",
            &file,
            "--targets-order",
            "round-robin",
            "-n",
            "10",
            "-c",
            "1",
            "--payload",
            "100",
        ],
        LIMIT,
    );
    assert_eq!(requests_of(&r), [5, 5]);
    // The GET carries the payload too (as `-m GET --payload` would).
    assert_eq!(s.totals().body_bytes, 10 * 100);
}

/// A bad line is a usage error naming the file and line.
#[test]
fn a_bad_line_exits_2_with_file_and_line() {
    let dir = tempdir();
    let file = write(dir.path(), "t.txt", "GET http://127.0.0.1:1/\nX-A value\n");
    let run = run_client(&["--targets", &file, "-n", "1"], dir.path(), LIMIT);
    assert_eq!(run.code(), 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("{file}:2: ")),
        "{}",
        run.stderr
    );
    let missing = write(dir.path(), "m.txt", "POST http://127.0.0.1:1/\n@nope.bin\n");
    let run = run_client(&["--targets", &missing, "-n", "1"], dir.path(), LIMIT);
    assert_eq!(run.code(), 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("{missing}:1: ")),
        "{}",
        run.stderr
    );
}

/// `--targets` and a URL argument: which one is meant is unclear.
#[test]
fn targets_and_a_url_are_a_usage_error() {
    let dir = tempdir();
    let file = write(dir.path(), "t.txt", "GET http://127.0.0.1:1/\n");
    let run = run_client(
        &["--targets", &file, "http://127.0.0.1:1/x"],
        dir.path(),
        LIMIT,
    );
    assert_eq!(run.code(), 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("--targets") && run.stderr.contains("http://127.0.0.1:1/x"),
        "{}",
        run.stderr
    );
}
