//! The verdict end to end: `--fail-on generator` on a real run, and
//! `compare` refusing runs that are not valid (exit 2) unless `--force`.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn bench_client(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_bench-client"))
        .args(args)
        .output()
        .unwrap()
}

fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn fail_on_generator_is_recorded_with_the_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    let ran = bench_client(&[
        "--server",
        "selector",
        "-n",
        "50",
        "-c",
        "2",
        "--fail-on",
        "generator",
        "--quiet",
        "-o",
        out.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&ran.stdout);
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let valid = r["verdict"]["valid"].as_bool().expect("a verdict");
    // So short a run is not judged busy, and a closed loop has no schedule.
    assert!(valid, "{}", r["verdict"]);
    assert_eq!(ran.status.code(), Some(0), "{stdout}");
    let check = &r["checks"][1];
    assert_eq!(check["expr"], "generator");
    assert_eq!(check["failed"], false);
    assert!(stdout.contains("\nVALID\n"), "{stdout}");
    assert!(
        stdout.contains("generator passed: the run is VALID"),
        "{stdout}"
    );
}

#[test]
fn compare_refuses_runs_that_are_not_valid_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for (i, name) in [
        "baseline-1.json",
        "baseline-2.json",
        "noise-1.json",
        "noise-2.json",
    ]
    .iter()
    .enumerate()
    {
        let mut r = fixture(name);
        if i == 3 {
            r["verdict"] = serde_json::json!({
                "valid": false,
                "reasons": ["worker 0 busy 99 % of the run"]
            });
        }
        let p = dir.path().join(name);
        std::fs::write(&p, serde_json::to_string(&r).unwrap()).unwrap();
        paths.push(p.to_str().unwrap().to_string());
    }
    let args = |force: bool| {
        let mut a = vec![
            "compare",
            paths[0].as_str(),
            paths[1].as_str(),
            "--against",
            paths[2].as_str(),
            paths[3].as_str(),
        ];
        if force {
            a.push("--force");
        }
        bench_client(&a)
    };
    let refused = args(false);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with("error: 1 of the runs are NOT VALID")
            && stderr.contains("noise-2.json: worker 0 busy 99 % of the run")
            && stderr.contains("pass --force"),
        "{stderr}"
    );
    let forced = args(true);
    assert!(
        matches!(forced.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&forced.stderr)
    );
}
