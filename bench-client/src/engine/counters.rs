//! The workers' running totals, published for whoever watches a run (the
//! progress bar, the live metrics of `--metrics-addr`) without costing the
//! workers a lock or a shared cache line: each worker stores into its own
//! slot with relaxed atomics, and readers sample them.
//!
//! A worker keeps its counts in plain local integers and copies each one
//! that changed into its slot with a `store`: no read-modify-write on an
//! atomic, so no locked instruction per request. The live slots exist only
//! with `--metrics-addr`; without it the workers' only extra work is a
//! branch on an empty `Option`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

use crate::stats::Failure;

/// The upper bounds of the live latency histogram's buckets: in µs, and as
/// the `le` label writes them (canonical OpenMetrics numbers). Fixed, and
/// so identical on every shard, so that the buckets of all shards can be
/// summed into the whole run's; a last bucket, `+Inf`, holds the rest.
pub const LATENCY_BOUNDS: [(u64, &str); 16] = [
    (100, "0.0001"),
    (250, "0.00025"),
    (500, "0.0005"),
    (1_000, "0.001"),
    (2_500, "0.0025"),
    (5_000, "0.005"),
    (10_000, "0.01"),
    (25_000, "0.025"),
    (50_000, "0.05"),
    (100_000, "0.1"),
    (250_000, "0.25"),
    (500_000, "0.5"),
    (1_000_000, "1.0"),
    (2_500_000, "2.5"),
    (5_000_000, "5.0"),
    (10_000_000, "10.0"),
];

/// The live latency buckets: one per bound, then `+Inf`.
pub const LATENCY_BUCKETS: usize = LATENCY_BOUNDS.len() + 1;

/// The bucket of a latency of `us` µs: the first whose bound is at least
/// `us` (OpenMetrics' `le`, less than or equal), else `+Inf`.
#[inline]
pub fn latency_bucket(us: u64) -> usize {
    LATENCY_BOUNDS.partition_point(|&(bound, _)| bound < us)
}

/// One worker's running totals (measured phase only). Aligned to a cache
/// line so that workers do not contend over each other's counters.
#[repr(align(64))]
#[derive(Debug, Default)]
pub struct Slot {
    pub requests: AtomicU64,
    pub errors: AtomicU64,
}

/// One worker's live metrics beside its [`Slot`] (`--metrics-addr` only).
/// Requests begun and ended count every attempt, warm-up included, since
/// what is in flight now is a fact of now; the rest counts what the run's
/// result counts: errors by kind and latencies (timeouts included) of the
/// measured phase.
#[repr(align(64))]
#[derive(Debug, Default)]
pub struct LiveSlot {
    begun: AtomicU64,
    ended: AtomicU64,
    latency_sum_us: AtomicU64,
    errors_by_kind: [AtomicU64; Failure::ALL.len()],
    /// Per bucket, not cumulative: a response touches one of them.
    latency: [AtomicU64; LATENCY_BUCKETS],
}

/// A worker's writer into its [`LiveSlot`]: the local counts it stores.
///
/// Order matters where readers compare counts: an attempt's end is stored
/// after its begin, and a latency or error kind after the `Slot`'s totals
/// ([`Books`](super::books::Books) publishes those first), each with
/// `Release`; [`Counters::snapshot`] reads the later ones first with
/// `Acquire`, so that it never sees more ended than begun, nor more in the
/// histogram than requests and errors. On x86 a release store is the same
/// plain `mov` as a relaxed one.
#[derive(Debug)]
pub struct LiveRecorder<'a> {
    slot: &'a LiveSlot,
    begun: u64,
    ended: u64,
    latency_sum_us: u64,
    latency: [u64; LATENCY_BUCKETS],
}

impl<'a> LiveRecorder<'a> {
    pub fn new(slot: &'a LiveSlot) -> LiveRecorder<'a> {
        LiveRecorder {
            slot,
            begun: 0,
            ended: 0,
            latency_sum_us: 0,
            latency: [0; LATENCY_BUCKETS],
        }
    }

    /// A request attempt starts.
    #[inline]
    pub fn begin(&mut self) {
        self.begun += 1;
        self.slot.begun.store(self.begun, Ordering::Relaxed);
    }

    /// A request attempt ended (answered or failed, counted or not).
    #[inline]
    pub fn end(&mut self) {
        self.ended += 1;
        self.slot.ended.store(self.ended, Ordering::Release);
    }

    /// A latency the run recorded, in µs.
    #[inline]
    pub fn latency(&mut self, us: u64) {
        let b = latency_bucket(us);
        self.latency[b] += 1;
        self.latency_sum_us += us;
        self.slot
            .latency_sum_us
            .store(self.latency_sum_us, Ordering::Relaxed);
        self.slot.latency[b].store(self.latency[b], Ordering::Release);
    }

    /// The worker's count of errors of `kind` is now `count`.
    #[inline]
    pub fn errors(&self, kind: Failure, count: u64) {
        self.slot.errors_by_kind[kind.index()].store(count, Ordering::Release);
    }
}

/// The live metrics of all workers at one moment.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Snapshot {
    /// Complete responses of the measured phase.
    pub requests: u64,
    /// Errors of the measured phase, by [`Failure::index`].
    pub errors_by_kind: [u64; Failure::ALL.len()],
    /// Attempts begun and not yet ended.
    pub in_flight: u64,
    /// Latencies per bucket (not cumulative), and their sum in µs.
    pub latency: [u64; LATENCY_BUCKETS],
    pub latency_sum_us: u64,
}

