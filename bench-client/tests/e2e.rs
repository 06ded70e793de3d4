//! End-to-end tests of the `bench-client` binary: real reference servers
//! (spawned through `--server` or `serve`), real sockets on loopback, exact
//! exit codes and error messages, and faults that must be counted, not
//! crashed on. Every wait is bounded; nothing is written outside a tempdir.

mod common;

use std::time::{Duration, Instant};

use bench_client::hdr;
use common::*;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use reference_servers::wire::units::{DURATION_FORMS, SIZE_FORMS};

const LIMIT: Duration = Duration::from_secs(60);

/// Runs `-n` against `--server MODEL` and checks the client's count against
/// the server's own totals, and the saved histogram against the summary.
fn exact_count_against(model: &str, clients: &str, conns: &str) {
    let (r, run) = run_saved(
        &[
            "--server",
            model,
            "-n",
            "1500",
            "--max-clients",
            clients,
            "--max-conns",
            conns,
        ],
        LIMIT,
    );
    let totals = r
        .target
        .server
        .as_ref()
        .and_then(|s| s.totals.clone())
        .expect("server totals stored");
    assert_eq!(r.summary.errors, 0, "{:?}", r.summary.errors_by_kind);
    assert_eq!(r.summary.requests, 1500);
    assert_eq!(
        totals.requests, r.summary.requests,
        "client and server disagree"
    );
    assert_eq!(r.summary.status_codes.get("200"), Some(&1500));
    let clients: u64 = r.clients.iter().map(|c| c.requests).sum();
    assert_eq!(clients, 1500);
    assert_eq!(r.timeline.iter().map(|t| t.requests).sum::<u64>(), 1500);

    let h = hdr::decode(&r.latency.hdr).expect("hdr decodes");
    assert_eq!(h.len(), r.summary.requests);
    assert_eq!(
        hdr::percentile(&h, hdr::Percentile::P99),
        r.latency.percentiles["99"]
    );
    assert!(run.stdout.contains("Requests/sec"), "{}", run.stdout);
}

#[test]
fn n_run_matches_selector_totals_exactly() {
    exact_count_against("selector", "2", "4");
}

#[test]
fn n_run_matches_fork_totals_exactly() {
    exact_count_against("fork", "2", "2");
}

#[test]
fn n_run_matches_sync_totals_exactly() {
    // sync serves one connection at a time: one keep-alive connection at a time.
    exact_count_against("sync", "1", "1");
}

#[test]
fn payload_64k_is_posted_whole() {
    let (r, _) = run_saved(
        &[
            "http://127.0.0.1:1/echo",
            "--server",
            "selector",
            "--payload",
            "64k",
            "-n",
            "200",
            "--max-conns",
            "4",
        ],
        LIMIT,
    );
    assert_eq!(r.config.method, "POST");
    assert_eq!(r.config.payload_bytes, 65_536);
    assert!(
        r.target.url.ends_with("/echo"),
        "path kept: {}",
        r.target.url
    );
    assert_eq!(r.summary.requests, 200);
    assert_eq!(r.summary.errors, 0);
    let totals = r.target.server.unwrap().totals.expect("totals");
    assert_eq!(
        totals.body_bytes,
        200 * 65_536,
        "the server received every body byte"
    );
    assert!(r.summary.bytes_sent > 200 * 65_536);
    assert!(
        r.summary.bytes_received > 200 * 65_536,
        "echo sends the bodies back"
    );
}

#[test]
fn connection_per_request_against_sync() {
    let (r, _) = run_saved(
        &[
            "--server",
            "sync",
            "--connection-per-request",
            "-n",
            "300",
            "--max-conns",
            "3",
        ],
        LIMIT,
    );
    assert!(r.config.connection_per_request);
    assert_eq!(r.summary.requests, 300);
    assert_eq!(r.summary.errors, 0);
    let totals = r.target.server.unwrap().totals.expect("totals");
    assert_eq!(totals.requests, 300);
    // One connection per request, plus the client's reachability check.
    assert_eq!(totals.connections, 301);
}

