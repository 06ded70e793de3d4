//! `bench-client find-max` end to end: a short real search writes every
//! trial as a normal result and a `summary.json` that
//! `results/format/find-max.schema.json` accepts, and the schema refuses
//! what the format does not allow. Whether the trials pass is timing, so it
//! is left to `scripts/find-max-check.sh`; here only the files are judged.

use std::path::{Path, PathBuf};
use std::process::Command;

use bench_client::findmax::summary::Summary;
use serde_json::Value;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("bench-client lives inside the workspace")
        .to_path_buf()
}

fn validator(file: &str) -> jsonschema::Validator {
    let text = std::fs::read_to_string(repo_root().join("results/format").join(file)).unwrap();
    let schema: Value = serde_json::from_str(&text).unwrap();
    jsonschema::validator_for(&schema).expect("a valid JSON Schema")
}

fn errors(v: &jsonschema::Validator, doc: &Value) -> String {
    v.iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_short_search_writes_trials_a_summary_and_a_chart_the_schemas_accept() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fm");
    let status = Command::new(env!("CARGO_BIN_EXE_bench-client"))
        .args([
            "find-max",
            "--server",
            "selector",
            "--slo",
            "p99<1s",
            "--slo",
            "error_rate<=100%",
            "--trial-duration",
            "300ms",
            "--warmup",
            "0s",
            "--start-rate",
            "20",
            "--repeats",
            "1",
            "--budget",
            "2s",
            "-o",
        ])
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&status.stdout);
    let stderr = String::from_utf8_lossy(&status.stderr);
    assert!(
        matches!(status.status.code(), Some(0 | 1)),
        "{status:?}\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("Max rate: "), "{stdout}");
    let text = std::fs::read_to_string(out.join("summary.json")).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    let errs = errors(&validator("find-max.schema.json"), &doc);
    assert!(errs.is_empty(), "{errs}\n{text}");
    let summary: Summary = serde_json::from_value(doc.clone()).unwrap();
    // 2 s of budget for trials costing at least 0.3 s: a few trials, each a
    // normal result; the budget (or, on a loaded machine, the generator)
    // ends the search, since the selector server takes far more.
    assert!((1..=6).contains(&summary.trials.len()), "{text}");
    use bench_client::findmax::search::Stop;
    assert!(
        matches!(summary.stop, Stop::Budget | Stop::Generator),
        "{text}"
    );
    assert_eq!(summary.objectives, ["p99<1s", "error_rate<=100%"]);
    let results = validator("schema.json");
    for t in &summary.trials {
        let r: Value =
            serde_json::from_str(&std::fs::read_to_string(out.join(&t.file)).unwrap()).unwrap();
        let errs = errors(&results, &r);
        assert!(errs.is_empty(), "{}: {errs}", t.file);
        assert_eq!(r["summary"]["target_rate"].as_f64(), Some(t.rate));
        assert_eq!(r["verdict"]["valid"].as_bool(), Some(t.verdict.valid));
    }
    assert_eq!(summary.trials[0].rate, 20.0);
    let svg = std::fs::read_to_string(out.join("knee.svg")).unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains("offered rate"),
        "{svg:.200}"
    );

    // A second search into the same folder is refused: its trials would mix.
    let again = Command::new(env!("CARGO_BIN_EXE_bench-client"))
        .args(["find-max", "--slo", "p99<1s", "-o"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already holds a search (summary.json)"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );

    // The schema is a contract: what the format does not allow is refused.
    let v = validator("find-max.schema.json");
    for (path, bad) in [
        ("/interval", serde_json::json!([1.0])),
        ("/stop", serde_json::json!("gave_up")),
        ("/max_rate", serde_json::json!("fast")),
        ("/trials/0/outcome", serde_json::json!("maybe")),
        ("/settings/repeats", serde_json::json!(0)),
    ] {
        let mut d = doc.clone();
        *d.pointer_mut(path).unwrap() = bad;
        assert!(!errors(&v, &d).is_empty(), "{path} accepted");
    }
}
