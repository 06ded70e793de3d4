//! The scripts in `scripts/` and the `results/` folder as a new user meets
//! them on a fresh clone: a script's default run leaves the repository as it
//! was, every script answers `-h`, `plot` and `compare` work over
//! `results/*.json` after two default runs, and git ignores exactly the
//! top-level results.
//!
//! These run real scripts and the real binary, so they are kept short: the
//! whole file takes well under 40 s on a 2-core machine.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{run_client, tempdir, ChildGuard, BIN};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("bench-client lives inside the workspace")
        .to_path_buf()
}

/// What a finished script printed.
struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `bash scripts/NAME ARGS` from the repository root with extra
/// environment, at most `limit` (killed and failed beyond it).
fn run_script(name: &str, args: &[&str], env: &[(&str, &str)], limit: Duration) -> Ran {
    let mut child = Command::new("bash")
        .arg(repo_root().join("scripts").join(name))
        .args(args)
        .envs(env.iter().copied())
        .current_dir(repo_root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn bash");
    // Read both pipes on threads, so that a full pipe never blocks the script.
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let status = ChildGuard(child).wait_bounded(limit);
    Ran {
        code: status.code().unwrap_or(-1),
        stdout: out.join().expect("stdout reader"),
        stderr: err.join().expect("stderr reader"),
    }
}

/// `git ARGS` in the repository root: exit code and stdout.
fn git(args: &[&str]) -> (i32, String) {
    let out = Command::new("git")
        .args(args)
        .current_dir(repo_root())
        .output()
        .expect("run git");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// Every script a user can run: scripts/*.sh except the sourced lib.sh.
fn scripts() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(repo_root().join("scripts"))
        .expect("scripts/")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sh") && n != "lib.sh")
        .collect();
    names.sort();
    names
}

/// A new user's first `scripts/co-demo.sh` overwrote the committed
/// results/co-demo/ and left empty *.err files behind. Its default run must
/// write to a fresh ignored folder, leave `git status` as it was, and keep
/// its summary.txt in step with the JSON beside it. (Short settings and the
/// test's own binary: about 5 s, no release build.)
#[test]
fn co_demo_default_run_leaves_the_repository_unchanged() {
    let (code, before) = git(&["status", "--porcelain", "--untracked-files=all"]);
    assert_eq!(code, 0, "git status failed: is this a git checkout?");
    let ran = run_script(
        "co-demo.sh",
        &[],
        &[
            ("BENCH_CLIENT", BIN),
            ("RATE", "200"),
            ("DURATION", "2s"),
            ("CONNS", "4"),
            ("FREEZE_AT", "0.5"),
            ("FREEZE_FOR", "0.5"),
            ("DELAY_MS", "5"),
            ("DELAY_RATE", "100"),
            ("DELAY_DURATION", "1s"),
        ],
        Duration::from_secs(60),
    );
    // 1 is the demo's own verdict (a busy machine can miss the control's
    // 1 ms bound); anything else means the script itself failed.
    assert!(
        ran.code == 0 || ran.code == 1,
        "co-demo.sh exit {}\nstdout:\n{}\nstderr:\n{}",
        ran.code,
        ran.stdout,
        ran.stderr
    );
    let folder = ran
        .stdout
        .lines()
        .last()
        .and_then(|l| l.strip_prefix("output: "))
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("no 'output: DIR' line last:\n{}", ran.stdout));
    let (_, after) = git(&["status", "--porcelain", "--untracked-files=all"]);
    let listing: Vec<String> = std::fs::read_dir(&folder)
        .map(|d| {
            d.map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    let summary = std::fs::read_to_string(folder.join("summary.txt")).unwrap_or_default();
    let open_loop = std::fs::read_to_string(folder.join("open-loop.json")).unwrap_or_default();
    let empty_errs: Vec<&String> = listing
        .iter()
        .filter(|n| n.ends_with(".err"))
        .filter(|n| std::fs::metadata(folder.join(n)).is_ok_and(|m| m.len() == 0))
        .collect();
    // Clean up before asserting, so that a failure leaves nothing behind.
    if folder.starts_with(repo_root().join("out")) {
        let _ = std::fs::remove_dir_all(&folder);
    }

    assert_eq!(before, after, "co-demo.sh changed git status");
    assert!(
        folder.starts_with(repo_root().join("out")),
        "default output {} is not under out/",
        folder.display()
    );
    assert!(
        empty_errs.is_empty(),
        "empty error logs kept: {empty_errs:?}"
    );
    for name in [
        "open-loop.json",
        "closed-loop.json",
        "delay-control.json",
        "summary.txt",
    ] {
        assert!(
            listing.iter().any(|n| n == name),
            "{name} missing in {listing:?}"
        );
    }
    // The summary's open-loop request count is the JSON's.
    let doc: serde_json::Value = serde_json::from_str(&open_loop).expect("open-loop.json");
    let requests = doc["summary"]["requests"]
        .as_u64()
        .expect("summary.requests");
    let row = summary
        .lines()
        .find(|l| l.starts_with("open loop -R 200, corrected"))
        .unwrap_or_else(|| panic!("no open-loop row in summary.txt:\n{summary}"));
    assert!(
        row.ends_with(&format!(" {requests}")),
        "summary row {row:?} does not end with the JSON's {requests} requests"
    );
}

/// Every script answers -h and --help with its usage, exits 0 without
/// building or running anything, and speaks of the project, not of issues.
/// (selector-idle.sh once read -h as a connection count.)
#[test]
fn every_script_answers_help() {
    let names = scripts();
    assert!(names.len() >= 5, "scripts found: {names:?}");
    let readme = std::fs::read_to_string(repo_root().join("scripts/README.md")).unwrap();
    for name in &names {
        assert!(
            readme.contains(&format!("`{name}`")),
            "scripts/README.md does not cover {name}"
        );
        for flag in ["-h", "--help"] {
            let ran = run_script(name, &[flag], &[], Duration::from_secs(10));
            assert_eq!(ran.code, 0, "{name} {flag}: stderr {}", ran.stderr);
            assert!(
                ran.stdout.starts_with(&format!("{name}: "))
                    && ran.stdout.contains("Usage: scripts/"),
                "{name} {flag} printed no usage:\n{}",
                ran.stdout
            );
            assert!(
                !ran.stdout.to_lowercase().contains("issue"),
                "{name} {flag} speaks of an issue:\n{}",
                ran.stdout
            );
        }
        // An unknown option is a usage error, not a value.
        let ran = run_script(name, &["--no-such-option"], &[], Duration::from_secs(10));
        assert_eq!(ran.code, 2, "{name} --no-such-option: {}", ran.stderr);
    }
}

/// A fresh clone's results/ plus two default runs: `plot results/*.json`
/// and `compare` over them work. They failed when the format's schema.json
/// sat among the runs at the top level of results/.
#[test]
fn plot_and_compare_read_top_level_results_after_two_runs() {
    let dir = tempdir();
    // What a fresh clone has: the committed files only, not the runs this
    // checkout may have made.
    let (code, tracked) = git(&["ls-files", "results"]);
    assert_eq!(code, 0, "git ls-files failed");
    for file in tracked.lines() {
        let target = dir.path().join(file);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(repo_root().join(file), &target)
            .unwrap_or_else(|e| panic!("copy {file}: {e}"));
    }
    for _ in 0..2 {
        let run = run_client(
            &["--server", "selector", "-d", "1s", "-q"],
            dir.path(),
            Duration::from_secs(30),
        );
        assert_eq!(run.code(), 0, "stderr: {}", run.stderr);
    }
    // results/*.json as a shell expands it: top-level files only, sorted.
    let mut runs: Vec<String> = std::fs::read_dir(dir.path().join("results"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .map(|n| format!("results/{n}"))
        .collect();
    runs.sort();
    assert_eq!(runs.len(), 2, "top-level results/*.json: {runs:?}");

    let mut plot = vec!["plot"];
    plot.extend(runs.iter().map(String::as_str));
    plot.extend(["-o", "report.html"]);
    let ran = run_client(&plot, dir.path(), Duration::from_secs(30));
    assert_eq!(ran.code(), 0, "plot: {}", ran.stderr);
    let html = std::fs::read_to_string(dir.path().join("report.html")).expect("report.html");
    assert!(html.contains("<svg"), "report.html has no chart");

    let ran = run_client(
        &["compare", &runs[0], "--against", &runs[1]],
        dir.path(),
        Duration::from_secs(30),
    );
    // 0 or 1 is a verdict on two noisy 1 s runs; 2 would mean no comparison.
    assert!(
        ran.code() == 0 || ran.code() == 1,
        "compare exit {}: {}",
        ran.code(),
        ran.stderr
    );
    assert!(
        ran.stdout.contains("p99"),
        "compare printed no table:\n{}",
        ran.stdout
    );
}

/// Git ignores a user's runs (top-level results/*.json) and the scripts'
/// default output (out/), but never a committed measurement in a subfolder.
#[test]
fn git_ignores_user_runs_and_keeps_committed_measurements() {
    for path in [
        "results/20261129T120000Z-selector.json",
        "out/co-demo-x/summary.txt",
    ] {
        let (code, _) = git(&["check-ignore", "-q", "--no-index", path]);
        assert_eq!(code, 0, "{path} should be ignored");
    }
    for path in [
        "results/matrix/x.json",
        "results/co-demo/x.json",
        "results/format/schema.json",
        "results/README.md",
    ] {
        let (code, _) = git(&["check-ignore", "-q", "--no-index", path]);
        assert_eq!(code, 1, "{path} should not be ignored");
    }
}
