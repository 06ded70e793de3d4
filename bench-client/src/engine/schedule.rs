//! When a connection may send its next request, and the per-thread timer
//! that wakes it then.
//!
//! The schedule is a parameter of the one connection loop: a closed loop
//! sends as soon as the previous response is in; an open loop gives each
//! connection its own due times. Timers fire through a `timerfd` registered in
//! the worker's `mio::Poll`: epoll's own timeout has millisecond resolution
//! (plus the thread's timer slack), a timerfd has nanoseconds, so pacing needs
//! no spinning.

use std::io;
use std::ops::Range;
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};
use reference_servers::timers::{Alarm, TimerQueue};

use crate::shape::arrivals::ConnArrivals;

/// A due time this far ahead (100 years, in seconds) is never reached.
const NEVER_S: f64 = 100.0 * 365.0 * 24.0 * 3600.0;

/// When requests are sent.
#[derive(Debug, Clone, Copy)]
pub enum Schedule {
    /// The next request goes out as soon as the connection is free.
    Closed,
    /// Request `k` of connection `i` is due at
    /// `origin + (i + k * connections) / rate`: every connection runs at
    /// `rate / connections`, and their starts are staggered by `1 / rate`
    /// so that they interleave instead of firing in lockstep. Any rate above
    /// zero works with any number of connections and threads.
    Open {
        origin: Instant,
        rate: f64,
        connections: u32,
    },
    /// An open loop whose due times each connection reads from its own
    /// [`ConnArrivals`](crate::shape::arrivals::ConnArrivals) (stages, or
    /// Poisson arrivals), as offsets from `origin`. `-R` with uniform
    /// arrivals stays [`Schedule::Open`], so that its sends do not move by
    /// a rounding.
    Curve { origin: Instant },
    /// A closed loop whose connections open and close on the stages'
    /// connection curve, as offsets from `origin`.
    Ramp { origin: Instant },
}

impl Schedule {
    /// When request `k` of connection `conn` is due; `None` means now.
    #[inline]
    pub fn due(&self, conn: u32, k: u64) -> Option<Instant> {
        match *self {
            Schedule::Closed | Schedule::Curve { .. } | Schedule::Ramp { .. } => None,
            Schedule::Open {
                origin,
                rate,
                connections,
            } => {
                let slot = conn as f64 + k as f64 * connections as f64;
                // A tiny rate (`-R 1e-300`) puts due times beyond what a
                // Duration holds, and from_secs_f64 panics there: such a
                // request is simply never due within any run.
                let offset = (slot / rate).min(NEVER_S);
                Some(origin + Duration::from_secs_f64(offset))
            }
        }
    }

    pub fn is_open(&self) -> bool {
        matches!(self, Schedule::Open { .. } | Schedule::Curve { .. })
    }
}

/// What a connection (or an HTTP/2 stream slot) does next, by its schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    /// Send now (closed loop).
    Now,
    /// Send the request due at this instant (open loop); one already past
    /// is sent at once and keeps its intended time.
    Due(Instant),
    /// Closed-loop stages: this connection's interval is over; close it
    /// and ask again at this instant, when its next one opens.
    ClosedUntil(Instant),
    /// No more requests.
    Done,
}

/// One connection's place in the schedule: its request count under
/// [`Schedule::Open`], its own arrivals under [`Schedule::Curve`], its open
/// intervals under [`Schedule::Ramp`]. Both protocols' connections pace
/// themselves with it.
#[derive(Debug, Default)]
pub struct Pacer {
    /// Run-wide connection number (its place in the schedule).
    id: u32,
    /// Open loop: index of the next request.
    k: u64,
    /// Boxed: closed-loop connections should not carry its size.
    arrivals: Option<Box<ConnArrivals>>,
    /// When this connection is open, from the origin, and the first
    /// interval not yet over.
    intervals: Vec<Range<Duration>>,
    interval: usize,
}

impl Pacer {
    pub fn new(id: u32) -> Pacer {
        Pacer {
            id,
            ..Pacer::default()
        }
    }

