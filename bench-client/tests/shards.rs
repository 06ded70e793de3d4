//! A sharded run as users meet it: shards as separate bench-client
//! processes started together with one absolute `--start-at`, merged with
//! `bench-client merge`, against a reference server whose totals are the
//! oracle.

mod common;

use std::time::{Duration, SystemTime};

use common::*;

const LIMIT: Duration = Duration::from_secs(60);

fn merge(args: &[&str], dir: &std::path::Path) -> Finished {
    let mut all = vec!["merge"];
    all.extend_from_slice(args);
    run_client(&all, dir, LIMIT)
}

/// Three shards of `-n 3001 -c 6 -R 3000`, one `--start-at` two seconds
/// ahead: each makes its exact part (1001 + 1000 + 1000), starts near the
/// instant, and the merge is the whole run, every request of which the
/// server answered. Merge refuses a missing shard and another run's, and
/// takes them with --force.
#[test]
fn three_shards_start_together_and_merge_into_the_whole_run() {
    let server = CountedServer::start("selector", &[]);
    let url = server.url("/");
    let dir = tempdir();
    let start_at = SystemTime::now() + Duration::from_secs(2);
    let start_text = humantime::format_rfc3339_millis(start_at).to_string();
    let outs: Vec<_> = (0..3)
        .map(|i| result_path(dir.path(), &format!("shard-{i}.json")))
        .collect();
    let children: Vec<_> = (0..3)
        .map(|i| {
            let shard = format!("{i}/3");
            let args = [
                url.as_str(),
                "--shard",
                &shard,
                "--run-id",
                "T",
                "--start-at",
                &start_text,
                "-n",
                "3001",
                "-c",
                "6",
                "-R",
                "3000",
                "-t",
                "1",
                "-q",
                "-o",
                path_str(&outs[i]),
            ];
            spawn_client(&args, dir.path())
        })
        .collect();
    for (i, (mut child, out, err)) in children.into_iter().enumerate() {
        let status = child.wait_bounded(LIMIT);
        let (out, err) = (out.join().unwrap(), err.join().unwrap());
        assert!(status.success(), "shard {i}: {status}\n{out}\n{err}");
        assert!(
            out.contains(&format!(
                "shard {i}/3 of run T: connections {}..{} of 6",
                2 * i,
                2 * i + 2
            )),
            "{out}"
        );
    }
    let server_totals = server.totals();

    let shards: Vec<_> = outs.iter().map(|p| load(p)).collect();
    for (i, r) in shards.iter().enumerate() {
        let s = r.shard.as_ref().expect("a shard block");
        assert_eq!((s.index, s.count, s.run_id.as_str()), (i as u32, 3, "T"));
        assert_eq!(r.summary.requests, [1001, 1000, 1000][i], "shard {i}");
        assert_eq!(
            (r.config.connections, r.config.requests, r.config.rate),
            (6, Some(3001), Some(3000.0)),
            "config is the whole run's"
        );
        assert_eq!(r.summary.target_rate, Some(1000.0), "the shard's part");
        let ids: Vec<u32> = r.clients.iter().map(|c| c.id).collect();
        assert_eq!(ids, [2 * i as u32, 2 * i as u32 + 1], "run-wide client ids");
        let start = r.start.as_ref().expect("a start block");
        let intended = humantime::parse_rfc3339(&start.intended).unwrap();
        let actual = humantime::parse_rfc3339(&start.actual).unwrap();
        assert_eq!(intended, humantime::parse_rfc3339(&start_text).unwrap());
        // Generous: the machine may be busy; the point is that the start
        // waited for the instant and did not drift by seconds. (Early by a
        // microsecond is how two clocks read one after the other agree.)
        assert!(
            start.late_ms > -1.0 && start.late_ms < 1000.0,
            "shard {i}: {} ms late",
            start.late_ms
        );
        let late_ms = match actual.duration_since(intended) {
            Ok(d) => d.as_secs_f64() * 1e3,
            Err(e) => -e.duration().as_secs_f64() * 1e3,
        };
        assert!((start.late_ms - late_ms).abs() < 0.01, "{start:?}");
        assert!(!start.clock.status.is_empty());
    }

    let merged_path = dir.path().join("merged.json");
    let all: Vec<&str> = outs.iter().map(|p| path_str(p)).collect();
    let mut args = all.clone();
    args.extend(["-o", path_str(&merged_path)]);
    let m = merge(&args, dir.path());
    assert_eq!(m.code(), 0, "{}", m.stderr);
    let merged = load(&merged_path);
    assert_eq!(merged.summary.requests, 3001);
    assert_eq!(server_totals.requests, 3001, "the server answered each one");
    assert_eq!(merged.clients.len(), 6);
    assert!(merged.shard.is_none());
    let spread = merged.start.as_ref().unwrap().spread_ms.unwrap();
    assert!((0.0..1000.0).contains(&spread), "{spread}");

    // One shard missing.
    let mut args = vec![all[0], all[2], "-o", "partial.json"];
    let m = merge(&args, dir.path());
    assert_eq!(m.code(), 2, "{}", m.stderr);
    assert!(
        m.stderr
            .contains("run T has 3 shards, each to be merged exactly once: shard 1 of 3 missing"),
        "{}",
        m.stderr
    );
    args.push("--force");
    assert_eq!(merge(&args, dir.path()).code(), 0);

    // Another run's shard 1.
    let foreign = dir.path().join("foreign.json");
    let text = std::fs::read_to_string(&outs[1]).unwrap();
    std::fs::write(
        &foreign,
        text.replace("\"run_id\": \"T\"", "\"run_id\": \"U\""),
    )
    .unwrap();
    let mut args = vec![all[0], path_str(&foreign), all[2], "-o", "mixed.json"];
    let m = merge(&args, dir.path());
    assert_eq!(m.code(), 2, "{}", m.stderr);
    assert!(
        m.stderr.contains("is shard 1/3 of run U but") && m.stderr.contains("of run T"),
        "{}",
        m.stderr
    );
    args.push("--force");
    assert_eq!(merge(&args, dir.path()).code(), 0);
}

/// What a user gets wrong is refused before any load, naming it.
#[test]
fn bad_start_times_and_shards_are_usage_errors() {
    let dir = tempdir();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--start-at", "tomorrow"],
            "invalid value 'tomorrow' for --start-at: expected an RFC 3339 UTC time",
        ),
        (
            &["--start-at", "2020-01-01T00:00:00Z"],
            "in the past (the clock says",
        ),
        (
            &["--shard", "3/3", "--run-id", "r"],
            "invalid value '3/3' for --shard",
        ),
        (
            &["--shard", "0/3"],
            "needs the run id that all shards share",
        ),
    ];
    for (args, wanted) in cases {
        let mut all = args.to_vec();
        all.extend(["--no-save", "http://127.0.0.1:9/"]);
        let run = run_client(&all, dir.path(), LIMIT);
        assert_eq!(run.code(), 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(wanted), "{args:?}: {}", run.stderr);
    }
}
