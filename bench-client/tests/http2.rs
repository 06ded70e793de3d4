//! HTTP/2 on real sockets, against the HTTP/2 test target (`bench-client
//! serve h2`), told to misbehave where a test needs it. The server's totals
//! are the oracle: it counts a response once its END_STREAM is handed on,
//! and never counts a stream it refused or reset.

mod common;

use std::time::Duration;

use bench_client::report::diagnosis::WarningKind;
use bench_client::result::RunResult;
use common::*;

const LIMIT: Duration = Duration::from_secs(60);

/// The HTTP/2 test target, told to misbehave by `args`.
fn h2_server(args: &[&str]) -> CountedServer {
    CountedServer::start("h2", args)
}

fn errors(r: &RunResult, kind: &str) -> u64 {
    r.summary.errors_by_kind.get(kind).copied().unwrap_or(0)
}

#[test]
fn many_streams_count_exactly_what_the_server_answered() {
    let (r, _) = run_saved(
        &[
            "--server",
            "h2",
            "--http2",
            "--streams",
            "50",
            "-c",
            "4",
            "-t",
            "2",
            "-n",
            "5000",
        ],
        LIMIT,
    );
    let totals = r
        .target
        .server
        .as_ref()
        .and_then(|s| s.totals.clone())
        .expect("totals");
    assert_eq!(r.summary.requests, 5000, "{:?}", r.summary.errors_by_cause);
    assert_eq!(r.summary.errors, 0);
    assert_eq!(totals.requests, 5000);
    assert_eq!(r.config.protocol.as_deref(), Some("h2c"));
    assert_eq!(r.config.streams, Some(50));
    let h2 = r.http2.expect("http2 block");
    assert_eq!(h2.streams_in_flight, 50);
    assert!(!h2.fell_back);
    let phases = r.phases.expect("phases");
    assert_eq!(phases.ttfb.count, 5000, "ttfb per stream");
    assert_eq!(phases.connect.count, 4, "one connect per connection");
    // The reachability check's connection, the HTTP/2 probe's, the run's four.
    assert_eq!(totals.connections, 6);
}

#[test]
fn one_mebibyte_bodies_flow_both_ways() {
    let server = h2_server(&[]);
    let (up, _) = run_saved(
        &[
            "--http2",
            "--streams",
            "4",
            "-c",
            "2",
            "-n",
            "24",
            "--payload",
            "1m",
            &server.url("/echo"),
        ],
        LIMIT,
    );
    assert_eq!(up.summary.requests, 24, "{:?}", up.summary.errors_by_cause);
    assert_eq!(
        up.summary.bytes_received,
        24 << 20,
        "each body echoed whole"
    );
    let (down, _) = run_saved(
        &[
            "--http2",
            "--streams",
            "4",
            "-c",
            "2",
            "-n",
            "24",
            &server.url("/bytes/1048576"),
        ],
        LIMIT,
    );
    assert_eq!(
        down.summary.requests, 24,
        "{:?}",
        down.summary.errors_by_cause
    );
    assert_eq!(down.summary.bytes_received, 24 << 20);
    let h2 = down.http2.expect("http2 block");
    assert!(
        h2.stream_window >= 1 << 20,
        "a 1 MiB body is not throttled: {h2:?}"
    );
    let totals = server.totals();
    assert_eq!(totals.requests, 48);
    assert_eq!(totals.body_bytes, 24 << 20);
}

#[test]
fn the_servers_stream_limit_caps_streams_and_loses_nothing() {
    let server = h2_server(&["--max-concurrent-streams", "1"]);
    let (r, _) = run_saved(
        &[
            "--http2",
            "--streams",
            "10",
            "-c",
            "2",
            "-n",
            "500",
            &server.url("/"),
        ],
        LIMIT,
    );
    assert_eq!(r.summary.requests, 500, "{:?}", r.summary.errors_by_cause);
    assert_eq!(r.summary.errors, 0);
    let h2 = r.http2.expect("http2 block");
    assert_eq!(h2.server_max_streams, Some(1));
    assert_eq!(h2.streams_in_flight, 1);
    // Streams sent before the server's SETTINGS arrived are refused
    // (REFUSED_STREAM) and sent again: at most the 9 beyond the limit on
    // each of the 2 connections, each once.
    assert!(h2.resent <= 18, "{h2:?}");
    assert_eq!(server.totals().requests, 500);
}

#[test]
fn a_goaway_mid_run_loses_nothing_and_counts_nothing_twice() {
    let server = h2_server(&["--goaway-after", "7"]);
    let (r, _) = run_saved(
        &[
            "--http2",
            "--streams",
            "10",
            "-c",
            "2",
            "-n",
            "1000",
            &server.url("/"),
        ],
        LIMIT,
    );
    assert_eq!(r.summary.requests, 1000, "{:?}", r.summary.errors_by_cause);
    assert_eq!(r.summary.errors, 0, "{:?}", r.summary.errors_by_cause);
    let h2 = r.http2.expect("http2 block");
    // A connection takes its 7 streams, and the streams in flight (at most
    // 10) until the GOAWAY naming its last stream arrives.
    assert!(h2.goaways >= 1000 / 17, "{h2:?}");
    let totals = server.totals();
    assert_eq!(totals.requests, 1000, "a refused stream was not answered");
    assert!(totals.connections > h2.goaways, "{totals:?} {h2:?}");
}

