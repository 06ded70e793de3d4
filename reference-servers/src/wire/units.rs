//! Sizes and durations as people type them on a command line, read the same
//! way by the client (`--payload`, `-d`, `--timeout`) and the servers
//! (`--max-body`, `--read-timeout`): a user who learns one spelling can use
//! it everywhere.
//!
//! Sizes are binary whatever the spelling (`64k`, `64K`, `64kb`, `64KB` and
//! `64KiB` are all 65,536): a load tester asks for "a 64k body" meaning the
//! power of two, and two readings of one word would make runs disagree.
//! Fractions are refused rather than rounded. A bare number of seconds is a
//! duration, as in wrk (`-d 10`).

use std::time::Duration;

/// The accepted size spellings, quoted in every size error.
pub const SIZE_FORMS: &str = "a size in bytes such as 512, 64k, 64KB or 64KiB (each 65536), \
     1m, 1MB or 1MiB (each 1048576), or 1g; units are powers of 1024 and fractions are refused";

/// The accepted duration spellings, quoted in every duration error.
pub const DURATION_FORMS: &str = "a duration such as 10 (seconds), 1.5, 10s, 500ms, 2m or 1h30m";

/// Digits a duration with units may hold in all: far more than any span a
/// run or a timeout means, and few enough to keep every sum far from where
/// humantime overflows.
const MAX_DURATION_DIGITS: usize = 15;

/// Why a size or duration was refused; the message completes
/// "expected ..." after the caller names the flag and the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    #[error("{}", .0)]
    Malformed(&'static str),
    #[error("{what} of at most {max}")]
    TooLarge { what: &'static str, max: String },
}

/// Parses a size: digits, then optionally `b`, or `k`/`m`/`g` with an
/// optional `b` or `ib`, in any case (`512`, `64k`, `64KB`, `1MiB`, `2g`).
pub fn parse_size(text: &str, max: u64) -> Result<u64, UnitError> {
    let bad = UnitError::Malformed(SIZE_FORMS);
    let t = text.trim();
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return Err(bad);
    }
    let shift = match t[digits..].trim_start().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return Err(bad),
    };
    let too_large = || UnitError::TooLarge {
        what: "a size",
        max: format_size(max),
    };
    let n: u64 = t[..digits].parse().map_err(|_| too_large())?;
    let bytes = n.checked_mul(1u64 << shift).ok_or_else(too_large)?;
    if bytes > max {
        return Err(too_large());
    }
    Ok(bytes)
}

/// Parses a duration: a bare number of seconds (`10`, `1.5`), or humantime's
/// forms (`10s`, `1.5s`, `500ms`, `2m`, `1h 30m`). Zero is returned as zero: whether
/// it means anything is the caller's rule. Durations above `max` are
/// refused, so that adding one to an `Instant` can never overflow.
pub fn parse_duration(text: &str, max: Duration) -> Result<Duration, UnitError> {
    let t = text.trim();
    let bare_seconds = t.bytes().any(|b| b.is_ascii_digit())
        && t.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && t.bytes().filter(|&b| b == b'.').count() <= 1;
    let too_large = || UnitError::TooLarge {
        what: "a duration",
        max: format_cap(max),
    };
    let d = if bare_seconds {
        // Digits and one dot only, so neither `inf`, `NaN` nor `1e3` gets here;
        // a number too large for a Duration is over any cap.
        let secs: f64 = t
            .parse()
            .map_err(|_| UnitError::Malformed(DURATION_FORMS))?;
        Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX)
    } else if t.bytes().filter(u8::is_ascii_digit).count() > MAX_DURATION_DIGITS {
        // humantime panics ("overflow in Duration::new") on sums that reach
        // u64::MAX seconds (found by fuzzing); no duration anyone means
        // needs this many digits, and every cap is far below.
        return Err(too_large());
    } else {
        // Belt and braces for any other overflow inside humantime: a
        // refusal, never a crash.
        std::panic::catch_unwind(|| humantime::parse_duration(t))
            .map_err(|_| too_large())?
            .map_err(|_| UnitError::Malformed(DURATION_FORMS))?
    };
    if d > max {
        return Err(too_large());
    }
    Ok(d)
}

/// A duration limit as people say it (`24h`, `365 days`): humantime would
/// write a year of days as "11months 30days 3h 50m 24s".
fn format_cap(d: Duration) -> String {
    let secs = d.as_secs();
    match secs {
        s if s > 86_400 && s % 86_400 == 0 => format!("{} days", s / 86_400),
        s if s > 0 && s % 3600 == 0 => format!("{}h", s / 3600),
        _ => humantime::format_duration(d).to_string(),
    }
}

