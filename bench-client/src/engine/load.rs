//! What a worker measures about itself over the measured phase, so that a
//! run can say whether its figures are the server's or bench-client's: the
//! CPU time its thread used (`getrusage(RUSAGE_THREAD)`, read by the worker
//! itself at the start and the end of the phase) and the wall time its event
//! loop spent outside `poll` (the time around each wait, subtracted from the
//! phase), and the time the thread spent runnable but waiting for a CPU
//! (the run-queue delay of `/proc/thread-self/schedstat`). A worker starved
//! by another process on its core uses little CPU, and a wake-up it waits
//! for in the run queue happens inside `poll`, so only the last figure
//! shows it: such a worker wants a CPU nearly all of the time.

use std::time::{Duration, Instant};

use nix::sys::resource::{getrusage, UsageWho};

/// One worker's figures over the measured phase.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct WorkerLoad {
    /// CPU time (user + system) of the worker's thread, seconds.
    pub cpu_s: f64,
    /// Wall time from the start of the measured phase to the worker's end.
    pub wall_s: f64,
    /// Of `wall_s`, the time spent waiting in `poll`.
    pub wait_s: f64,
    /// Of `wall_s`, the time the thread was runnable but not running.
    pub cpu_wait_s: f64,
}

/// The calling thread's run-queue delay so far; zero where the kernel does
/// not keep it (no `CONFIG_SCHED_INFO`).
fn run_queue_delay() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(Duration::ZERO, Duration::from_nanos)
}

/// The calling thread's CPU time, user plus system; zero if the kernel
/// will not say (then the busy share still tells).
fn thread_cpu_time() -> Duration {
    match getrusage(UsageWho::RUSAGE_THREAD) {
        Ok(u) => {
            let (user, sys) = (u.user_time(), u.system_time());
            let micros = |t: nix::sys::time::TimeVal| {
                Duration::from_secs(t.tv_sec().max(0) as u64)
                    + Duration::from_micros(t.tv_usec().max(0) as u64)
            };
            micros(user) + micros(sys)
        }
        Err(_) => Duration::ZERO,
    }
}

/// A worker's clock: started once the measured phase begins, fed the time
/// around each `poll`, finished when the worker's loop ends.
#[derive(Debug, Default)]
pub(crate) struct LoopClock {
    /// When the measured phase began for this worker, and its CPU time and
    /// run-queue delay then.
    start: Option<(Instant, Duration, Duration)>,
    waited: Duration,
}

impl LoopClock {
    /// Starts measuring at `now` if the measured phase (from `measure_start`)
    /// has begun and the clock has not started yet.
    #[inline]
    pub fn start_if_due(&mut self, now: Instant, measure_start: Instant) {
        if self.start.is_none() && now >= measure_start {
            self.start = Some((now, thread_cpu_time(), run_queue_delay()));
        }
    }

    /// Counts a wait in `poll` from `before` to `after`, if measuring.
    #[inline]
    pub fn waited(&mut self, before: Instant, after: Instant) {
        if let Some((start, _, _)) = self.start {
            self.waited += after.saturating_duration_since(before.max(start));
        }
    }

    /// The figures from the start of the phase to `end`; all zero when the
    /// phase never began (a run cut short during its warm-up).
    pub fn finish(&self, end: Instant) -> WorkerLoad {
        match self.start {
            Some((start, cpu, queued)) => WorkerLoad {
                cpu_s: thread_cpu_time().saturating_sub(cpu).as_secs_f64(),
                wall_s: end.saturating_duration_since(start).as_secs_f64(),
                wait_s: self.waited.as_secs_f64(),
                cpu_wait_s: run_queue_delay().saturating_sub(queued).as_secs_f64(),
            },
            None => WorkerLoad::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_before_the_phase_do_not_count_and_a_spinning_thread_uses_cpu() {
        let t0 = Instant::now();
        let mut clock = LoopClock::default();
        clock.waited(t0, t0 + Duration::from_millis(5));
        clock.start_if_due(t0, t0 + Duration::from_secs(3600));
        assert!(clock.start.is_none(), "not due yet");
        clock.start_if_due(Instant::now(), t0);
        // Busy for about 50 ms: the thread's CPU time grows with it.
        let spin_until = Instant::now() + Duration::from_millis(50);
        let mut x = 0u64;
        while Instant::now() < spin_until {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        let before = Instant::now();
        std::thread::sleep(Duration::from_millis(20));
        clock.waited(before, Instant::now());
        let load = clock.finish(Instant::now());
        assert!(load.wall_s >= 0.07, "{load:?}");
        assert!(load.wait_s >= 0.02 && load.wait_s < load.wall_s, "{load:?}");
        assert!(
            load.cpu_s > 0.0 && load.cpu_s <= load.wall_s + 0.01,
            "{load:?}"
        );
    }

    #[test]
    fn a_phase_that_never_began_measures_nothing() {
        let clock = LoopClock::default();
        assert_eq!(clock.finish(Instant::now()), WorkerLoad::default());
    }
}
