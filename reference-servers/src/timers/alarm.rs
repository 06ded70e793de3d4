//! An event loop's one wake-up timer: a timerfd armed to the earliest
//! pending deadline with nanosecond precision (the selector server's loop
//! and each of the client's workers use it).
//!
//! `epoll_wait`, and so `mio::Poll::poll`, takes its timeout in whole
//! milliseconds rounded up, which made every `/delay/MS` and read timeout
//! fire up to 1 ms late. A timerfd armed to an absolute `CLOCK_MONOTONIC`
//! instant is just one more readable source in the loop, so the loop can wait
//! in `poll` without a timeout and still wake when a deadline passes.

use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::time::TimeSpec;
use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};
use nix::time::{clock_gettime, ClockId as ClockReading};

/// Attempts at reading the clock and `Instant::now()` close together.
const ORIGIN_ATTEMPTS: usize = 64;
/// A pair of readings this close needs no further attempt.
const ORIGIN_GOOD_ENOUGH: Duration = Duration::from_micros(2);

/// A one-shot timerfd plus the deadline it is armed to.
pub struct Alarm {
    fd: TimerFd,
    /// `origin` and `origin_clock` name the same moment, `Instant` being
    /// opaque: std reads `CLOCK_MONOTONIC` on Linux, so the two differ by a
    /// constant, measured once here.
    origin: Instant,
    origin_clock: Duration,
    /// How much later than `origin` the clock reading may have been taken:
    /// every deadline fires at most this late, never early.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) origin_error: Duration,
    /// The deadline the timerfd is armed to; `None` when it is disarmed or
    /// has fired (a one-shot timerfd disarms itself).
    armed: Option<Instant>,
    /// `timerfd_settime` calls, so tests can prove an unchanged deadline
    /// costs none.
    #[cfg(test)]
    pub(crate) settime_calls: u64,
}

impl Alarm {
    pub fn new() -> nix::Result<Alarm> {
        let fd = TimerFd::new(
            ClockId::CLOCK_MONOTONIC,
            TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC,
        )?;
        // The clock is read between two `Instant`s; mapping from the first
        // one makes a deadline fire late by at most their distance, and a
        // preemption between the readings would make that distance large,
        // so the closest of a few attempts is kept.
        let mut best: Option<(Instant, Duration, Duration)> = None;
        for _ in 0..ORIGIN_ATTEMPTS {
            let before = Instant::now();
            let clock = Duration::from(clock_gettime(ClockReading::CLOCK_MONOTONIC)?);
            let error = before.elapsed();
            if best.map_or(true, |(_, _, best_error)| error < best_error) {
                best = Some((before, clock, error));
            }
            if error <= ORIGIN_GOOD_ENOUGH {
                break;
            }
        }
        let (origin, origin_clock, origin_error) = best.expect("ORIGIN_ATTEMPTS is not zero");
        Ok(Alarm {
            fd,
            origin,
            origin_clock,
            origin_error,
            armed: None,
            #[cfg(test)]
            settime_calls: 0,
        })
    }

    /// The descriptor to register with the loop (readable once it fires).
    pub fn raw_fd(&self) -> RawFd {
        self.fd.as_fd().as_raw_fd()
    }

    /// Arms the timerfd to fire at `deadline`, or disarms it for `None`.
    /// Costs no system call when it is armed that way already, which is the
    /// common case: most requests leave the earliest deadline where it was.
    pub fn set(&mut self, deadline: Option<Instant>) -> nix::Result<()> {
        if deadline == self.armed {
            return Ok(());
        }
        // Unknown if the call below fails, so the next call tries again.
        self.armed = None;
        #[cfg(test)]
        {
            self.settime_calls += 1;
        }
        match deadline {
            Some(at) => {
                // A deadline already past maps to the origin, which is past
                // too, and an absolute time in the past fires at once.
                let clock = self.origin_clock + at.saturating_duration_since(self.origin);
                self.fd.set(
                    Expiration::OneShot(TimeSpec::from_duration(clock)),
                    TimerSetTimeFlags::TFD_TIMER_ABSTIME,
                )?;
            }
            None => self.fd.unset()?,
        }
        self.armed = deadline;
        Ok(())
    }

    /// Consumes an expiry after the loop saw the timerfd readable. The event
    /// may be stale (the timer was re-armed after it fired), then the read
    /// finds nothing and the timer stays armed.
    pub fn fired(&mut self) -> nix::Result<()> {
        match self.fd.wait() {
            Ok(()) => {
                self.armed = None;
                Ok(())
            }
            Err(Errno::EAGAIN) => Ok(()),
            Err(err) => {
                self.armed = None;
                Err(err)
            }
        }
    }

    /// Time left until the timerfd fires, as the kernel has it; `None` if
    /// disarmed.
    #[cfg(test)]
    pub fn remaining(&self) -> Option<Duration> {
        match self.fd.get().expect("timerfd_gettime") {
            None => None,
            Some(Expiration::OneShot(left)) => Some(Duration::from(left)),
            Some(other) => panic!("the alarm is one-shot, found {other:?}"),
        }
    }
}
