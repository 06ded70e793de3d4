//! When each connection of an open loop intends to send, for any rate
//! curve: slots in Λ-space, mapped to time through [`RateCurve::inverse`].
//!
//! With `C` connections, connection `i` owns its own sequence of slots
//! (numbers of requests into the run), and its k-th request is intended at
//! `origin + Λ⁻¹(slot_k)`:
//!
//! - **uniform**: `slot_k = i + k·C`, today's schedule: at a constant rate
//!   the connections interleave evenly, `1/rate` apart; on a ramp the same
//!   slots crowd together as the rate grows, and each second holds
//!   `Λ(t+1) - Λ(t)` sends to within one;
//! - **Poisson**: each connection's slots are an independent Poisson process
//!   of rate `1/C` in Λ-space (exponential gaps of mean `C`). `C`
//!   independent Poisson processes superpose into one of rate 1, and
//!   mapping a rate-1 Poisson process through `Λ⁻¹` gives the
//!   non-homogeneous Poisson process of intensity `r(t)`: the whole run's
//!   sends are Poisson at the curve's rate, ramps included, while each
//!   connection still keeps its own schedule and no connection waits for
//!   another.
//!
//! Poisson is seeded and repeatable exactly: connection `i` draws from its
//! own Xoshiro256++ generator (a fixed, published algorithm, so the same
//! seed gives the same schedule on every platform), seeded by
//! [`connection_seed`] from the run's seed, the shard's index and `i`; the
//! exponential gaps are `rand_distr::Exp1`. Both crates are pinned by
//! Cargo.lock, and rand documents when a release changes a sampler's
//! output, so a given build of bench-client repeats a seed exactly.
//!
//! [`ConnArrivals`] is the state a connection keeps: a few words, no
//! allocation per request, one curve inversion (a binary search over the
//! stages and a square root) per send.

use std::sync::Arc;
use std::time::Duration;

use rand::{Rng as _, RngCore as _, SeedableRng as _};
use rand_distr::Exp1;
use rand_xoshiro::{SplitMix64, Xoshiro256PlusPlus};

use super::curve::RateCurve;

/// How requests are spread in time (`--arrivals`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrivals {
    /// Evenly spaced in Λ-space: at a constant rate, every `1/rate`.
    Uniform,
    /// A Poisson process at the curve's rate, from this seed (`--seed`).
    Poisson { seed: u64 },
}

/// One 64-bit word from two, through SplitMix64's output function: a
/// bijection in `a` for each `b` with full avalanche, so nearby inputs
/// (connection 7 and 8, shard 0 and 1) give unrelated outputs.
fn mix(a: u64, b: u64) -> u64 {
    let b = SplitMix64::seed_from_u64(b).next_u64();
    SplitMix64::seed_from_u64(a ^ b).next_u64()
}

/// The seed of a shard of a distributed run: `seed` mixed with the shard's
/// index, so that shards started with one `--seed` draw independent
/// schedules (whose superposition is again Poisson). A run that is not
/// sharded is shard 0.
pub fn shard_seed(seed: u64, shard: u32) -> u64 {
    mix(seed, u64::from(shard))
}

/// The seed of connection `conn`'s generator within shard `shard`.
pub fn connection_seed(seed: u64, shard: u32, conn: u32) -> u64 {
    mix(shard_seed(seed, shard), u64::from(conn))
}

/// An open loop's schedule for all of its connections.
#[derive(Debug, Clone)]
pub struct ArrivalPlan {
    curve: Arc<RateCurve>,
    arrivals: Arrivals,
    connections: u32,
    shard: u32,
}

impl ArrivalPlan {
    /// The schedule of `connections` connections (at least 1) following
    /// `curve`, for shard `shard` of a distributed run (0 when not sharded).
    pub fn new(curve: RateCurve, arrivals: Arrivals, connections: u32, shard: u32) -> ArrivalPlan {
        assert!(connections > 0, "an open loop needs a connection");
        ArrivalPlan {
            curve: Arc::new(curve),
            arrivals,
            connections,
            shard,
        }
    }

    /// The state connection `conn` (0-based, below `connections`) keeps.
    pub fn connection(&self, conn: u32) -> ConnArrivals {
        assert!(
            conn < self.connections,
            "connection {conn} of {}",
            self.connections
        );
        let c = f64::from(self.connections);
        let kind = match self.arrivals {
            Arrivals::Uniform => Kind::Uniform {
                first: f64::from(conn),
                step: c,
                k: 0,
            },
            Arrivals::Poisson { seed } => {
                let mut rng =
                    Xoshiro256PlusPlus::seed_from_u64(connection_seed(seed, self.shard, conn));
                // A Poisson process's first event is one gap after its start.
                let slot = c * rng.sample::<f64, _>(Exp1);
                Kind::Poisson {
                    rng,
                    mean_gap: c,
                    slot,
                }
            }
        };
        ConnArrivals {
            curve: Arc::clone(&self.curve),
            kind,
            done: false,
        }
    }