/// One [`Slot`] per worker, and the start of the run once the engine knows it.
#[derive(Debug)]
pub struct Counters {
    slots: Vec<Slot>,
    /// One per worker with `--metrics-addr`; empty without.
    live: Vec<LiveSlot>,
    /// Set once, when the workers start together (after open-loop connects).
    pub origin: OnceLock<Instant>,
}

impl Counters {
    /// Slots for `workers` workers, and live slots too when `live`.
    pub fn new(workers: usize, live: bool) -> Counters {
        Counters {
            slots: (0..workers).map(|_| Slot::default()).collect(),
            live: (0..if live { workers } else { 0 })
                .map(|_| LiveSlot::default())
                .collect(),
            origin: OnceLock::new(),
        }
    }

    pub fn slot(&self, worker: usize) -> &Slot {
        &self.slots[worker]
    }

    /// The worker's live slot; `None` without `--metrics-addr`.
    pub fn live(&self, worker: usize) -> Option<&LiveSlot> {
        self.live.get(worker)
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

    /// The live metrics summed over all workers (all zero without live
    /// slots). Reads in the reverse of the order workers write (see
    /// [`LiveRecorder`]).
    pub fn snapshot(&self) -> Snapshot {
        let mut s = Snapshot::default();
        for (live, slot) in self.live.iter().zip(&self.slots) {
            for (sum, n) in s.latency.iter_mut().zip(&live.latency) {
                *sum += n.load(Ordering::Acquire);
            }
            for (sum, n) in s.errors_by_kind.iter_mut().zip(&live.errors_by_kind) {
                *sum += n.load(Ordering::Acquire);
            }
            s.latency_sum_us += live.latency_sum_us.load(Ordering::Relaxed);
            let ended = live.ended.load(Ordering::Acquire);
            s.in_flight += live.begun.load(Ordering::Relaxed).saturating_sub(ended);
            s.requests += slot.requests.load(Ordering::Relaxed);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_fall_in_the_bucket_whose_bound_holds_them() {
        assert_eq!(latency_bucket(0), 0);
        assert_eq!(latency_bucket(100), 0, "le: a bound holds its own value");
        assert_eq!(latency_bucket(101), 1);
        assert_eq!(latency_bucket(1_000_000), 12);
        assert_eq!(latency_bucket(10_000_000), 15);
        assert_eq!(latency_bucket(10_000_001), LATENCY_BUCKETS - 1);
        assert_eq!(latency_bucket(u64::MAX), LATENCY_BUCKETS - 1);
    }

    #[test]
    fn bounds_rise_and_their_labels_say_the_same_seconds() {
        for w in LATENCY_BOUNDS.windows(2) {
            assert!(w[0].0 < w[1].0, "{w:?}");
        }
        for (us, le) in LATENCY_BOUNDS {
            assert_eq!(le.parse::<f64>().unwrap(), us as f64 / 1e6, "{le}");
        }
    }

    #[test]
    fn a_snapshot_sums_the_workers() {
        let c = Counters::new(2, true);
        let mut a = LiveRecorder::new(c.live(0).unwrap());
        let mut b = LiveRecorder::new(c.live(1).unwrap());
        a.begin();
        a.begin();
        b.begin();
        a.end();
        a.latency(90);
        a.latency(150);
        b.latency(200);
        b.errors(Failure::Timeout, 3);
        c.slot(0).requests.store(2, Ordering::Relaxed);
        c.slot(1).requests.store(5, Ordering::Relaxed);
        let s = c.snapshot();
        assert_eq!(s.in_flight, 2);
        assert_eq!(s.requests, 7);
        assert_eq!(&s.latency[..3], &[1, 2, 0]);
        assert_eq!(s.latency_sum_us, 440);
        assert_eq!(s.errors_by_kind[Failure::Timeout.index()], 3);
        assert_eq!(s.errors_by_kind.iter().sum::<u64>(), 3);
    }

    #[test]
    fn without_live_slots_there_is_nothing_to_record_into() {
        let c = Counters::new(3, false);
        assert!(c.live(0).is_none());
        assert_eq!(c.snapshot(), Snapshot::default());
    }
}
