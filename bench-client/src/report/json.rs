//! Saving a result as JSON: atomically, so that no half-written file is left.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::result::RunResult;

/// Why a result could not be saved.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("cannot write result to {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// `DIR/<UTC timestamp>-<label>.json`, e.g. `results/20261125T192000Z-selector.json`.
pub fn default_path(dir: &Path, started: SystemTime, label: &str) -> PathBuf {
    let _ = (dir, started, label);
    todo!("report helper")
}

/// Writes `result` to `path` (creating its folder) via a temporary file and a rename.
pub fn save(result: &RunResult, path: &Path) -> Result<(), SaveError> {
    let _ = (result, path);
    todo!("report helper")
}

/// Reads a result file, with an error naming the file and what is wrong.
pub fn load(path: &Path) -> anyhow::Result<RunResult> {
    let _ = path;
    todo!("report helper")
}
