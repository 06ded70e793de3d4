//! The bound on request memory in total, not per request.
//!
//! `--max-body` caps one request; without more, eight clients each sending
//! most of a 64 MiB body made a server hold half a gigabyte. So:
//!
//! * every route but `POST /echo` discards a body as it arrives (counting
//!   its bytes for the totals): a connection then holds only its read buffer
//!   (64 KiB) and at most one 16 KiB head;
//! * `/echo` must hold a body to send it back, so every byte it holds is
//!   reserved from one [`BodyBudget`] per server (`--max-buffered`, 128 MiB
//!   by default) — per process for sync and selector, and in memory shared
//!   by all of a fork server's children. A Content-Length body reserves its
//!   declared length when its head arrives (so the client hears at once,
//!   before it sends the body); a chunked one reserves each chunk as its size
//!   line arrives. A request that does not fit gets 503 and a close. The
//!   reservation moves with the body into the echoed response and is
//!   released once that response is written (or dropped).
//!
//! Every model then holds at most `--max-buffered` of bodies plus a bounded
//! buffer per connection, however many connections send at once.

use std::sync::atomic::{AtomicU64, Ordering};

use super::HttpError;

/// What a request that does not fit the budget gets.
pub(super) const BUDGET_FULL: HttpError = HttpError::new(
    503,
    "the server already holds --max-buffered bytes of request bodies; retry later",
);

/// Request-body bytes held across a whole server, and their bound. Only
/// atomics, so the fork server can place it in memory its children share.
#[derive(Debug)]
#[repr(C)]
pub struct BodyBudget {
    limit: u64,
    used: AtomicU64,
}

impl BodyBudget {
    pub const fn new(limit: u64) -> BodyBudget {
        BodyBudget {
            limit,
            used: AtomicU64::new(0),
        }
    }

    /// A budget for this process, living as long as it (a server's requests
    /// and responses hold references to it until the process exits).
    pub fn leak(limit: u64) -> &'static BodyBudget {
        Box::leak(Box::new(BodyBudget::new(limit)))
    }

    /// Bytes reserved now.
    pub fn used(&self) -> u64 {
        self.used.load(Ordering::SeqCst)
    }

    /// Reserves `bytes`, or `None` if they do not fit.
    pub(crate) fn reserve(&'static self, bytes: u64) -> Option<Reservation> {
        // Not `then_some`: its argument is built eagerly, and dropping an
        // unused Reservation would give back bytes never taken.
        self.take(bytes).then(|| Reservation {
            budget: self,
            bytes,
        })
    }

    fn take(&self, bytes: u64) -> bool {
        self.used
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |used| {
                used.checked_add(bytes).filter(|&total| total <= self.limit)
            })
            .is_ok()
    }
}

/// Bytes of a [`BodyBudget`] held for one body; given back on drop.
#[derive(Debug)]
pub struct Reservation {
    budget: &'static BodyBudget,
    bytes: u64,
}

impl Reservation {
    /// Holds `more` bytes as well; false (and nothing more held) if they do
    /// not fit.
    pub(crate) fn grow(&mut self, more: u64) -> bool {
        let fits = self.budget.take(more);
        if fits {
            self.bytes += more;
        }
        fits
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.budget.used.fetch_sub(self.bytes, Ordering::SeqCst);
    }
}

/// Two requests are equal whatever budget their bodies came from.
impl PartialEq for Reservation {
    fn eq(&self, other: &Reservation) -> bool {
        self.bytes == other.bytes
    }
}

impl Eq for Reservation {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_fit_the_limit_and_are_given_back_on_drop() {
        let budget = BodyBudget::leak(100);
        let mut first = budget.reserve(60).expect("fits");
        assert!(budget.reserve(41).is_none(), "60 + 41 > 100");
        assert!(!first.grow(41));
        assert_eq!(first.bytes(), 60);
        let second = budget.reserve(40).expect("60 + 40 fits exactly");
        assert_eq!(budget.used(), 100);
        drop(second);
        assert!(first.grow(40));
        assert_eq!(budget.used(), 100);
        drop(first);
        assert_eq!(budget.used(), 0);
    }
}
