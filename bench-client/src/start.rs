//! `--start-at TIME`: the measured phase begins at an absolute instant, so
//! that shards on several hosts (or several processes on one) start
//! together. The generator sleeps until shortly before it
//! ([`connect_margin`] plus the warm-up), then connects and warms up, and
//! the engine's origin is placed so that the measured phase begins at
//! TIME exactly (see `engine::Plan::origin_at`).

use std::time::{Duration, SystemTime};

use nix::sys::signal::Signal;

use crate::signals;

/// A start this far past is refused: the run would not be the one asked
/// for. Less late, the run starts at once and records how late it was.
pub const MAX_LATE: Duration = Duration::from_secs(1);

/// A start further ahead is refused as a likely typo (a wrong day or year)
/// that would leave the generator asleep.
pub const MAX_AHEAD: Duration = Duration::from_secs(24 * 3600);

/// The accepted forms, for error messages.
pub const FORMS: &str = "an RFC 3339 UTC time such as 2026-11-29T19:00:00Z or \
                         2026-11-29T19:00:00.250Z (or with an offset, +01:00), or +DURATION \
                         from now such as +5s";

/// Parses `--start-at` at `now` (the launch): an RFC 3339 time, or
/// `+DURATION` after `now`. Refuses a time more than [`MAX_LATE`] past or
/// [`MAX_AHEAD`] ahead, saying which.
pub fn parse(text: &str, now: SystemTime) -> Result<SystemTime, String> {
    let t = text.trim();
    let at = match t.strip_prefix('+') {
        Some(d) => {
            let d = reference_servers::wire::units::parse_duration(d, MAX_AHEAD)
                .map_err(|e| format!("invalid value '{text}' for --start-at: expected {e}"))?;
            now + d
        }
        None => parse_rfc3339(t)
            .ok_or_else(|| format!("invalid value '{text}' for --start-at: expected {FORMS}"))?,
    };
    if let Ok(past) = now.duration_since(at) {
        if past > MAX_LATE {
            return Err(format!(
                "--start-at {text} is {:.3} s in the past (the clock says {}): pick a later \
                 time, e.g. +5s or a time a few seconds from now",
                past.as_secs_f64(),
                humantime::format_rfc3339_millis(now)
            ));
        }
    }
    if let Ok(ahead) = at.duration_since(now) {
        if ahead > MAX_AHEAD {
            return Err(format!(
                "--start-at {text} is {:.0} s ahead, more than 24 hours (the clock says {}): \
                 is the date right?",
                ahead.as_secs_f64(),
                humantime::format_rfc3339_millis(now)
            ));
        }
    }
    Ok(at)
}

/// RFC 3339 with `T`, seconds and a zone: `Z`, or `±HH:MM`, which humantime
/// does not read, moved to UTC here.
fn parse_rfc3339(t: &str) -> Option<SystemTime> {
    if !t.contains('T') && !t.contains('t') {
        return None;
    }
    if let Some(utc) = t.strip_suffix(['Z', 'z']) {
        return humantime::parse_rfc3339(&format!("{utc}Z")).ok();
    }
    // A pasted `−` (U+2212) or any non-ASCII byte is simply not RFC 3339,
    // and must not split a character.
    if !t.is_ascii() {
        return None;
    }
    let (local, offset) = t.split_at(t.len().checked_sub(6)?);
    let sign = match offset.as_bytes()[0] {
        b'+' => 1i64,
        b'-' => -1,
        _ => return None,
    };
    let (h, m) = offset[1..].split_once(':')?;
    let digits = |s: &str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(h) || !digits(m) {
        return None;
    }
    let (h, m): (u64, u64) = (h.parse().ok()?, m.parse().ok()?);
    if h > 23 || m > 59 {
        return None;
    }
    let at = humantime::parse_rfc3339(&format!("{local}Z")).ok()?;
    let shift = Duration::from_secs(h * 3600 + m * 60);
    // 19:00+01:00 is 18:00 UTC.
    if sign > 0 {
        at.checked_sub(shift)
    } else {
        at.checked_add(shift)
    }
}

