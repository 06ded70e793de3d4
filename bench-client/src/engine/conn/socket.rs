//! The socket side of a connection: connect, write the request, read and
//! frame the response, each a handler that returns the next [`Step`].

use std::io::{self, Read, Write};
use std::time::Instant;

use mio::event::Event;
use mio::net::TcpStream;
use mio::Interest;

use super::{token, Conn, State, Step};
use crate::engine::Ctx;
use crate::http::Framed;
use crate::stats::{Cause, Failure};

/// Reads (of the worker's 64 KiB buffer) one connection may do per turn of
/// the loop: 256 KiB, enough for large responses to cost few turns, small
/// enough that a turn lasts well under a millisecond, whatever the bytes.
pub const READS_PER_TURN: usize = 4;

impl Conn {
    pub(super) fn connect(&mut self, ctx: &mut Ctx<'_>, now: Instant) -> Step {
        self.attempt = now;
        self.sent = now;
        match self.open_socket(ctx, now) {
            Ok(()) => {
                self.state = State::Connecting;
                Step::Wait
            }
            Err((kind, e)) => Step::Fail {
                now,
                kind,
                cause: Cause::from_io(&e),
            },
        }
    }

    /// Starts a non-blocking connect under a new token generation.
    fn open_socket(&mut self, ctx: &mut Ctx<'_>, now: Instant) -> Result<(), (Failure, io::Error)> {
        self.served = 0;
        self.connect_started = now;
        self.gen = self.gen.wrapping_add(1);
        let mut sock = TcpStream::connect(ctx.books.plan.hosts[self.host].addr)
            .map_err(|e| (connect_kind(&e), e))?;
        let token = token(self.idx, self.gen());
        ctx.registry
            .register(&mut sock, token, Interest::READABLE | Interest::WRITABLE)
            .map_err(|e| (Failure::Connect, e))?;
        self.sock = Some(sock);
        Ok(())
    }

    /// Open loop: connects before the schedule starts, as wrk2 does, so
    /// that thousands of connections do not all connect in its first second,
    /// in the middle of the measured requests. A failure here is not
    /// counted: the first request connects again, and that attempt counts.
    pub fn preconnect(&mut self, ctx: &mut Ctx<'_>) {
        let idle = State::Idle {
            preconnecting: false,
        };
        if self.state == idle
            && self.sock.is_none()
            && self.open_socket(ctx, Instant::now()).is_ok()
        {
            self.state = State::Idle {
                preconnecting: true,
            };
        }
    }

    pub fn is_preconnecting(&self) -> bool {
        matches!(
            self.state,
            State::Idle {
                preconnecting: true
            } | State::Waiting {
                preconnecting: true,
                ..
            }
        )
    }

    /// Clears the early-connect mark of an idle or waiting connection.
    pub(super) fn end_preconnect(&mut self) {
        match &mut self.state {
            State::Idle { preconnecting } | State::Waiting { preconnecting, .. } => {
                *preconnecting = false;
            }
            _ => {}
        }
    }

