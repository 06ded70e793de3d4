//! The human summary printed on stdout after a run, in the spirit of wrk.

use std::path::Path;

use crate::result::RunResult;

/// Renders the summary; `saved` is where the JSON result was written, if anywhere.
pub fn render(result: &RunResult, saved: Option<&Path>) -> String {
    let _ = (result, saved);
    todo!("report helper")
}
