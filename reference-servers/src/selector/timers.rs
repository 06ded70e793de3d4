//! The selector's timers: what each one is for ([`Timer`]). The queue that
//! yields them in deadline order and the timerfd that wakes the loop are
//! [`crate::timers`], shared with the client's workers.
//!
//! The loop drains due timers after every wake-up and arms the alarm to the
//! earliest deadline left.

use std::time::Instant;

use super::token::Key;

/// Timer payloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Timer {
    /// A connection's deadline (read timeout, write stall or linger end);
    /// live only while `at` equals the connection's `timer_at`.
    Deadline { key: Key, at: Instant },
    /// A `/delay/MS` response became due.
    Delay { key: Key },
    /// The accept backoff ended.
    ResumeAccept,
}