#[test]
fn duration_run_against_a_serve_child_saves_under_results_dir() {
    let (_server, addr) = serve("selector");
    let dir = tempdir();
    let url = format!("http://{addr}/");
    let run = run_client(
        &[
            &url,
            "-d",
            "1s",
            "--warmup",
            "200ms",
            "--max-clients",
            "3",
            "--max-conns",
            "2",
            "--label",
            "e2e",
        ],
        dir.path(),
        LIMIT,
    );
    assert_eq!(run.code(), 0, "stderr: {}", run.stderr);
    let saved: Vec<_> = std::fs::read_dir(dir.path().join("results"))
        .expect("results/ created in the working directory")
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(saved.len(), 1, "{saved:?}");
    let name = saved[0].file_name().unwrap().to_str().unwrap().to_string();
    assert!(name.ends_with("-e2e.json"), "{name}");
    assert!(run.stdout.contains(&name), "path printed: {}", run.stdout);
    let r = load(&saved[0]);
    assert_eq!(r.summary.duration_s, 1.0);
    assert!(r.summary.requests > 0);
    assert_eq!(r.clients.len(), 3);
    assert!(r.fairness.jain > 0.0 && r.fairness.jain <= 1.0);
    assert_eq!(r.timeline.len(), 1);
    assert_eq!(r.config.warmup_s, 0.2);
    assert!(!r.interrupted);
}

/// (arguments, exit code, exact stderr)
fn bad_input_cases(port: u16) -> Vec<(Vec<String>, i32, String)> {
    let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    vec![
        (
            s(&["--payload", "64x"]),
            2,
            format!("error: invalid value '64x' for --payload: expected {SIZE_FORMS}\n"),
        ),
        (
            s(&["-d", "10q"]),
            2,
            format!("error: invalid value '10q' for --duration: expected {DURATION_FORMS}\n"),
        ),
        (
            s(&["--timeout", "0s"]),
            2,
            "error: invalid value '0s' for --timeout: expected a duration above zero, such as 10s, 500ms or 2m\n".into(),
        ),
        (
            s(&["--cacert", "/nonexistent/ca.pem", "https://127.0.0.1:8443/"]),
            2,
            "error: invalid value '/nonexistent/ca.pem' for --cacert: cannot read it: No such file or directory (os error 2)\n".into(),
        ),
        (
            s(&["--cacert", "/dev/null", "https://127.0.0.1:8443/"]),
            2,
            "error: invalid value '/dev/null' for --cacert: expected a PEM file with at least one certificate (-----BEGIN CERTIFICATE-----)\n".into(),
        ),
        (
            s(&["--cert", "c.pem", "https://127.0.0.1:8443/"]),
            2,
            "error: invalid value 'c.pem' for --cert: expected a client certificate together with its --key FILE\n".into(),
        ),
        (
            s(&["--resolve", "example.com:443", "https://example.com/"]),
            2,
            "error: invalid value 'example.com:443' for --resolve: expected HOST:PORT:ADDR with the URL's host and port and an IP address, e.g. example.com:443:127.0.0.1\n".into(),
        ),
        (
            s(&["--tls-version", "1.1", "https://127.0.0.1:8443/"]),
            2,
            "error: invalid value '1.1' for --tls-version: expected 1.2 or 1.3\n".into(),
        ),
        (
            vec![format!("http://127.0.0.1:{port}/"), "-d".into(), "1s".into()],
            1,
            format!(
                "error: cannot connect to 127.0.0.1:{port}: connection refused (start a server, or pass --server selector)\n"
            ),
        ),
    ]
}

#[test]
fn bad_input_exits_with_one_clear_line() {
    let dir = tempdir();
    for (args, code, stderr) in bad_input_cases(closed_port()) {
        let mut argv: Vec<&str> = args.iter().map(String::as_str).collect();
        argv.push("--no-save");
        let run = run_client(&argv, dir.path(), LIMIT);
        assert_eq!(run.code(), code, "{args:?}: {}", run.stderr);
        assert_eq!(run.stderr, stderr, "{args:?}");
        assert_eq!(run.stdout, "", "{args:?}");
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing saved"
    );
}

