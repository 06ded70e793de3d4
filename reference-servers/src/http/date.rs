//! The `Date` header every response carries (RFC 9110 6.6.1: a server with
//! a clock must send it), in IMF-fixdate form: `Sun, 06 Nov 1994 08:49:37 GMT`.
//!
//! Formatting a date costs far more than reading the clock, and the value
//! only changes once a second, so each thread keeps the current second's 29
//! bytes and formats again only when the second changes. A fork child starts
//! with its parent's copy and refreshes its own.

use std::cell::Cell;
use std::time::{SystemTime, UNIX_EPOCH};

/// Length of an IMF-fixdate.
pub const DATE_LEN: usize = 29;

thread_local! {
    /// The second last formatted and its text (`u64::MAX`: none yet).
    static CACHE: Cell<(u64, [u8; DATE_LEN])> = const { Cell::new((u64::MAX, [0; DATE_LEN])) };
    /// Formats done on this thread (tests prove the cache holds).
    #[cfg(test)]
    static FORMATS: Cell<u64> = const { Cell::new(0) };
}

/// The current time as an IMF-fixdate, formatted at most once a second.
pub fn now() -> [u8; DATE_LEN] {
    let second = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    at(second)
}

/// The IMF-fixdate of `second` (since the Unix epoch), from the cache when
/// it holds that second.
fn at(second: u64) -> [u8; DATE_LEN] {
    CACHE.with(|cache| {
        let (cached, text) = cache.get();
        if cached == second {
            return text;
        }
        let text = format(second);
        cache.set((second, text));
        text
    })
}

/// Formats `second` (since the Unix epoch) as an IMF-fixdate.
fn format(second: u64) -> [u8; DATE_LEN] {
    #[cfg(test)]
    FORMATS.with(|n| n.set(n.get() + 1));
    const DAYS: [&[u8; 3]; 7] = [b"Thu", b"Fri", b"Sat", b"Sun", b"Mon", b"Tue", b"Wed"];
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    let days = second / 86_400;
    let in_day = second % 86_400;
    let (year, month, day) = civil_from_days(days);
    let mut out = *b"Thu, 01 Jan 1970 00:00:00 GMT";
    out[..3].copy_from_slice(DAYS[(days % 7) as usize]);
    two_digits(&mut out[5..7], day);
    out[8..11].copy_from_slice(MONTHS[(month - 1) as usize]);
    let year = year.min(9999);
    two_digits(&mut out[12..14], year / 100);
    two_digits(&mut out[14..16], year % 100);
    two_digits(&mut out[17..19], in_day / 3600);
    two_digits(&mut out[20..22], in_day / 60 % 60);
    two_digits(&mut out[23..25], in_day % 60);
    out
}

fn two_digits(out: &mut [u8], value: u64) {
    out[0] = b'0' + (value / 10 % 10) as u8;
    out[1] = b'0' + (value % 10) as u8;
}

/// (year, month 1–12, day 1–31) of a day count since 1970-01-01, after
/// Howard Hinnant's `civil_from_days` (proleptic Gregorian calendar).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(second: u64) -> String {
        String::from_utf8(format(second).to_vec()).unwrap()
    }

    #[test]
    fn known_dates() {
        assert_eq!(text(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        // RFC 9110's own example.
        assert_eq!(text(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        // A leap day, and the last second of a century year that is one.
        assert_eq!(text(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(text(978_307_199), "Sun, 31 Dec 2000 23:59:59 GMT");
        assert_eq!(text(4_107_542_400), "Mon, 01 Mar 2100 00:00:00 GMT");
    }

    #[test]
    fn formatted_once_per_second() {
        let before = FORMATS.with(Cell::get);
        for _ in 0..1000 {
            at(1_700_000_000);
        }
        assert_eq!(FORMATS.with(Cell::get) - before, 1);
        assert_eq!(&at(1_700_000_001)[..], b"Tue, 14 Nov 2023 22:13:21 GMT");
        assert_eq!(FORMATS.with(Cell::get) - before, 2);
    }

    #[test]
    fn now_is_a_well_formed_date() {
        let date = String::from_utf8(now().to_vec()).unwrap();
        assert!(
            date.ends_with(" GMT") && date.as_bytes()[3] == b',',
            "{date}"
        );
    }
}
