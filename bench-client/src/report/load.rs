//! Reading several result files at once, for the tools that work only from
//! saved results (`plot`, `compare`, `merge`); one file is read by
//! [`json::load`], which owns the format's checks and error messages.

use std::path::PathBuf;

use rayon::prelude::*;

use crate::report::json;
use crate::result::RunResult;

/// Reads result files in parallel, in the order given; the first error
/// (naming its file) wins.
pub fn load_all(paths: &[PathBuf]) -> anyhow::Result<Vec<RunResult>> {
    paths.par_iter().map(|p| json::load(p)).collect()
}
