//! A worker's books: the schedule, the measured window and the [`Stats`]
//! its requests are recorded into, whatever carries them. The HTTP/1.1
//! connection loop (mio) and the HTTP/2 streams (h2 on tokio) both record
//! through these methods, so that what counts, where it counts (second,
//! stage, target) and how its latency is taken are written once.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::counters::LiveRecorder;
use super::{Plan, Schedule, Slot, Tickets};
use crate::stats::{Cause, Failure, Stats};

/// A request sent later than this after its due time is a late send.
const LATE: Duration = Duration::from_millis(1);

/// One request attempt, as the books need it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Attempt {
    /// The client (group of `--max-conns` connections) it belongs to.
    pub client: u32,
    /// Its target (`Plan::requests`).
    pub target: usize,
    /// When it was due (open loop) or started (closed loop).
    pub intended: Instant,
    /// When it went out.
    pub sent: Instant,
    /// Started in the measured phase (after warm-up), so it counts.
    pub measured: bool,
}

pub(crate) struct Books<'a> {
    pub plan: &'a Plan,
    pub schedule: Schedule,
    pub stats: Stats,
    pub tickets: Tickets<'a>,
    pub measure_start: Instant,
    pub measure_end: Option<Instant>,
    /// The last timeline second of the window: open-loop requests that
    /// complete after `-d` ran out are counted in it.
    last_second: usize,
    slot: &'a Slot,
    /// `--metrics-addr`: the worker's live metrics.
    pub live: Option<LiveRecorder<'a>>,
}

