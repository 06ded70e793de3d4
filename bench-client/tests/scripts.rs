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

use common::{path_str, run_client, tempdir, ChildGuard, BIN};

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
    run_repo_script(&format!("scripts/{name}"), args, env, limit)
}

/// `run_script` for a script anywhere in the repository (PATH relative to
/// its root).
fn run_repo_script(path: &str, args: &[&str], env: &[(&str, &str)], limit: Duration) -> Ran {
    let mut child = Command::new("bash")
        .arg(repo_root().join(path))
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

/// An executable shell script at DIR/NAME.
fn write_executable(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// DIR/shard-I.json for I in 0..N: a committed result as shard I would
/// print it, from host gen-I (merge refuses one run twice). Returns the
/// requests of one.
fn write_shard_results(dir: &Path, n: usize) -> u64 {
    let text = std::fs::read_to_string(repo_root().join("results/ci-baseline/run-1.json")).unwrap();
    let mut run: serde_json::Value = serde_json::from_str(&text).unwrap();
    for i in 0..n {
        run["host"]["hostname"] = format!("gen-{i}").into();
        let pretty = serde_json::to_string_pretty(&run).unwrap();
        std::fs::write(dir.join(format!("shard-{i}.json")), pretty + "\n").unwrap();
    }
    run["summary"]["requests"]
        .as_u64()
        .expect("summary.requests")
}

/// merged.json's request count.
fn merged_requests(dir: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(dir.join("merged.json")).unwrap_or_default();
    let merged: serde_json::Value = serde_json::from_str(&text).expect("merged.json");
    merged["summary"]["requests"].as_u64()
}

/// The value after FLAG in a recorded argument list.
fn arg_after<'a>(args: &'a [String], flag: &str) -> Option<&'a str> {
    let i = args.iter().position(|a| a == flag)?;
    args.get(i + 1).map(String::as_str)
}

