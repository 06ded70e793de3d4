//! How every report spells a number: sizes, durations, latencies, rates and
//! counts, once, so that 64 KiB reads the same in the summary, on a chart
//! and in a check. It lives under `report` because the text summary is its
//! main user; `metric`, `compare` and `plot` borrow it.
//!
//! Sizes are binary (1 KiB = 1,024 bytes) with one spelling: a whole
//! number of the unit has no decimals (`64KiB`, `3MiB`), anything else two
//! (`1.50KiB`, `1.95MiB`); under 1 KiB, whole bytes (`1023B`).

use std::time::Duration;

/// Binary units, up to TiB.
const SIZE_UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];

/// A size (or a size per second) in binary units: `64KiB`, `1.50MiB`, `512B`.
pub fn bytes(bytes: f64) -> String {
    if !bytes.is_finite() {
        return "-".to_string();
    }
    let mut v = bytes;
    let mut unit = 0;
    while v >= 1024.0 && unit < SIZE_UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 || v.fract() == 0.0 {
        format!("{v:.0}{}", SIZE_UNITS[unit])
    } else {
        format!("{v:.2}{}", SIZE_UNITS[unit])
    }
}

/// Microseconds in the largest unit that keeps the number ≥ 1, like wrk:
/// `999.00µs`, `1.00ms`, `2.50s`; `-` when there is no number.
pub fn latency_us(us: f64) -> String {
    if !us.is_finite() {
        return "-".to_string();
    }
    if us < 1_000.0 {
        format!("{us:.2}µs")
    } else if us < 1_000_000.0 {
        format!("{:.2}ms", us / 1_000.0)
    } else {
        format!("{:.2}s", us / 1_000_000.0)
    }
}

/// Microseconds as milliseconds with three decimals and no unit, for table
/// columns headed `ms`: `1250` → `1.250`.
pub fn ms(us: f64) -> String {
    format!("{:.3}", us / 1_000.0)
}

/// `2.5` → `2s 500ms`, `0.5` → `500ms`, `120` → `2m` (humantime's form, as
/// the command line accepts it), to the millisecond.
pub fn duration_s(seconds: f64) -> String {
    match Duration::try_from_secs_f64(seconds) {
        // Millisecond precision: the nanoseconds of a measured duration are noise.
        Ok(d) => {
            humantime::format_duration(Duration::from_millis(d.as_millis() as u64)).to_string()
        }
        Err(_) => format!("{seconds}s"),
    }
}

/// A rate (req/s) with two decimals, as the summary prints it: `500.00`;
/// `-` when it is not a number (no time elapsed, no service time measured).
pub fn rate(per_sec: f64) -> String {
    if per_sec.is_finite() {
        format!("{per_sec:.2}")
    } else {
        "-".to_string()
    }
}

/// A rate with one decimal, for tables and check sentences: `500.0`.
pub fn rate_short(per_sec: f64) -> String {
    if per_sec.is_finite() {
        format!("{per_sec:.1}")
    } else {
        "-".to_string()
    }
}

/// A count or plain number without trailing zeros: `3`, `2.5`, `0.01`
/// (two decimals at most).
pub fn number(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A count for an axis tick, in thousands from 1,000: `999`, `1.5k`, `12k`.
pub fn count_short(v: f64) -> String {
    if v >= 10_000.0 {
        format!("{:.0}k", v / 1000.0)
    } else if v >= 1000.0 {
        format!("{:.1}k", v / 1000.0)
    } else {
        format!("{v:.0}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_have_one_spelling() {
        let table = [
            (0.0, "0B"),
            (1023.0, "1023B"),
            (1024.0, "1KiB"),
            (1536.0, "1.50KiB"),
            (65_536.0, "64KiB"),
            (1_024_000.0, "1000KiB"),
            (2_048_000.0, "1.95MiB"),
            (3.0 * 1024.0 * 1024.0, "3MiB"),
            (1.5 * 1024.0 * 1024.0, "1.50MiB"),
            (3.0 * 1024.0 * 1024.0 * 1024.0, "3GiB"),
            (5.0 * 1024f64.powi(5), "5120TiB"),
            (f64::NAN, "-"),
        ];
        for (b, want) in table {
            assert_eq!(bytes(b), want, "{b}");
        }
    }

    #[test]
    fn latencies_durations_rates_and_counts() {
        assert_eq!(latency_us(0.0), "0.00µs");
        assert_eq!(latency_us(999.0), "999.00µs");
        assert_eq!(latency_us(1_000.0), "1.00ms");
        assert_eq!(latency_us(2_500_000.0), "2.50s");
        assert_eq!(latency_us(f64::INFINITY), "-");
        assert_eq!(ms(1_250.0), "1.250");
        assert_eq!(duration_s(0.5), "500ms");
        assert_eq!(duration_s(1.25), "1s 250ms");
        assert_eq!(duration_s(120.0), "2m");
        assert_eq!(duration_s(f64::NAN), "NaNs");
        assert_eq!(rate(500.0), "500.00");
        assert_eq!(rate(f64::INFINITY), "-");
        assert_eq!(rate_short(499.96), "500.0");
        assert_eq!(number(3.0), "3");
        assert_eq!(number(2.5), "2.5");
        assert_eq!(number(0.0), "0");
        assert_eq!(count_short(999.0), "999");
        assert_eq!(count_short(1_500.0), "1.5k");
        assert_eq!(count_short(12_000.0), "12k");
    }
}
