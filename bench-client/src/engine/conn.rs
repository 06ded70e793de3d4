//! One client connection: a state machine that connects, writes the shared
//! request bytes (keeping an offset across partial writes), frames the
//! response as it is read into the worker's buffer, records the outcome and
//! starts the next request when the schedule says so. Failures are counted,
//! never propagated: the connection is replaced and the run goes on. A
//! reused keep-alive connection that the server closed just as a request
//! went out gets that request re-sent once on a new connection.
//!
//! Sockets are registered once, edge-triggered, for both directions: the
//! request is written eagerly (the socket is almost always writable), and a
//! writable event matters only after a write returned `WouldBlock`. That
//! saves the two `epoll_ctl` calls per request that toggling write interest
//! would cost.
//!
//! A connection reads at most [`READS_PER_TURN`] buffers per turn of the
//! worker's loop. A server that sends without end (a chunked body of 1-byte
//! chunks is cheap to send and costly to frame) would otherwise keep the
//! worker inside one connection's read, where the end of `-d`, `--timeout`
//! and signals are never checked. With edge-triggered epoll no new event
//! comes for bytes already waiting, so a connection that used its turn puts
//! itself on the worker's resume list ([`Ctx::resume`]), which the loop serves
//! after those checks.

use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use mio::event::Event;
use mio::net::TcpStream;
use mio::{Interest, Token};

use super::Ctx;
use crate::http::{Progress, ResponseFramer};
use crate::stats::{Cause, ErrorKind};

/// Closed loop: pause before reconnecting after a failed connect, doubling
/// with each failure in a row up to [`RECONNECT_DELAY_MAX`], so that a dead
/// server costs a few attempts per second and connection, not a busy loop.
const RECONNECT_DELAY: Duration = Duration::from_millis(10);
const RECONNECT_DELAY_MAX: Duration = Duration::from_millis(320);

/// A request sent later than this after its due time is a late send.
const LATE: Duration = Duration::from_millis(1);

/// Reads (of the worker's 64 KiB buffer) one connection may do per turn of
/// the loop: 256 KiB, enough for large responses to cost few turns, small
/// enough that a turn lasts well under a millisecond, whatever the bytes.
pub const READS_PER_TURN: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between requests with no timer (about to start one).
    Idle,
    /// Waiting for its timer: the next due time, or a reconnect delay.
    Waiting,
    Connecting,
    Writing,
    Reading,
    /// No more requests (`-n` used up, or `-d` over in an open loop).
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wake {
    /// Send the request intended for this instant.
    Due(Instant),
    /// Ask the schedule again (after a reconnect delay).
    Retry,
}

/// Token bits: the connection index in the low 32 bits, its socket
/// generation above, so that a late event for a closed socket is ignored.
pub fn token(idx: usize, gen: u32) -> Token {
    Token(idx | ((gen as usize & 0x7fff_ffff) << 32))
}

pub fn split_token(t: Token) -> (usize, u32) {
    (t.0 & 0xffff_ffff, (t.0 >> 32) as u32)
}

pub struct Conn {
    /// Position in the worker's connection list (the token).
    idx: usize,
    /// Run-wide connection number (its place in the schedule).
    id: u32,
    /// The client (group of `--max-conns` connections) it belongs to.
    client: u32,
    gen: u32,
    sock: Option<TcpStream>,
    state: State,
    /// Bytes of the shared request already written.
    written: usize,
    /// Unconsumed bytes of a head or chunk line split across reads (rarely used).
    pending: Vec<u8>,
    framer: ResponseFramer,
    /// When the current request was due (open loop) or started (closed loop).
    intended: Instant,
    /// First byte written, or the connect with `--connection-per-request`.
    sent: Instant,
    /// Start of the current connect or request, for `--timeout`.
    attempt: Instant,
    /// Started in the measured phase (after warm-up), so it counts.
    measured: bool,
    /// Open loop: index of the next request in this connection's schedule.
    k: u64,
    wake: Option<(Instant, Wake)>,
    /// A readable event came while the request was still being written.
    read_pending: bool,
    /// The peer's FIN was seen on this socket: read on to the end, since no
    /// new edge will say so again.
    peer_closed: bool,
    /// On the worker's resume list: its turn ended with bytes perhaps left.
    resume_queued: bool,
    /// Responses completed on the current socket (0: a fresh connection).
    served: u32,
    /// The current request was already re-sent once on a fresh connection.
    retried: bool,
    /// Failed connects in a row (for the reconnect delay).
    connect_failures: u32,
    /// Open loop: connecting ahead of the first due time (see [`preconnect`](Self::preconnect)).
    preconnecting: bool,
}

