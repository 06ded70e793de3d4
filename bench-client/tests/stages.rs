//! Load stages and arrivals end to end: the real binary against a real
//! selector server, checked by counts (the server's totals are the oracle),
//! never by times.

mod common;

use std::time::Duration;

use bench_client::result::RunResult;
use common::*;

const LIMIT: Duration = Duration::from_secs(60);

fn server_requests(r: &RunResult) -> u64 {
    r.target
        .server
        .as_ref()
        .and_then(|s| s.totals.as_ref())
        .expect("server totals")
        .requests
}

fn server_connections(r: &RunResult) -> u64 {
    r.target
        .server
        .as_ref()
        .and_then(|s| s.totals.as_ref())
        .expect("server totals")
        .connections
}

/// `--stage 1s:200/s --stage 1s:200/s`: Λ(end) = 100 + 200 = 300, so the
/// run sends exactly 300 requests, and the server counts exactly those.
#[test]
fn an_open_loop_ramp_sends_what_its_curve_integrates_to() {
    let (r, _) = run_saved(
        &[
            "--server", "selector", "--stage", "1s:200/s", "--stage", "1s:200/s", "-c", "4",
        ],
        LIMIT,
    );
    assert_eq!(r.summary.errors, 0, "{:?}", r.summary.errors_by_kind);
    assert_eq!(r.summary.requests, 300);
    assert_eq!(
        server_requests(&r),
        300,
        "the server saw every request once"
    );
    assert_eq!(r.config.duration_s, Some(2.0), "the stages set the length");
    assert_eq!(r.config.rate, None);
    // Per second: Λ(1) - Λ(0) = 100 due, then 200.
    let due: Vec<f64> = r.timeline.iter().map(|t| t.target_rate.unwrap()).collect();
    assert_eq!(due, [100.0, 200.0]);
    // Per stage, counted by intended time: exactly the curve's share.
    let per_stage: Vec<u64> = r.stages.iter().map(|s| s.requests).collect();
    assert_eq!(per_stage, [100, 200]);
    assert_eq!(r.stages[0].mean_target_rate, Some(100.0));
    assert_eq!(r.stages[1].target_rate, Some(200.0));
}

/// A closed-loop ramp opens one connection per slot and closes it again:
/// 4 slots open once each (plus the start-up probe, 5 connections at the
/// server), the timeline shows the count asked for and the count in force,
/// and every connection has closed before the run ends, so the server's
/// count equals the client's.
#[test]
fn a_closed_loop_ramp_opens_and_closes_connections() {
    let (r, _) = run_saved(
        &[
            "--server", "selector", "--stage", "1s:4", "--stage", "1s:4", "--stage", "1s:0",
            "--stage", "1s:0",
        ],
        LIMIT,
    );
    assert_eq!(r.summary.errors, 0, "{:?}", r.summary.errors_by_kind);
    assert_eq!(r.config.connections, 4, "the pool is sized to the peak");
    assert_eq!(server_connections(&r), 5);
    assert_eq!(server_requests(&r), r.summary.requests);
    let asked: Vec<u32> = r
        .timeline
        .iter()
        .map(|t| t.target_connections.unwrap())
        .collect();
    assert_eq!(asked, [2, 4, 2, 0]);
    let in_force: Vec<u32> = r.timeline.iter().map(|t| t.connections.unwrap()).collect();
    // Second 0 opens slots at 0.125 s, 0.375 s, ...: all four can be seen
    // in it; the plateau has all four; the last second none.
    assert_eq!(in_force[1], 4, "{in_force:?}");
    assert_eq!(in_force[3], 0, "{in_force:?}");
    assert!(r.timeline[3].requests == 0);
    assert_eq!(r.stages.len(), 4);
    assert_eq!(r.stages[1].target_connections, Some(4));
}

/// The same seed schedules the same requests: two Poisson runs with
/// `--seed 7` send the same number, every one counted by the server.
#[test]
fn poisson_with_a_seed_repeats() {
    let run = |seed: &str| {
        run_saved(
            &[
                "--server",
                "selector",
                "--stage",
                "1s:300/s",
                "--arrivals",
                "poisson",
                "--seed",
                seed,
                "-c",
                "4",
            ],
            LIMIT,
        )
        .0
    };
    let a = run("7");
    let b = run("7");
    assert_eq!(a.config.arrivals.as_deref(), Some("poisson"));
    assert_eq!(a.config.seed, Some(7));
    assert_eq!(a.summary.errors + b.summary.errors, 0);
    assert_eq!(a.summary.requests, b.summary.requests);
    assert_eq!(server_requests(&a), a.summary.requests);
    assert!(a.summary.requests > 0);
    // A Poisson -R run draws its own seed and records it.
    let (r, _) = run_saved(
        &[
            "--server",
            "selector",
            "-R",
            "200",
            "-n",
            "50",
            "--arrivals",
            "poisson",
        ],
        LIMIT,
    );
    assert_eq!(r.summary.requests, 50);
    assert!(r.config.seed.is_some());
}

#[test]
fn stage_usage_errors_exit_2_and_say_why() {
    let dir = tempdir();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--stage", "1s:5/s", "-d", "3"],
            "error: --stage cannot be combined with -d/--duration: the stages set the run's length \
             and load (drop -d/--duration, or the --stage flags)\n",
        ),
        (
            &["--stage", "1s:5/s", "-n", "3", "-R", "4"],
            "error: --stage cannot be combined with -n/--requests, -R/--rate: the stages set the \
             run's length and load (drop -n/--requests, -R/--rate, or the --stage flags)\n",
        ),
        (
            &["--stage", "1s:5/s", "--stage", "1s:5"],
            "error: --stage: stage 1 (1s:5/s) is a request rate and stage 2 (1s:5) is a connection \
             count: one run uses one kind; write every target as a rate ending in /s (open loop) or \
             every target as a connection count (closed loop)\n",
        ),
        (
            &["--stage", "10q:5/s"],
            "error: --stage: invalid stage '10q:5/s': the duration '10q' is not a duration such as \
             10 (seconds), 1.5, 10s, 500ms, 2m or 1h30m; expected DURATION:RATE/s or \
             DURATION:CONNECTIONS, such as 30s:1000/s or 1m:200\n",
        ),
        (
            &["--arrivals", "poisson"],
            "error: --arrivals applies to an open loop only (-R, or --stage with rates such as \
             30s:1000/s)\n",
        ),
        (
            &["--stage", "1s:5/s", "--arrivals", "normal"],
            "error: invalid value 'normal' for --arrivals: expected uniform or poisson\n",
        ),
        (
            &["--stage", "1s:50", "--max-clients", "4"],
            "error: the stages ask for up to 50 connections, but --max-clients 4 x --max-conns 1 \
             hold 4: raise --max-clients or --max-conns, or lower the stages' targets\n",
        ),
    ];
    for (args, stderr) in cases {
        let mut argv = args.to_vec();
        argv.push("--no-save");
        let run = run_client(&argv, dir.path(), LIMIT);
        assert_eq!(run.code(), 2, "{args:?}: {}", run.stderr);
        assert_eq!(run.stderr, *stderr, "{args:?}");
    }
}
