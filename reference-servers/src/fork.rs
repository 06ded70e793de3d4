//! The forking server: the parent only accepts; each connection is served by
//! a child process (keep-alive included) that then `_exit`s. Children are
//! reaped on SIGCHLD through the self-pipe, `--max-children` bounds how many
//! live at once, and the totals sit in a shared anonymous mapping so every
//! child's counts reach the parent.

use std::collections::HashSet;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::num::NonZeroUsize;
use std::os::fd::AsRawFd;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use anyhow::Context;
use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::mman::{mmap_anonymous, MapFlags, ProtFlags};
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{fork, ForkResult, Pid};

use crate::blocking::{
    accept_failed, serve_connection, wait_for_client, ConnectionConfig, SHUTDOWN_GRACE,
};
use crate::http::BodyBudget;
use crate::log::Log;
use crate::signals::{detach_in_child, shutdown_requested, Signals};
use crate::totals::Totals;
use crate::{bind_listener, print_listening, print_totals, Model, ServerArgs};

/// On shutdown, how long children get to finish before SIGKILL: their grace
/// for a request in flight, plus room to write the response.
const CHILDREN_GRACE: Duration = Duration::from_secs(SHUTDOWN_GRACE.as_secs() + 2);

const LOG_NAME: &str = "fork-server";

pub fn run(args: &ServerArgs) -> anyhow::Result<()> {
    ensure_single_threaded()?;
    // Before any fork: every child gets this config, and with it the one
    // ticket key, so a ticket issued by one child is accepted by the next.
    let tls = crate::tls::setup(args)?;
    let listener = bind_listener(args.addr)?;
    listener
        .set_nonblocking(true)
        .context("cannot make the listener non-blocking")?;
    let signals = Signals::install(true)?;
    // Children count into the parent's totals through the shared mapping.
    let totals: &'static Totals = leak_shared(Totals::new())?;
    print_listening(
        listener
            .local_addr()
            .context("cannot read the bound address")?,
        tls.as_ref(),
    );
    // Only the child touches TLS bytes: it wraps its socket after the fork.
    let mut config = ConnectionConfig::from_args(args, true, LOG_NAME, tls.as_ref());
    // The children hold the bodies, so the bound on them all must live in
    // memory they share, not in each child's copy.
    config.limits.budget = leak_shared(BodyBudget::new(args.max_buffered))?;
    // One cap for the parent and every child, as the selector has one.
    config.log = Log::with_counter(LOG_NAME, leak_shared(AtomicU64::new(0))?);
    let mut children: HashSet<Pid> = HashSet::new();
    loop {
        reap(&mut children);
        if shutdown_requested() {
            break;
        }
        if children.len() >= args.max_children {
            wait_for_signal(&signals, PollTimeout::NONE)?;
            continue;
        }
        match listener.accept() {
            Ok((stream, peer)) => {
                totals.add_connection();
                if let Some(child) = spawn_child(stream, peer, &listener, &config, totals) {
                    children.insert(child);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                wait_for_client(&listener, &signals)?;
            }
            Err(e) => accept_failed(LOG_NAME, &e)?,
        }
    }
    drop(listener);
    stop_children(&mut children, &signals);
    config.log.finish();
    print_totals(&totals.json_line(Model::Fork));
    drop(tls);
    Ok(())
}

/// Forks a child to serve `stream`; returns its pid, or `None` if the fork
/// failed (the connection is then closed unanswered and logged).
fn spawn_child(
    stream: TcpStream,
    peer: SocketAddr,
    listener: &TcpListener,
    config: &ConnectionConfig,
    totals: &Totals,
) -> Option<Pid> {
    // SAFETY: `run` checked that this process has exactly one thread and
    // starts none, so the child is a complete copy: no lock can be held by a
    // thread that does not exist in the child, and the allocator and stdio
    // are consistent. The child never returns into the parent's loop: it
    // serves one connection and `_exit`s.
    match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            detach_in_child();
            // The child must not keep the listen socket open (the parent could
            // not really close it on shutdown). `_exit` below means the
            // listener's own drop never runs, so this is the only close.
            let _ = nix::unistd::close(listener.as_raw_fd());
            let served = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                serve_connection(stream, peer, config, totals)
            }));
            let code = if served.is_ok() { 0 } else { 1 };
            // SAFETY: `_exit` ends the child at once without running atexit
            // handlers or flushing stdio buffers copied from the parent.
            unsafe { libc::_exit(code) }
        }
        Ok(ForkResult::Parent { child }) => {
            // The child has its own copy; the parent's must go now, or the
            // client never sees the connection close.
            drop(stream);
            Some(child)
        }
        Err(e) => {
            eprintln!("{LOG_NAME}: {peer}: cannot fork a child: {e}");
            if e == Errno::EAGAIN || e == Errno::ENOMEM {
                std::thread::sleep(Duration::from_millis(50));
            }
            None
        }
    }
}

