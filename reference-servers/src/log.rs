//! The servers' stderr: one line per connection failure, up to a cap shared
//! by the whole server (for fork: by the parent and every child).
//!
//! Per-request failures (a client that resets, a write that fails) are
//! normal under load, so they are logged sparingly rather than treated as
//! errors of the server: a storm of resets must not flood the terminal, nor
//! make the server spend its time writing to it.

use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};

/// Error lines written to stderr before the rest are only counted.
pub const MAX_LOG_LINES: u64 = 50;

/// stderr lines for per-connection failures, capped; the rest are counted
/// and their number printed once at exit ([`Log::finish`]).
///
/// The count is an atomic behind a `'static` reference, so the fork server
/// can place it in memory its children share and the cap holds across all
/// of them, as it does for the one-process models.
#[derive(Debug, Clone, Copy)]
pub struct Log {
    /// Prefix of every line, e.g. `selector-server`.
    name: &'static str,
    /// Lines asked for so far, written or not.
    lines: &'static AtomicU64,
}

impl Log {
    /// A log whose cap counts this process's lines only (its counter lives
    /// as long as the process, as the server does).
    pub fn new(name: &'static str) -> Log {
        Log::with_counter(name, Box::leak(Box::new(AtomicU64::new(0))))
    }

    /// A log whose cap counts every line asked for through `lines`, which
    /// the caller may share between processes.
    pub fn with_counter(name: &'static str, lines: &'static AtomicU64) -> Log {
        Log { name, lines }
    }

    pub fn line(&self, message: std::fmt::Arguments<'_>) {
        let before = self.lines.fetch_add(1, Ordering::Relaxed);
        if before < MAX_LOG_LINES {
            self.write(message);
            if before + 1 == MAX_LOG_LINES {
                self.write(format_args!(
                    "further connection errors are counted, not logged"
                ));
            }
        }
    }

    /// Writes one whole line in one write(2): `eprintln!` writes a line in
    /// pieces, and fork children writing at once then interleave them.
    fn write(&self, message: std::fmt::Arguments<'_>) {
        let line = format!("{}: {message}\n", self.name);
        // stderr gone: nothing better to do with the line.
        let _ = io::stderr().lock().write_all(line.as_bytes());
    }

    /// A client reset or vanished: one line, and the server goes on.
    pub fn connection_error(&self, during: &str, err: &io::Error) {
        self.line(format_args!(
            "dropping a connection after a {during} error: {err}"
        ));
    }

    /// Lines not written.
    pub fn suppressed(&self) -> u64 {
        self.lines
            .load(Ordering::SeqCst)
            .saturating_sub(MAX_LOG_LINES)
    }

    /// At exit: says how many lines the cap held back, if any.
    pub fn finish(&self) {
        let suppressed = self.suppressed();
        if suppressed > 0 {
            self.write(format_args!(
                "{suppressed} more connection errors were not logged"
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_past_the_cap_are_counted_not_written() {
        let log = Log::new("test");
        for _ in 0..MAX_LOG_LINES + 7 {
            log.line(format_args!("a test line"));
        }
        assert_eq!(log.suppressed(), 7);
    }

    #[test]
    fn logs_sharing_a_counter_share_the_cap() {
        static SHARED: AtomicU64 = AtomicU64::new(0);
        let (a, b) = (
            Log::with_counter("a", &SHARED),
            Log::with_counter("b", &SHARED),
        );
        for _ in 0..MAX_LOG_LINES {
            a.line(format_args!("a line"));
            b.line(format_args!("b line"));
        }
        assert_eq!((a.suppressed(), b.suppressed()), (50, 50));
        assert_eq!(Log::new("c").suppressed(), 0, "a new counter starts at 0");
    }
}
