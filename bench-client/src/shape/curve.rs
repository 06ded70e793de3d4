//! The load a run's stages ask for at each moment, as curves that can be
//! integrated and inverted exactly.
//!
//! An open loop's rate `r(t)` is piecewise linear from 0 through each
//! stage's target, so its integral `Λ(t) = ∫₀ᵗ r` (the number of requests
//! due by `t`) is piecewise quadratic and has a closed form per segment, and
//! so has its inverse. Every schedule is then a sequence of *slots* in
//! Λ-space (request number `s` is due when Λ reaches `s`), mapped to time by
//! [`RateCurve::inverse`]: a constant rate gives today's evenly spaced sends,
//! a ramp gives sends that crowd together as the rate grows, and the
//! intended send time of every request stays exact while the rate changes,
//! which is what coordinated-omission correction measures from.
//!
//! A closed loop's connection count is the same kind of curve without the
//! integral: [`ConnectionCurve`] says how many connections are open at `t`
//! and when each connection slot opens and closes, so that a ramp opens
//! connections one at a time, spread over the clients in turn.
//!
//! Times are seconds since the run's origin, as `f64` (a year of seconds
//! keeps ~10 ns of precision); the engine adds them to its `Instant`.

use std::ops::Range;
use std::time::Duration;

use super::stage::{Stages, Target};

/// The corner points `(t, value)` of a stage list's curve, from `(0, 0)`:
/// each stage adds `(end of stage, its target)`; a step (duration 0) adds a
/// second point at the same time.
fn corners(stages: &Stages, mut value: impl FnMut(Target) -> f64) -> Vec<(f64, f64)> {
    let mut t = Duration::ZERO;
    let mut points = vec![(0.0, 0.0)];
    for stage in stages.as_slice() {
        // Summed as Durations, converted once: no drift over many stages.
        t += stage.duration;
        points.push((t.as_secs_f64(), value(stage.target)));
    }
    points
}

/// One linear piece of the rate curve, with Λ at both ends.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Segment {
    start: f64,
    duration: f64,
    /// Rate at the start and at the end, requests per second.
    r0: f64,
    r1: f64,
    /// Λ at the start and at the end, requests.
    cum0: f64,
    cum1: f64,
}

impl Segment {
    fn rate_at(&self, u: f64) -> f64 {
        self.r0 + (self.r1 - self.r0) * (u / self.duration)
    }

    /// Λ over the first `u` seconds of the segment: the trapezoid, which is
    /// exact for a linear rate.
    fn cumulative_at(&self, u: f64) -> f64 {
        self.cum0 + u * 0.5 * (self.r0 + self.rate_at(u))
    }

    /// The `u` in `[0, duration]` at which `Λ` has grown by `delta` since
    /// the segment's start: the root of `r0·u + (a/2)·u² = delta`, with
    /// `a` the slope, written as `2·delta / (r0 + √(r0² + 2a·delta))` so that
    /// no two nearly equal numbers are subtracted (the textbook form loses
    /// every digit when `a` is tiny, and divides by zero when `a` is 0).
    fn solve(&self, delta: f64) -> f64 {
        if delta <= 0.0 {
            return 0.0;
        }
        let a = (self.r1 - self.r0) / self.duration;
        let disc = (self.r0 * self.r0 + 2.0 * a * delta).max(0.0);
        let denom = self.r0 + disc.sqrt();
        if denom <= 0.0 {
            // Only when r0 = 0 and a·delta underflows: the end is as good
            // as anywhere.
            return self.duration;
        }
        (2.0 * delta / denom).clamp(0.0, self.duration)
    }
}

/// An open loop's rate over the run: piecewise linear from 0 at `t = 0`
/// through each stage's target, 0 after the last stage.
#[derive(Debug, Clone, PartialEq)]
pub struct RateCurve {
    /// Segments of positive length, in time order, back to back.
    segments: Vec<Segment>,
    end: f64,
    total: f64,
}

impl RateCurve {
    /// The rate curve of an open loop's stages; `None` for connection counts.
    pub fn new(stages: &Stages) -> Option<RateCurve> {
        if stages.kind() != super::stage::Kind::Open {
            return None;
        }
        Some(RateCurve::from_corners(&corners(stages, |t| match t {
            Target::Rate(r) => r,
            Target::Connections(c) => c as f64,
        })))
    }

