//! `bench-client plot` (results tooling helper fills this in).

use std::process::ExitCode;

#[derive(Debug, Clone, clap::Args)]
pub struct PlotArgs {}

pub fn run(args: &PlotArgs) -> anyhow::Result<ExitCode> {
    let _ = args;
    anyhow::bail!("`bench-client plot` is not implemented yet")
}
