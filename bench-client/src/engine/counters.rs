//! The workers' running totals, published for whoever watches a run (the
//! progress bar today, live metrics later) without costing the workers a
//! lock or a shared cache line: each worker stores into its own slot with
//! relaxed atomics, and readers sample them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

/// One worker's running totals (measured phase only). Aligned to a cache
/// line so that workers do not contend over each other's counters.
#[repr(align(64))]
#[derive(Debug, Default)]
pub struct Slot {
    pub requests: AtomicU64,
    pub errors: AtomicU64,
}

/// One [`Slot`] per worker, and the start of the run once the engine knows it.
#[derive(Debug)]
pub struct Counters {
    slots: Vec<Slot>,
    /// Set once, when the workers start together (after open-loop connects).
    pub origin: OnceLock<Instant>,
}

impl Counters {
    pub fn new(workers: usize) -> Counters {
        Counters {
            slots: (0..workers).map(|_| Slot::default()).collect(),
            origin: OnceLock::new(),
        }
    }

    pub fn slot(&self, worker: usize) -> &Slot {
        &self.slots[worker]
    }

    /// (requests, errors) over all workers.
    pub fn totals(&self) -> (u64, u64) {
        self.slots.iter().fold((0, 0), |(r, e), s| {
            (
                r + s.requests.load(Ordering::Relaxed),
                e + s.errors.load(Ordering::Relaxed),
            )
        })
    }
}
