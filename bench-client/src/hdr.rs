//! HDR histograms as the whole project uses them: one shape (1 µs to 1 h,
//! 3 significant digits), one portable encoding (base64 of the compressed V2
//! format), and the summary figures written under `latency` in a result.

use std::collections::BTreeMap;

use base64::Engine as _;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram;

use crate::result::Latency;
#[cfg(test)]
use crate::result::PERCENTILE_KEYS;

/// Highest trackable latency: one hour, in microseconds.
pub const MAX_LATENCY_US: u64 = 3_600_000_000;

/// Why a stored histogram could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum HdrError {
    #[error("latency.hdr is not valid base64: {0}")]
    Base64(#[from] base64::DecodeError),
    #[error("latency.hdr does not hold a V2 HdrHistogram: {0:?}")]
    Decode(hdrhistogram::serialization::DeserializeError),
}

/// A new empty latency histogram (µs) of the project's one shape.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("static histogram bounds are valid")
}

/// A latency histogram (µs) of the same precision that starts small and
/// grows to its largest sample, for figures kept by the hundred (per
/// target). It encodes, adds to and reads like the others.
pub fn new_small_histogram() -> Histogram<u64> {
    let mut h = Histogram::new_with_bounds(1, 2, 3).expect("static histogram bounds are valid");
    h.auto(true);
    h
}

/// Records `us`, clamped into the trackable range so that an extreme sample
/// is kept (as the maximum) rather than silently dropped.
pub fn record(h: &mut Histogram<u64>, us: u64) {
    let v = us.clamp(1, MAX_LATENCY_US);
    // Cannot fail: `v` is inside the bounds the histogram was built with.
    let _ = h.record(v);
}

/// Base64 of the compressed V2 encoding.
pub fn encode(h: &Histogram<u64>) -> String {
    let mut bytes = Vec::new();
    V2DeflateSerializer::new()
        .serialize(h, &mut bytes)
        .expect("serializing into a Vec cannot fail");
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Inverse of [`encode`]; also reads uncompressed V2, as other tools write it.
pub fn decode(s: &str) -> Result<Histogram<u64>, HdrError> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(s.trim())?;
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(HdrError::Decode)
}

/// A percentile stored under `latency.percentiles`: the only ones a caller
/// can ask for, so that a typo is a compile error (or, for text such as a
/// `--fail-on` metric, a parse error) instead of a silent maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Percentile {
    P50,
    P75,
    P90,
    P99,
    P99_9,
    P99_99,
    /// The 100th percentile: the largest sample.
    Max,
}

impl Percentile {
    /// In the order of [`crate::result::PERCENTILE_KEYS`], which a test keeps equal.
    pub const ALL: [Percentile; 7] = [
        Percentile::P50,
        Percentile::P75,
        Percentile::P90,
        Percentile::P99,
        Percentile::P99_9,
        Percentile::P99_99,
        Percentile::Max,
    ];

    /// The key it is stored under in a result, e.g. `"99.9"`.
    pub fn key(self) -> &'static str {
        match self {
            Percentile::P50 => "50",
            Percentile::P75 => "75",
            Percentile::P90 => "90",
            Percentile::P99 => "99",
            Percentile::P99_9 => "99.9",
            Percentile::P99_99 => "99.99",
            Percentile::Max => "100",
        }
    }

    /// The percentile as a number, e.g. `99.9`.
    pub fn value(self) -> f64 {
        match self {
            Percentile::P50 => 50.0,
            Percentile::P75 => 75.0,
            Percentile::P90 => 90.0,
            Percentile::P99 => 99.0,
            Percentile::P99_9 => 99.9,
            Percentile::P99_99 => 99.99,
            Percentile::Max => 100.0,
        }
    }

    /// The stored percentile equal to `p` (`99.9`), or an error naming the
    /// stored ones: `99.5` is not in any result, so no answer is made up.
    pub fn from_value(p: f64) -> Result<Percentile, UnknownPercentile> {
        Percentile::ALL
            .into_iter()
            .find(|q| q.value() == p)
            .ok_or_else(|| UnknownPercentile(format!("{p}")))
    }
}

impl std::str::FromStr for Percentile {
    type Err = UnknownPercentile;

