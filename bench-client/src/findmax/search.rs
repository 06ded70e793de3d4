//! The capacity search, sans IO: a state machine fed the outcome of each
//! trial that answers with the next trial's rate, or the final answer. It
//! runs nothing and reads no clock (the caller passes the time spent), so
//! the tests drive it against a simulated server.
//!
//! The rule:
//! - **grow**: from the start rate, multiply by the growth factor after
//!   every passing trial (one trial each), until a trial fails;
//! - **narrow**: with a passing `low` and a failing `high`, try their
//!   midpoint; it passes only when `repeats` trials in a row pass (the first
//!   failure fails it), and becomes the new `low` or `high`;
//! - **stop** when `high <= low * (1 + precision)` and `low` has passed
//!   `repeats` times (a `low` left from growing is confirmed first; if it
//!   fails, the next lower passing rate takes its place), or when the next
//!   trial would overrun the budget;
//! - a trial whose verdict is not valid is no evidence: the same rate is
//!   tried again with twice the threads, up to `max_threads`; then the
//!   search stops, and that rate is never reported.

use std::time::Duration;

/// The knobs of a search; all recorded in the summary.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The first rate tried, req/s.
    pub start_rate: f64,
    /// Growth factor while no trial has failed (> 1).
    pub growth: f64,
    /// Stop when the interval's width is at most this fraction of its low end.
    pub precision: f64,
    /// Passing trials a rate needs near the boundary.
    pub repeats: u32,
    /// No rate above this is tried.
    pub max_rate: f64,
    /// Below this rate (going down from a failing start) the search gives up.
    pub min_rate: f64,
    /// Total time for all trials.
    pub budget: Duration,
    /// What one trial costs (warm-up, duration and set-up).
    pub trial_cost: Duration,
    /// Worker threads of the first trial, and the most a retry may use.
    pub threads: u32,
    pub max_threads: u32,
}

/// What one trial said about the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every objective held, and the verdict was valid.
    Pass,
    /// An objective did not hold (or the server could not keep up).
    Fail,
    /// The verdict was not valid for the generator's sake: no evidence.
    Invalid,
}

/// Why the search ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stop {
    /// The interval is within the precision and its low end is confirmed.
    Converged,
    /// The next trial would have overrun the budget.
    Budget,
    /// The generator could not offer a rate validly, even with the most threads.
    Generator,
    /// Every rate down to the minimum failed.
    NothingPassed,
    /// The maximum rate passed: the capacity is at least that.
    MaxRate,
    /// SIGINT/SIGTERM: the interval so far.
    Interrupted,
}

/// The search's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The highest rate whose every trial passed; `None` when none did.
    pub max_rate: Option<f64>,
    /// `[low, high]`: `low` as `max_rate` (0 when none), `high` the lowest
    /// failing rate (`None` when none failed).
    pub low: f64,
    pub high: Option<f64>,
    pub stop: Stop,
}

/// What to do next.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Trial { rate: f64, threads: u32 },
    Done(Answer),
}

/// A rate and how many of its trials passed.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Point {
    rate: f64,
    passes: u32,
}

/// The search state; see the module documentation for the rule.
#[derive(Debug, Clone)]
pub struct Search {
    settings: Settings,
    threads: u32,
    /// Accepted passing rates, ascending; the last is `low`.
    passed: Vec<Point>,
    /// The lowest failing rate.
    high: Option<f64>,
    /// The rate of the trial asked for, with its passes so far.
    pending: Option<Point>,
    done: Option<Answer>,
}

impl Search {
    pub fn new(settings: Settings) -> Search {
        Search {
            threads: settings.threads.max(1),
            settings,
            passed: Vec::new(),
            high: None,
            pending: None,
            done: None,
        }
    }

    /// The next trial, or the answer; `elapsed` is the time trials have taken.
    pub fn next(&mut self, elapsed: Duration) -> Step {
        if let Some(answer) = &self.done {
            return Step::Done(answer.clone());
        }
        if self.pending.is_none() {
            match self.choose() {
                Ok(point) => self.pending = Some(point),
                Err(stop) => return Step::Done(self.finish(stop)),
            }
        }
        if elapsed + self.settings.trial_cost > self.settings.budget {
            self.pending = None;
            return Step::Done(self.finish(Stop::Budget));
        }
        let rate = self.pending.map_or(0.0, |p| p.rate);
        Step::Trial {
            rate,
            threads: self.threads,
        }
    }

    /// The outcome of the trial [`Search::next`] asked for.
    pub fn record(&mut self, outcome: Outcome) {
        let Some(mut point) = self.pending.take() else {
            return;
        };
        match outcome {
            Outcome::Invalid if self.threads < self.settings.max_threads => {
                self.threads = (self.threads * 2).min(self.settings.max_threads);
                self.pending = Some(point);
            }
            Outcome::Invalid => {
                let answer = self.finish(Stop::Generator);
                self.done = Some(answer);
            }
            Outcome::Pass => {
                point.passes += 1;
                let needed = if self.high.is_none() {
                    1
                } else {
                    self.settings.repeats.max(1)
                };
                if point.passes >= needed {
                    self.passed.retain(|p| p.rate != point.rate);
                    self.passed.push(point);
                    self.passed.sort_by(|a, b| a.rate.total_cmp(&b.rate));
                } else {
                    self.pending = Some(point);
                }
            }
            Outcome::Fail => {
                self.high = Some(self.high.map_or(point.rate, |h| h.min(point.rate)));
                self.passed.retain(|p| p.rate < point.rate);
            }
        }
    }

    /// The rate to try next, or why there is none.
    fn choose(&self) -> Result<Point, Stop> {
        let s = &self.settings;
        let fresh = |rate: f64| Point { rate, passes: 0 };
        match (self.passed.last().copied(), self.high) {
            (None, None) => Ok(fresh(s.start_rate.min(s.max_rate))),
            (Some(low), None) if low.rate >= s.max_rate => Err(Stop::MaxRate),
            (Some(low), None) => Ok(fresh((low.rate * s.growth).min(s.max_rate))),
            (None, Some(high)) if high / s.growth < s.min_rate => Err(Stop::NothingPassed),
            (None, Some(high)) => Ok(fresh(high / s.growth)),
            (Some(low), Some(high)) if high <= low.rate * (1.0 + s.precision) => {
                if low.passes >= s.repeats.max(1) {
                    Err(Stop::Converged)
                } else {
                    // Confirm the low end left from growing, with its passes
                    // so far; it stays `low` until a trial of it fails.
                    Ok(low)
                }
            }
            (Some(low), Some(high)) => Ok(fresh((low.rate + high) / 2.0)),
        }
    }

    /// Ends the search now (e.g. on a signal): the interval so far.
    pub fn interrupt(&mut self) -> Answer {
        self.pending = None;
        self.finish(Stop::Interrupted)
    }

    fn finish(&mut self, stop: Stop) -> Answer {
        let low = self.passed.last().map(|p| p.rate);
        let answer = Answer {
            max_rate: low,
            low: low.unwrap_or(0.0),
            high: self.high,
            stop,
        };
        self.done = Some(answer.clone());
        answer
    }
}

#[cfg(test)]
mod tests;
