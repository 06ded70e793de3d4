//! The selector model: one thread multiplexes every connection over a `mio`
//! event loop (epoll on Linux), the Rust counterpart of Python's `selectors`.
//!
//! This module owns the loop itself: accepting, routing readiness events and
//! timers to connections, and the graceful shutdown on SIGINT/SIGTERM through
//! a signalfd. Each other concern has a file of its own: a connection and its
//! turn (`conn`), its queue of responses (`queue`), the timers behind
//! `--read-timeout` and `/delay/MS` (`timers`) and the timerfd that wakes the
//! loop for them (`alarm`), how events and timers name a connection, slot
//! and generation (`token`), and the capped error log (`crate::log`, shared with the other models).
//!
//! Nothing here blocks or sleeps: the only wait is `Poll::poll`, without a
//! timeout, woken by the sockets, the signalfd, or the timerfd armed to the
//! next timer deadline (disarmed when none is pending), and a socket asks for
//! WRITABLE events only while a write is pending, so an idle server uses no
//! CPU however many connections it holds.
//!
//! mio is edge-triggered: a readiness event is reported once, so every socket
//! is drained until `WouldBlock`, and a connection that stops early (its
//! response queue is full, or it used its turn) remembers that it may still
//! have bytes to read.

use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use mio::event::Event;
use mio::net::{TcpListener, TcpStream};
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use nix::errno::Errno;
use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use slab::Slab;

use self::conn::{Conn, OnDrain, Step};
use self::timers::Timer;
use self::token::{Key, ALARM, LISTENER, MAX_SLOTS, STOP};
use crate::cli::{Model, ServerArgs};
use crate::http::{Limits, SHUTDOWN_GRACE};
use crate::log::Log;
use crate::timers::{Alarm, TimerQueue};
use crate::totals::Totals;

mod conn;
mod queue;
mod timers;
mod tls;
mod token;

/// Bytes read per `read` call, into one buffer shared by all connections.
const READ_CHUNK: usize = 64 * 1024;
/// After a response with `Connection: close`, unread request bytes are read
/// and dropped for at most this long before closing, so that the kernel does
/// not answer them with a reset that could destroy the response in flight.
const LINGER: Duration = Duration::from_secs(2);
/// How long in-flight responses may take to finish after SIGINT/SIGTERM:
/// the grace a request still arriving gets, and a second to answer it.
const DRAIN_LIMIT: Duration = SHUTDOWN_GRACE.saturating_add(Duration::from_secs(1));
/// How long accepting pauses when the process is out of file descriptors.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// Readiness events taken per poll.
const EVENTS_CAPACITY: usize = 1024;

/// Serves `args` with the selector model until SIGINT or SIGTERM.
///
/// Prints `listening on http://IP:PORT` once ready and, after the shutdown
/// drain, the totals line. Must be called while the process is single-threaded
/// (as the `selector-server` binary does): the shutdown signals are blocked in
/// the calling thread only, and a thread that does not block them would be
/// killed by their default action instead.
pub fn run(args: &ServerArgs) -> anyhow::Result<()> {
    // `serve` did this already; `run` must not depend on its caller, and
    // its writes (writev) cannot pass MSG_NOSIGNAL.
    crate::signals::ignore_sigpipe().context("cannot ignore SIGPIPE")?;
    let signals = block_shutdown_signals()?;
    // Every connection is a file descriptor, and holding thousands of them
    // is the point of this model.
    crate::raise_nofile_limit();
    let tls = crate::tls::setup(args)?;
    let mut server = Server::bind(args)?;
    server.shared.tls = tls.as_ref().map(|tls| Arc::clone(&tls.config));
    server
        .poll
        .registry()
        .register(
            &mut SourceFd(&signals.as_raw_fd()),
            STOP,
            Interest::READABLE,
        )
        .context("cannot watch the shutdown signals")?;
    crate::print_listening(server.local_addr()?, tls.as_ref());
    let totals = server.serve(StopSource::Signals(signals))?;
    crate::print_totals(&totals.json_line(Model::Selector));
    // Removes a --tls certificate file, now that no client can need it.
    drop(tls);
    Ok(())
}

/// Blocks SIGINT and SIGTERM and returns a non-blocking signalfd that reports
/// them, so that shutdown is one more event in the loop instead of an
/// asynchronous handler. The mask is deliberately left in place on return:
/// the process is about to exit, and unblocking would let a late second
/// signal kill it before it exits 0.
fn block_shutdown_signals() -> anyhow::Result<SignalFd> {
    let mut mask = SigSet::empty();
    mask.add(Signal::SIGINT);
    mask.add(Signal::SIGTERM);
    mask.thread_swap_mask(SigmaskHow::SIG_BLOCK)
        .context("cannot block SIGINT and SIGTERM")?;
    SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
        .context("cannot create a signalfd for SIGINT and SIGTERM")
}

