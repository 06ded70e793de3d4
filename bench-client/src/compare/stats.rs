//! The statistics behind `compare`: a percentile-bootstrap confidence
//! interval of the change between two small sets of repeated runs.
//!
//! Why a bootstrap of the means and not Mann–Whitney U: a CI gate has three
//! to five runs a side, and with three a side the smallest two-sided U-test
//! p-value is 2/C(6,3) = 0.1, so the test can never reject at 5 %. The
//! bootstrap gives an interval in the metric's own unit (a % change), which is
//! what the regression limit is expressed in. It is deterministic (fixed
//! seed), so the same files always give the same verdict.

/// How a change is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// `candidate / baseline - 1`, in percent.
    Relative,
    /// `candidate - baseline`, in the values' own unit (percentage points for
    /// rates, whose relative change from near zero means nothing).
    Absolute,
}

/// The change between two means, in the unit `kind` gives.
pub fn change(baseline_mean: f64, candidate_mean: f64, kind: ChangeKind) -> f64 {
    match kind {
        ChangeKind::Relative if baseline_mean == 0.0 => {
            if candidate_mean == 0.0 {
                0.0
            } else {
                f64::INFINITY.copysign(candidate_mean)
            }
        }
        ChangeKind::Relative => (candidate_mean / baseline_mean - 1.0) * 100.0,
        ChangeKind::Absolute => candidate_mean - baseline_mean,
    }
}

pub fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.iter().sum::<f64>() / values.len() as f64
}

/// A small deterministic generator (SplitMix64): the bootstrap needs
/// reproducible resampling, not cryptographic randomness.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`); the modulo bias is below 2^-50 for the
    /// handful of runs we index.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// Resamples drawn by [`bootstrap_ci`].
pub const RESAMPLES: usize = 10_000;

/// Percentile-bootstrap `confidence` interval (e.g. 0.95) of
/// `change(mean(baseline*), mean(candidate*), kind)`, where each side is
/// resampled with replacement independently. `None` when a side is empty.
pub fn bootstrap_ci(
    baseline: &[f64],
    candidate: &[f64],
    kind: ChangeKind,
    confidence: f64,
) -> Option<(f64, f64)> {
    if baseline.is_empty() || candidate.is_empty() {
        return None;
    }
    let mut rng = SplitMix64::new(0x5EED_B007_57A9_0001);
    let mut resample_mean = |values: &[f64]| {
        let sum: f64 = (0..values.len())
            .map(|_| values[rng.below(values.len())])
            .sum();
        sum / values.len() as f64
    };
    let mut changes: Vec<f64> = (0..RESAMPLES)
        .map(|_| {
            let b = resample_mean(baseline);
            let c = resample_mean(candidate);
            change(b, c, kind)
        })
        .collect();
    changes.sort_by(f64::total_cmp);
    let alpha = (1.0 - confidence) / 2.0;
    let at = |q: f64| {
        let i = (q * (changes.len() - 1) as f64).round() as usize;
        changes[i.min(changes.len() - 1)]
    };
    Some((at(alpha), at(1.0 - alpha)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_change_in_percent() {
        assert!((change(100.0, 80.0, ChangeKind::Relative) + 20.0).abs() < 1e-9);
        assert_eq!(change(0.0, 0.0, ChangeKind::Relative), 0.0);
        assert_eq!(change(0.0, 1.0, ChangeKind::Relative), f64::INFINITY);
        assert!((change(0.5, 1.5, ChangeKind::Absolute) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn ci_of_a_clear_shift_excludes_zero() {
        let base = [100.0, 101.0, 99.0];
        let cand = [80.0, 81.0, 79.5];
        let (lo, hi) = bootstrap_ci(&base, &cand, ChangeKind::Relative, 0.95).unwrap();
        assert!(lo < -18.0 && hi < -18.0 && lo <= hi, "[{lo}, {hi}]");
    }

    #[test]
    fn ci_of_overlapping_noise_contains_zero() {
        let base = [100.0, 102.0, 98.0];
        let cand = [101.5, 98.5, 100.0];
        let (lo, hi) = bootstrap_ci(&base, &cand, ChangeKind::Relative, 0.95).unwrap();
        assert!(lo < 0.0 && hi > 0.0, "[{lo}, {hi}]");
    }

    #[test]
    fn ci_of_identical_sets_is_zero_and_deterministic() {
        let v = [5.0, 6.0, 7.0];
        let a = bootstrap_ci(&v, &v, ChangeKind::Absolute, 0.95).unwrap();
        let b = bootstrap_ci(&v, &v, ChangeKind::Absolute, 0.95).unwrap();
        assert_eq!(a, b);
        assert!(a.0 < 0.0 && a.1 > 0.0);
        let same = [5.0, 5.0];
        assert_eq!(
            bootstrap_ci(&same, &same, ChangeKind::Relative, 0.95),
            Some((0.0, 0.0))
        );
        assert_eq!(bootstrap_ci(&[], &v, ChangeKind::Relative, 0.95), None);
    }
}