impl Conn {
    pub fn new(idx: usize, id: u32, client: u32, head_request: bool, now: Instant) -> Conn {
        Conn {
            idx,
            id,
            client,
            gen: 0,
            sock: None,
            state: State::Idle,
            written: 0,
            pending: Vec::new(),
            framer: ResponseFramer::new(head_request),
            intended: now,
            sent: now,
            attempt: now,
            measured: false,
            k: 0,
            wake: None,
            read_pending: false,
            peer_closed: false,
            resume_queued: false,
            served: 0,
            retried: false,
            connect_failures: 0,
            preconnecting: false,
        }
    }

    pub fn gen(&self) -> u32 {
        self.gen & 0x7fff_ffff
    }

    /// Asks the schedule for the next request and sends it, or sets a timer.
    pub fn next_request(&mut self, ctx: &mut Ctx<'_>, now: Instant) {
        match ctx.schedule.due(self.id, self.k) {
            None => self.begin(ctx, now, now, false),
            Some(due) => {
                self.k += 1;
                if due <= now {
                    self.begin(ctx, now, due, false);
                } else {
                    self.wait(ctx, due, Wake::Due(due));
                }
            }
        }
    }

    fn wait(&mut self, ctx: &mut Ctx<'_>, at: Instant, wake: Wake) {
        if ctx.tickets.exhausted() || ctx.past_end(at) {
            return self.finish(ctx);
        }
        self.state = State::Waiting;
        self.wake = Some((at, wake));
        ctx.timers.push(at, self.idx);
    }

    /// The timer for `at` fired; stale entries are ignored.
    pub fn on_timer(&mut self, ctx: &mut Ctx<'_>, at: Instant, now: Instant) {
        match self.wake {
            Some((when, wake)) if when == at && self.state == State::Waiting => {
                self.wake = None;
                self.state = State::Idle;
                match wake {
                    Wake::Due(intended) => self.begin(ctx, now, intended, true),
                    Wake::Retry => self.next_request(ctx, now),
                }
            }
            _ => {}
        }
    }

    /// Starts the request intended for `intended`; `from_timer` says the
    /// connection was idle, waiting for it (so any lateness is the client's).
    fn begin(&mut self, ctx: &mut Ctx<'_>, now: Instant, intended: Instant, from_timer: bool) {
        let measured = now >= ctx.measure_start;
        if (measured && !ctx.tickets.take()) || ctx.past_end(now) {
            self.finish(ctx);
            return;
        }
        self.measured = measured;
        self.intended = intended;
        self.read_pending = false;
        self.retried = false;
        if measured && ctx.schedule.is_open() {
            let late = now.saturating_duration_since(intended);
            let sent_in = ctx.second_of(now);
            let since_start = now.saturating_duration_since(ctx.measure_start);
            let stats = &mut ctx.stats;
            stats.sent += 1;
            stats.last_sent = stats.last_sent.max(since_start);
            stats.second(sent_in).sent += 1;
            if late > LATE {
                stats.late_sends += 1;
                if !from_timer {
                    stats.late_busy += 1;
                }
            }
            if from_timer {
                crate::hdr::record(&mut stats.schedule_error, late.as_micros() as u64);
            }
        }
        if self.sock.is_none() {
            self.connect(ctx, now);
        } else if self.preconnecting {
            // Its early connect is still under way: the request waits for it.
            self.preconnecting = false;
            self.attempt = now;
            self.sent = now;
            self.state = State::Connecting;
        } else {
            self.sent = now;
            self.attempt = now;
            self.state = State::Writing;
            self.written = 0;
            self.write(ctx);
        }
    }

    fn connect(&mut self, ctx: &mut Ctx<'_>, now: Instant) {
        self.attempt = now;
        self.sent = now;
        match self.open_socket(ctx) {
            Ok(()) => self.state = State::Connecting,
            Err((kind, e)) => self.fail(ctx, now, kind, Cause::from_io(&e)),
        }
    }