#[test]
fn too_many_connections_for_the_fd_limit_are_refused_before_starting() {
    let dir = tempdir();
    let port = closed_port();
    let script = format!(
        "ulimit -n 200 && ulimit -Hn 200 && exec \"$0\" http://127.0.0.1:{port}/ --max-clients 50 --max-conns 4 -t 2 --no-save"
    );
    let run = std::process::Command::new("sh")
        .args(["-c", &script, BIN])
        .current_dir(dir.path())
        .output()
        .expect("run sh");
    assert_eq!(run.status.code(), Some(2), "bad usage, not a failed target");
    // Refused before connecting: the closed port would give another message.
    assert_eq!(
        String::from_utf8_lossy(&run.stderr),
        "error: 200 connections (--max-clients 50 x --max-conns 4) need about 270 file descriptors, \
         but the hard limit (RLIMIT_NOFILE) is 200, which fits at most 130 connections; raise it \
         (e.g. `ulimit -Hn 270; ulimit -n 270` as root, or in /etc/security/limits.conf) or use fewer connections\n"
    );
}

#[test]
fn bad_flags_are_clap_errors_with_status_2() {
    let dir = tempdir();
    let run = run_client(&["--max-clients", "many"], dir.path(), LIMIT);
    assert_eq!(run.code(), 2);
    assert_eq!(
        run.stderr,
        "error: invalid value 'many' for --max-clients: expected a whole number of at least 1\n"
    );
    let run = run_client(&["-d", "1s", "-n", "3"], dir.path(), LIMIT);
    assert_eq!(run.code(), 2);
    assert!(run.stderr.contains("cannot be used with"), "{}", run.stderr);
}

/// Runs 1 s against a misbehaving server and returns the result; `code` is
/// 1 where every request fails (the default check), 0 where some succeed.
fn against_fault(
    fault: Fault,
    timeout: &str,
    code: i32,
) -> (bench_client::result::RunResult, Finished) {
    let server = FaultServer::start(fault);
    let (r, run) = run_saved_with_status(
        &[
            &server.url(),
            "-d",
            "1s",
            "--timeout",
            timeout,
            "--max-conns",
            "2",
        ],
        Duration::from_secs(20),
        code,
    );
    assert!(
        run.elapsed < Duration::from_secs(10),
        "took {:?}",
        run.elapsed
    );
    (r, run)
}

#[test]
fn garbage_responses_are_counted_as_invalid() {
    let (r, _) = against_fault(Fault::Garbage, "1s", 1);
    assert_eq!(r.summary.requests, 0);
    assert!(r.summary.errors > 0);
    assert_eq!(
        r.summary.errors_by_kind.get("invalid_response"),
        Some(&r.summary.errors)
    );
}

#[test]
fn n_counts_failed_attempts_so_a_broken_server_still_ends_the_run() {
    let server = FaultServer::start(Fault::Garbage);
    let (r, _) = run_saved_with_status(
        &[&server.url(), "-n", "25", "--max-conns", "3"],
        Duration::from_secs(20),
        1,
    );
    assert_eq!(r.summary.requests, 0);
    assert_eq!(r.summary.errors, 25);
    assert_eq!(r.summary.errors_by_kind.get("invalid_response"), Some(&25));
}

#[test]
fn stall_after_headers_times_out_with_latency_recorded() {
    let (r, _) = against_fault(Fault::StallAfterHeaders, "300ms", 1);
    assert_eq!(r.summary.requests, 0);
    let timeouts = *r
        .summary
        .errors_by_kind
        .get("timeout")
        .expect("timeouts counted");
    assert!(timeouts >= 2, "{:?}", r.summary.errors_by_kind);
    let h = hdr::decode(&r.latency.hdr).unwrap();
    assert_eq!(
        h.len(),
        timeouts,
        "every timed-out request is in the histogram"
    );
    // Recorded with its elapsed time, which is the timeout give or take the
    // instant the sweep and the first write read the clock (seen: 299,776
    // µs on a loaded machine).
    assert!(
        r.latency.min >= 290_000,
        "recorded with its elapsed time: {}",
        r.latency.min
    );
}

