//! What a newcomer meets in the first ten minutes, on the real binary: wrk's
//! and oha's habits (`-c`, bare seconds, size spellings), the project's own
//! messages for bad numbers, exit statuses that CI can trust, `--fail-on`
//! checks, the header before the load, `-o -`, help and completions.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use bench_client::result::RunResult;
use common::*;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use reference_servers::wire::units::SIZE_FORMS;

const LIMIT: Duration = Duration::from_secs(60);

#[test]
fn connections_as_in_wrk_with_a_divisibility_message() {
    let (r, _) = run_saved(&["--server", "selector", "-n", "40", "-c", "8"], LIMIT);
    assert_eq!(
        (
            r.config.max_clients,
            r.config.max_conns,
            r.config.connections
        ),
        (8, 1, 8)
    );
    let (r, _) = run_saved(
        &[
            "--server",
            "selector",
            "-n",
            "40",
            "--connections",
            "8",
            "--max-conns",
            "4",
        ],
        LIMIT,
    );
    assert_eq!((r.config.max_clients, r.config.max_conns), (2, 4));
    // wrk's default: 10 connections.
    let (r, _) = run_saved(&["--server", "selector", "-n", "40"], LIMIT);
    assert_eq!(r.config.connections, 10);

    let dir = tempdir();
    let run = run_client(
        &["-c", "10", "--max-conns", "4", "--no-save"],
        dir.path(),
        LIMIT,
    );
    assert_eq!(run.code(), 2);
    assert_eq!(
        run.stderr,
        "error: invalid value '10' for --connections: expected a multiple of --max-conns 4 \
         (N connections are N / M clients of M connections each), such as 8 or 12\n"
    );
    let run = run_client(
        &["-c", "10", "--max-clients", "3", "--no-save"],
        dir.path(),
        LIMIT,
    );
    assert_eq!(run.code(), 2);
    assert_eq!(
        run.stderr,
        "error: --connections 10 disagrees with --max-clients 3 x --max-conns 1 = 3: \
         give --connections, or --max-clients and --max-conns, not both\n"
    );
}

#[test]
fn a_bare_number_is_seconds() {
    let (r, _) = run_saved(&["--server", "selector", "-d", "1", "-c", "2"], LIMIT);
    assert_eq!(r.config.duration_s, Some(1.0));
    assert_eq!(r.summary.duration_s, 1.0);
}

#[test]
fn every_size_spelling_is_binary_and_a_fraction_is_refused() {
    for spelling in ["1k", "1K", "1kb", "1KB", "1KiB", "1024"] {
        let (r, _) = run_saved(
            &[
                "--server",
                "selector",
                "-n",
                "2",
                "-c",
                "1",
                "--payload",
                spelling,
            ],
            LIMIT,
        );
        assert_eq!(r.config.payload_bytes, 1024, "--payload {spelling}");
        let totals = r.target.server.and_then(|s| s.totals).expect("totals");
        assert_eq!(totals.body_bytes, 2048, "--payload {spelling}");
    }
    let dir = tempdir();
    let run = run_client(&["--payload", "1.5m", "--no-save"], dir.path(), LIMIT);
    assert_eq!(run.code(), 2);
    assert_eq!(
        run.stderr,
        format!("error: invalid value '1.5m' for --payload: expected {SIZE_FORMS}\n")
    );
}

/// clap's advice for a value that starts with '-' ("to pass '-1' as a
/// value, use '-- -1'") was wrong for every one of these.
#[test]
fn negative_numbers_get_the_projects_message() {
    let dir = tempdir();
    let cases = [
        (
            vec!["--payload", "-1"],
            format!("error: invalid value '-1' for --payload: expected {SIZE_FORMS}\n"),
        ),
        (
            vec!["-R", "-5"],
            "error: invalid value '-5' for --rate: expected requests per second, a number above 0 (e.g. 1, 2000, 0.5)\n".to_string(),
        ),
        (
            vec!["-c", "-3"],
            "error: invalid value '-3' for --connections: expected a whole number of at least 1\n".to_string(),
        ),
        (
            vec!["-n", "-1"],
            "error: invalid value '-1' for --requests: expected a whole number of at least 1\n".to_string(),
        ),
    ];
    for (args, want) in cases {
        let mut argv = args.clone();
        argv.push("--no-save");
        let run = run_client(&argv, dir.path(), LIMIT);
        assert_eq!(run.code(), 2, "{args:?}");
        assert_eq!(run.stderr, want, "{args:?}");
        assert!(!run.stderr.contains("tip:"), "{args:?}");
    }
}