    /// The early connect of [`preconnect`](Self::preconnect) finished (or
    /// failed: dropped quietly). With https the handshake follows, still
    /// ahead of the schedule.
    pub(super) fn on_preconnect(&mut self, ctx: &mut Ctx<'_>, ev: &Event) {
        if self.tls.is_some() {
            return self.preconnect_handshake(ctx);
        }
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
            let now = Instant::now();
            self.connected_at(ctx, now);
            if ctx.books.plan.hosts[self.host].tls.is_some() {
                if self.start_tls(ctx, now).is_err() {
                    return self.close();
                }
                return self.preconnect_handshake(ctx);
            }
            self.end_preconnect();
        } else {
            self.close();
        }
    }

    /// Records the connect phase of a socket that just connected.
    fn connected_at(&mut self, ctx: &mut Ctx<'_>, now: Instant) {
        if self.phase_counts(ctx, now) {
            let us = now
                .saturating_duration_since(self.connect_started)
                .as_micros() as u64;
            crate::hdr::record(&mut ctx.books.stats.connect, us);
        }
    }

    /// Whether a connection's phases (connect, handshake) are recorded:
    /// those of measured requests, and the open loop's early connects
    /// unless a warm-up (whose connections are not measured) comes first.
    pub(super) fn phase_counts(&self, ctx: &Ctx<'_>, now: Instant) -> bool {
        if self.is_preconnecting() {
            ctx.books.plan.warmup.is_zero()
        } else {
            self.measured && ctx.books.counts(now)
        }
    }

    pub(super) fn on_connect(&mut self, ctx: &mut Ctx<'_>) -> Step {
        let Some(sock) = self.sock.as_ref() else {
            return Step::Wait;
        };
        let now = Instant::now();
        let failed = |e: io::Error| Step::Fail {
            now,
            kind: connect_kind(&e),
            cause: Cause::from_io(&e),
        };
        match sock.take_error() {
            Ok(None) => {}
            Ok(Some(e)) | Err(e) => return failed(e),
        }
        match sock.peer_addr() {
            Ok(_) => {}
            // Not connected yet: a spurious wake-up; the next event finishes it.
            Err(e) if e.kind() == io::ErrorKind::NotConnected => return Step::Wait,
            Err(e) => return failed(e),
        }
        // Requests are small writes that must not wait for Nagle.
        let _ = sock.set_nodelay(true);
        self.connected_at(ctx, now);
        if ctx.books.plan.hosts[self.host].tls.is_some() {
            if let Err(e) = self.start_tls(ctx, now) {
                return Step::Fail {
                    now,
                    kind: Failure::Tls,
                    cause: crate::stats::Cause::Tls(crate::tls::cause_id(&e, &[])),
                };
            }
            // The handshake's own time limit runs from here.
            self.attempt = now;
            self.state = State::Handshaking;
            return Step::Handshake;
        }
        self.connect_failures = 0;
        self.ready(ctx, now)
    }

    /// The connection is up (and, with TLS, its handshake done): the
    /// request goes out.
    pub(super) fn ready(&mut self, ctx: &Ctx<'_>, now: Instant) -> Step {
        if !ctx.books.plan.connection_per_request {
            // Keep-alive: latency and timeout start at the first byte written.
            self.sent = now;
            self.attempt = now;
        }
        self.start_writing(now);
        Step::Write
    }

    /// A request starts going out.
    pub(super) fn start_writing(&mut self, now: Instant) {
        self.ttfb_from = now;
        self.first_byte = None;
        self.state = State::Writing {
            written: 0,
            read_pending: false,
            peer_closed: false,
        };
    }

    pub(super) fn write(&mut self, ctx: &mut Ctx<'_>) -> Step {
        let State::Writing {
            mut written,
            read_pending,
            peer_closed,
        } = self.state
        else {
            return Step::Wait;
        };
        if self.tls.is_some() {
            return self.write_tls(ctx, written, read_pending, peer_closed);
        }
        let request = &ctx.books.plan.requests[self.target].bytes[..];
        let Some(sock) = self.sock.as_mut() else {
            return Step::Wait;
        };
        while written < request.len() {
            match sock.write(&request[written..]) {
                Ok(0) => {
                    let now = Instant::now();
                    let (kind, cause) = (Failure::Write, Cause::None);
                    return Step::Fail { now, kind, cause };
                }
                Ok(n) => written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.state = State::Writing {
                        written,
                        read_pending,
                        peer_closed,
                    };
                    return Step::Wait;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return self.io_failed(&e, Failure::Write),
            }
        }
        self.sent_all(ctx, read_pending, peer_closed)
    }

    /// The whole request is out: the response is read next.
    pub(super) fn sent_all(
        &mut self,
        ctx: &mut Ctx<'_>,
        read_pending: bool,
        peer_closed: bool,
    ) -> Step {
        if self.measured {
            ctx.books.stats.bytes_sent += ctx.books.plan.requests[self.target].bytes.len() as u64;
        }
        self.state = State::Reading {
            peer_closed,
            resume_queued: false,
        };
        self.framer.reset();
        self.pending.clear();
        if read_pending {
            Step::Read
        } else {
            Step::Wait
        }
    }

    /// A failed read or write: a reset that may be the keep-alive race is
    /// retried, anything else fails the attempt.
    pub(super) fn io_failed(&self, e: &io::Error, default: Failure) -> Step {
        let now = Instant::now();
        let kind = io_kind(e, default);
        if kind == Failure::Reset && self.may_retry() {
            return Step::Retry { now };
        }
        let cause = Cause::from_io(e);
        Step::Fail { now, kind, cause }
    }

    /// Reads until the response is complete, the socket is drained or the
    /// turn is over ([`READS_PER_TURN`]: then the connection waits on the
    /// resume list). A peer's FIN seen by an event means read on to the end.
    ///
    /// Reads land in the worker's scratch buffer: body bytes are only
    /// counted, so a connection keeps bytes of its own only when a head (or
    /// chunk line) arrives split across reads, in `pending`. That keeps a
    /// connection to a few hundred bytes, whatever the response sizes.
    pub(super) fn read(&mut self, ctx: &mut Ctx<'_>) -> Step {
        let State::Reading {
            peer_closed,
            resume_queued,
        } = self.state
        else {
            return Step::Wait;
        };
        let tls = self.tls.is_some();
        let turn = if tls {
            super::tls::FILLS_PER_TURN
        } else {
            READS_PER_TURN
        };
        for _ in 0..turn {
            let Some(sock) = self.sock.as_mut() else {
                return Step::Wait;
            };
            let read = match self.tls.as_deref_mut() {
                Some(t) => t.fill(sock, &mut ctx.scratch[..]),
                None => sock.read(&mut ctx.scratch[..]),
            };
            let n = match read {
                Ok(0) => return self.on_eof(),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Step::Wait,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return self.read_failed(&e),
            };
            // The first read's clock serves ttfb and, when the response is
            // whole in it (the usual case), its end: one clock read, not two.
            let first_read = self.first_byte.is_none().then(Instant::now);
            if first_read.is_some() {
                self.first_byte = first_read;
            }
            if self.measured {
                ctx.books.stats.bytes_received += n as u64;
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
                    let (kind, cause) = (Failure::InvalidResponse, Cause::Protocol(e.cause_id()));
                    return Step::Fail { now, kind, cause };
                }
                Ok(Framed::Complete { status, keep_alive }) => {
                    // Bytes beyond the response were never asked for:
                    // the connection cannot be trusted for another.
                    let keep_alive = keep_alive && !peer_closed && self.pending.is_empty();
                    self.pending.clear();
                    let now = first_read.unwrap_or_else(Instant::now);
                    return Step::Complete {
                        now,
                        status,
                        keep_alive,
                    };
                }
                Ok(Framed::More) => {}
            }
            // A short read drained the socket: the next bytes bring a new
            // edge. (A TLS fill returns at most a record's plaintext, so
            // only `WouldBlock` says the socket is drained.)
            if !tls && n < ctx.scratch.len() && !peer_closed {
                return Step::Wait;
            }
        }
        if !resume_queued {
            self.state = State::Reading {
                peer_closed,
                resume_queued: true,
            };
            ctx.resume.push(self.idx);
        }
        Step::Wait
    }

    /// The peer closed: the response ends here, if its framing allows.
    fn on_eof(&mut self) -> Step {
        let now = Instant::now();
        if self.may_retry() {
            return Step::Retry { now };
        }
        match self.framer.on_eof() {
            Ok(Framed::Complete { status, .. }) => Step::Complete {
                now,
                status,
                keep_alive: false,
            },
            _ => Step::Fail {
                now,
                kind: Failure::Read,
                cause: Cause::Eof,
            },
        }
    }

    /// A failed read; a TLS record the session refused is a `tls` failure.
    fn read_failed(&self, e: &io::Error) -> Step {
        match e
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            Some(tls_error) => Step::Fail {
                now: Instant::now(),
                kind: Failure::Tls,
                cause: Cause::Tls(crate::tls::cause_id(tls_error, &[])),
            },
            None => self.io_failed(e, Failure::Read),
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
    pub(super) fn retry(&mut self, now: Instant) -> Step {
        self.retried = true;
        self.close();
        Step::Connect { now }
    }

    /// A keep-alive connection between requests became readable: the server
    /// closed it (or sent bytes nobody asked for). Drop it quietly; the next
    /// request reconnects.
    pub(super) fn check_idle(&mut self) {
        let Some(sock) = self.sock.as_mut() else {
            return;
        };
        if let Some(t) = self.tls.as_deref_mut() {
            // Session tickets and other TLS housekeeping may come now;
            // only plaintext, a close or an error ends the connection.
            if !t.idle_ok(sock) {
                self.close();
            }
            return;
        }
        let mut scratch = [0u8; 64];
        loop {
            match sock.read(&mut scratch) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                _ => return self.close(),
            }
        }
    }

    pub(super) fn close(&mut self) {
        // Dropping the socket closes it, which also removes it from epoll.
        self.sock = None;
        self.tls = None;
        self.end_preconnect();
        self.gen = self.gen.wrapping_add(1);
    }
}

pub(crate) fn connect_kind(e: &io::Error) -> Failure {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => Failure::ConnectRefused,
        io::ErrorKind::TimedOut => Failure::ConnectTimeout,
        _ => Failure::Connect,
    }
}

/// Resets and broken pipes are `reset`; anything else keeps `default`.
pub(crate) fn io_kind(e: &io::Error, default: Failure) -> Failure {
    match e.kind() {
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => Failure::Reset,
        _ => default,
    }
}