/// A byte count in the largest binary unit that divides it (`64KiB`,
/// `1MiB`, `1000B`), as the size parser reads it back.
pub fn format_size(bytes: u64) -> String {
    for (shift, unit) in [(30, "GiB"), (20, "MiB"), (10, "KiB")] {
        if bytes >= 1 << shift && bytes % (1 << shift) == 0 {
            return format!("{}{unit}", bytes >> shift);
        }
    }
    format!("{bytes}B")
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1 << 30;

    /// The one table of size spellings, for the client and the servers alike.
    #[test]
    fn sizes() {
        let table: &[(&str, Option<u64>)] = &[
            ("0", Some(0)),
            ("512", Some(512)),
            ("100b", Some(100)),
            ("100B", Some(100)),
            ("64k", Some(65_536)),
            ("64K", Some(65_536)),
            ("64kb", Some(65_536)),
            ("64KB", Some(65_536)),
            ("64KiB", Some(65_536)),
            ("64kib", Some(65_536)),
            (" 8 k", Some(8192)),
            ("1m", Some(1 << 20)),
            ("1M", Some(1 << 20)),
            ("1MB", Some(1 << 20)),
            ("1MiB", Some(1 << 20)),
            ("1g", Some(GIB)),
            ("1GB", Some(GIB)),
            ("1GiB", Some(GIB)),
            ("2GiB", None),
            ("", None),
            ("k", None),
            ("MiB", None),
            ("64x", None),
            ("64kx", None),
            ("64 k b", None),
            ("1.5m", None),
            ("1,5m", None),
            ("-1", None),
            ("+1", None),
            ("1e3", None),
            ("99999999999999999999", None),
            ("99999999999g", None),
        ];
        for &(input, want) in table {
            assert_eq!(parse_size(input, GIB).ok(), want, "parse_size({input:?})");
        }
    }

    #[test]
    fn size_errors_say_what_is_expected() {
        assert_eq!(parse_size("1.5m", GIB).unwrap_err().to_string(), SIZE_FORMS);
        assert_eq!(
            parse_size("2g", GIB).unwrap_err().to_string(),
            "a size of at most 1GiB"
        );
        assert_eq!(
            parse_size("99999999999999999999", 64 << 20)
                .unwrap_err()
                .to_string(),
            "a size of at most 64MiB"
        );
    }

    /// The one table of duration spellings, for the client and the servers alike.
    #[test]
    fn durations() {
        let day = Duration::from_secs(86_400);
        let table: &[(&str, Option<Duration>)] = &[
            ("10", Some(Duration::from_secs(10))),
            (" 10 ", Some(Duration::from_secs(10))),
            ("0", Some(Duration::ZERO)),
            ("0s", Some(Duration::ZERO)),
            ("10s", Some(Duration::from_secs(10))),
            ("500ms", Some(Duration::from_millis(500))),
            ("250us", Some(Duration::from_micros(250))),
            ("2m", Some(Duration::from_secs(120))),
            ("1h 30m", Some(Duration::from_secs(5400))),
            ("1h30m", Some(Duration::from_secs(5400))),
            ("24h", Some(day)),
            ("86400", Some(day)),
            ("86401", None),
            ("25h", None),
            ("500000000000y", None),
            ("99999999999999999999999", None),
            // Found by fuzzing: humantime panicked on this sum.
            ("18446744073709551615.5s0.5s5.5s5000004042222974", None),
            ("18446744073709551615s 1s", None),
            ("1000000000000000s", None),
            ("1.5", Some(Duration::from_millis(1500))),
            ("1.5s", Some(Duration::from_millis(1500))),
            (".5", Some(Duration::from_millis(500))),
            ("1.", Some(Duration::from_secs(1))),
            ("1.2.3", None),
            (".", None),
            ("1e3", None),
            ("inf", None),
            ("-1", None),
            ("-1s", None),
            ("10q", None),
            ("", None),
            ("fast", None),
        ];
        for &(input, want) in table {
            assert_eq!(
                parse_duration(input, day).ok(),
                want,
                "parse_duration({input:?})"
            );
        }
    }

    #[test]
    fn duration_errors_say_what_is_expected() {
        let day = Duration::from_secs(86_400);
        assert_eq!(
            parse_duration("soon", day).unwrap_err().to_string(),
            DURATION_FORMS
        );
        assert_eq!(
            parse_duration("2d", day).unwrap_err().to_string(),
            "a duration of at most 24h"
        );
    }

    #[test]
    fn sizes_format_as_they_parse() {
        for (bytes, text) in [
            (0, "0B"),
            (1000, "1000B"),
            (65_536, "64KiB"),
            (1 << 20, "1MiB"),
            (GIB, "1GiB"),
        ] {
            assert_eq!(format_size(bytes), text);
            assert_eq!(parse_size(text, u64::MAX).unwrap(), bytes);
        }
        // Not a whole number of KiB: bytes, which still parse back exactly.
        assert_eq!(format_size(1536), "1536B");
    }
}