    fn from_corners(points: &[(f64, f64)]) -> RateCurve {
        let mut segments = Vec::with_capacity(points.len());
        let mut cum = 0.0;
        for pair in points.windows(2) {
            let ((t0, r0), (t1, r1)) = (pair[0], pair[1]);
            if t1 > t0 {
                let mut seg = Segment {
                    start: t0,
                    duration: t1 - t0,
                    r0,
                    r1,
                    cum0: cum,
                    cum1: cum,
                };
                seg.cum1 = seg.cumulative_at(seg.duration);
                cum = seg.cum1;
                segments.push(seg);
            }
        }
        let end = points.last().map_or(0.0, |p| p.0);
        RateCurve {
            segments,
            end,
            total: cum,
        }
    }

    /// The segment whose `[start, start + duration)` holds `t`, for
    /// `0 <= t < end`.
    fn segment_at(&self, t: f64) -> &Segment {
        let i = self.segments.partition_point(|s| s.start <= t);
        &self.segments[i.saturating_sub(1)]
    }

    /// When the last stage ends, seconds.
    pub fn end(&self) -> f64 {
        self.end
    }

    /// Λ at the end: how many requests the whole run asks for.
    pub fn total(&self) -> f64 {
        self.total
    }

    /// The rate at `t`, requests per second: right-continuous at a step
    /// (the new rate from the step on), 0 before 0 and from the end on.
    pub fn rate_at(&self, t: f64) -> f64 {
        if t.is_nan() || t < 0.0 || t >= self.end {
            return 0.0;
        }
        let seg = self.segment_at(t);
        seg.rate_at(t - seg.start)
    }

    /// `Λ(t) = ∫₀ᵗ r`: how many requests are due by `t` (0 before 0, the
    /// total after the end), exact per segment.
    pub fn cumulative(&self, t: f64) -> f64 {
        if t.is_nan() || t <= 0.0 {
            return 0.0;
        }
        if t >= self.end {
            return self.total;
        }
        let seg = self.segment_at(t);
        seg.cumulative_at(t - seg.start)
    }

    /// The first moment Λ passes `s`: `inf { t : Λ(t) > s }`. Where the rate
    /// is positive that is the `t` with `Λ(t) = s`; across a stretch at rate
    /// 0 (where Λ stands still) it is the stretch's end, so that a request
    /// due "during" a pause goes out when the load resumes. `None` when Λ
    /// never passes `s` before the end (`s >= total`): the run asks for no
    /// such request. Negative `s` reads as 0.
    pub fn inverse(&self, s: f64) -> Option<f64> {
        if s.is_nan() || s >= self.total {
            return None;
        }
        let s = s.max(0.0);
        let i = self.segments.partition_point(|seg| seg.cum1 <= s);
        let seg = self.segments.get(i)?;
        Some((seg.start + seg.solve(s - seg.cum0)).min(self.end))
    }
}

/// A closed loop's connection count over the run: piecewise linear from 0
/// through each stage's target, rounded to the nearest whole connection
/// (halves up). Connection slot `j` (0-based) is open while the curve is at
/// or above `j + 1/2`, so that a ramp from 0 to N over D opens slot `j` at
/// `(j + 1/2)·D/N` and a ramp down closes them at the mirror image times:
/// neither end of a ramp is favoured, and `connections_at(t)` always equals
/// the number of slots open at `t`. All connections close at the end.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionCurve {
    /// Corner points `(t, count)`, from `(0, 0)`; equal times are a step.
    points: Vec<(f64, f64)>,
    max: u32,
}

impl ConnectionCurve {
    /// The connection curve of a closed loop's stages; `None` for rates.
    pub fn new(stages: &Stages) -> Option<ConnectionCurve> {
        if stages.kind() != super::stage::Kind::Closed {
            return None;
        }
        let mut max = 0;
        let points = corners(stages, |t| match t {
            Target::Connections(c) => {
                max = max.max(c);
                c as f64
            }
            Target::Rate(r) => r,
        });
        Some(ConnectionCurve { points, max })
    }

    /// The most connections any stage asks for: how many slots the run
    /// needs.
    pub fn max_connections(&self) -> u32 {
        self.max
    }

    /// When the last stage ends, seconds.
    pub fn end(&self) -> f64 {
        self.points.last().map_or(0.0, |p| p.0)
    }