    pub fn set_arrivals(&mut self, arrivals: ConnArrivals) {
        self.arrivals = Some(Box::new(arrivals));
    }

    pub fn set_intervals(&mut self, intervals: Vec<Range<Duration>>) {
        self.intervals = intervals;
    }

    /// The next turn at `now`.
    pub fn next(&mut self, schedule: &Schedule, now: Instant) -> Turn {
        match *schedule {
            Schedule::Curve { origin } => match self.arrivals.as_mut().and_then(|a| a.next_due()) {
                Some(due) => Turn::Due(origin + due),
                None => Turn::Done,
            },
            Schedule::Ramp { origin } => self.ramp(origin, now),
            Schedule::Closed | Schedule::Open { .. } => match schedule.due(self.id, self.k) {
                None => Turn::Now,
                Some(due) => {
                    self.k += 1;
                    Turn::Due(due)
                }
            },
        }
    }

    /// A closed loop on stages: send while this connection's interval is
    /// open; once it is over, wait for the next interval to open.
    fn ramp(&mut self, origin: Instant, now: Instant) -> Turn {
        let since = now.saturating_duration_since(origin);
        while self
            .intervals
            .get(self.interval)
            .is_some_and(|iv| iv.end <= since)
        {
            self.interval += 1;
        }
        match self.intervals.get(self.interval).map(|iv| iv.start) {
            None => Turn::Done,
            Some(start) if start > since => Turn::ClosedUntil(origin + start),
            Some(_) => Turn::Now,
        }
    }
}

/// The worker's wake-ups: (wake time, connection index) in deadline order
/// behind one timerfd, both shared with the selector server
/// ([`reference_servers::timers`]), so that a stale wake-up after re-arming
/// is handled the one way: the timer stays armed.
///
/// Each connection has at most one entry, so the queue never grows past the
/// capacity reserved at the start: no allocation while running.
pub struct Timers {
    queue: TimerQueue<usize>,
    alarm: Alarm,
}

impl Timers {
    pub fn new(capacity: usize) -> io::Result<Timers> {
        Ok(Timers {
            queue: TimerQueue::with_capacity(capacity),
            alarm: Alarm::new()?,
        })
    }

    pub fn register(&self, registry: &Registry, token: Token) -> io::Result<()> {
        registry.register(
            &mut SourceFd(&self.alarm.raw_fd()),
            token,
            Interest::READABLE,
        )
    }

    #[inline]
    pub fn push(&mut self, at: Instant, conn: usize) {
        self.queue.push(at, conn);
    }

    /// The next entry due at or before `now`.
    #[inline]
    pub fn pop_due(&mut self, now: Instant) -> Option<(Instant, usize)> {
        self.queue.pop_due(now)
    }

    /// Points the timerfd at the earliest entry (after [`pop_due`](Self::pop_due),
    /// so that it lies in the future; one already past fires at once). Costs
    /// no system call when the earliest entry has not changed.
    pub fn arm(&mut self) -> io::Result<()> {
        Ok(self.alarm.set(self.queue.next_deadline())?)
    }

    /// After the timerfd was readable: consume its expiry (a stale event
    /// finds none, and the timer stays armed).
    pub fn fired(&mut self) -> io::Result<()> {
        Ok(self.alarm.fired()?)
    }
}