/// Collects every child that has exited, without blocking.
fn reap(children: &mut HashSet<Pid>) {
    loop {
        match waitpid(None::<Pid>, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) | Err(Errno::ECHILD) => return,
            Ok(status) => {
                if let Some(pid) = status.pid() {
                    children.remove(&pid);
                }
                if let WaitStatus::Signaled(pid, signal, _) = status {
                    if signal != Signal::SIGKILL {
                        eprintln!("{LOG_NAME}: child {pid} killed by {signal}");
                    }
                }
            }
            Err(Errno::EINTR) => {}
            Err(e) => {
                eprintln!("{LOG_NAME}: cannot reap children: {e}");
                return;
            }
        }
    }
}

/// Blocks until a signal arrives (SIGCHLD included) or `timeout` passes.
fn wait_for_signal(signals: &Signals, timeout: PollTimeout) -> anyhow::Result<()> {
    let mut fds = [PollFd::new(signals.wake_fd(), PollFlags::POLLIN)];
    match nix::poll::poll(&mut fds, timeout) {
        Ok(_) | Err(Errno::EINTR) => {
            signals.drain();
            Ok(())
        }
        Err(e) => Err(e).context("cannot wait for children (poll)"),
    }
}

/// Asks every child to finish (SIGTERM: answer the request in flight, then
/// close), waits a bounded time, then kills and reaps stragglers, so no
/// zombie outlives the server.
fn stop_children(children: &mut HashSet<Pid>, signals: &Signals) {
    for &pid in children.iter() {
        let _ = kill(pid, Signal::SIGTERM);
    }
    let end = Instant::now() + CHILDREN_GRACE;
    loop {
        reap(children);
        let now = Instant::now();
        if children.is_empty() || now >= end {
            break;
        }
        let left = (end - now).min(Duration::from_millis(100));
        let timeout = PollTimeout::try_from(left).unwrap_or(PollTimeout::ZERO);
        if wait_for_signal(signals, timeout).is_err() {
            std::thread::sleep(left);
        }
    }
    for &pid in children.iter() {
        eprintln!("{LOG_NAME}: child {pid} still busy after {CHILDREN_GRACE:?}; killing it");
        let _ = kill(pid, Signal::SIGKILL);
    }
    for pid in children.drain() {
        while waitpid(pid, None) == Err(Errno::EINTR) {}
    }
}

/// fork() copies only the calling thread; another thread's locks would stay
/// locked forever in the child. Refuse instead of risking it (this matters
/// when `serve` runs inside a larger program such as `bench-client serve`).
fn ensure_single_threaded() -> anyhow::Result<()> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Ok(());
    };
    let threads = tasks.count();
    if threads > 1 {
        anyhow::bail!(
            "the fork server must run in a single-threaded process, but this one has \
             {threads} threads; start it before any thread (e.g. the fork-server binary)"
        );
    }
    Ok(())
}

/// `value` moved into a MAP_SHARED|MAP_ANONYMOUS mapping that is never
/// unmapped: children inherit it, so what one changes through its atomics
/// every other process sees. For values that live as long as the server.
fn leak_shared<T: Sync>(value: T) -> anyhow::Result<&'static T> {
    let len = NonZeroUsize::new(std::mem::size_of::<T>()).context("a shared value has no size")?;
    // SAFETY: a fresh anonymous mapping aliases no Rust object; it is
    // page-aligned (enough for any T with an alignment up to a page) and at
    // least `len` bytes long.
    let raw = unsafe {
        mmap_anonymous(
            None,
            len,
            ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
            MapFlags::MAP_SHARED,
        )
    }
    .context("cannot map shared memory")?;
    let ptr = raw.cast::<T>();
    // SAFETY: the mapping is writable, aligned and large enough, nothing
    // reads it before this write, and it is never unmapped, so the reference
    // is valid for the rest of the process (and of every child). The callers'
    // T hold only plain numbers and atomics (no pointers into one process's
    // memory), and `T: Sync` makes access from several processes as sound
    // as from several threads.
    unsafe {
        ptr.as_ptr().write(value);
        Ok(ptr.as_ref())
    }
}