#[test]
fn a_stream_reset_by_the_server_is_counted_as_such() {
    let server = h2_server(&["--reset-path", "/reset"]);
    let (r, _) = run_saved_with_status(
        &[
            "--http2",
            "--streams",
            "5",
            "-c",
            "1",
            "-n",
            "50",
            &server.url("/reset"),
        ],
        LIMIT,
        1,
    );
    assert_eq!(r.summary.requests, 0);
    assert_eq!(
        errors(&r, "stream_reset"),
        50,
        "{:?}",
        r.summary.errors_by_cause
    );
    assert_eq!(
        r.summary
            .errors_by_cause
            .get("stream_reset:INTERNAL_ERROR")
            .copied(),
        Some(50),
        "{:?}",
        r.summary.errors_by_cause
    );
    assert_eq!(server.totals().requests, 0);
}

#[test]
fn a_stream_past_its_timeout_is_reset_and_counted() {
    let server = h2_server(&[]);
    let (r, _) = run_saved_with_status(
        &[
            "--http2",
            "--streams",
            "4",
            "-c",
            "1",
            "-n",
            "4",
            "--timeout",
            "200ms",
            &server.url("/delay/5000"),
        ],
        LIMIT,
        1,
    );
    assert_eq!(errors(&r, "timeout"), 4, "{:?}", r.summary.errors_by_cause);
    assert_eq!(
        server.totals().requests,
        0,
        "the server saw the streams cancelled"
    );
}