/// Asks the kernel for a short time slice (100 µs) for the calling thread.
///
/// Since Linux 6.12 the fair scheduler (EEVDF) takes `sched_runtime` of a
/// `SCHED_OTHER` thread as its slice request: a shorter slice gives the
/// thread earlier deadlines, so a timer wake-up preempts a CPU-bound
/// neighbour (the server under test, a compiler) sooner instead of waiting
/// for its slice to end. It needs no privilege and changes neither policy
/// nor nice value; older kernels ignore it. Used by open-loop workers, whose
/// precision is the point (measured here under load: schedule-error p99 of
/// 43-73 µs with it, 340-380 µs without, at 10k req/s); `--no-short-slice`
/// turns it off for such comparisons. Returns whether the kernel accepted it.
pub fn request_short_slice() -> bool {
    // SAFETY: plain syscalls on the calling thread: getpriority reads its
    // nice value; sched_setattr reads a fully initialised `sched_attr` of the
    // size it is told (`size`), through a pointer valid for the whole call.
    unsafe {
        let tid = libc::gettid();
        *libc::__errno_location() = 0;
        let nice = libc::getpriority(libc::PRIO_PROCESS, tid as libc::id_t);
        if nice == -1 && *libc::__errno_location() != 0 {
            return false;
        }
        let attr = libc::sched_attr {
            size: std::mem::size_of::<libc::sched_attr>() as u32,
            sched_policy: libc::SCHED_OTHER as u32,
            sched_flags: 0,
            sched_nice: nice,
            sched_priority: 0,
            sched_runtime: 100_000,
            sched_deadline: 0,
            sched_period: 0,
        };
        libc::syscall(
            libc::SYS_sched_setattr,
            0,
            &attr as *const libc::sched_attr,
            0,
        ) == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_loop_is_staggered_and_holds_the_total_rate() {
        let origin = Instant::now();
        let s = Schedule::Open {
            origin,
            rate: 1000.0,
            connections: 4,
        };
        let ms = |c, k| (s.due(c, k).unwrap() - origin).as_secs_f64() * 1000.0;
        // Connections interleave 1 ms apart; each one runs every 4 ms.
        for (c, k, want) in [
            (0, 0, 0.0),
            (1, 0, 1.0),
            (3, 0, 3.0),
            (0, 1, 4.0),
            (2, 250, 1002.0),
        ] {
            assert!(
                (ms(c, k) - want).abs() < 1e-6,
                "conn {c} req {k}: {} ms",
                ms(c, k)
            );
        }
    }

    #[test]
    fn rate_below_connections_does_not_round_to_zero() {
        let origin = Instant::now();
        let s = Schedule::Open {
            origin,
            rate: 1.0,
            connections: 100,
        };
        assert_eq!(s.due(99, 0).unwrap() - origin, Duration::from_secs(99));
        assert_eq!(s.due(0, 1).unwrap() - origin, Duration::from_secs(100));
    }

    /// Review finding: `-R 1e-300` (accepted: any rate above 0) made every
    /// worker panic converting an infinite number of seconds to a Duration.
    #[test]
    fn tiny_rate_is_due_far_ahead_not_a_panic() {
        let origin = Instant::now();
        let s = Schedule::Open {
            origin,
            rate: 1e-300,
            connections: 4,
        };
        assert_eq!(s.due(0, 0), Some(origin));
        let later = s.due(3, u64::MAX).unwrap() - origin;
        assert!(
            later > Duration::from_secs(50 * 365 * 24 * 3600),
            "{later:?}"
        );
    }

    #[test]
    fn short_slice_keeps_the_policy_and_nice_value() {
        std::thread::spawn(|| {
            // SAFETY: reads of the calling thread's scheduling state.
            let before =
                unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) };
            request_short_slice();
            // SAFETY: as above.
            let (policy, after) = unsafe {
                (
                    libc::sched_getscheduler(0),
                    libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t),
                )
            };
            assert_eq!(policy, libc::SCHED_OTHER);
            assert_eq!(after, before);
        })
        .join()
        .unwrap();
    }

    #[test]
    fn timers_pop_in_order() {
        let now = Instant::now();
        let mut t = Timers::new(4).unwrap();
        t.push(now + Duration::from_millis(3), 3);
        t.push(now + Duration::from_millis(1), 1);
        t.push(now + Duration::from_millis(2), 2);
        assert!(t.pop_due(now).is_none());
        t.arm().unwrap();
        let later = now + Duration::from_millis(2);
        assert_eq!(t.pop_due(later).map(|e| e.1), Some(1));
        assert_eq!(t.pop_due(later).map(|e| e.1), Some(2));
        assert!(t.pop_due(later).is_none());
    }
}