/// What ends [`Server::serve`].
enum StopSource {
    /// SIGINT or SIGTERM, read from this signalfd (registered as [`STOP`]).
    Signals(SignalFd),
    /// Any wake-up of a [`Waker`](mio::Waker) registered as [`STOP`] (tests).
    #[cfg_attr(not(test), allow(dead_code))]
    Waker,
}

/// The event loop and everything it owns.
struct Server {
    poll: Poll,
    /// `None` once shutdown has begun.
    listener: Option<TcpListener>,
    /// Connections by slot; a slot's index is its token. A free list reuses
    /// slots, so tokens stay small and the table as large as the most
    /// connections held at once. This is the `slab` crate rather than our own
    /// table: it is well kept and does exactly this, and we do not hand-write
    /// what a crate does well.
    conns: Slab<Conn>,
    shared: Shared,
    /// Connections that used up their turn with bytes maybe left to read.
    again: Vec<Key>,
    /// Accepting waits for a connection to close or a backoff timer.
    accept_paused: bool,
    /// Try to accept at the end of this turn (a connection closed while paused).
    accept_wanted: bool,
    /// Set on shutdown: the moment the drain gives up.
    drain_until: Option<Instant>,
    /// The generation of the next connection accepted.
    next_generation: u64,
    fd_exhaustion_logged: bool,
    /// Wakes `poll` at the earliest deadline of `shared.timers` or the drain.
    alarm: Alarm,
    /// Returns from `poll`; tests read it to prove an idle loop sleeps.
    polls: Arc<AtomicU64>,
}

/// Loop state a connection needs while it is driven.
struct Shared {
    timers: TimerQueue<Timer>,
    totals: Totals,
    limits: Limits,
    read_timeout: Duration,
    linger: Duration,
    /// The time this turn started; all deadlines of a turn use it.
    now: Instant,
    /// Set when shutdown begins (responses then carry `Connection: close`):
    /// until when a request still arriving may finish
    /// ([`SHUTDOWN_GRACE`](crate::http::SHUTDOWN_GRACE), as in every model).
    grace_until: Option<Instant>,
    scratch: Box<[u8]>,
    log: Log,
    /// Serve HTTPS with this config; `None`: plain HTTP.
    tls: Option<Arc<rustls::ServerConfig>>,
}

impl Shared {
    /// Whether shutdown has begun.
    fn draining(&self) -> bool {
        self.grace_until.is_some()
    }

    fn new(args: &ServerArgs) -> Shared {
        Shared {
            timers: TimerQueue::default(),
            totals: Totals::new(),
            limits: Limits::new(args.max_body, args.max_buffered),
            read_timeout: args.read_timeout,
            linger: LINGER.min(args.read_timeout),
            now: Instant::now(),
            grace_until: None,
            scratch: vec![0; READ_CHUNK].into_boxed_slice(),
            log: Log::new("selector-server"),
            tls: None,
        }
    }
}

impl Server {
    fn bind(args: &ServerArgs) -> anyhow::Result<Server> {
        let poll = Poll::new().context("cannot create the event loop (epoll)")?;
        let listener = crate::bind_listener(args.addr)?;
        listener
            .set_nonblocking(true)
            .context("cannot make the listening socket non-blocking")?;
        let mut listener = TcpListener::from_std(listener);
        poll.registry()
            .register(&mut listener, LISTENER, Interest::READABLE)
            .context("cannot register the listening socket")?;
        let alarm = Alarm::new().context("cannot create the timer (timerfd)")?;
        poll.registry()
            .register(&mut SourceFd(&alarm.raw_fd()), ALARM, Interest::READABLE)
            .context("cannot register the timer (timerfd)")?;
        Ok(Server {
            poll,
            listener: Some(listener),
            conns: Slab::new(),
            shared: Shared::new(args),
            again: Vec::new(),
            accept_paused: false,
            accept_wanted: false,
            drain_until: None,
            next_generation: 0,
            fd_exhaustion_logged: false,
            alarm,
            polls: Arc::default(),
        })
    }

    fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        self.listener
            .as_ref()
            .context("the listener is closed")?
            .local_addr()
            .context("cannot read the listening address")
    }

    /// Runs until `stop` fires and the drain ends; returns the totals.
    fn serve(mut self, stop: StopSource) -> anyhow::Result<Totals> {
        let mut events = Events::with_capacity(EVENTS_CAPACITY);
        loop {
            if let Some(until) = self.drain_until {
                if self.conns.is_empty() || self.shared.now >= until {
                    break;
                }
            }
            let timeout = self.poll_timeout();
            if let Err(err) = self.poll.poll(&mut events, timeout) {
                if err.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(err).context("waiting for events failed");
            }
            self.shared.now = Instant::now();
            self.polls.fetch_add(1, AtomicOrdering::Relaxed);

            for key in std::mem::take(&mut self.again) {
                if self.conns.get(key.slot).is_some_and(|c| c.key == key) {
                    self.drive(key.slot);
                }
            }
            for event in events.iter() {
                match event.token() {
                    LISTENER => self.accept_all(),
                    ALARM => {
                        // The due timers run below, as after any wake-up.
                        if let Err(err) = self.alarm.fired() {
                            self.shared
                                .log
                                .line(format_args!("cannot read the timerfd: {err}"));
                        }
                    }
                    STOP => {
                        if self.stop_requested(&stop) && self.begin_drain() {
                            // A second signal during the drain: stop waiting.
                            self.drain_until = Some(self.shared.now);
                        }
                    }
                    token => self.on_connection_event(token, Readiness::of(event)),
                }
            }
            while let Some((_, timer)) = self.shared.timers.pop_due(self.shared.now) {
                self.on_timer(timer);
            }
            if self.accept_wanted {
                self.accept_wanted = false;
                self.accept_paused = false;
                self.accept_all();
            }
        }
        for slot in self.slots() {
            self.close(slot);
        }
        self.shared.log.finish();
        Ok(self.shared.totals)
    }

    /// Arms the alarm to the next deadline and returns `poll`'s timeout:
    /// none, as the alarm wakes the loop, or zero when a connection waits
    /// for its next turn.
    fn poll_timeout(&mut self) -> Option<Duration> {
        let next = match (self.shared.timers.next_deadline(), self.drain_until) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let armed = self.alarm.set(next);
        if !self.again.is_empty() {
            return Some(Duration::ZERO);
        }
        match armed {
            Ok(()) => None,
            Err(err) => {
                self.shared.log.line(format_args!(
                    "cannot arm the timerfd: {err}; timers may fire up to 1 ms late"
                ));
                // poll's own timeout, in whole milliseconds rounded up (so it
                // never wakes early and spins), still wakes the loop.
                next.map(|at| at.saturating_duration_since(Instant::now()))
            }
        }
    }

    /// Reads the stop source; true if shutdown was requested.
    fn stop_requested(&mut self, stop: &StopSource) -> bool {
        match stop {
            StopSource::Waker => true,
            StopSource::Signals(fd) => {
                let mut requested = false;
                loop {
                    match fd.read_signal() {
                        Ok(Some(_)) => requested = true,
                        Ok(None) => break,
                        Err(Errno::EINTR) => continue,
                        Err(err) => {
                            eprintln!(
                                "selector-server: cannot read the signalfd: {err}; shutting down"
                            );
                            requested = true;
                            break;
                        }
                    }
                }
                requested
            }
        }
    }

    /// Starts the graceful shutdown; returns true if it had already started.
    fn begin_drain(&mut self) -> bool {
        if self.drain_until.is_some() {
            return true;
        }
        self.drain_until = Some(self.shared.now + DRAIN_LIMIT);
        let grace_until = self.shared.now + SHUTDOWN_GRACE;
        self.shared.grace_until = Some(grace_until);
        if let Some(mut listener) = self.listener.take() {
            // Closing the socket refuses new connections at once.
            let _ = self.poll.registry().deregister(&mut listener);
        }
        for slot in self.slots() {
            let Some(conn) = self.conns.get_mut(slot) else {
                continue;
            };
            match conn.on_drain(self.shared.now) {
                OnDrain::Close => self.close(slot),
                OnDrain::Finish => self.drive(slot),
                // Its deadline timer then applies the one rule for a
                // request half received (RequestReader::at_deadline).
                OnDrain::Wait => conn.arm(grace_until, &mut self.shared),
            }
        }
        false
    }

    fn accept_all(&mut self) {
        while !self.accept_paused {
            let Some(listener) = &self.listener else {
                return;
            };
            match listener.accept() {
                Ok((stream, _)) => self.add_connection(stream),
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                // The peer gave up before we accepted; nothing to do.
                Err(err) if err.kind() == io::ErrorKind::ConnectionAborted => continue,
                Err(err) => {
                    // EMFILE, ENFILE, ENOBUFS, ENOMEM: the pending connection
                    // stays in the backlog and the listener stays readable, so
                    // retrying now would spin. Pause until a connection closes
                    // or the backoff ends.
                    if !self.fd_exhaustion_logged {
                        self.fd_exhaustion_logged = true;
                        eprintln!(
                            "selector-server: accept failed: {err}; holding {} connections, \
                             pausing accept until one closes (logged once)",
                            self.conns.len()
                        );
                    }
                    self.accept_paused = true;
                    self.shared
                        .timers
                        .push(self.shared.now + ACCEPT_BACKOFF, Timer::ResumeAccept);
                }
            }
        }
    }

    fn add_connection(&mut self, mut stream: TcpStream) {
        self.shared.totals.add_connection();
        // Responses leave in one writev each, and a pipelined burst in one
        // for several; Nagle would only hold back the tail of large ones.
        let _ = stream.set_nodelay(true);
        let vacant = self.conns.vacant_entry();
        let key = Key {
            slot: vacant.key(),
            generation: self.next_generation,
        };
        if key.slot >= MAX_SLOTS {
            self.shared.log.line(format_args!(
                "cannot hold more than {MAX_SLOTS} connections; dropping one"
            ));
            return;
        }
        if let Err(err) =
            self.poll
                .registry()
                .register(&mut stream, key.token(), Interest::READABLE)
        {
            self.shared
                .log
                .line(format_args!("cannot register a connection: {err}"));
            return;
        }
        let tls = match self
            .shared
            .tls
            .as_ref()
            .map(Arc::clone)
            .map(rustls::ServerConnection::new)
        {
            None => None,
            Some(Ok(tls)) => Some(tls),
            Some(Err(err)) => {
                self.shared
                    .log
                    .line(format_args!("cannot start TLS on a connection: {err}"));
                let _ = self.poll.registry().deregister(&mut stream);
                return;
            }
        };
        self.next_generation += 1;
        let mut conn = Conn::new(key, stream, &self.shared);
        if let Some(tls) = tls {
            conn = conn.with_tls(tls);
        }
        // Registration reports a socket that is already readable, so the
        // first bytes arrive as an ordinary event.
        conn.arm(self.shared.now + self.shared.read_timeout, &mut self.shared);
        vacant.insert(conn);
    }

    fn on_connection_event(&mut self, token: Token, readiness: Readiness) {
        let Some(slot) = token::slot_of(token) else {
            return;
        };
        let Some(conn) = self.conns.get_mut(slot) else {
            // Closed earlier in this batch of events.
            return;
        };
        if conn.key.token() != token {
            // Meant for the connection that held the slot before: it closed
            // earlier in this batch, and this one was accepted into its slot.
            return;
        }
        if readiness.readable {
            conn.readable = true;
        }
        if readiness.writable {
            conn.write_blocked = false;
        }
        self.drive(slot);
    }

    fn on_timer(&mut self, timer: Timer) {
        match timer {
            Timer::ResumeAccept => self.accept_wanted = true,
            Timer::Delay { key } => {
                let Some(conn) = self.conns.get_mut(key.slot).filter(|c| c.key == key) else {
                    return;
                };
                // The client waited on us, not the other way round.
                conn.last_progress = self.shared.now;
                self.drive(key.slot);
            }
            Timer::Deadline { key, at } => {
                let Some(conn) = self.conns.get_mut(key.slot).filter(|c| c.key == key) else {
                    return;
                };
                if conn.timer_at != Some(at) {
                    // Superseded by an earlier deadline.
                    return;
                }
                conn.timer_at = None;
                match conn.on_deadline(&mut self.shared) {
                    Step::Close => self.close(key.slot),
                    Step::Keep | Step::Again => self.drive(key.slot),
                }
            }
        }
    }

    /// Lets connection `slot` make all the progress it can, then acts on it.
    fn drive(&mut self, slot: usize) {
        let Some(conn) = self.conns.get_mut(slot) else {
            return;
        };
        let mut step = conn.turn(&mut self.shared);
        if !matches!(step, Step::Close) {
            if let Err(err) = conn.update_interest(self.poll.registry()) {
                self.shared
                    .log
                    .line(format_args!("cannot update a connection's interest: {err}"));
                step = Step::Close;
            }
        }
        match step {
            Step::Keep => {}
            Step::Again => {
                self.again.push(conn.key);
            }
            Step::Close => self.close(slot),
        }
    }

    /// The slots in use now, for a pass that may close some of them.
    fn slots(&self) -> Vec<usize> {
        self.conns.iter().map(|(slot, _)| slot).collect()
    }

    fn close(&mut self, slot: usize) {
        if let Some(mut conn) = self.conns.try_remove(slot) {
            conn.end();
            let _ = self.poll.registry().deregister(&mut conn.stream);
            if self.accept_paused {
                self.accept_wanted = true;
            }
        }
    }
}