#[test]
fn notices_for_lowered_threads_and_a_lower_case_method() {
    let (_, run) = run_saved(
        &["--server", "selector", "-n", "4", "-c", "2", "-t", "8"],
        LIMIT,
    );
    assert!(
        run.stderr
            .contains("note: -t 8 lowered to 2: a worker thread needs at least one connection\n"),
        "{}",
        run.stderr
    );
    // `get` is not GET (RFC 9110): sent as written, and the server, which
    // knows only `/`'s methods case-sensitively, still answers; the notice
    // says what happened.
    let (r, run) = run_saved(
        &["--server", "selector", "-n", "2", "-c", "1", "-m", "get"],
        LIMIT,
    );
    assert_eq!(r.config.method, "get");
    assert!(
        run.stderr.contains("note: -m get is sent as written"),
        "{}",
        run.stderr
    );
}

/// Every request a 404: the run completed but nothing succeeded, exit 1.
#[test]
fn every_request_failing_or_404_exits_1() {
    let (r, run) = run_saved_with_status(
        &[
            "--server",
            "selector",
            "-n",
            "20",
            "-c",
            "2",
            "http://x/nothing-here",
        ],
        LIMIT,
        1,
    );
    assert_eq!(r.summary.status_codes.get("404"), Some(&20));
    let default = &r.checks[0];
    assert_eq!(
        (default.expr.as_str(), default.value, default.failed),
        ("succeeded<1", Some(0.0), true)
    );
    assert!(
        run.stdout
            .contains("Checks: FAILED (1 of 1 failed)\n  succeeded<1 failed: succeeded was 0, 1 under the limit\n"),
        "{}",
        run.stdout
    );
    // Timeouts only: nothing completed.
    let (r, run) = run_saved_with_status(
        &[
            "--server",
            "selector",
            "-d",
            "1",
            "-c",
            "2",
            "--timeout",
            "50ms",
            // Far beyond the run: on a loaded machine a 300 ms response was
            // once read before its request's timeout was swept, and counted.
            "http://x/delay/5000",
        ],
        LIMIT,
        1,
    );
    assert_eq!(r.summary.requests, 0);
    assert!(
        r.summary
            .errors_by_kind
            .get("timeout")
            .copied()
            .unwrap_or(0)
            > 0
    );
    assert!(run.stdout.contains("succeeded<1 failed"), "{}", run.stdout);
}

fn checked(checks: &[&str]) -> (RunResult, Finished, i32) {
    let mut args = vec!["--server", "selector", "-n", "200", "-c", "2"];
    for c in checks {
        args.extend(["--fail-on", c]);
    }
    let dir = tempdir();
    let out = result_path(dir.path(), "r.json");
    args.extend(["-q", "-o", path_str(&out)]);
    let run = run_client(&args, dir.path(), LIMIT);
    let code = run.code();
    (load(&out), run, code)
}