#[test]
fn close_mid_body_is_a_read_error() {
    let (r, _) = against_fault(Fault::CloseMidBody, "1s", 1);
    assert_eq!(r.summary.requests, 0);
    assert!(r.summary.errors > 0);
    assert_eq!(
        r.summary.errors_by_kind.get("read"),
        Some(&r.summary.errors)
    );
    // The cause is kept: the peer closed (EOF) mid-body.
    assert_eq!(
        r.summary.errors_by_cause.get("read:EOF"),
        Some(&r.summary.errors),
        "{:?}",
        r.summary.errors_by_cause
    );
}

#[test]
fn responses_trickling_in_byte_by_byte_are_framed() {
    let (r, _) = against_fault(Fault::Trickle, "5s", 0);
    assert_eq!(r.summary.errors, 0, "{:?}", r.summary.errors_by_kind);
    assert!(r.summary.requests >= 2, "{}", r.summary.requests);
    assert_eq!(r.summary.status_codes.get("200"), Some(&r.summary.requests));
}

#[test]
fn keep_alive_closed_by_the_server_is_retried_not_counted() {
    let server = FaultServer::start(Fault::CloseAfterTwo);
    let (r, run) = run_saved(
        &[&server.url(), "-n", "60", "--max-conns", "3"],
        Duration::from_secs(20),
    );
    assert_eq!(
        r.summary.errors, 0,
        "{:?} {}",
        r.summary.errors_by_kind, run.stderr
    );
    assert_eq!(r.summary.requests, 60);
    assert_eq!(
        server.answered.load(std::sync::atomic::Ordering::SeqCst),
        60,
        "no request sent twice"
    );
}

#[test]
fn server_killed_mid_run_is_counted_and_the_run_ends_on_time() {
    let (mut server, addr) = serve("selector");
    let dir = tempdir();
    let out = result_path(dir.path(), "r.json");
    let url = format!("http://{addr}/");
    let (mut client, stdout, stderr) = spawn_client(
        &[
            &url,
            "-d",
            "2s",
            "--max-conns",
            "4",
            "-q",
            "-o",
            path_str(&out),
        ],
        dir.path(),
    );
    std::thread::sleep(Duration::from_millis(700));
    server.0.kill().expect("kill server");
    let _ = server.0.wait();
    let status = client.wait_bounded(Duration::from_secs(15));
    let (_, stderr) = (stdout.join().unwrap(), stderr.join().unwrap());
    assert_eq!(status.code(), Some(0), "stderr: {stderr}");
    let r = load(&out);
    assert!(r.summary.requests > 0);
    assert!(r.summary.errors > 0, "{:?}", r.summary);
    assert!(
        r.summary.errors_by_kind.contains_key("connect_refused"),
        "reconnects were refused: {:?}",
        r.summary.errors_by_kind
    );
    assert!(
        r.summary
            .errors_by_cause
            .contains_key("connect_refused:ECONNREFUSED"),
        "the OS error name is kept: {:?}",
        r.summary.errors_by_cause
    );
    assert_eq!(r.summary.duration_s, 2.0);
    let errors_late: u64 = r.timeline.iter().skip(1).map(|t| t.errors).sum();
    assert!(
        errors_late > 0,
        "errors kept coming in after the kill: {:?}",
        r.timeline
    );
}

