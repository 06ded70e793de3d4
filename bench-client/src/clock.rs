//! What the host's clock says of its own synchronisation, for a run that
//! starts at an absolute time: shards on several hosts start together only
//! as far as their clocks agree, so the result records each host's word on
//! it. Read with `adjtimex` in read-only mode (modes 0), which needs no
//! privilege.

use serde::{Deserialize, Serialize};

/// The kernel's view of the system clock's discipline (NTP, chrony, PTP).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClockInfo {
    /// The kernel says the clock is synchronised: `adjtimex` did not
    /// return `TIME_ERROR` and `STA_UNSYNC` is clear.
    pub synchronized: bool,
    /// The estimated error (µs), as the synchronisation daemon last set
    /// it; absent when the kernel could not be asked.
    pub est_error_us: Option<i64>,
    /// The maximum error (µs), growing between the daemon's updates.
    pub max_error_us: Option<i64>,
    /// `adjtimex`'s return value by its kernel name (`TIME_OK`,
    /// `TIME_ERROR`, ...), or `unknown` when the call failed.
    pub status: String,
}

/// Reads the clock's state now.
pub fn read() -> ClockInfo {
    // SAFETY: `timex` is plain integers, for which all zeroes is a valid
    // value; with `modes` 0 adjtimex only writes the current state into the
    // struct it is given, which lives for the whole call.
    let (state, tx) = unsafe {
        let mut tx: libc::timex = std::mem::zeroed();
        let state = libc::adjtimex(&mut tx);
        (state, tx)
    };
    if state < 0 {
        return ClockInfo {
            synchronized: false,
            est_error_us: None,
            max_error_us: None,
            status: "unknown".to_string(),
        };
    }
    let status = match state {
        libc::TIME_OK => "TIME_OK",
        libc::TIME_INS => "TIME_INS",
        libc::TIME_DEL => "TIME_DEL",
        libc::TIME_OOP => "TIME_OOP",
        libc::TIME_WAIT => "TIME_WAIT",
        libc::TIME_ERROR => "TIME_ERROR",
        _ => "unknown",
    };
    // `c_long` is i32 on 32-bit targets, i64 here.
    #[allow(clippy::useless_conversion)]
    let (est, max) = (i64::from(tx.esterror), i64::from(tx.maxerror));
    ClockInfo {
        synchronized: state != libc::TIME_ERROR && tx.status & libc::STA_UNSYNC == 0,
        est_error_us: Some(est),
        max_error_us: Some(max),
        status: status.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whatever this host's clock does, the answer is consistent: a known
    /// state, errors that are not negative, and `synchronized` only with a
    /// state other than TIME_ERROR.
    #[test]
    fn the_kernel_answers_sanely() {
        let c = read();
        assert_ne!(c.status, "unknown", "adjtimex(modes 0) needs no privilege");
        assert!(c.est_error_us.unwrap() >= 0, "{c:?}");
        assert!(c.max_error_us.unwrap() >= 0, "{c:?}");
        if c.synchronized {
            assert_ne!(c.status, "TIME_ERROR");
        }
        if c.status == "TIME_ERROR" {
            assert!(!c.synchronized);
        }
    }
}
