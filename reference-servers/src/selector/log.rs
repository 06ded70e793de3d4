//! The selector's stderr: one line per connection failure, up to a cap.
//!
//! Per-request failures (a client that resets, a write that fails) are
//! normal under load, so they are logged sparingly rather than treated as
//! errors of the server.

use std::io;

/// Error lines written to stderr before the rest are only counted.
const MAX_LOG_LINES: u64 = 50;

/// stderr lines for per-connection failures, capped so that a storm of
/// resets cannot flood the terminal; the rest are counted.
#[derive(Default)]
pub(super) struct Log {
    lines: u64,
    /// Lines not written, for the count printed at exit.
    pub(super) suppressed: u64,
}

impl Log {
    pub(super) fn line(&mut self, message: std::fmt::Arguments<'_>) {
        if self.lines < MAX_LOG_LINES {
            self.lines += 1;
            eprintln!("selector-server: {message}");
            if self.lines == MAX_LOG_LINES {
                eprintln!("selector-server: further connection errors are counted, not logged");
            }
        } else {
            self.suppressed += 1;
        }
    }

    /// A client reset or vanished: one line, and the server goes on.
    pub(super) fn connection_error(&mut self, during: &str, err: &io::Error) {
        self.line(format_args!(
            "dropping a connection after a {during} error: {err}"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_past_the_cap_are_counted_not_written() {
        let mut log = Log::default();
        for _ in 0..MAX_LOG_LINES + 7 {
            log.line(format_args!("a test line"));
        }
        assert_eq!((log.lines, log.suppressed), (MAX_LOG_LINES, 7));
    }
}