/// How long before its first request the run wakes to connect: the open
/// loop connects every connection before the origin and waits at most
/// `--timeout` for them; 2 s covers thousands of connects on a network,
/// and is short enough that idle keep-alive connections are not dropped by
/// a server before the start.
pub fn connect_margin(timeout: Duration) -> Duration {
    timeout.min(Duration::from_secs(2))
}

/// Sleeps until the wall clock reads `at` (following the clock if it is
/// stepped meanwhile); returns early with the signal if SIGINT or SIGTERM
/// arrives.
pub fn sleep_until(at: SystemTime) -> Option<Signal> {
    loop {
        if let Some(signal) = signals::received() {
            return Some(signal);
        }
        match at.duration_since(SystemTime::now()) {
            Ok(left) if !left.is_zero() => {
                std::thread::sleep(left.min(crate::engine::POLL_CAP));
            }
            _ => return None,
        }
    }
}

/// Milliseconds from `intended` to `actual` (negative when early).
pub fn late_ms(intended: SystemTime, actual: SystemTime) -> f64 {
    match actual.duration_since(intended) {
        Ok(d) => d.as_secs_f64() * 1e3,
        Err(e) => -e.duration().as_secs_f64() * 1e3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> SystemTime {
        humantime::parse_rfc3339(text).unwrap()
    }

    #[test]
    fn absolute_relative_and_offset_times() {
        let now = at("2026-11-29T18:59:58Z");
        assert_eq!(
            parse("2026-11-29T19:00:00Z", now),
            Ok(at("2026-11-29T19:00:00Z"))
        );
        assert_eq!(
            parse("2026-11-29T19:00:00.250Z", now),
            Ok(at("2026-11-29T19:00:00.250Z"))
        );
        assert_eq!(
            parse("2026-11-29T20:00:00+01:00", now),
            Ok(at("2026-11-29T19:00:00Z"))
        );
        assert_eq!(
            parse("2026-11-29T15:30:00.5-03:30", now),
            Ok(at("2026-11-29T19:00:00.5Z"))
        );
        assert_eq!(parse("+5s", now), Ok(now + Duration::from_secs(5)));
        assert_eq!(parse("+250ms", now), Ok(now + Duration::from_millis(250)));
        // A little late is accepted (and recorded by the run).
        assert_eq!(
            parse("2026-11-29T18:59:57.5Z", now),
            Ok(at("2026-11-29T18:59:57.5Z"))
        );
    }

    #[test]
    fn garbage_past_and_far_future_are_refused_clearly() {
        let now = at("2026-11-29T18:59:58Z");
        for bad in [
            "tomorrow",
            "2026-11-29",
            "2026-11-29 19:00:00Z",
            "2026-11-29T19:00:00",
            "2026-11-29T19:00:00+1:00",
            "2026-11-29T25:00:00Z",
            "+",
            "+5x",
            "",
            // A minus sign pasted from a document (U+2212), which must not
            // split a character.
            "2026-11-29T15:30:00\u{2212}03:30",
            "2026-11-29T19:00:00\u{e9}",
        ] {
            let e = parse(bad, now).unwrap_err();
            assert!(
                e.starts_with(&format!("invalid value '{bad}' for --start-at: expected")),
                "{bad}: {e}"
            );
        }
        let e = parse("2026-11-29T18:59:50Z", now).unwrap_err();
        assert_eq!(
            e,
            "--start-at 2026-11-29T18:59:50Z is 8.000 s in the past (the clock says \
             2026-11-29T18:59:58.000Z): pick a later time, e.g. +5s or a time a few seconds \
             from now"
        );
        let e = parse("2027-11-29T19:00:00Z", now).unwrap_err();
        assert!(e.contains("more than 24 hours"), "{e}");
    }

    #[test]
    fn lateness_is_signed() {
        let t = at("2026-11-29T19:00:00Z");
        assert_eq!(late_ms(t, t + Duration::from_micros(1500)), 1.5);
        assert_eq!(late_ms(t, t - Duration::from_millis(2)), -2.0);
    }

    #[test]
    fn a_past_instant_does_not_sleep() {
        let started = std::time::Instant::now();
        assert_eq!(
            sleep_until(SystemTime::now() - Duration::from_secs(1)),
            None
        );
        assert!(started.elapsed() < Duration::from_secs(1));
    }
}
