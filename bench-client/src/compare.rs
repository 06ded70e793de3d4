//! `bench-client compare` (results tooling helper fills this in).

use std::process::ExitCode;

#[derive(Debug, Clone, clap::Args)]
pub struct CompareArgs {}

pub fn run(args: &CompareArgs) -> anyhow::Result<ExitCode> {
    let _ = args;
    anyhow::bail!("`bench-client compare` is not implemented yet")
}
