//! HDR histograms as the whole project uses them: one shape (1 µs to 1 h,
//! 3 significant digits), one portable encoding (base64 of the compressed V2
//! format), and the summary figures written under `latency` in a result.

use std::collections::BTreeMap;

use base64::Engine as _;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram;

use crate::result::{Latency, PERCENTILE_KEYS};

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

/// The value at percentile `key` (one of [`PERCENTILE_KEYS`], e.g. `"99.9"`).
pub fn percentile(h: &Histogram<u64>, key: &str) -> u64 {
    let q: f64 = key.parse().unwrap_or(100.0);
    if h.is_empty() {
        return 0;
    }
    if q >= 100.0 {
        h.max()
    } else {
        h.value_at_percentile(q)
    }
}

/// The `latency` block of a result, histogram included.
pub fn latency_from(h: &Histogram<u64>) -> Latency {
    let percentiles: BTreeMap<String, u64> = PERCENTILE_KEYS
        .iter()
        .map(|k| (k.to_string(), percentile(h, k)))
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
    fn garbage_is_a_typed_error() {
        assert!(matches!(decode("not base64!"), Err(HdrError::Base64(_))));
        assert!(matches!(decode("AAAA"), Err(HdrError::Decode(_))));
    }
}