/// Stops a 60 s run with `signal` after a while: it must end promptly with
/// `code`, its partial result saved and its server stopped cleanly.
fn interrupted_by(signal: Signal, code: i32) {
    let dir = tempdir();
    let out = result_path(dir.path(), "r.json");
    let (mut client, stdout, stderr) = spawn_client(
        &[
            "--server",
            "selector",
            "-d",
            "60s",
            "--max-conns",
            "2",
            "-q",
            "-o",
            path_str(&out),
        ],
        dir.path(),
    );
    std::thread::sleep(Duration::from_millis(1500));
    kill(Pid::from_raw(client.pid()), signal).expect("signal");
    let status = client.wait_bounded(Duration::from_secs(15));
    let (stdout, stderr) = (stdout.join().unwrap(), stderr.join().unwrap());
    assert_eq!(status.code(), Some(code), "stderr: {stderr}");
    let r = load(&out);
    assert!(r.interrupted);
    assert!(r.summary.requests > 0);
    assert!(r.summary.duration_s < 60.0);
    let totals = r
        .target
        .server
        .and_then(|s| s.totals)
        .expect("the server was still stopped cleanly");
    assert!(totals.requests >= r.summary.requests);
    assert!(stdout.contains("Requests/sec"), "{stdout}");
}

#[test]
fn sigint_writes_a_partial_result_and_exits_130() {
    interrupted_by(Signal::SIGINT, 130);
}

#[test]
fn sigterm_writes_a_partial_result_and_exits_143() {
    interrupted_by(Signal::SIGTERM, 143);
}

#[test]
fn server_cpus_are_recorded_and_need_a_server() {
    let dir = tempdir();
    let out = result_path(dir.path(), "r.json");
    let run = run_client(
        &[
            "--server",
            "sync",
            "--server-cpus",
            "0",
            "-n",
            "20",
            "-q",
            "-o",
            path_str(&out),
        ],
        dir.path(),
        Duration::from_secs(30),
    );
    assert_eq!(run.code(), 0, "{}", run.stderr);
    let r = load(&out);
    assert_eq!(r.config.server_cpus, Some(vec![0]));
    assert_eq!(r.summary.requests, 20);

    let run = run_client(
        &["--server-cpus", "0", "-n", "1"],
        dir.path(),
        Duration::from_secs(10),
    );
    assert_eq!(run.code(), 2, "{}", run.stderr);
    assert!(run.stderr.contains("--server <MODEL>"), "{}", run.stderr);
}