    /// Starts a non-blocking connect under a new token generation.
    fn open_socket(&mut self, ctx: &mut Ctx<'_>) -> Result<(), (ErrorKind, io::Error)> {
        self.served = 0;
        self.peer_closed = false;
        self.gen = self.gen.wrapping_add(1);
        let mut sock = TcpStream::connect(ctx.plan.addr).map_err(|e| (connect_kind(&e), e))?;
        let token = token(self.idx, self.gen());
        ctx.registry
            .register(&mut sock, token, Interest::READABLE | Interest::WRITABLE)
            .map_err(|e| (ErrorKind::Connect, e))?;
        self.sock = Some(sock);
        Ok(())
    }

    /// Open loop: connects before the schedule starts, as wrk2 does, so
    /// that thousands of connections do not all connect in its first second,
    /// in the middle of the measured requests. A failure here is not
    /// counted: the first request connects again, and that attempt counts.
    pub fn preconnect(&mut self, ctx: &mut Ctx<'_>) {
        if self.state == State::Idle && self.sock.is_none() && self.open_socket(ctx).is_ok() {
            self.preconnecting = true;
        }
    }

    pub fn is_preconnecting(&self) -> bool {
        self.preconnecting
    }

    /// The early connect of [`preconnect`](Self::preconnect) finished (or failed: dropped quietly).
    fn on_preconnect(&mut self, ev: &Event) {
        if !(ev.is_writable() || ev.is_error() || ev.is_write_closed() || ev.is_read_closed()) {
            return;
        }
        let Some(sock) = self.sock.as_ref() else {
            return;
        };
        let connected = match (sock.take_error(), sock.peer_addr()) {
            (Ok(None), Ok(_)) => true,
            (Ok(None), Err(e)) if e.kind() == io::ErrorKind::NotConnected => return,
            _ => false,
        };
        if connected {
            let _ = sock.set_nodelay(true);
            self.preconnecting = false;
        } else {
            self.close();
        }
    }