/// ssh-run.sh without remote hosts: a stand-in ssh runs the remote command
/// here through sh (as sshd does through the login shell), a stand-in
/// remote bench-client records its arguments and prints shard I's result,
/// and the real binary merges. Each host gets its own --shard I/N, all the
/// same --run-id and --start-at, an argument holding quotes and a $ arrives
/// whole, and the merged count is the shards' sum.
#[test]
fn ssh_run_starts_one_shard_per_host_and_merges_them() {
    let dir = tempdir();
    let d = dir.path();
    let results = d.join("results");
    std::fs::create_dir(&results).unwrap();
    let one = write_shard_results(&results, 3);
    let ssh = write_executable(d, "ssh", "#!/bin/sh\nshift\nexec sh -c \"$*\"\n");
    let remote = write_executable(
        d,
        "remote-bench-client",
        r#"#!/bin/sh
printf '%s\n' "$@" >"$ARGS_DIR/$$.args"
while [ $# -gt 0 ]; do
    [ "$1" = --shard ] && exec cat "$RESULTS/shard-${2%/*}.json"
    shift
done
exit 2
"#,
    );
    let args_dir = d.join("args");
    std::fs::create_dir(&args_dir).unwrap();
    let out = d.join("out");
    let header = r#"X-Note: it's "$HOME" \n"#;
    let ran = run_script(
        "ssh-run.sh",
        &[
            "--ssh",
            path_str(&ssh),
            "--remote-bin",
            path_str(&remote),
            "--margin",
            "0",
            "-o",
            path_str(&out),
            "host-a",
            "user@host-b",
            "host-c",
            "--",
            "-c",
            "6",
            "-H",
            header,
            "http://127.0.0.1:9/",
        ],
        &[
            ("BENCH_CLIENT", BIN),
            ("ARGS_DIR", path_str(&args_dir)),
            ("RESULTS", path_str(&results)),
        ],
        Duration::from_secs(30),
    );
    assert_eq!(
        ran.code, 0,
        "ssh-run.sh\nstdout:\n{}\nstderr:\n{}",
        ran.stdout, ran.stderr
    );

    let mut shards: Vec<Vec<String>> = std::fs::read_dir(&args_dir)
        .unwrap()
        .map(|e| {
            let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
            text.lines().map(str::to_owned).collect()
        })
        .collect();
    shards.sort_by_key(|a| arg_after(a, "--shard").map(str::to_owned));
    let indices: Vec<Option<&str>> = shards.iter().map(|a| arg_after(a, "--shard")).collect();
    assert_eq!(
        indices,
        [Some("0/3"), Some("1/3"), Some("2/3")],
        "{shards:?}"
    );
    let first = &shards[0];
    let start = arg_after(first, "--start-at").expect("--start-at");
    assert!(
        start.len() == 20 && start.ends_with('Z') && start.as_bytes()[10] == b'T',
        "--start-at {start} is not an RFC 3339 UTC time"
    );
    for shard in &shards {
        for flag in ["--run-id", "--start-at"] {
            assert_eq!(arg_after(shard, flag), arg_after(first, flag), "{flag}");
        }
        assert_eq!(arg_after(shard, "-H"), Some(header), "{shard:?}");
        assert_eq!(arg_after(shard, "-o"), Some("-"), "{shard:?}");
    }
    assert_eq!(merged_requests(&out), Some(3 * one));
}

/// deploy/kubernetes/run.sh answers -h like the scripts, and --dry-run
/// fills every placeholder of the Job without a cluster (the manifests'
/// schema check is scripts/validate-manifests.sh, in .ci/run: it needs pip).
#[test]
fn kubernetes_run_dry_run_fills_the_job() {
    let run = "deploy/kubernetes/run.sh";
    let ran = run_repo_script(run, &["-h"], &[], Duration::from_secs(10));
    assert_eq!(ran.code, 0, "-h: {}", ran.stderr);
    assert!(
        ran.stdout.starts_with("run.sh: ")
            && ran.stdout.contains("Usage: deploy/kubernetes/run.sh"),
        "-h printed no usage:\n{}",
        ran.stdout
    );
    let args = [
        "--dry-run",
        "--shards",
        "5",
        "http://t/",
        "--",
        "-R",
        "1000",
    ];
    let ran = run_repo_script(run, &args, &[], Duration::from_secs(10));
    assert_eq!(ran.code, 0, "--dry-run: {}", ran.stderr);
    let left = ran
        .stdout
        .match_indices("${")
        .any(|(i, _)| ran.stdout[i + 2..].starts_with(|c: char| c.is_ascii_uppercase()));
    assert!(!left, "a placeholder left:\n{}", ran.stdout);
    for line in [
        "completions: 5",
        "parallelism: 5",
        "- \"http://t/\"",
        "- \"1000\"",
    ] {
        assert!(ran.stdout.contains(line), "no {line:?} in:\n{}", ran.stdout);
    }
    let args = ["--dry-run", "http://t/", "--", "--start-at", "+5s"];
    let ran = run_repo_script(run, &args, &[], Duration::from_secs(10));
    assert_eq!(ran.code, 2, "a shard flag after --: {}", ran.stderr);
}

/// run.sh against a stand-in kubectl whose Job has finished, shard 2 with a
/// failed check (exit 1): each pod's log mixes stderr lines with the result,
/// and shard-I.json must be exactly the result; the failed shard is still
/// merged, and the exit status says a shard failed.
#[test]
fn kubernetes_run_collects_each_shard_from_its_log() {
    let dir = tempdir();
    let d = dir.path();
    let results = d.join("results");
    std::fs::create_dir(&results).unwrap();
    let one = write_shard_results(&results, 3);
    let bin = d.join("bin");
    std::fs::create_dir(&bin).unwrap();
    write_executable(
        &bin,
        "kubectl",
        r#"#!/bin/sh
case "$1 $2" in
"apply -f") ;;
"get job") printf 'Failed ' ;;
"get pods") printf '0 p-0 Succeeded 0\n2 p-2 Failed 1\n1 p-1 Succeeded 0\n' ;;
"logs p-"*) echo 'metrics on http://10.0.0.1:9464/metrics'; cat "$RESULTS/shard-${2#p-}.json"; echo 'Latency {' ;;
"delete job") ;;
*) echo "unexpected: kubectl $*" >&2; exit 1 ;;
esac
"#,
    );
    let out = d.join("out");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let ran = run_repo_script(
        "deploy/kubernetes/run.sh",
        &[
            "--margin",
            "0",
            "-o",
            path_str(&out),
            "http://t/",
            "--",
            "-d",
            "5s",
        ],
        &[
            ("PATH", &path),
            ("BENCH_CLIENT", BIN),
            ("RESULTS", path_str(&results)),
        ],
        Duration::from_secs(30),
    );
    assert_eq!(
        ran.code, 1,
        "stdout:\n{}\nstderr:\n{}",
        ran.stdout, ran.stderr
    );
    assert!(
        ran.stderr.contains("shard 2 (p-2): Failed, exit 1"),
        "{}",
        ran.stderr
    );
    for i in 0..3 {
        let name = format!("shard-{i}.json");
        let got = std::fs::read_to_string(out.join(&name)).unwrap_or_default();
        let want = std::fs::read_to_string(results.join(&name)).unwrap();
        assert_eq!(got, want, "{name} is not the result in its log");
    }
    assert_eq!(merged_requests(&out), Some(3 * one));
}