/// Regression: the `--server` child lives in its own process group, so a
/// SIGKILL of bench-client used to leave it running (and holding its port).
#[test]
fn a_killed_client_takes_its_server_down() {
    let dir = tempdir();
    let (mut client, _stdout, _stderr) = spawn_client(
        &["--server", "fork", "-d", "60s", "-q", "--no-save"],
        dir.path(),
    );
    // The server is the client's only child; wait (bounded) until it is up.
    let children = format!("/proc/{0}/task/{0}/children", client.pid());
    let deadline = Instant::now() + Duration::from_secs(10);
    let server_pid = loop {
        let listed = std::fs::read_to_string(&children).unwrap_or_default();
        if let Some(pid) = listed.split_whitespace().next() {
            break pid.parse::<i32>().expect("a pid");
        }
        assert!(Instant::now() < deadline, "no server child appeared");
        std::thread::sleep(Duration::from_millis(20));
    };
    std::thread::sleep(Duration::from_millis(500));
    kill(Pid::from_raw(client.pid()), Signal::SIGKILL).expect("kill client");
    client.wait_bounded(Duration::from_secs(5));
    // The server gets SIGTERM from the kernel and shuts down on its own. It
    // was re-parented, so it is gone once kill(pid, 0) fails (or, if the
    // test harness became its reaper, once it is a zombie).
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let stat = std::fs::read_to_string(format!("/proc/{server_pid}/stat")).unwrap_or_default();
        let state = stat.rsplit(") ").next().and_then(|r| r.chars().next());
        if stat.is_empty() || state == Some('Z') {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the server {server_pid} outlived its killed client: {stat}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

// ---- open loop (-R): deterministic properties; timing figures live in scripts/co-demo.sh

/// Every percentile of the corrected latency is at least the uncorrected one:
/// each request's intended send time is at or before its actual send.
fn assert_corrected_dominates(r: &bench_client::result::RunResult) {
    let unc = r
        .latency_uncorrected
        .as_ref()
        .expect("open loop keeps the uncorrected latency");
    for (key, &corrected) in &r.latency.percentiles {
        assert!(
            corrected >= unc.percentiles[key],
            "p{key}: {corrected} < {}",
            unc.percentiles[key]
        );
    }
    let h = hdr::decode(&unc.hdr).expect("uncorrected hdr decodes");
    assert_eq!(h.len(), hdr::decode(&r.latency.hdr).unwrap().len());
}

#[test]
fn open_loop_n_run_matches_server_totals_and_reports_rates() {
    let (r, _) = run_saved(
        &[
            "--server",
            "selector",
            "-R",
            "2000",
            "-n",
            "1000",
            "--max-clients",
            "2",
            "--max-conns",
            "4",
        ],
        LIMIT,
    );
    let totals = r
        .target
        .server
        .as_ref()
        .and_then(|s| s.totals.clone())
        .expect("totals");
    assert_eq!(r.summary.requests, 1000);
    assert_eq!(
        totals.requests, 1000,
        "the total sent equals the server's count"
    );
    assert_eq!(r.config.rate, Some(2000.0));
    assert_eq!(r.summary.target_rate, Some(2000.0));
    assert!(r.summary.achieved_rate.is_some());
    assert!(r.summary.late_sends.is_some());
    // The schedule cannot send request 1000 before 999 / 2000 s.
    assert!(r.summary.duration_s >= 0.4995, "{}", r.summary.duration_s);
    // Per second: requests due (the rate over the measured part of it) and sent.
    let due: f64 = r.timeline.iter().map(|t| t.target_rate.unwrap()).sum();
    assert!((due - 2000.0 * r.summary.duration_s).abs() < 1e-6, "{due}");
    let sent: f64 = r.timeline.iter().map(|t| t.achieved_rate.unwrap()).sum();
    assert_eq!(sent, 1000.0);
    assert_eq!(r.timeline.iter().map(|t| t.requests).sum::<u64>(), 1000);
    assert_corrected_dominates(&r);
}

#[test]
fn open_loop_rate_below_connections_and_threads_still_sends() {
    let (r, _) = run_saved(
        &[
            "--server", "selector", "-R", "4", "-n", "6", "-c", "20", "-t", "3",
        ],
        LIMIT,
    );
    assert_eq!(r.summary.requests, 6);
    assert_eq!(r.config.threads, 3);
    // Request 6 is due at 5 / 4 s; the run must not wait for the idle connections' turns.
    assert!(r.summary.duration_s >= 1.25, "{}", r.summary.duration_s);
    // Connection 19's first turn is at 19 / 4 s: the run ended long before.
    assert!(r.summary.duration_s < 4.75, "{}", r.summary.duration_s);
    // All 20 connected before the schedule started (plus the reachability check).
    let totals = r.target.server.and_then(|s| s.totals).expect("totals");
    assert_eq!(totals.connections, 21);
}

#[test]
fn open_loop_with_connection_per_request() {
    let (r, _) = run_saved(
        &[
            "--server",
            "selector",
            "-R",
            "1000",
            "-n",
            "300",
            "--connection-per-request",
            "--max-conns",
            "8",
        ],
        LIMIT,
    );
    let totals = r
        .target
        .server
        .as_ref()
        .and_then(|s| s.totals.clone())
        .expect("totals");
    assert_eq!(r.summary.requests, 300);
    assert_eq!(
        totals.connections, 301,
        "a connection per request, plus the reachability check"
    );
    assert_corrected_dominates(&r);
}

#[test]
fn open_loop_measures_a_frozen_server_from_the_intended_send_time() {
    let (server, addr) = serve("selector");
    let dir = tempdir();
    let out = result_path(dir.path(), "r.json");
    let url = format!("http://{addr}/");
    let (mut client, stdout, stderr) = spawn_client(
        &[
            &url,
            "-R",
            "2000",
            "-d",
            "3s",
            "--max-conns",
            "10",
            "-q",
            "-o",
            path_str(&out),
        ],
        dir.path(),
    );
    std::thread::sleep(Duration::from_millis(1000));
    let pid = Pid::from_raw(server.pid());
    kill(pid, Signal::SIGSTOP).expect("SIGSTOP");
    std::thread::sleep(Duration::from_millis(1000));
    kill(pid, Signal::SIGCONT).expect("SIGCONT");
    let status = client.wait_bounded(Duration::from_secs(20));
    let (_, stderr) = (stdout.join().unwrap(), stderr.join().unwrap());
    assert_eq!(status.code(), Some(0), "stderr: {stderr}");
    let r = load(&out);
    // About 2,000 of the 6,000 requests were due during the freeze; those due
    // in its first half waited at least 0.5 s: more than 1 % of the run.
    assert!(
        r.latency.percentiles["99"] >= 500_000,
        "corrected p99 {} µs",
        r.latency.percentiles["99"]
    );
    assert!(
        r.summary.late_sends.unwrap() >= 1000,
        "{:?}",
        r.summary.late_sends
    );
    assert_corrected_dominates(&r);
}

#[test]
fn open_loop_waits_for_requests_in_flight_when_the_duration_runs_out() {
    let (server, addr) = serve("selector");
    let dir = tempdir();
    let out = result_path(dir.path(), "r.json");
    let url = format!("http://{addr}/");
    let (mut client, stdout, stderr) = spawn_client(
        &[
            &url,
            "-R",
            "1000",
            "-d",
            "1s",
            "--max-conns",
            "5",
            "--timeout",
            "8s",
            "-q",
            "-o",
            path_str(&out),
        ],
        dir.path(),
    );
    // Frozen across the end of the run: the last requests can only finish after it.
    std::thread::sleep(Duration::from_millis(700));
    let pid = Pid::from_raw(server.pid());
    kill(pid, Signal::SIGSTOP).expect("SIGSTOP");
    std::thread::sleep(Duration::from_millis(1000));
    kill(pid, Signal::SIGCONT).expect("SIGCONT");
    let status = client.wait_bounded(Duration::from_secs(20));
    let (_, stderr) = (stdout.join().unwrap(), stderr.join().unwrap());
    assert_eq!(status.code(), Some(0), "stderr: {stderr}");
    let r = load(&out);
    assert_eq!(r.summary.errors, 0, "{:?}", r.summary.errors_by_kind);
    let sent = (r.summary.achieved_rate.unwrap() * r.summary.duration_s).round() as u64;
    assert_eq!(
        r.summary.requests, sent,
        "every request sent in the window is counted"
    );
    assert_eq!(
        r.timeline.len(),
        1,
        "late completions count in the window's last second"
    );
    assert!(
        r.latency.max >= 300_000,
        "the frozen requests are in: max {} µs",
        r.latency.max
    );
    drop(server);
}

/// Review finding: when the result could not be saved (here the results
/// folder is a regular file), the run's figures were lost: the save error
/// returned before the summary was printed. Now the summary is printed,
/// without a `Saved:` line, and the run still fails with the save error.
#[test]
fn unsaveable_result_still_prints_the_summary_then_fails() {
    let (_server, addr) = serve("selector");
    let dir = tempdir();
    let blocker = dir.path().join("not-a-folder");
    std::fs::write(&blocker, b"x").unwrap();
    let url = format!("http://{addr}/");
    let run = run_client(
        &[&url, "-n", "20", "-q", "--results-dir", path_str(&blocker)],
        dir.path(),
        LIMIT,
    );
    assert_eq!(run.code(), 3, "bench-client's own failure: {}", run.stderr);
    assert!(
        run.stderr.starts_with(&format!(
            "error: cannot create the folder {}",
            blocker.display()
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout.contains("Requests"),
        "summary printed: {}",
        run.stdout
    );
    assert!(!run.stdout.contains("Saved:"), "{}", run.stdout);
    assert_eq!(
        std::fs::read(&blocker).unwrap(),
        b"x",
        "nothing half-written"
    );
}