impl<'a> Books<'a> {
    /// Books whose schedule is a placeholder until the gate opens
    /// ([`start_at`](Self::start_at)).
    pub fn new(plan: &'a Plan, stats: Stats, tickets: Tickets<'a>, slot: &'a Slot) -> Books<'a> {
        let now = Instant::now();
        Books {
            plan,
            schedule: Schedule::Closed,
            stats,
            tickets,
            measure_start: now,
            measure_end: None,
            last_second: match plan.stop {
                crate::config::Stop::Duration(d) => {
                    (d.as_secs_f64().ceil() as usize).saturating_sub(1)
                }
                crate::config::Stop::Requests(_) => usize::MAX,
            },
            slot,
            live: None,
        }
    }

    /// Sets the schedule and the measured window from the run's origin.
    pub fn start_at(&mut self, origin: Instant) {
        let plan = self.plan;
        self.schedule = match (plan.rate, &plan.arrivals, &plan.connection_curve) {
            (Some(rate), _, _) => Schedule::Open {
                origin,
                rate,
                connections: plan.connections(),
            },
            (None, Some(_), _) => Schedule::Curve { origin },
            (None, None, Some(_)) => Schedule::Ramp { origin },
            (None, None, None) => Schedule::Closed,
        };
        self.measure_start = origin + plan.warmup;
        self.measure_end = match plan.stop {
            crate::config::Stop::Duration(d) => Some(self.measure_start + d),
            crate::config::Stop::Requests(_) => None,
        };
    }

    /// The timeline second `t` falls in (0 before the measured phase).
    #[inline]
    pub fn second_of(&self, t: Instant) -> usize {
        (t.saturating_duration_since(self.measure_start).as_secs() as usize).min(self.last_second)
    }

    /// Whether the outcome, at `now`, of a request started in the measured
    /// phase counts. Closed loop: only within `-d` (requests in flight when
    /// it runs out are dropped, as in wrk; their connections were ready to
    /// go on). Open loop: always; every request sent in the window is waited
    /// for (at most `--timeout`), because dropping the slow ones at the end
    /// is the very omission the open loop exists to avoid.
    #[inline]
    pub fn counts(&self, now: Instant) -> bool {
        match self.measure_end {
            Some(end) => now < end || self.schedule.is_open(),
            None => true,
        }
    }

    /// `-d` has run out: no new request may start.
    #[inline]
    pub fn past_end(&self, t: Instant) -> bool {
        self.measure_end.is_some_and(|end| t >= end)
    }

    /// The stage that a request intended at `t` belongs to; `None` without
    /// stages (or before the measured phase).
    #[inline]
    pub fn stage_of(&self, t: Instant) -> Option<usize> {
        let ends = &self.plan.stage_ends;
        if ends.is_empty() || t < self.measure_start {
            return None;
        }
        let since = t - self.measure_start;
        Some(ends.partition_point(|&e| e <= since).min(ends.len() - 1))
    }

    /// Whether a request intended at `intended` comes too late to start at
    /// `now`. A curve's requests are the curve's integral, all of them
    /// (what the run promises to send), so a late one still goes out if it
    /// was due within the run, for up to `--timeout` after the end: a
    /// server that hangs must not keep the run going for every request
    /// still owed. Elsewhere nothing starts after `-d`.
    #[inline]
    pub fn too_late(&self, now: Instant, intended: Instant) -> bool {
        match self.schedule {
            Schedule::Curve { .. } => {
                self.past_end(intended)
                    || self
                        .measure_end
                        .is_some_and(|end| now >= end + self.plan.timeout)
            }
            _ => self.past_end(now),
        }
    }

    /// Whether a request intended at `intended` may start at `now`: it is
    /// not too late, and in the measured phase it takes one of `-n`'s
    /// tickets. Returns whether it is measured; `None`: it must not start.
    #[inline]
    pub fn may_start(&mut self, now: Instant, intended: Instant) -> Option<bool> {
        let measured = now >= self.measure_start;
        if (measured && !self.tickets.take()) || self.too_late(now, intended) {
            return None;
        }
        if let Some(live) = &mut self.live {
            live.begin();
        }
        Some(measured)
    }

    /// An open-loop request intended at `intended` goes out at `now`: the
    /// rate achieved (per second and stage), late sends, and, when the
    /// sender was idle waiting for it (`from_timer`), the schedule's error.
    pub fn sent(&mut self, now: Instant, intended: Instant, from_timer: bool) {
        let late = now.saturating_duration_since(intended);
        let sent_in = self.second_of(now);
        let since_start = now.saturating_duration_since(self.measure_start);
        // A curve's late requests still go out after the end
        // (`too_late`), but the rate achieved is what went out in time:
        // counted where it was sent, not where it was due.
        let in_window = !self.past_end(now);
        let stage = self.stage_of(now).filter(|_| in_window);
        let stats = &mut self.stats;
        if in_window {
            stats.sent += 1;
            stats.last_sent = stats.last_sent.max(since_start);
            stats.second(sent_in).sent += 1;
        }
        if let Some(i) = stage {
            stats.stages[i].sent += 1;
        }
        if late > LATE {
            stats.late_sends += 1;
            if !from_timer {
                stats.late_busy += 1;
            }
        }
        if from_timer {
            crate::hdr::record(&mut stats.schedule_error, late.as_micros() as u64);
        }
    }

    /// A complete response to `a` at `now`, if it counts; `ttfb`: when its
    /// first byte came and when the request started being written.
    /// `counted` is the connection's last second in the timeline's
    /// connections in force. Returns whether it was recorded.
    pub fn response(
        &mut self,
        a: &Attempt,
        now: Instant,
        status: u16,
        ttfb: Option<(Instant, Instant)>,
        counted: &mut usize,
    ) -> bool {
        if let Some(live) = &mut self.live {
            live.end();
        }
        if !(a.measured && self.counts(now)) {
            return false;
        }
        let t = self.second_of(now);
        let (latency, uncorrected) = self.latencies(a, now);
        self.stats
            .response(t, a.client, status, latency, uncorrected);
        if let Some(s) = self.stats.targets.get_mut(a.target) {
            s.response(status, latency);
        }
        if let Some(i) = self.stage_of(a.intended) {
            self.stats.stages[i].response(latency);
        }
        self.count_in(counted, t);
        if let Some((first, from)) = ttfb {
            let us = first.saturating_duration_since(from).as_micros() as u64;
            crate::hdr::record(&mut self.stats.ttfb, us);
        }
        self.publish();
        if let Some(live) = &mut self.live {
            live.latency(latency);
        }
        true
    }

    /// A failed attempt `a` at `now`, if it counts: timeouts with their
    /// latency. Returns whether it was recorded.
    pub fn failure(
        &mut self,
        a: &Attempt,
        now: Instant,
        kind: Failure,
        cause: Cause,
        counted: &mut usize,
    ) -> bool {
        if let Some(live) = &mut self.live {
            live.end();
        }
        if !(a.measured && self.counts(now)) {
            return false;
        }
        let t = self.second_of(now);
        let timed_out = (kind == Failure::Timeout).then(|| self.latencies(a, now));
        self.stats.error(t, a.client, kind, cause, timed_out);
        if let Some(s) = self.stats.targets.get_mut(a.target) {
            s.error(kind, timed_out.map(|l| l.0));
        }
        if let Some(i) = self.stage_of(a.intended) {
            self.stats.stages[i].error(timed_out.map(|l| l.0));
        }
        self.count_in(counted, t);
        self.publish();
        if let Some(live) = &mut self.live {
            live.errors(kind, self.stats.errors_by_kind[kind.index()]);
            if let Some((latency, _)) = timed_out {
                live.latency(latency);
            }
        }
        true
    }

    /// Counts a connection once in second `t`'s connections in force.
    #[inline]
    fn count_in(&mut self, counted: &mut usize, t: usize) {
        if *counted != t {
            *counted = t;
            self.stats.second(t).connections += 1;
        }
    }

    /// (recorded latency, uncorrected latency in open-loop runs), in µs.
    fn latencies(&self, a: &Attempt, now: Instant) -> (u64, Option<u64>) {
        let since_sent = now.saturating_duration_since(a.sent).as_micros() as u64;
        if self.schedule.is_open() {
            let since_due = now.saturating_duration_since(a.intended).as_micros() as u64;
            (since_due, Some(since_sent))
        } else {
            (since_sent, None)
        }
    }

    /// Lets the progress bar and the live metrics see this worker's
    /// totals; the live latencies and error kinds are stored after them.
    #[inline]
    pub fn publish(&self) {
        self.slot
            .requests
            .store(self.stats.requests, Ordering::Relaxed);
        self.slot.errors.store(self.stats.errors, Ordering::Relaxed);
    }
}