/// What a connection's readiness event says, apart from the event itself
/// (which only mio can build, so tests pass this instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Readiness {
    readable: bool,
    writable: bool,
}

impl Readiness {
    fn of(event: &Event) -> Readiness {
        // An error or a hang-up is surfaced by the next read or write.
        Readiness {
            readable: event.is_readable() || event.is_read_closed() || event.is_error(),
            writable: event.is_writable() || event.is_write_closed() || event.is_error(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpStream as StdStream;
    use std::os::fd::AsFd;
    use std::sync::mpsc;
    use std::thread::{self, JoinHandle};

    use clap::Parser;
    use mio::Waker;
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

    use super::*;
    use crate::http;

    /// Bound on every blocking client read, so a broken loop fails instead of hanging.
    const IO_TIMEOUT: Duration = Duration::from_secs(10);

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        server: ServerArgs,
    }

    /// The event loop on its own thread, stopped through a [`Waker`](mio::Waker) instead
    /// of a signal (signals would reach the whole test process).
    struct TestServer {
        addr: SocketAddr,
        waker: Arc<Waker>,
        polls: Arc<AtomicU64>,
        thread: Option<JoinHandle<anyhow::Result<Totals>>>,
    }

    impl TestServer {
        fn start(extra_args: &[&str]) -> TestServer {
            let mut argv = vec!["test", "--addr", "127.0.0.1:0"];
            argv.extend_from_slice(extra_args);
            let args = Cli::parse_from(argv).server;
            let (ready_tx, ready_rx) = mpsc::channel();
            let thread = thread::spawn(move || {
                let server = Server::bind(&args)?;
                let waker = Arc::new(Waker::new(server.poll.registry(), STOP)?);
                let ready = (server.local_addr()?, waker, Arc::clone(&server.polls));
                ready_tx
                    .send(ready)
                    .expect("the test waits for the address");
                server.serve(StopSource::Waker)
            });
            let (addr, waker, polls) = ready_rx
                .recv_timeout(IO_TIMEOUT)
                .expect("the server thread starts");
            TestServer {
                addr,
                waker,
                polls,
                thread: Some(thread),
            }
        }

        fn connect(&self) -> StdStream {
            let stream = StdStream::connect(self.addr).expect("connect to the test server");
            stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
            stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
            stream
        }

        /// Stops the loop (as SIGTERM would) and returns its totals.
        fn stop(mut self) -> (u64, u64, u64) {
            self.waker.wake().expect("wake the loop");
            let totals = self
                .thread
                .take()
                .expect("stopped once")
                .join()
                .expect("the loop does not panic")
                .expect("the loop ends cleanly");
            let load = |counter: &AtomicU64| counter.load(AtomicOrdering::SeqCst);
            (
                load(&totals.connections),
                load(&totals.requests),
                load(&totals.body_bytes),
            )
        }
    }

    impl Drop for TestServer {
        fn drop(&mut self) {
            if let Some(thread) = self.thread.take() {
                let _ = self.waker.wake();
                let _ = thread.join();
            }
        }
    }

    /// Reads one response with a Content-Length body; returns (status line, body).
    fn read_response(stream: &mut StdStream, pending: &mut Vec<u8>) -> (String, Vec<u8>) {
        let mut chunk = [0u8; 64 * 1024];
        loop {
            if let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8(pending[..end].to_vec()).expect("ASCII head");
                let length: usize = head
                    .lines()
                    .find_map(|line| line.strip_prefix("Content-Length: "))
                    .expect("a Content-Length header")
                    .parse()
                    .expect("a numeric Content-Length");
                let start = end + 4;
                while pending.len() < start + length {
                    let n = stream.read(&mut chunk).expect("read the body");
                    assert!(n > 0, "EOF inside a body");
                    pending.extend_from_slice(&chunk[..n]);
                }
                let body = pending[start..start + length].to_vec();
                pending.drain(..start + length);
                let status = head.lines().next().unwrap_or_default().to_string();
                return (status, body);
            }
            let n = stream.read(&mut chunk).expect("read a head");
            assert!(n > 0, "EOF before a complete head");
            pending.extend_from_slice(&chunk[..n]);
        }
    }

    fn read_to_eof(stream: &mut StdStream) -> usize {
        let mut chunk = [0u8; 64 * 1024];
        let mut total = 0;
        loop {
            match stream.read(&mut chunk) {
                Ok(0) => return total,
                Ok(n) => total += n,
                Err(err) if err.kind() == io::ErrorKind::ConnectionReset => return total,
                Err(err) => panic!("read failed: {err}"),
            }
        }
    }

    /// Regression: `/delay/MS` and the read timeout fired up to 1 ms late
    /// because the loop slept in `poll` with a timeout that epoll rounds up to
    /// whole milliseconds. The timerfd must be armed to the deadline itself.
    #[test]
    fn the_alarm_is_armed_to_the_exact_next_deadline_not_a_rounded_millisecond() {
        let args = Cli::parse_from(["test", "--addr", "127.0.0.1:0"]).server;
        let mut server = Server::bind(&args).expect("bind the test server");
        assert_eq!(server.poll_timeout(), None, "poll waits on the alarm");
        assert_eq!(server.alarm.remaining(), None, "nothing pending: disarmed");

        let base = Instant::now();
        // 100 µs past a whole millisecond: rounding up would arm it 0.9 ms
        // late. Seconds away, so that it cannot expire (and disarm) before it
        // is read back, however slow the machine.
        let at = base + Duration::from_micros(10_000_100);
        server.shared.timers.push(at, Timer::ResumeAccept);
        assert_eq!(server.poll_timeout(), None);
        let left = server.alarm.remaining().expect("armed");
        let after = Instant::now();
        // The kernel counts from a moment between `base` and `after`, so
        // exact arming lies between these bounds whatever the machine's load.
        let latest = at - base + server.alarm.origin_error;
        assert!(
            left <= latest,
            "the alarm fires {left:?} from now, later than the deadline ({latest:?} at most)"
        );
        let earliest = at.saturating_duration_since(after);
        assert!(
            left >= earliest,
            "the alarm fires {left:?} from now, before the deadline ({earliest:?} at least)"
        );

        let calls = server.alarm.settime_calls;
        server
            .shared
            .timers
            .push(at + Duration::from_secs(1), Timer::ResumeAccept);
        server.poll_timeout();
        assert_eq!(
            server.alarm.settime_calls, calls,
            "a later timer leaves the earliest deadline, and the timerfd, alone"
        );
        let sooner = base + Duration::from_secs(5);
        server.shared.timers.push(sooner, Timer::ResumeAccept);
        server.poll_timeout();
        assert_eq!(server.alarm.settime_calls, calls + 1);
        let left = server.alarm.remaining().expect("armed");
        assert!(
            left <= sooner - base + server.alarm.origin_error,
            "{left:?}"
        );

        while server
            .shared
            .timers
            .pop_due(at + Duration::from_secs(2))
            .is_some()
        {}
        assert_eq!(server.poll_timeout(), None);
        assert_eq!(server.alarm.remaining(), None, "no timer left: disarmed");

        // A deadline already past wakes a `poll` that has no timeout of its own.
        server.shared.timers.push(base, Timer::ResumeAccept);
        assert_eq!(server.poll_timeout(), None);
        let mut events = Events::with_capacity(8);
        server
            .poll
            .poll(&mut events, Some(IO_TIMEOUT))
            .expect("poll");
        assert!(
            events.iter().any(|event| event.token() == ALARM),
            "the timerfd did not wake the loop"
        );
        server.alarm.fired().expect("read the timerfd");
        assert_eq!(server.alarm.remaining(), None, "a one-shot alarm is spent");
    }

    /// Accepts `count` new connections; returns their slots.
    fn accept_waiting(server: &mut Server, count: usize) -> Vec<usize> {
        let before = server.slots();
        let started = Instant::now();
        loop {
            server.accept_all();
            let mut slots = server.slots();
            slots.retain(|slot| !before.contains(slot));
            if slots.len() >= count {
                return slots;
            }
            assert!(
                started.elapsed() < IO_TIMEOUT,
                "the connections never arrived"
            );
            thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn a_closed_connections_slot_is_reused() {
        let args = Cli::parse_from(["test", "--addr", "127.0.0.1:0"]).server;
        let mut server = Server::bind(&args).expect("bind the test server");
        let addr = server.local_addr().unwrap();
        let _clients: Vec<_> = (0..2).map(|_| StdStream::connect(addr).unwrap()).collect();
        assert_eq!(accept_waiting(&mut server, 2), [0, 1]);
        server.close(0);
        assert_eq!(server.conns.len(), 1);
        let _again = StdStream::connect(addr).unwrap();
        assert_eq!(
            accept_waiting(&mut server, 1),
            [0],
            "the freed slot, not a new one"
        );
    }

    /// Regression guard: slots are reused at once, and tokens once named
    /// only the slot, so an event left in a batch for a connection closed
    /// earlier in that batch drove whichever connection took its slot.
    #[test]
    fn an_event_for_the_slots_earlier_connection_is_ignored() {
        let args = Cli::parse_from(["test", "--addr", "127.0.0.1:0"]).server;
        let mut server = Server::bind(&args).expect("bind the test server");
        let addr = server.local_addr().unwrap();
        let first = StdStream::connect(addr).unwrap();
        assert_eq!(accept_waiting(&mut server, 1), [0]);
        let stale = server.conns[0].key.token();
        server.close(0);
        drop(first);
        let mut second = StdStream::connect(addr).unwrap();
        second.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        assert_eq!(accept_waiting(&mut server, 1), [0], "the same slot");
        let current = server.conns[0].key.token();
        assert_ne!(stale, current);

        second
            .write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            .unwrap();
        let mut fds = [PollFd::new(
            server.conns[0].stream.as_fd(),
            PollFlags::POLLIN,
        )];
        let ready = poll(&mut fds, PollTimeout::try_from(IO_TIMEOUT).unwrap()).unwrap();
        assert_eq!(ready, 1, "the request did not reach the server's socket");
        let both = Readiness {
            readable: true,
            writable: true,
        };
        server.on_connection_event(stale, both);
        assert!(
            !server.conns[0].readable,
            "a stale event marked it readable"
        );
        assert_eq!(
            server.conns[0].out.served(),
            0,
            "a stale event drove the slot's new connection"
        );

        server.on_connection_event(current, both);
        assert_eq!(server.conns[0].out.served(), 1, "its own event drives it");
        let (status, body) = read_response(&mut second, &mut Vec::new());
        assert_eq!(
            (status.as_str(), body.as_slice()),
            ("HTTP/1.1 200 OK", http::HELLO)
        );
    }

    #[test]
    fn a_delay_keeps_pipelined_order_and_holds_up_no_other_client() {
        let server = TestServer::start(&[]);
        let mut delayed = server.connect();
        delayed
            .write_all(
                b"GET /delay/400 HTTP/1.1\r\nHost: t\r\n\r\n\
                  GET /bytes/3 HTTP/1.1\r\nHost: t\r\n\r\n\
                  POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello",
            )
            .unwrap();

        let mut other = server.connect();
        other
            .write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            .unwrap();
        let (status, body) = read_response(&mut other, &mut Vec::new());
        assert_eq!(
            (status.as_str(), body.as_slice()),
            ("HTTP/1.1 200 OK", http::HELLO)
        );
        // The other client was answered while the delay still runs: nothing
        // of the pipelined answers may have been sent yet.
        delayed.set_nonblocking(true).unwrap();
        let mut probe = [0u8; 1];
        let early = delayed.read(&mut probe);
        assert!(
            matches!(&early, Err(err) if err.kind() == io::ErrorKind::WouldBlock),
            "the delayed connection got an answer before its delay: {early:?}"
        );
        delayed.set_nonblocking(false).unwrap();

        let mut pending = Vec::new();
        let answers: Vec<_> = (0..3)
            .map(|_| read_response(&mut delayed, &mut pending))
            .collect();
        assert_eq!(answers[0].1, http::HELLO);
        assert_eq!(answers[1].1, b"abc");
        assert_eq!(answers[2].1, b"hello");
        drop((delayed, other));
        assert_eq!(server.stop(), (2, 4, 5));
    }

    #[test]
    fn continue_follows_the_answers_ahead_of_it_and_precedes_the_body() {
        let server = TestServer::start(&[]);
        let mut client = server.connect();
        client
            .write_all(
                b"GET /delay/200 HTTP/1.1\r\nHost: t\r\n\r\n\
                  POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n\
                  Content-Length: 5\r\n\r\n",
            )
            .unwrap();
        let mut pending = Vec::new();
        let (_, first) = read_response(&mut client, &mut pending);
        assert_eq!(first, http::HELLO, "the delayed answer comes first");
        let mut chunk = [0u8; 64];
        while pending.len() < http::CONTINUE.len() {
            let n = client.read(&mut chunk).expect("read 100 Continue");
            assert!(n > 0, "EOF instead of 100 Continue");
            pending.extend_from_slice(&chunk[..n]);
        }
        assert_eq!(
            pending,
            http::CONTINUE,
            "then 100 Continue, and nothing more"
        );
        pending.clear();
        client.write_all(b"hello").unwrap();
        let (status, echoed) = read_response(&mut client, &mut pending);
        assert_eq!(
            (status.as_str(), echoed.as_slice()),
            ("HTTP/1.1 200 OK", &b"hello"[..])
        );
        drop(client);
        assert_eq!(server.stop(), (1, 2, 5), "100 Continue is not a request");
    }

    #[test]
    fn a_slow_reader_gets_every_byte_of_a_large_response_in_order() {
        const LEN: usize = 8_000_000;
        let server = TestServer::start(&[]);
        let mut client = server.connect();
        client
            .write_all(
                format!(
                    "GET /bytes/{LEN} HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n"
                )
                .as_bytes(),
            )
            .unwrap();
        // Let the server fill the socket buffers and wait for WRITABLE.
        thread::sleep(Duration::from_millis(200));
        let mut pending = Vec::new();
        let (status, body) = read_response(&mut client, &mut pending);
        assert_eq!(status, "HTTP/1.1 200 OK");
        assert_eq!(body.len(), LEN);
        let first_wrong = (0..LEN).find(|&i| body[i] != http::fill_byte(i as u64));
        assert_eq!(first_wrong, None, "the body follows the fill pattern");
        let (_, hello) = read_response(&mut client, &mut pending);
        assert_eq!(hello, http::HELLO);
        drop(client);
        assert_eq!(server.stop(), (1, 2, 0));
    }

    #[test]
    fn a_client_that_stops_reading_is_dropped_and_its_request_not_counted() {
        let server = TestServer::start(&["--read-timeout", "300ms"]);
        let mut client = server.connect();
        client
            .write_all(b"GET /bytes/67108864 HTTP/1.1\r\nHost: t\r\n\r\n")
            .unwrap();
        // Far longer than the read timeout, and 64 MiB cannot fit in the
        // socket buffers, so the server's writes stall.
        thread::sleep(Duration::from_millis(1200));
        let received = read_to_eof(&mut client);
        assert!(
            received > 0 && received < 67_108_864,
            "got {received} bytes"
        );
        assert_eq!(server.stop(), (1, 0, 0));
    }

    #[test]
    fn idle_connections_do_not_wake_the_loop() {
        let server = TestServer::start(&["--read-timeout", "60s"]);
        let idle: Vec<_> = (0..100).map(|_| server.connect()).collect();
        let mut active = server.connect();
        active
            .write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            .unwrap();
        read_response(&mut active, &mut Vec::new());
        // Accepting all of them and answering took some wake-ups; from now on
        // nothing is due for a minute and no socket has anything to say.
        thread::sleep(Duration::from_millis(100));
        let before = server.polls.load(AtomicOrdering::SeqCst);
        thread::sleep(Duration::from_millis(500));
        let after = server.polls.load(AtomicOrdering::SeqCst);
        assert_eq!(
            after - before,
            0,
            "the loop woke while every connection was idle"
        );
        drop((idle, active));
        let (connections, requests, _) = server.stop();
        assert_eq!((connections, requests), (101, 1));
    }

    #[test]
    fn shutdown_closes_idle_connections_and_finishes_a_queued_delay_with_close() {
        let server = TestServer::start(&[]);
        let mut idle = server.connect();
        idle.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            .unwrap();
        read_response(&mut idle, &mut Vec::new());
        let mut waiting = server.connect();
        waiting
            .write_all(b"GET /delay/30000 HTTP/1.1\r\nHost: t\r\n\r\n")
            .unwrap();
        thread::sleep(Duration::from_millis(100));
        let started = Instant::now();
        let totals = server.stop();
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the drain waited for the whole delay"
        );
        let mut data = Vec::new();
        waiting.read_to_end(&mut data).unwrap();
        let text = String::from_utf8_lossy(&data);
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
        assert!(text.contains("Connection: close\r\n"), "{text}");
        assert_eq!(read_to_eof(&mut idle), 0, "the idle connection is closed");
        assert_eq!(totals, (2, 2, 0));
    }
}
