//! The exit statuses, one meaning each and the same for every subcommand
//! (the table is in `--help`: [`crate::exit_status_help`]), and the error
//! types that choose one. An error that is neither a [`UsageError`] nor a
//! [`TargetError`] is bench-client's own failure.

use std::process::ExitCode;

use crate::config::ConfigError;

/// The run completed and every check passed.
pub const OK: u8 = 0;
/// A check failed (by default: no request succeeded), or the target could
/// not be reached at start-up.
pub const CHECK_FAILED: u8 = 1;
/// Bad usage or input: nothing was measured because the command was wrong.
pub const USAGE: u8 = 2;
/// bench-client itself failed: the result could not be saved, `--server`
/// would not start, the engine could not run.
pub const TOOL: u8 = 3;

/// Input the user gave that cannot be used (an unreadable or invalid result
/// file, load shapes that cannot be compared): exit [`USAGE`].
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct UsageError(#[from] pub anyhow::Error);

/// The target failed before the load started (refused, unresolvable): exit
/// [`CHECK_FAILED`], since it is the target, not the command, that is wrong.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct TargetError(#[from] pub anyhow::Error);

/// The status for an error that ended a command.
pub fn status_of(error: &anyhow::Error) -> u8 {
    for cause in error.chain() {
        if cause.is::<ConfigError>() || cause.is::<UsageError>() || cause.is::<clap::Error>() {
            return USAGE;
        }
        if cause.is::<TargetError>() {
            return CHECK_FAILED;
        }
    }
    TOOL
}

/// `code` as a process exit status.
pub fn code(code: u8) -> ExitCode {
    ExitCode::from(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context as _;

    #[test]
    fn each_error_type_chooses_its_status() {
        let usage = anyhow::Error::from(UsageError(anyhow::anyhow!("bad file")));
        assert_eq!(status_of(&usage.context("cannot plot")), USAGE);
        let target = anyhow::Error::from(TargetError(anyhow::anyhow!("refused")));
        assert_eq!(status_of(&target), CHECK_FAILED);
        let config = Err::<(), _>(ConfigError::TlsWithHttp {
            flag: "--cacert",
            url: "http://x/".into(),
        })
        .context("cannot start")
        .unwrap_err();
        assert_eq!(status_of(&config), USAGE);
        assert_eq!(status_of(&anyhow::anyhow!("disk full")), TOOL);
    }

    #[test]
    fn wrapping_keeps_the_message_chain() {
        let inner = anyhow::anyhow!("connection refused").context("cannot connect to 127.0.0.1:1");
        let e = anyhow::Error::from(TargetError(inner));
        assert_eq!(
            format!("{e:#}"),
            "cannot connect to 127.0.0.1:1: connection refused"
        );
    }
}