    /// The rate curve every connection follows.
    pub fn curve(&self) -> &Arc<RateCurve> {
        &self.curve
    }
}

#[derive(Debug, Clone)]
enum Kind {
    /// Slot `first + k·step`: computed from `k`, not summed, so that no
    /// rounding error builds up over a long run.
    Uniform { first: f64, step: f64, k: u64 },
    /// The next slot, and the generator of the gaps after it.
    Poisson {
        rng: Xoshiro256PlusPlus,
        mean_gap: f64,
        slot: f64,
    },
}

/// One connection's intended send times, in order.
#[derive(Debug, Clone)]
pub struct ConnArrivals {
    curve: Arc<RateCurve>,
    kind: Kind,
    done: bool,
}

impl ConnArrivals {
    /// The slot (position in Λ-space) of the next request.
    fn slot(&self) -> f64 {
        match self.kind {
            Kind::Uniform { first, step, k } => first + k as f64 * step,
            Kind::Poisson { slot, .. } => slot,
        }
    }

    /// When the next request is intended, as time since the run's origin;
    /// `None` once the curve asks for no more from this connection (and
    /// ever after). Each call moves on to the following request.
    #[inline]
    pub fn next_due(&mut self) -> Option<Duration> {
        if self.done {
            return None;
        }
        let Some(t) = self.curve.inverse(self.slot()) else {
            self.done = true;
            return None;
        };
        match &mut self.kind {
            Kind::Uniform { k, .. } => *k += 1,
            Kind::Poisson {
                rng,
                mean_gap,
                slot,
            } => *slot += *mean_gap * rng.sample::<f64, _>(Exp1),
        }
        Some(Duration::from_secs_f64(t))
    }
}

impl Iterator for ConnArrivals {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        self.next_due()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::engine::Schedule;
    use crate::shape::stage::Stages;

    fn curve(values: &[&str]) -> RateCurve {
        RateCurve::new(&Stages::parse(values).unwrap()).unwrap()
    }

    /// Every intended send of every connection, in seconds, sorted.
    fn all_sends(plan: &ArrivalPlan, connections: u32) -> Vec<f64> {
        let mut sends: Vec<f64> = (0..connections)
            .flat_map(|c| plan.connection(c).map(|d| d.as_secs_f64()))
            .collect();
        sends.sort_by(f64::total_cmp);
        sends
    }

    #[test]
    fn uniform_at_a_constant_rate_is_todays_open_loop() {
        let origin = Instant::now();
        let old = Schedule::Open {
            origin,
            rate: 1000.0,
            connections: 7,
        };
        let plan = ArrivalPlan::new(curve(&["0s:1000/s", "10s:1000/s"]), Arrivals::Uniform, 7, 0);
        for conn in 0..7 {
            let mine: Vec<Duration> = plan.connection(conn).collect();
            for (k, &due) in mine.iter().enumerate() {
                let theirs = old.due(conn, k as u64).unwrap() - origin;
                let diff = due.as_secs_f64() - theirs.as_secs_f64();
                assert!(
                    diff.abs() < 1e-9,
                    "conn {conn} request {k}: {due:?} vs {theirs:?}"
                );
            }
            // 10,000 requests over 7 connections: 1429 or 1428 each.
            assert_eq!(mine.len(), if conn < 10_000 % 7 { 1429 } else { 1428 });
        }
    }

    #[test]
    fn uniform_sends_each_second_what_the_ramp_integrates_to() {
        // 0 → 2000/s over 5 s: Λ(t) = 200·t², 5000 sends in all.
        let c = curve(&["5s:2000/s"]);
        let plan = ArrivalPlan::new(c.clone(), Arrivals::Uniform, 12, 0);
        let sends = all_sends(&plan, 12);
        assert_eq!(sends.len(), 5000);
        for second in 0..5 {
            let (a, b) = (second as f64, second as f64 + 1.0);
            let got = sends.iter().filter(|&&t| t >= a && t < b).count() as f64;
            let want = c.cumulative(b) - c.cumulative(a);
            assert_eq!(want, 200.0 * (b * b - a * a));
            assert!(
                (got - want).abs() <= 1.0,
                "second {second}: {got} vs {want}"
            );
        }
        // Every slot 0..5000 is used once: the connections interleave.
        for w in sends.windows(2) {
            assert!(w[1] > w[0]);
        }
    }