/// Each form once passing and once failing, judged on one run's own
/// figures so that no absolute timing is assumed.
#[test]
fn each_fail_on_form_passes_and_fails() {
    let passing = [
        "errors>0",
        "error_rate>1%",
        "non2xx>0",
        "p99>60s",
        "p99.9>60s",
        "max>60s",
        "mean>60s",
        "rps<0.001",
    ];
    let (r, run, code) = checked(&passing);
    assert_eq!(code, 0, "{}", run.stderr);
    assert_eq!(r.checks.len(), 1 + passing.len());
    assert!(r.checks.iter().all(|c| !c.failed), "{:?}", r.checks);
    let exprs: Vec<&str> = r.checks[1..].iter().map(|c| c.expr.as_str()).collect();
    assert_eq!(exprs, passing);

    let failing = [
        "errors>=0",
        "error_rate>=0%",
        "non2xx>=0",
        "p99>=0us",
        "p99.9>=0us",
        "max>=0us",
        "mean>=0us",
        "rps<1000000000",
    ];
    let (r, run, code) = checked(&failing);
    assert_eq!(code, 1, "{}", run.stderr);
    assert!(!r.checks[0].failed, "the default check still passes");
    assert!(r.checks[1..].iter().all(|c| c.failed), "{:?}", r.checks);
    // The failure reports its numbers: the measured p99 and by how much.
    let p99 = r.latency.percentiles["99"] as f64;
    let check = r.checks.iter().find(|c| c.expr == "p99>=0us").unwrap();
    assert_eq!((check.value, check.threshold), (Some(p99), 0.0));
}