    /// The curve's exact value at `t` (right-continuous at a step).
    fn value_at(&self, t: f64) -> f64 {
        if t.is_nan() || t < 0.0 {
            return 0.0;
        }
        let i = self.points.partition_point(|p| p.0 <= t);
        if i >= self.points.len() {
            return 0.0;
        }
        let ((t0, c0), (t1, c1)) = (self.points[i - 1], self.points[i]);
        c0 + (c1 - c0) * ((t - t0) / (t1 - t0))
    }

    /// Connections open at `t`: the curve rounded to the nearest whole
    /// number, halves up; 0 before 0 and from the end on.
    pub fn connections_at(&self, t: f64) -> u32 {
        (self.value_at(t) + 0.5).floor() as u32
    }

    /// When slot `j` is open, as half-open intervals `[opens, closes)` in
    /// time order (a slot can open more than once when the stages go down
    /// and up again); empty for a slot the curve never reaches.
    pub fn slot_intervals(&self, j: u32) -> Vec<Range<Duration>> {
        let h = j as f64 + 0.5;
        let mut intervals = Vec::new();
        let mut opened: Option<f64> = None;
        let push = |from: f64, to: f64, intervals: &mut Vec<Range<Duration>>| {
            if to > from {
                intervals.push(Duration::from_secs_f64(from)..Duration::from_secs_f64(to));
            }
        };
        for pair in self.points.windows(2) {
            let ((t0, c0), (t1, c1)) = (pair[0], pair[1]);
            // Where the line from (t0, c0) to (t1, c1) meets height h.
            let crossing = || {
                if t1 > t0 {
                    (t0 + (h - c0) / (c1 - c0) * (t1 - t0)).clamp(t0, t1)
                } else {
                    t0
                }
            };
            match opened {
                None if c1 >= h => opened = Some(crossing()),
                Some(from) if c1 < h => {
                    push(from, crossing(), &mut intervals);
                    opened = None;
                }
                _ => {}
            }
        }
        if let Some(from) = opened {
            push(from, self.end(), &mut intervals);
        }
        intervals
    }
}

/// More connections asked for than the run's clients hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the stages ask for up to {wanted} connections, but --max-clients {clients} x \
     --max-conns {conns_per_client} hold {}: raise --max-clients or --max-conns, \
     or lower the stages' targets",
    u64::from(*.clients) * u64::from(*.conns_per_client)
)]
pub struct CapacityError {
    pub wanted: u32,
    pub clients: u32,
    pub conns_per_client: u32,
}

impl ConnectionCurve {
    /// Whether `clients` x `conns_per_client` connections can follow the
    /// curve: every slot it opens must be some client's connection.
    pub fn check_capacity(&self, clients: u32, conns_per_client: u32) -> Result<(), CapacityError> {
        if u64::from(self.max) <= u64::from(clients) * u64::from(conns_per_client) {
            Ok(())
        } else {
            Err(CapacityError {
                wanted: self.max,
                clients,
                conns_per_client,
            })
        }
    }

    /// When connection `id` (numbered as the engine does: client
    /// `id / conns_per_client`) is open: its slot's intervals.
    pub fn connection_intervals(
        &self,
        id: u32,
        clients: u32,
        conns_per_client: u32,
    ) -> Vec<Range<Duration>> {
        self.slot_intervals(connection_slot(id, clients, conns_per_client))
    }
}

/// The connection that slot `slot` stands for, when `clients` clients hold
/// `conns_per_client` connections each (connection `id` belongs to client
/// `id / conns_per_client`, as the engine numbers them): slots go round the
/// clients in turn (slot 0 is client 0's first connection, slot 1 client
/// 1's first, ...), so a ramp spreads its new connections over every client
/// before any client gets a second one, and a ramp down (which closes the
/// highest slots first) takes them back in the reverse order.
pub fn slot_connection(slot: u32, clients: u32, conns_per_client: u32) -> u32 {
    debug_assert!(slot < clients * conns_per_client);
    (slot % clients) * conns_per_client + slot / clients
}