    pub fn on_event(&mut self, ctx: &mut Ctx<'_>, ev: &Event) {
        match self.state {
            State::Connecting => {
                if ev.is_writable() || ev.is_error() || ev.is_write_closed() || ev.is_read_closed()
                {
                    self.on_connect(ctx);
                }
            }
            State::Writing => {
                if ev.is_readable() || ev.is_read_closed() {
                    self.read_pending = true;
                }
                if ev.is_read_closed() {
                    self.peer_closed = true;
                }
                if ev.is_writable() || ev.is_error() || ev.is_write_closed() {
                    self.write(ctx);
                }
            }
            State::Reading => {
                if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
                    self.read(ctx, ev.is_read_closed());
                }
            }
            State::Idle | State::Waiting if self.preconnecting => self.on_preconnect(ev),
            State::Idle | State::Waiting => self.check_idle(),
            State::Done => {}
        }
    }

    fn on_connect(&mut self, ctx: &mut Ctx<'_>) {
        let Some(sock) = self.sock.as_ref() else {
            return;
        };
        let now = Instant::now();
        match sock.take_error() {
            Ok(None) => {}
            Ok(Some(e)) | Err(e) => {
                return self.fail(ctx, now, connect_kind(&e), Cause::from_io(&e))
            }
        }
        match sock.peer_addr() {
            Ok(_) => {}
            // Not connected yet: a spurious wake-up; the next event finishes it.
            Err(e) if e.kind() == io::ErrorKind::NotConnected => return,
            Err(e) => return self.fail(ctx, now, connect_kind(&e), Cause::from_io(&e)),
        }
        // Requests are small writes that must not wait for Nagle.
        let _ = sock.set_nodelay(true);
        self.connect_failures = 0;
        if !ctx.plan.connection_per_request {
            // Keep-alive: latency and timeout start at the first byte written.
            self.sent = now;
            self.attempt = now;
        }
        self.state = State::Writing;
        self.written = 0;
        self.write(ctx);
    }

    fn write(&mut self, ctx: &mut Ctx<'_>) {
        let plan = ctx.plan;
        let request = &plan.request[..];
        let Some(sock) = self.sock.as_mut() else {
            return;
        };
        while self.written < request.len() {
            match sock.write(&request[self.written..]) {
                Ok(0) => {
                    let now = Instant::now();
                    return self.fail(ctx, now, ErrorKind::Write, Cause::None);
                }
                Ok(n) => self.written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let now = Instant::now();
                    let kind = io_kind(&e, ErrorKind::Write);
                    if kind == ErrorKind::Reset && self.may_retry() {
                        return self.retry(ctx, now);
                    }
                    return self.fail(ctx, now, kind, Cause::from_io(&e));
                }
            }
        }
        if self.measured {
            ctx.stats.bytes_sent += request.len() as u64;
        }
        self.state = State::Reading;
        self.framer.reset();
        self.pending.clear();
        if std::mem::take(&mut self.read_pending) {
            self.read(ctx, false);
        }
    }

    /// Its turn on the resume list: reads on where the last turn stopped.
    pub fn resume(&mut self, ctx: &mut Ctx<'_>) {
        if std::mem::take(&mut self.resume_queued) && self.state == State::Reading {
            self.read(ctx, false);
        }
    }

    /// Reads until the response is complete, the socket is drained or the
    /// turn is over ([`READS_PER_TURN`]: then the connection waits on the
    /// resume list). `peer_closed` (the event saw the peer's FIN) means read
    /// on to the end.
    ///
    /// Reads land in the worker's scratch buffer: body bytes are only
    /// counted, so a connection keeps bytes of its own only when a head (or
    /// chunk line) arrives split across reads, in `pending`. That keeps a
    /// connection to a few hundred bytes, whatever the response sizes.
    fn read(&mut self, ctx: &mut Ctx<'_>, peer_closed: bool) {
        self.peer_closed |= peer_closed;
        for _ in 0..READS_PER_TURN {
            let Some(sock) = self.sock.as_mut() else {
                return;
            };
            let n = match sock.read(&mut ctx.scratch[..]) {
                Ok(0) => {
                    let now = Instant::now();
                    if self.may_retry() {
                        return self.retry(ctx, now);
                    }
                    return match self.framer.on_eof() {
                        Ok(Progress::Complete { status, .. }) => {
                            self.complete(ctx, now, status, false)
                        }
                        _ => self.fail(ctx, now, ErrorKind::Read, Cause::Eof),
                    };
                }
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let now = Instant::now();
                    let kind = io_kind(&e, ErrorKind::Read);
                    if kind == ErrorKind::Reset && self.may_retry() {
                        return self.retry(ctx, now);
                    }
                    return self.fail(ctx, now, kind, Cause::from_io(&e));
                }
            };
            if self.measured {
                ctx.stats.bytes_received += n as u64;
            }
            let framed = if self.pending.is_empty() {
                let bytes = &ctx.scratch[..n];
                self.framer.advance(bytes).map(|(used, p)| {
                    self.pending.extend_from_slice(&bytes[used..]);
                    p
                })
            } else {
                self.pending.extend_from_slice(&ctx.scratch[..n]);
                self.framer.advance(&self.pending).map(|(used, p)| {
                    self.pending.drain(..used);
                    p
                })
            };
            match framed {
                Err(e) => {
                    let now = Instant::now();
                    let cause = Cause::Protocol(e.cause_id());
                    return self.fail(ctx, now, ErrorKind::InvalidResponse, cause);
                }
                Ok(Progress::Complete { status, keep_alive }) => {
                    // Bytes beyond the response were never asked for:
                    // the connection cannot be trusted for another.
                    let reusable = keep_alive && !self.peer_closed && self.pending.is_empty();
                    self.pending.clear();
                    let now = Instant::now();
                    return self.complete(ctx, now, status, reusable);
                }
                Ok(Progress::More) => {}
            }
            // A short read drained the socket: the next bytes bring a new edge.
            if n < ctx.scratch.len() && !self.peer_closed {
                return;
            }
        }
        if !self.resume_queued {
            self.resume_queued = true;
            ctx.resume.push(self.idx);
        }
    }

    /// Whether a close or reset may be the race every keep-alive client
    /// knows: the server closed an idle connection (or one at its
    /// per-connection request limit) just as this request went out. That is
    /// so when the connection had served a response before and nothing of
    /// this one's response has arrived; the server then never read the
    /// request, so sending it again on a new connection loses nothing and
    /// counts nothing twice. Once per request, so a dead server still shows.
    fn may_retry(&self) -> bool {
        self.served > 0 && !self.retried && self.framer.at_start() && self.pending.is_empty()
    }

    /// Sends the current request again on a fresh connection (see [`may_retry`](Self::may_retry)).
    fn retry(&mut self, ctx: &mut Ctx<'_>, now: Instant) {
        self.retried = true;
        self.close();
        self.connect(ctx, now);
    }

    fn complete(&mut self, ctx: &mut Ctx<'_>, now: Instant, status: u16, keep_alive: bool) {
        self.served += 1;
        if self.measured && ctx.counts(now) {
            let t = ctx.second_of(now);
            let (latency, uncorrected) = self.latencies(ctx, now);
            ctx.stats
                .response(t, self.client, status, latency, uncorrected);
            ctx.publish();
        }
        if !keep_alive || ctx.plan.connection_per_request {
            self.close();
        }
        self.state = State::Idle;
        self.next_request(ctx, now);
    }

    /// A failed attempt: counted (timeouts with their latency), the socket
    /// dropped, and the next request started, after a pause if the connect failed.
    fn fail(&mut self, ctx: &mut Ctx<'_>, now: Instant, kind: ErrorKind, cause: Cause) {
        if self.measured && ctx.counts(now) {
            let t = ctx.second_of(now);
            let timed_out = (kind == ErrorKind::Timeout).then(|| self.latencies(ctx, now));
            ctx.stats.error(t, self.client, kind, cause, timed_out);
            ctx.publish();
        }
        self.close();
        self.state = State::Idle;
        let connect_failed = matches!(
            kind,
            ErrorKind::ConnectRefused | ErrorKind::ConnectTimeout | ErrorKind::Connect
        );
        if connect_failed && !ctx.schedule.is_open() {
            self.connect_failures = self.connect_failures.saturating_add(1);
            let doublings = (self.connect_failures - 1).min(5);
            let delay = (RECONNECT_DELAY * (1 << doublings)).min(RECONNECT_DELAY_MAX);
            self.wait(ctx, now + delay, Wake::Retry);
        } else {
            self.next_request(ctx, now);
        }
    }

    /// (recorded latency, uncorrected latency in open-loop runs), in µs.
    fn latencies(&self, ctx: &Ctx<'_>, now: Instant) -> (u64, Option<u64>) {
        let since_sent = now.saturating_duration_since(self.sent).as_micros() as u64;
        if ctx.schedule.is_open() {
            let since_due = now.saturating_duration_since(self.intended).as_micros() as u64;
            (since_due, Some(since_sent))
        } else {
            (since_sent, None)
        }
    }

    /// Fails the current attempt if it has run past `--timeout`.
    pub fn check_timeout(&mut self, ctx: &mut Ctx<'_>, now: Instant) {
        let kind = match self.state {
            State::Connecting => ErrorKind::ConnectTimeout,
            State::Writing | State::Reading => ErrorKind::Timeout,
            _ => return,
        };
        if now.saturating_duration_since(self.attempt) >= ctx.plan.timeout {
            self.fail(ctx, now, kind, Cause::None);
        }
    }

    /// A keep-alive connection between requests became readable: the server
    /// closed it (or sent bytes nobody asked for). Drop it quietly; the next
    /// request reconnects.
    fn check_idle(&mut self) {
        let Some(sock) = self.sock.as_mut() else {
            return;
        };
        let mut scratch = [0u8; 64];
        loop {
            match sock.read(&mut scratch) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                _ => return self.close(),
            }
        }
    }

    fn close(&mut self) {
        // Dropping the socket closes it, which also removes it from epoll.
        self.sock = None;
        self.preconnecting = false;
        self.gen = self.gen.wrapping_add(1);
    }

    /// `-n` is used up: a connection only waiting for its next turn is done.
    pub fn release_if_waiting(&mut self, ctx: &mut Ctx<'_>) {
        if matches!(self.state, State::Waiting | State::Idle) {
            self.wake = None;
            self.finish(ctx);
        }
    }

    /// No more requests for this connection.
    fn finish(&mut self, ctx: &mut Ctx<'_>) {
        if self.state == State::Done {
            return;
        }
        self.close();
        self.state = State::Done;
        ctx.active -= 1;
    }
}

fn connect_kind(e: &io::Error) -> ErrorKind {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => ErrorKind::ConnectRefused,
        io::ErrorKind::TimedOut => ErrorKind::ConnectTimeout,
        _ => ErrorKind::Connect,
    }
}

/// Resets and broken pipes are `reset`; anything else keeps `default`.
fn io_kind(e: &io::Error, default: ErrorKind) -> ErrorKind {
    match e.kind() {
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => ErrorKind::Reset,
        _ => default,
    }
}