#[test]
fn a_failed_check_reports_its_numbers_in_the_summary() {
    let (r, run, code) = checked(&["rps<1000000000", "errors>0"]);
    assert_eq!(code, 1);
    let rps = r.summary.requests_per_sec;
    let line = format!(
        "  rps<1000000000 failed: rps was {rps:.1} req/s, {:.1} req/s under the limit\n",
        1e9 - rps
    );
    assert!(
        run.stdout.contains("Checks: FAILED (1 of 3 failed)\n"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains(&line), "{line:?} in {}", run.stdout);
    assert!(
        run.stdout.contains("  errors>0 passed: errors was 0\n"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_bad_check_is_bad_usage() {
    let dir = tempdir();
    let run = run_client(&["--fail-on", "p99>50", "--no-save"], dir.path(), LIMIT);
    assert_eq!(run.code(), 2);
    assert_eq!(
        run.stderr,
        "error: --fail-on: invalid check 'p99>50': a latency needs a unit: write 50us, 50ms or 50s\n"
    );
}

/// SIGINT during a run whose check fails: the signal's status wins, and the
/// partial result (with the failed check) is still saved.
#[test]
fn interrupted_beats_a_failed_check() {
    let dir = tempdir();
    let out = result_path(dir.path(), "r.json");
    let (mut client, _stdout, stderr) = spawn_client(
        &[
            "--server",
            "selector",
            "-d",
            "60",
            "-c",
            "2",
            "--fail-on",
            "rps<1000000000",
            "-q",
            "-o",
            path_str(&out),
        ],
        dir.path(),
    );
    std::thread::sleep(Duration::from_millis(1500));
    kill(Pid::from_raw(client.pid()), Signal::SIGINT).expect("signal");
    let status = client.wait_bounded(Duration::from_secs(15));
    assert_eq!(status.code(), Some(130), "{}", stderr.join().unwrap());
    let r = load(&out);
    assert!(r.interrupted);
    assert!(r
        .checks
        .iter()
        .any(|c| c.expr == "rps<1000000000" && c.failed));
}

/// The header reaches stdout while the load runs, not at the end.
#[test]
fn the_header_comes_before_the_load() {
    let dir = tempdir();
    let mut child = ChildGuard(
        Command::new(BIN)
            .args([
                "--server",
                "selector",
                "-d",
                "5",
                "-c",
                "2",
                "-q",
                "--no-save",
            ])
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn"),
    );
    let mut stdout = BufReader::new(child.0.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(
        first.starts_with("Running 5s test @ http://127.0.0.1:"),
        "{first:?}"
    );
    assert!(
        child.0.try_wait().unwrap().is_none(),
        "the header came while the run was still going"
    );
    kill(Pid::from_raw(child.pid()), Signal::SIGINT).unwrap();
    child.wait_bounded(Duration::from_secs(15));
}

/// `-o -`: stdout is the JSON document alone, for `jq`; people's lines go
/// to stderr.
#[test]
fn dash_o_dash_writes_the_json_to_stdout() {
    let dir = tempdir();
    let run = run_client(
        &[
            "--server", "selector", "-n", "10", "-c", "2", "-q", "-o", "-",
        ],
        dir.path(),
        LIMIT,
    );
    assert_eq!(run.code(), 0, "{}", run.stderr);
    let r: RunResult = serde_json::from_str(&run.stdout).expect("stdout is one JSON document");
    assert_eq!(r.summary.requests, 10);
    assert!(
        run.stderr.starts_with("Running 10-request test @"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("Requests/sec"), "{}", run.stderr);
    assert!(!run.stderr.contains("Saved:"), "{}", run.stderr);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no file");
}

#[test]
fn every_command_help_ends_with_an_example() {
    for cmd in [
        vec![],
        vec!["serve"],
        vec!["plot"],
        vec!["compare"],
        vec!["merge"],
        vec!["completions"],
    ] {
        let mut args = cmd.clone();
        args.push("--help");
        let out = Command::new(BIN).args(&args).output().expect("run");
        assert_eq!(out.status.code(), Some(0), "{cmd:?}");
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(help.contains("Example"), "{cmd:?}: {help}");
    }
    let out = Command::new(BIN).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for status in ["  0 ", "  1 ", "  2 ", "  3 ", "  130/143 "] {
        assert!(
            help.contains(status),
            "exit status {status} documented: {help}"
        );
    }
}

#[test]
fn completion_scripts_for_three_shells() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef bench-client"),
        ("fish", "complete -c bench-client"),
    ] {
        let out = Command::new(BIN)
            .args(["completions", shell])
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(script.contains(marker), "{shell}: {script}");
        assert!(
            script.contains("fail-on"),
            "{shell}: the run options are completed"
        );
    }
}

/// A port that speaks only HTTP/2 (nginx's h2c answers an HTTP/1.1 request
/// with a SETTINGS frame and a GOAWAY): every request fails, the run exits
/// 1, and the summary says what was wrong instead of a bare count.
#[test]
fn an_http2_only_port_is_named_in_the_summary() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for sock in listener.incoming().take(64) {
            let Ok(mut sock) = sock else { return };
            let mut buf = [0u8; 4096];
            let _ = sock.read(&mut buf);
            // SETTINGS (type 4, empty), then GOAWAY (type 7) with PROTOCOL_ERROR.
            let _ = sock.write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0]);
            let _ = sock.write_all(&[0, 0, 8, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        }
    });
    let url = format!("http://{addr}/");
    let dir = tempdir();
    let run = run_client(
        &[&url, "-n", "5", "-c", "1", "--no-save"],
        dir.path(),
        LIMIT,
    );
    assert_eq!(run.code(), 1, "{}", run.stderr);
    let words = bench_client::http::describe_cause("http2_preface").unwrap();
    assert!(
        run.stdout
            .contains(&format!("      http2_preface               5  {words}\n")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Latency: no completed requests"),
        "{}",
        run.stdout
    );
}

/// https://no-color.org: with NO_COLOR set, nothing is coloured even on a
/// terminal (`script` gives the run a pseudo-terminal, as a user's shell
/// would).
#[test]
fn no_color_is_honoured_on_a_terminal() {
    let run = |no_color: bool| {
        let mut cmd = Command::new("script");
        cmd.args(["-qec", &format!("{BIN} --no-such-flag"), "/dev/null"]);
        if no_color {
            cmd.env("NO_COLOR", "1");
        } else {
            cmd.env_remove("NO_COLOR");
        }
        let out = cmd.output().expect("script (util-linux) runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let coloured = run(false);
    assert!(coloured.contains("unexpected argument"), "{coloured}");
    assert!(
        coloured.contains('\x1b'),
        "colour on a terminal: {coloured:?}"
    );
    let plain = run(true);
    assert!(plain.contains("unexpected argument"), "{plain}");
    assert!(
        !plain.contains('\x1b'),
        "no colour with NO_COLOR: {plain:?}"
    );
}
