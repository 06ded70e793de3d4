//! Timers of an event loop, shared by the selector server and the client's
//! workers so that both wake the same way: a queue that yields timers in
//! deadline order ([`TimerQueue`]) and one timerfd armed to the earliest of
//! them ([`Alarm`]), which also copes with a stale wake-up after re-arming.

mod alarm;

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::time::Instant;

pub use alarm::Alarm;

/// A min-heap of timers with lazy deletion: cancelling is the owner's job (a
/// fired timer whose owner is gone or moved on is ignored), which keeps every
/// operation O(log n) without an index of entries.
pub struct TimerQueue<T> {
    heap: BinaryHeap<Reverse<TimerEntry<T>>>,
    /// Ties break in insertion order.
    next_seq: u64,
}

impl<T> Default for TimerQueue<T> {
    fn default() -> Self {
        TimerQueue {
            heap: BinaryHeap::new(),
            next_seq: 0,
        }
    }
}

struct TimerEntry<T> {
    at: Instant,
    seq: u64,
    item: T,
}

impl<T> PartialEq for TimerEntry<T> {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl<T> Eq for TimerEntry<T> {}

impl<T> PartialOrd for TimerEntry<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T> Ord for TimerEntry<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

impl<T> TimerQueue<T> {
    /// A queue with room for `capacity` timers before it allocates: a loop
    /// that keeps one timer per connection never allocates while running.
    pub fn with_capacity(capacity: usize) -> Self {
        TimerQueue {
            heap: BinaryHeap::with_capacity(capacity),
            next_seq: 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    pub fn push(&mut self, at: Instant, item: T) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Reverse(TimerEntry { at, seq, item }));
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse(entry)| entry.at)
    }

    /// The earliest timer due at `now`, if any.
    pub fn pop_due(&mut self, now: Instant) -> Option<(Instant, T)> {
        if self.next_deadline()? > now {
            return None;
        }
        self.heap.pop().map(|Reverse(entry)| (entry.at, entry.item))
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.heap.len()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn timers_pop_in_deadline_order_and_ties_in_insertion_order() {
        let base = Instant::now();
        let mut timers = TimerQueue::default();
        timers.push(base + Duration::from_millis(30), "c");
        timers.push(base + Duration::from_millis(10), "a1");
        timers.push(base + Duration::from_millis(20), "b");
        timers.push(base + Duration::from_millis(10), "a2");
        assert_eq!(
            timers.next_deadline(),
            Some(base + Duration::from_millis(10))
        );
        assert_eq!(timers.pop_due(base), None, "nothing is due before its time");
        let now = base + Duration::from_millis(20);
        let mut fired = Vec::new();
        while let Some((at, item)) = timers.pop_due(now) {
            assert!(at <= now);
            fired.push(item);
        }
        assert_eq!(fired, ["a1", "a2", "b"]);
        assert_eq!(timers.len(), 1);
        assert_eq!(
            timers.next_deadline(),
            Some(base + Duration::from_millis(30))
        );
    }
}