    #[test]
    fn a_connection_ends_once_the_curve_does() {
        let plan = ArrivalPlan::new(curve(&["1s:10/s"]), Arrivals::Uniform, 3, 0);
        let mut conn = plan.connection(2);
        // Λ = 5 in all: connection 2 of 3 owns slots 2, 5, ...; 5 is not
        // below 5, so it sends once.
        assert!(conn.next_due().is_some());
        assert_eq!(conn.next_due(), None);
        assert_eq!(conn.next_due(), None);
        // Λ = 1 in all: connection 1's first slot is already past it.
        let plan = ArrivalPlan::new(curve(&["1s:2/s"]), Arrivals::Uniform, 3, 0);
        assert!(plan.connection(0).next_due().is_some());
        assert_eq!(plan.connection(1).next_due(), None);
    }

    /// The first three sends of connection 0 of 8 with seed 42, shard 0, on
    /// the curve below, in nanoseconds.
    const PINNED: [u128; 3] = [298_605_961, 501_020_235, 625_509_250];

    #[test]
    fn a_seeded_schedule_repeats_exactly() {
        let c = curve(&["2s:500/s", "3s:500/s"]);
        let run = |seed, shard, conn| -> Vec<Duration> {
            ArrivalPlan::new(c.clone(), Arrivals::Poisson { seed }, 8, shard)
                .connection(conn)
                .collect()
        };
        let first = run(42, 0, 3);
        assert!(first.len() > 100);
        assert_eq!(first, run(42, 0, 3));
        assert_ne!(first, run(43, 0, 3));
        assert_ne!(first, run(42, 1, 3));
        assert_ne!(first, run(42, 0, 4));
        // Pinned: the first send of connection 0 with seed 42. A change here
        // means schedules no longer repeat across builds: say so in the
        // release notes.
        let pinned: Vec<u128> = run(42, 0, 0)[..3].iter().map(|d| d.as_nanos()).collect();
        assert_eq!(pinned, PINNED);
        for w in first.windows(2) {
            assert!(w[1] >= w[0]);
        }
    }

    #[test]
    fn seeds_of_neighbours_are_unrelated() {
        let mut seen = std::collections::HashSet::new();
        for shard in 0..4 {
            for conn in 0..1000 {
                assert!(seen.insert(connection_seed(7, shard, conn)));
            }
        }
        assert_ne!(shard_seed(7, 0), 7);
    }

    /// The merged gaps of 100,000 Poisson sends at a constant rate pass a
    /// Kolmogorov–Smirnov test against the exponential at the 1 % level.
    #[test]
    fn poisson_gaps_are_exponential() {
        let rate = 1000.0;
        let c = curve(&["0s:1000/s", "101s:1000/s"]);
        let plan = ArrivalPlan::new(c, Arrivals::Poisson { seed: 2026 }, 16, 0);
        let sends = all_sends(&plan, 16);
        let mut gaps: Vec<f64> = sends.windows(2).map(|w| w[1] - w[0]).collect();
        gaps.truncate(100_000);
        assert_eq!(gaps.len(), 100_000);
        gaps.sort_by(f64::total_cmp);
        let n = gaps.len() as f64;
        let d = gaps
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                let f = 1.0 - (-rate * x).exp();
                (f - i as f64 / n).max((i as f64 + 1.0) / n - f)
            })
            .fold(0.0, f64::max);
        let critical = 1.628 / n.sqrt();
        assert!(d < critical, "KS statistic {d} >= {critical}");
    }

    /// The count over a window is within 3/√N of the target, relatively,
    /// on a plateau and on a ramp, for several seeds.
    #[test]
    fn poisson_holds_the_rate() {
        let c = curve(&["10s:2000/s", "20s:2000/s"]);
        for seed in [1, 2, 3] {
            let plan = ArrivalPlan::new(c.clone(), Arrivals::Poisson { seed }, 32, 0);
            let sends = all_sends(&plan, 32);
            for (a, b) in [(0.0, 10.0), (10.0, 30.0), (2.0, 5.0), (0.0, 30.0)] {
                let want = c.cumulative(b) - c.cumulative(a);
                let got = sends.iter().filter(|&&t| t >= a && t < b).count() as f64;
                let tolerance = 3.0 / want.sqrt();
                assert!(
                    ((got - want) / want).abs() <= tolerance,
                    "seed {seed}, [{a}, {b}): {got} vs {want}"
                );
            }
        }
    }
}
