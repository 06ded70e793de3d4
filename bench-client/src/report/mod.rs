//! Output formats of a run: the JSON result file and the text summary.
pub mod json;
pub mod text;
