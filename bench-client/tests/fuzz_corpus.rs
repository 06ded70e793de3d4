//! Replays every committed fuzz input through its target's entry, on stable
//! Rust and without libFuzzer, so that CI guards the corpus: the entries are
//! `fuzz/entries.rs`, the very file the `cargo fuzz` targets call.
//!
//! Inputs are `fuzz/corpus/TARGET/*` (what fuzzing kept, minimised) and
//! `fuzz/regressions/TARGET/*` (inputs that once failed). A failing input is
//! named by its path. Every finding so far is fixed, so every regression is
//! replayed as strictly as the corpus (fuzz/RESULTS.md lists them).

#[allow(dead_code)]
#[path = "../../fuzz/entries.rs"]
mod entries;

use std::panic;
use std::path::{Path, PathBuf};

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
    let regressions = inputs("regressions", target);
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
