//! SIGINT/SIGTERM/SIGCHLD for the blocking servers (sync and fork): an
//! async-signal-safe handler sets a flag and writes one byte to a self-pipe,
//! so a server blocked in poll(2) wakes without a race, and a blocking read
//! returns EINTR (the handlers are installed without SA_RESTART).

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use anyhow::Context;
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::signal::{self, SaFlags, SigAction, SigHandler, SigSet, Signal};

static SHUTDOWN: AtomicBool = AtomicBool::new(false);
/// Write end of the self-pipe, or -1 when nobody listens (forked children).
static WAKE_FD: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_signal(signal: libc::c_int) {
    if signal != libc::SIGCHLD {
        SHUTDOWN.store(true, Ordering::SeqCst);
    }
    let fd = WAKE_FD.load(Ordering::SeqCst);
    if fd >= 0 {
        // write(2) may clobber errno, and the interrupted code may be about
        // to read it.
        let saved = Errno::last_raw();
        // SAFETY: write(2) is async-signal-safe; the buffer is a live local
        // byte. A full pipe (EAGAIN) already guarantees a wake-up.
        unsafe { libc::write(fd, [1u8].as_ptr().cast(), 1) };
        Errno::set_raw(saved);
    }
}

/// Whether SIGINT or SIGTERM has arrived.
pub fn shutdown_requested() -> bool {
    SHUTDOWN.load(Ordering::SeqCst)
}

/// The installed handlers and the read end of their self-pipe.
#[derive(Debug)]
pub struct Signals {
    wake_read: OwnedFd,
    _wake_write: OwnedFd,
}

impl Signals {
    /// Installs the handlers for SIGINT and SIGTERM, and for SIGCHLD when
    /// `child_exits` (fork server).
    pub fn install(child_exits: bool) -> anyhow::Result<Signals> {
        let (wake_read, wake_write) = nix::unistd::pipe2(OFlag::O_NONBLOCK | OFlag::O_CLOEXEC)
            .context("cannot create the signal self-pipe")?;
        WAKE_FD.store(wake_write.as_raw_fd(), Ordering::SeqCst);
        // No SA_RESTART: a blocking read or accept must return EINTR so the
        // server notices the shutdown request.
        let shutdown = SigAction::new(
            SigHandler::Handler(on_signal),
            SaFlags::empty(),
            SigSet::empty(),
        );
        let child = SigAction::new(
            SigHandler::Handler(on_signal),
            SaFlags::SA_NOCLDSTOP | SaFlags::SA_RESTART,
            SigSet::empty(),
        );
        let mut wanted = vec![(Signal::SIGINT, &shutdown), (Signal::SIGTERM, &shutdown)];
        if child_exits {
            wanted.push((Signal::SIGCHLD, &child));
        }
        for (signal, action) in wanted {
            // SAFETY: the handler only touches atomics and errno and calls
            // write(2), all async-signal-safe.
            unsafe { signal::sigaction(signal, action) }
                .with_context(|| format!("cannot install a handler for {signal}"))?;
        }
        Ok(Signals {
            wake_read,
            _wake_write: wake_write,
        })
    }

    /// The fd that becomes readable when a signal arrives.
    pub fn wake_fd(&self) -> BorrowedFd<'_> {
        self.wake_read.as_fd()
    }

    /// Empties the self-pipe after a wake-up.
    pub fn drain(&self) {
        let mut buf = [0u8; 64];
        let fd: RawFd = self.wake_read.as_raw_fd();
        while matches!(nix::unistd::read(fd, &mut buf), Ok(n) if n > 0) {}
    }
}

/// In a forked child: signals still set the shutdown flag, but no longer wake
/// the parent's poll.
pub fn detach_in_child() {
    WAKE_FD.store(-1, Ordering::SeqCst);
}

/// Makes writes to a vanished peer fail with EPIPE instead of killing the
/// process (Rust binaries already do this; `serve` may run elsewhere).
pub fn ignore_sigpipe() -> nix::Result<()> {
    // SAFETY: SIG_IGN installs no handler code, so nothing can run unsafely
    // in signal context.
    unsafe { signal::signal(Signal::SIGPIPE, SigHandler::SigIgn) }.map(|_| ())
}
