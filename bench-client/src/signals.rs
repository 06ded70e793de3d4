//! SIGINT and SIGTERM: stop the run and keep what was measured.
//!
//! The handler only stores the signal number in an atomic (that is all a
//! handler may safely do); the workers look at it on every loop turn and
//! never sleep longer than their poll cap, so they stop within tens of
//! milliseconds. The handler stays installed: a second Ctrl-C does not kill
//! bench-client half-way through stopping its `--server` child (which would
//! leave that child running); every step after the stop is bounded in time.

use std::sync::atomic::{AtomicI32, Ordering};

use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};

static RECEIVED: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(signal: libc::c_int) {
    // Lock-free atomics are async-signal-safe.
    let _ = RECEIVED.compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst);
}

/// Installs the handler for SIGINT and SIGTERM.
pub fn install() -> nix::Result<()> {
    let action = SigAction::new(
        SigHandler::Handler(on_signal),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    for signal in [Signal::SIGINT, Signal::SIGTERM] {
        // SAFETY: the handler only touches a static atomic, which is
        // async-signal-safe; no other code in this process installs handlers
        // for these signals, so nothing is replaced behind anyone's back.
        unsafe { sigaction(signal, &action) }?;
    }
    Ok(())
}

/// The first SIGINT or SIGTERM received since [`install`], if any.
#[inline]
pub fn received() -> Option<Signal> {
    match RECEIVED.load(Ordering::Relaxed) {
        0 => None,
        n => Signal::try_from(n).ok(),
    }
}

/// The conventional exit status after `signal`: 128 + its number (130, 143).
pub fn exit_status(signal: Signal) -> u8 {
    128 + signal as i32 as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_statuses() {
        assert_eq!(exit_status(Signal::SIGINT), 130);
        assert_eq!(exit_status(Signal::SIGTERM), 143);
    }
}
