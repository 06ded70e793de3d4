//! Replays every committed fuzz input through its target's entry, on stable
//! Rust and without libFuzzer, so that CI guards the corpus: the entries are
//! `fuzz/entries.rs`, the very file the `cargo fuzz` targets call.
//!
//! Inputs are `fuzz/corpus/TARGET/*` (what fuzzing kept, minimised) and
//! `fuzz/regressions/TARGET/*` (inputs that once failed). A failing input is
//! named by its path. Findings not fixed yet are listed in [`UNFIXED`] and
//! replayed strictly only by the ignored test `unfixed_findings` (the plain
//! entries tolerate exactly those findings; see fuzz/entries.rs).

#[allow(dead_code)]
#[path = "../../fuzz/entries.rs"]
mod entries;

use std::panic;
use std::path::{Path, PathBuf};

/// Regressions whose fix is still to come, as `TARGET/FILE`, each with the
/// finding it reproduces (fuzz/RESULTS.md has the details). Fixing one means
/// removing it here, so that the plain tests replay it from then on.
const UNFIXED: &[&str] = &[
    // S1: a request line's version verdict (400 or 505) depends on where
    // the reads split it (reference-servers/src/http/request.rs,
    // version_error).
    "server_request/version-verdict-depends-on-split",
    // C1: blank lines before a status line count towards the head limit
    // only when the status line has not arrived in the same read
    // (bench-client/src/http/mod.rs, find_head_end).
    "client_response/blank-lines-before-status-line-depend-on-split",
    // L1: a latency threshold is checked finite before its unit scales it,
    // so `p99>1e303s` has threshold inf, written to the result as null
    // (bench-client/src/metric.rs, parse_threshold).
    "cli/latency-threshold-overflows",
    // W1: parse_duration panics ("overflow in Duration::new", inside
    // humantime) on 18446744073709551615.5s0.5s...: a CLI panic for
    // --duration/--timeout/--read-timeout
    // (reference-servers/src/wire/units.rs, parse_duration).
    "wire/duration-overflow-panics",
];

/// A fuzz target's body: panics when a property fails.
type Entry = fn(&[u8]);

fn fuzz_dir() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().expect("the workspace root").join("fuzz")
}

/// The files of `fuzz/KIND/TARGET`, sorted; none if it does not exist.
fn inputs(kind: &str, target: &str) -> Vec<PathBuf> {
    let dir = fuzz_dir().join(kind).join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

fn is_unfixed(target: &str, file: &Path) -> bool {
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    UNFIXED.contains(&format!("{target}/{name}").as_str())
}

/// Runs `entry` on each file; the failures, each naming its file and panic.
fn replay(files: &[PathBuf], entry: Entry) -> Vec<String> {
    let mut failures = Vec::new();
    for file in files {
        let data = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        if let Err(panic) = panic::catch_unwind(|| entry(&data)) {
            let message = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)");
            failures.push(format!("{}: {message}", file.display()));
        }
    }
    failures
}

/// Replays `target`'s corpus (which must not be empty) and its fixed
/// regressions.
fn replay_target(target: &str, entry: Entry) {
    let corpus = inputs("corpus", target);
    assert!(
        !corpus.is_empty(),
        "no inputs in fuzz/corpus/{target}: is the path right?"
    );
    let regressions: Vec<PathBuf> = inputs("regressions", target)
        .into_iter()
        .filter(|f| !is_unfixed(target, f))
        .collect();
    let mut failures = replay(&corpus, entry);
    failures.extend(replay(&regressions, entry));
    assert!(
        failures.is_empty(),
        "{} of {} {target} inputs failed:\n{}",
        failures.len(),
        corpus.len() + regressions.len(),
        failures.join("\n")
    );
}

#[test]
fn server_request() {
    replay_target("server_request", entries::server_request);
}

#[test]
fn client_response() {
    replay_target("client_response", entries::client_response);
}

#[test]
fn wire() {
    replay_target("wire", entries::wire);
}

#[test]
fn cli() {
    replay_target("cli", entries::cli);
}

/// Every regression listed in [`UNFIXED`], through the strict entries: fails
/// until its finding is fixed.
#[test]
#[ignore = "findings not fixed yet; see UNFIXED and fuzz/RESULTS.md"]
fn unfixed_findings() {
    let targets: [(&str, Entry); 4] = [
        ("server_request", entries::server_request_strict),
        ("client_response", entries::client_response_strict),
        ("wire", entries::wire),
        ("cli", entries::cli_strict),
    ];
    let mut failures = Vec::new();
    for unfixed in UNFIXED {
        let (target, _) = unfixed.split_once('/').expect("TARGET/FILE");
        let file = fuzz_dir().join("regressions").join(unfixed);
        assert!(file.is_file(), "{} is missing", file.display());
        let (_, entry) = targets
            .iter()
            .find(|(t, _)| *t == target)
            .expect("a known target");
        failures.extend(replay(&[file], *entry));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every regression listed as unfixed exists (a stale list hides nothing).
#[test]
fn unfixed_list_names_existing_regressions() {
    for unfixed in UNFIXED {
        let file = fuzz_dir().join("regressions").join(unfixed);
        assert!(
            file.is_file(),
            "UNFIXED names {}, which is missing",
            file.display()
        );
    }
}