    /// A stored key exactly as written in a result (`"99.9"`).
    fn from_str(key: &str) -> Result<Percentile, UnknownPercentile> {
        Percentile::ALL
            .into_iter()
            .find(|q| q.key() == key)
            .ok_or_else(|| UnknownPercentile(key.to_string()))
    }
}

/// A percentile that results do not store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("percentile '{0}' is not stored: expected one of 50, 75, 90, 99, 99.9, 99.99, 100")]
pub struct UnknownPercentile(pub String);

/// The value at percentile `p` (0 for an empty histogram).
pub fn percentile(h: &Histogram<u64>, p: Percentile) -> u64 {
    if h.is_empty() {
        return 0;
    }
    match p {
        Percentile::Max => h.max(),
        p => h.value_at_percentile(p.value()),
    }
}

/// The `latency` block of a result, histogram included.
pub fn latency_from(h: &Histogram<u64>) -> Latency {
    let percentiles: BTreeMap<String, u64> = Percentile::ALL
        .iter()
        .map(|&p| (p.key().to_string(), percentile(h, p)))
        .collect();
    let empty = h.is_empty();
    Latency {
        unit: "us".to_string(),
        min: if empty { 0 } else { h.min() },
        mean: if empty { 0.0 } else { h.mean() },
        stdev: if empty { 0.0 } else { h.stdev() },
        max: if empty { 0 } else { h.max() },
        percentiles,
        hdr: encode(h),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_decode_round_trip_keeps_counts_and_percentiles() {
        let mut h = new_histogram();
        for us in 1..=10_000u64 {
            record(&mut h, us * 7);
        }
        let back = decode(&encode(&h)).unwrap();
        assert_eq!(back.len(), 10_000);
        assert_eq!(back.value_at_percentile(99.0), h.value_at_percentile(99.0));
        assert_eq!(back.max(), h.max());
    }

    #[test]
    fn out_of_range_samples_are_clamped_not_dropped() {
        let mut h = new_histogram();
        record(&mut h, 0);
        record(&mut h, u64::MAX);
        assert_eq!(h.len(), 2);
        assert_eq!(h.min(), 1);
        assert!(h.max() >= MAX_LATENCY_US);
    }

    #[test]
    fn latency_block_of_empty_histogram_is_zero() {
        let l = latency_from(&new_histogram());
        assert_eq!(l.max, 0);
        assert_eq!(l.percentiles["99.9"], 0);
        assert_eq!(decode(&l.hdr).unwrap().len(), 0);
    }

    #[test]
    fn percentiles_are_the_stored_keys() {
        let keys: Vec<&str> = Percentile::ALL.iter().map(|p| p.key()).collect();
        assert_eq!(keys, PERCENTILE_KEYS);
        for p in Percentile::ALL {
            assert_eq!(p.key().parse::<Percentile>(), Ok(p));
            assert_eq!(Percentile::from_value(p.value()), Ok(p));
        }
    }

    /// Review finding: `percentile(h, "99")` parsed its key and answered
    /// the maximum for a typo such as `"p99"`.
    #[test]
    fn an_unknown_percentile_is_refused_not_read_as_the_maximum() {
        for key in ["p99", "99.5", "", "max"] {
            assert_eq!(
                key.parse::<Percentile>(),
                Err(UnknownPercentile(key.to_string()))
            );
        }
        assert_eq!(
            Percentile::from_value(99.5).unwrap_err().to_string(),
            "percentile '99.5' is not stored: expected one of 50, 75, 90, 99, 99.9, 99.99, 100"
        );
    }

    #[test]
    fn percentile_reads_the_histogram() {
        let mut h = new_histogram();
        assert_eq!(percentile(&h, Percentile::P99), 0);
        for us in 1..=1_000u64 {
            record(&mut h, us);
        }
        assert_eq!(percentile(&h, Percentile::P50), 500);
        assert_eq!(percentile(&h, Percentile::P99), 990);
        assert_eq!(percentile(&h, Percentile::Max), 1_000);
    }

    #[test]
    fn garbage_is_a_typed_error() {
        assert!(matches!(decode("not base64!"), Err(HdrError::Base64(_))));
        assert!(matches!(decode("AAAA"), Err(HdrError::Decode(_))));
    }
}