#[test]
fn a_server_that_speaks_only_http1_gets_one_clear_message() {
    let dir = tempdir();
    let run = run_client(
        &[
            "--server",
            "selector",
            "--http2",
            "-n",
            "10",
            "-q",
            "--no-save",
        ],
        dir.path(),
        LIMIT,
    );
    assert_eq!(run.code(), 1, "stderr: {}", run.stderr);
    assert!(
        run.stderr
            .contains("the server answered in HTTP/1.1; drop --http2 or use --http2=auto"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("invalid_response"), "{}", run.stderr);
    let (r, _) = run_saved(
        &[
            "--server",
            "selector",
            "--http2=auto",
            "-n",
            "100",
            "http://127.0.0.1/",
        ],
        LIMIT,
    );
    assert_eq!(r.summary.requests, 100);
    assert_eq!(r.config.protocol.as_deref(), Some("http/1.1"));
    let h2 = r.http2.expect("http2 block");
    assert!(h2.fell_back);
    assert_eq!(h2.requested, "auto");
    // The server also answered the probe's HTTP/2 preface (with a 400),
    // which the count check knows.
    let totals = r
        .target
        .server
        .as_ref()
        .and_then(|s| s.totals.clone())
        .expect("totals");
    assert_eq!(totals.requests, 101);
    assert!(
        !r.warnings
            .iter()
            .any(|w| matches!(w.kind, WarningKind::ServerCountMismatch { .. })),
        "{:?}",
        r.warnings
    );
}

#[test]
fn h2_over_tls_is_negotiated_by_alpn_and_counts_exactly() {
    let (r, _) = run_saved(
        &[
            "--server",
            "h2",
            "--tls",
            "--http2",
            "--streams",
            "8",
            "-c",
            "3",
            "-n",
            "2000",
        ],
        LIMIT,
    );
    assert_eq!(r.summary.requests, 2000, "{:?}", r.summary.errors_by_cause);
    assert_eq!(r.config.protocol.as_deref(), Some("h2"));
    let totals = r
        .target
        .server
        .as_ref()
        .and_then(|s| s.totals.clone())
        .expect("totals");
    assert_eq!(totals.requests, 2000);
    let tls = r.tls.expect("tls block");
    assert_eq!(
        tls.handshakes_full + tls.handshakes_resumed,
        3,
        "one per connection"
    );
    assert_eq!(
        r.phases
            .expect("phases")
            .tls_handshake
            .expect("tls phase")
            .count,
        3
    );
}

#[test]
fn an_https_server_without_h2_is_refused_clearly() {
    let dir = tempdir();
    let run = run_client(
        &[
            "--server",
            "selector",
            "--tls",
            "--http2",
            "-n",
            "10",
            "-q",
            "--no-save",
        ],
        dir.path(),
        LIMIT,
    );
    assert_eq!(run.code(), 1, "stderr: {}", run.stderr);
    assert!(
        run.stderr.contains("drop --http2 or use --http2=auto"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_open_loop_over_http2_counts_what_the_server_answered() {
    let (r, _) = run_saved(
        &[
            "--server",
            "h2",
            "--http2",
            "--streams",
            "4",
            "-c",
            "4",
            "-R",
            "1000",
            "-d",
            "2s",
        ],
        LIMIT,
    );
    let totals = r
        .target
        .server
        .as_ref()
        .and_then(|s| s.totals.clone())
        .expect("totals");
    assert_eq!(r.summary.errors, 0, "{:?}", r.summary.errors_by_cause);
    assert_eq!(r.summary.requests, totals.requests);
    // 1,000/s for 2 s, every request sent in the window waited for.
    assert!(
        r.summary.requests >= 1900 && r.summary.requests <= 2001,
        "{}",
        r.summary.requests
    );
    assert!(
        r.latency_uncorrected.is_some(),
        "an open loop keeps both latencies"
    );
}

#[test]
fn a_connection_per_request_carries_one_stream() {
    let (r, _) = run_saved(
        &[
            "--server",
            "h2",
            "--http2",
            "--connection-per-request",
            "-c",
            "2",
            "-n",
            "40",
        ],
        LIMIT,
    );
    assert_eq!(r.summary.requests, 40, "{:?}", r.summary.errors_by_cause);
    let totals = r
        .target
        .server
        .as_ref()
        .and_then(|s| s.totals.clone())
        .expect("totals");
    assert_eq!(totals.requests, 40);
    assert_eq!(
        totals.connections, 42,
        "the reachability check's and the probe's, then one per request"
    );
    assert_eq!(r.phases.expect("phases").connect.count, 40);
}

/// A peer that answers HTTP/2's preface with bytes that are neither HTTP/2
/// nor HTTP/1.1, or that never says a word (a listener that never
/// accepts): every request fails and is counted, and the run ends within
/// its deadlines.
#[test]
fn a_hostile_peer_is_counted_and_cannot_hold_the_run() {
    let garbage = FaultServer::start(Fault::Garbage);
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let silent_url = format!("http://{}/", silent.local_addr().expect("addr"));
    for (what, url, kind) in [
        ("garbage", garbage.url(), "http2"),
        ("silent", silent_url, "timeout"),
    ] {
        let (r, run) = run_saved_with_status(
            &[
                "--http2",
                "--streams",
                "4",
                "-c",
                "2",
                "-d",
                "1s",
                "--timeout",
                "300ms",
                &url,
            ],
            LIMIT,
            1,
        );
        assert!(
            run.elapsed < Duration::from_secs(20),
            "{what}: {:?}",
            run.elapsed
        );
        assert_eq!(r.summary.requests, 0, "{what}");
        assert!(
            errors(&r, kind) > 0,
            "{what}: {:?}",
            r.summary.errors_by_cause
        );
    }
}

/// A server that answers the preface as HTTP/1.1 (a head, then silence) is
/// told apart by the probe: one clear message, no run.
#[test]
fn an_http1_answer_to_the_preface_is_named() {
    let server = FaultServer::start(Fault::StallAfterHeaders);
    let dir = tempdir();
    let run = run_client(
        &["--http2", "-n", "5", "--no-save", &server.url()],
        dir.path(),
        LIMIT,
    );
    assert_eq!(run.code(), 1, "stderr: {}", run.stderr);
    assert!(
        run.stderr.contains("the server answered in HTTP/1.1"),
        "{}",
        run.stderr
    );
}

/// A targets file and closed-loop stages over HTTP/2 go through the same
/// picker and pacing as over HTTP/1.1: round-robin shares are exact, and
/// each stage gets its line.
#[test]
fn targets_and_stages_carry_over_to_http2() {
    let server = h2_server(&[]);
    let dir = tempdir();
    let file = dir.path().join("t.txt");
    std::fs::write(
        &file,
        format!(
            "GET {}\n# weight: 3\n\nPOST {}\n",
            server.url("/"),
            server.url("/echo")
        ),
    )
    .expect("write the targets file");
    let (r, _) = run_saved(
        &[
            "--http2",
            "--streams",
            "4",
            "--targets",
            path_str(&file),
            "--targets-order",
            "round-robin",
            "-n",
            "400",
            "-c",
            "1",
        ],
        LIMIT,
    );
    let shares: Vec<u64> = r.targets.iter().map(|t| t.requests).collect();
    assert_eq!(shares, [300, 100], "{:?}", r.summary.errors_by_cause);
    let (staged, _) = run_saved(
        &[
            "--http2",
            "--streams",
            "2",
            "--stage",
            "1s:4",
            "--stage",
            "1s:1",
            &server.url("/"),
        ],
        LIMIT,
    );
    assert_eq!(staged.stages.len(), 2);
    assert!(
        staged.stages.iter().all(|s| s.requests > 0),
        "{:?}",
        staged.stages
    );
    assert_eq!(
        staged.summary.errors, 0,
        "{:?}",
        staged.summary.errors_by_cause
    );
    // A closed loop drops what is in flight when its time is up (as over
    // HTTP/1.1): the server answered those too, at most 4 connections x 2
    // streams of them.
    let answered = server.totals().requests - 400;
    let counted = staged.summary.requests;
    assert!(
        (counted..=counted + 8).contains(&answered),
        "server {answered}, client {counted}"
    );
}