/// The slot of connection `id`: the inverse of [`slot_connection`].
pub fn connection_slot(id: u32, clients: u32, conns_per_client: u32) -> u32 {
    debug_assert!(id < clients * conns_per_client);
    (id % conns_per_client) * clients + id / conns_per_client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stages(values: &[&str]) -> Stages {
        Stages::parse(values).unwrap()
    }

    fn rate(values: &[&str]) -> RateCurve {
        RateCurve::new(&stages(values)).unwrap()
    }

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * (1.0 + b.abs())
    }

    /// Every shape the tests below sweep: ramps up and down, plateaus,
    /// steps up and down, a pause at 0, a tiny and a huge rate.
    const SHAPES: &[&[&str]] = &[
        &["30s:1000/s", "2m:1000/s", "30s:0/s"],
        &["0s:1000/s", "10s:1000/s"],
        &["5s:2000/s"],
        &[
            "10s:100/s",
            "0s:500/s",
            "10s:500/s",
            "0s:50/s",
            "5s:0/s",
            "3s:0/s",
            "7s:300/s",
        ],
        &["1s:0.001/s", "1h:0.001/s"],
        &["1ms:1000000/s", "1s:3/s", "2s:0.001/s"],
        &["10s:0/s", "10s:10/s"],
    ];

    #[test]
    fn hand_computed_integrals() {
        let c = rate(&["30s:1000/s", "2m:1000/s", "30s:0/s"]);
        assert_eq!(c.end(), 180.0);
        // Ramp: 1000/30 per second², Λ(t) = (1000/30)·t²/2.
        assert!(close(c.cumulative(15.0), 3750.0, 1e-15));
        assert_eq!(c.cumulative(30.0), 15_000.0);
        assert_eq!(c.cumulative(90.0), 15_000.0 + 60_000.0);
        assert_eq!(c.cumulative(150.0), 135_000.0);
        // Ramp down: rate 500 at 165 s, so 15·(1000 + 500)/2 more.
        assert_eq!(c.cumulative(165.0), 135_000.0 + 11_250.0);
        assert_eq!(c.cumulative(180.0), 150_000.0);
        assert_eq!(c.cumulative(1e9), 150_000.0);
        assert_eq!(c.cumulative(-1.0), 0.0);
        assert_eq!(c.total(), 150_000.0);
        assert_eq!(c.rate_at(15.0), 500.0);
        assert_eq!(c.rate_at(100.0), 1000.0);
        assert_eq!(c.rate_at(165.0), 500.0);
        assert_eq!(c.rate_at(180.0), 0.0);
        assert_eq!(c.rate_at(-0.5), 0.0);
        // The inverse of those, exactly where the arithmetic is exact.
        assert_eq!(c.inverse(15_000.0), Some(30.0));
        assert_eq!(c.inverse(75_000.0), Some(90.0));
        assert_eq!(c.inverse(146_250.0), Some(165.0));
        assert_eq!(c.inverse(150_000.0), None);
        assert_eq!(c.inverse(f64::NAN), None);
        assert_eq!(c.inverse(0.0), Some(0.0));
        assert_eq!(c.inverse(-3.0), Some(0.0));
    }

    #[test]
    fn steps_change_the_rate_at_once() {
        let c = rate(&["10s:100/s", "0s:500/s", "10s:500/s"]);
        assert!(close(c.rate_at(9.999), 99.99, 1e-15));
        assert_eq!(c.rate_at(10.0), 500.0);
        assert_eq!(c.cumulative(10.0), 500.0);
        assert_eq!(c.cumulative(12.0), 1500.0);
        assert_eq!(c.inverse(1500.0), Some(12.0));
        // A step at the start is today's constant rate: slot s at s / rate.
        let c = rate(&["0s:1000/s", "10s:1000/s"]);
        for s in [0.0, 1.0, 17.0, 9999.0] {
            assert_eq!(c.inverse(s), Some(s / 1000.0));
        }
        assert_eq!(c.inverse(10_000.0), None);
    }

    #[test]
    fn pauses_send_nothing_and_resume_at_their_end() {
        // 10 s at 0, then a ramp to 10/s over 10 s: Λ(20) = 50.
        let c = rate(&["10s:0/s", "10s:10/s"]);
        assert_eq!(c.cumulative(10.0), 0.0);
        assert_eq!(c.total(), 50.0);
        assert_eq!(c.inverse(0.0), Some(10.0));
        assert_eq!(c.inverse(2.0), Some(12.0)); // 2 = 1·u²/2
                                                // A plateau at 0 in the middle: Λ stands at 50 from 10 s to 13 s.
        let c = rate(&["10s:10/s", "0s:0/s", "3s:0/s", "0s:10/s", "1s:10/s"]);
        assert_eq!(c.cumulative(11.5), 50.0);
        assert_eq!(c.inverse(49.999_999).map(|t| t < 10.0), Some(true));
        assert_eq!(c.inverse(50.0), Some(13.0));
        assert_eq!(c.inverse(55.0), Some(13.5));
        // Only zeros (which Stages refuses, but the curve must not
        // mind): nothing is ever due.
        let c = RateCurve::from_corners(&[(0.0, 0.0), (10.0, 0.0)]);
        assert_eq!(c.total(), 0.0);
        assert_eq!(c.inverse(0.0), None);
    }

    /// Property: Λ never decreases, and inverse(Λ(t)) is t wherever the rate
    /// is positive around t, over a dense sweep of every shape.
    #[test]
    fn cumulative_is_monotone_and_inverse_undoes_it() {
        for shape in SHAPES {
            let c = rate(shape);
            let n = 20_000;
            let mut last = 0.0;
            for i in 0..=n {
                // An irrational-ish stride, so the sweep lands off the corners too.
                let t = c.end() * (i as f64 / n as f64) * 0.999_999_7;
                let s = c.cumulative(t);
                assert!(s >= last, "{shape:?}: Λ({t}) = {s} < {last}");
                last = s;
                if c.rate_at(t) > 1e-9 && s < c.total() {
                    let back = c.inverse(s).unwrap();
                    let tol = 1e-9 * c.end().max(1.0) / c.rate_at(t).min(1.0);
                    assert!(
                        (back - t).abs() <= tol.max(1e-9),
                        "{shape:?}: inverse(Λ({t})) = {back}"
                    );
                }
            }
            assert!(close(c.cumulative(c.end()), c.total(), 1e-12));
        }
    }

    /// Property: Λ(inverse(s)) = s for every s below the total, and the
    /// inverse never decreases.
    #[test]
    fn inverse_is_monotone_and_cumulative_undoes_it() {
        for shape in SHAPES {
            let c = rate(shape);
            let n = 20_000;
            let mut last = 0.0;
            for i in 0..n {
                let s = c.total() * (i as f64 / n as f64);
                let t = c.inverse(s).unwrap();
                assert!(t >= last && t <= c.end(), "{shape:?}: inverse({s}) = {t}");
                last = t;
                assert!(
                    close(c.cumulative(t), s, 1e-9),
                    "{shape:?}: Λ(inverse({s})) = {}",
                    c.cumulative(t)
                );
            }
        }
    }

    /// The stable root formula against the textbook one where that is
    /// still accurate, and where the textbook one fails (a nearly flat ramp).
    #[test]
    fn the_root_is_accurate_on_nearly_flat_ramps() {
        let c = rate(&["0s:1000/s", "1000s:1000.000001/s"]);
        for s in [1.0, 12_345.0, 999_999.0] {
            let t = c.inverse(s).unwrap();
            assert!(close(c.cumulative(t), s, 1e-13), "{s}: {t}");
        }
        // Steep: 0 to 1e6/s in 1 ms, Λ(1ms) = 500.
        let c = rate(&["1ms:1000000/s"]);
        assert!(close(c.inverse(125.0).unwrap(), 0.0005, 1e-12));
    }

    #[test]
    fn a_closed_loop_has_no_rate_curve_and_the_reverse() {
        assert!(RateCurve::new(&stages(&["1m:200"])).is_none());
        assert!(ConnectionCurve::new(&stages(&["1m:200/s"])).is_none());
    }

    fn conns(values: &[&str]) -> ConnectionCurve {
        ConnectionCurve::new(&stages(values)).unwrap()
    }

    fn secs(r: &Range<Duration>) -> (f64, f64) {
        (r.start.as_secs_f64(), r.end.as_secs_f64())
    }

    #[test]
    fn connection_counts_round_to_the_nearest() {
        let c = conns(&["10s:10", "5s:10", "10s:0"]);
        assert_eq!(c.max_connections(), 10);
        assert_eq!(c.end(), 25.0);
        for (t, want) in [
            (0.0, 0),
            (0.49, 0),
            (0.5, 1),
            (1.49, 1),
            (9.51, 10),
            (12.0, 10),
            (15.0, 10),
            (15.49, 10),
            (15.51, 9),
            (24.51, 0),
            (25.0, 0),
            (-1.0, 0),
        ] {
            assert_eq!(c.connections_at(t), want, "t = {t}");
        }
        // A step at the start opens everything at once.
        let c = conns(&["0s:200", "1m:200"]);
        assert_eq!(c.connections_at(0.0), 200);
        assert_eq!(
            c.slot_intervals(199),
            vec![Duration::ZERO..Duration::from_secs(60)]
        );
    }

    #[test]
    fn slots_open_and_close_mid_step() {
        // 0 → 4 over 4 s, hold 2 s, 4 → 0 over 4 s.
        let c = conns(&["4s:4", "2s:4", "4s:0"]);
        let want = [(0.5, 9.5), (1.5, 8.5), (2.5, 7.5), (3.5, 6.5)];
        for (j, &(open, close)) in want.iter().enumerate() {
            let got = c.slot_intervals(j as u32);
            assert_eq!(got.len(), 1, "slot {j}: {got:?}");
            let (o, cl) = secs(&got[0]);
            assert!(
                (o - open).abs() < 1e-9 && (cl - close).abs() < 1e-9,
                "slot {j}: {o}..{cl}"
            );
        }
        assert!(c.slot_intervals(4).is_empty());
    }

    #[test]
    fn a_slot_can_open_again() {
        // Up to 2, down to 0, a step up to 2 again.
        let c = conns(&["2s:2", "2s:0", "0s:2", "1s:2"]);
        let got: Vec<_> = c.slot_intervals(1).iter().map(secs).collect();
        assert_eq!(got.len(), 2, "{got:?}");
        assert!((got[0].0 - 1.5).abs() < 1e-9 && (got[0].1 - 2.5).abs() < 1e-9);
        assert_eq!(got[1], (4.0, 5.0));
    }

    /// Property: at every moment the slots' intervals and the rounded count
    /// agree, over a sweep of several shapes.
    #[test]
    fn intervals_agree_with_the_count() {
        for shape in [
            &["1m:200", "30s:200", "30s:50", "0s:120", "10s:0"][..],
            &["10s:7", "10s:3", "10s:9"],
            &["0s:5", "3s:5"],
        ] {
            let c = conns(shape);
            let intervals: Vec<_> = (0..c.max_connections() + 1)
                .map(|j| c.slot_intervals(j))
                .collect();
            let n = 5_000;
            for i in 0..n {
                let t = c.end() * (i as f64 + 0.123_456) / n as f64;
                let d = Duration::from_secs_f64(t);
                let open = intervals
                    .iter()
                    .filter(|iv| iv.iter().any(|r| r.contains(&d)))
                    .count();
                assert_eq!(open as u32, c.connections_at(t), "{shape:?} at {t}");
            }
        }
    }

    #[test]
    fn capacity_is_checked_and_connections_open_client_by_client() {
        let c = conns(&["3s:6", "1s:6"]);
        assert_eq!(c.check_capacity(3, 2), Ok(()));
        assert_eq!(
            c.check_capacity(5, 1).unwrap_err().to_string(),
            "the stages ask for up to 6 connections, but --max-clients 5 x --max-conns 1 \
             hold 5: raise --max-clients or --max-conns, or lower the stages' targets"
        );
        // 3 clients x 2: one connection per client first (ids 0, 2, 4),
        // then each client's second (1, 3, 5), 0.5 s apart.
        let opens: Vec<f64> = (0..6)
            .map(|id| c.connection_intervals(id, 3, 2)[0].start.as_secs_f64())
            .collect();
        let want = [0.25, 1.75, 0.75, 2.25, 1.25, 2.75];
        for (id, (&got, &want)) in opens.iter().zip(&want).enumerate() {
            assert!(
                (got - want).abs() < 1e-9,
                "connection {id}: {got} vs {want}"
            );
        }
    }

    #[test]
    fn slots_go_round_the_clients() {
        // 3 clients x 2 connections: ids 0,1 are client 0's, 2,3 client 1's.
        let order: Vec<u32> = (0..6).map(|s| slot_connection(s, 3, 2)).collect();
        assert_eq!(order, [0, 2, 4, 1, 3, 5]);
        for (clients, conns) in [(1, 1), (1, 7), (7, 1), (50, 4), (3, 5)] {
            let mut seen = vec![false; (clients * conns) as usize];
            for slot in 0..clients * conns {
                let id = slot_connection(slot, clients, conns);
                assert!(!seen[id as usize]);
                seen[id as usize] = true;
                assert_eq!(connection_slot(id, clients, conns), slot);
                // The first `clients` slots take one connection from each client.
                if slot < clients {
                    assert_eq!(id / conns, slot);
                }
            }
        }
    }
}
