//! `bench-client merge` (results tooling helper fills this in).

use std::process::ExitCode;

#[derive(Debug, Clone, clap::Args)]
pub struct MergeArgs {}

pub fn run(args: &MergeArgs) -> anyhow::Result<ExitCode> {
    let _ = args;
    anyhow::bail!("`bench-client merge` is not implemented yet")
}
