//! The TLS layer of a connection: the handshake, the request put through
//! the session's writer and flushed as records, and responses decrypted
//! into the worker's scratch buffer for the framer. Sockets stay
//! edge-triggered and registered once for both directions: every function
//! here works until the socket says `WouldBlock`, and a flush cut short
//! leaves the rest in the session, to go out on the next writable edge.

use std::io::{self, Read, Write};
use std::sync::Arc;
use std::time::Instant;

use mio::net::TcpStream;
use rustls::{ClientConnection, HandshakeKind};

use super::socket::{io_kind, READS_PER_TURN};
use super::{Conn, Step};
use crate::engine::Ctx;
use crate::stats::{Cause, Failure};
use crate::tls::Fatal;

/// Fills (each at most one socket read of at most a record or so) per turn:
/// as many bytes a turn as the plain path's reads of 64 KiB, roughly.
pub const FILLS_PER_TURN: usize = 4 * READS_PER_TURN;

/// How many bytes of the server's first answer are kept, to tell a plain
/// HTTP reply (`HTTP/`) from a broken TLS one.
const HEAD: usize = 5;

pub struct Tls {
    conn: ClientConnection,
    /// When the handshake started (the socket was established).
    started: Instant,
    head: [u8; HEAD],
    head_len: usize,
}

/// Where a handshake stands.
pub enum Handshake {
    Done,
    Wait,
    Failed(Failure, Cause),
}

/// The socket, keeping a copy of the first bytes read through it.
struct Peek<'a> {
    sock: &'a mut TcpStream,
    head: &'a mut [u8; HEAD],
    len: &'a mut usize,
}

impl Read for Peek<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.sock.read(buf)?;
        let take = (HEAD - *self.len).min(n);
        self.head[*self.len..*self.len + take].copy_from_slice(&buf[..take]);
        *self.len += take;
        Ok(n)
    }
}

fn invalid(e: rustls::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

impl Tls {
    /// Moves the handshake on as far as the socket allows.
    fn handshake(&mut self, sock: &mut TcpStream) -> Handshake {
        loop {
            while self.conn.wants_write() {
                match self.conn.write_tls(sock) {
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Handshake::Wait,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        return Handshake::Failed(io_kind(&e, Failure::Tls), Cause::from_io(&e))
                    }
                }
            }
            if !self.conn.is_handshaking() {
                return Handshake::Done;
            }
            let mut peek = Peek {
                sock,
                head: &mut self.head,
                len: &mut self.head_len,
            };
            match self.conn.read_tls(&mut peek) {
                Ok(0) => {
                    let cause = if self.head().starts_with(b"HTTP/") {
                        Cause::Tls("plain_http")
                    } else {
                        Cause::Eof
                    };
                    return Handshake::Failed(Failure::Tls, cause);
                }
                Ok(_) => {
                    if let Err(e) = self.conn.process_new_packets() {
                        // Tell the server why, if the socket takes it now.
                        let _ = self.conn.write_tls(sock);
                        let id = crate::tls::cause_id(&e, self.head());
                        return Handshake::Failed(Failure::Tls, Cause::Tls(id));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Handshake::Wait,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Handshake::Failed(io_kind(&e, Failure::Tls), Cause::from_io(&e)),
            }
        }
    }

    fn head(&self) -> &[u8] {
        &self.head[..self.head_len]
    }

    /// Puts what is left of `request` (from `written`) through the session
    /// and flushes it; `Ok(true)` once all of it is on the socket.
    fn send(
        &mut self,
        sock: &mut TcpStream,
        request: &[u8],
        written: &mut usize,
    ) -> io::Result<bool> {
        loop {
            while self.conn.wants_write() {
                match self.conn.write_tls(sock) {
                    Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            if *written == request.len() {
                return Ok(true);
            }
            // The session buffers a bounded amount: a large body goes in
            // as the socket takes the records before it.
            let n = self.conn.writer().write(&request[*written..])?;
            if n == 0 && !self.conn.wants_write() {
                return Err(io::ErrorKind::WriteZero.into());
            }
            *written += n;
        }
    }

    /// Plaintext into `buf`: what the session holds, or else one socket
    /// read decrypted. `Ok(0)` is the end of the stream (close_notify or
    /// a close), `WouldBlock` a drained socket.
    pub fn fill(&mut self, sock: &mut TcpStream, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.conn.reader().read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
                Err(e) => return Err(e),
            }
            let n = self.conn.read_tls(sock)?;
            let state = self.conn.process_new_packets().map_err(invalid)?;
            if self.conn.wants_write() {
                // A key update or alert to answer: best effort, as the
                // request is already out.
                let _ = self.conn.write_tls(sock);
            }
            if n == 0 && state.plaintext_bytes_to_read() == 0 {
                return Ok(0);
            }
        }
    }

    /// An idle keep-alive connection became readable: session tickets are
    /// fine, anything else (plaintext nobody asked for, a close, an error)
    /// means the connection cannot be used again.
    pub fn idle_ok(&mut self, sock: &mut TcpStream) -> bool {
        loop {
            match self.conn.read_tls(sock) {
                Ok(0) => return false,
                Ok(_) => match self.conn.process_new_packets() {
                    Ok(s) if s.plaintext_bytes_to_read() == 0 && !s.peer_has_closed() => {}
                    _ => return false,
                },
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
    }
}

impl Conn {
    /// A TLS session for the socket that just connected.
    pub(super) fn start_tls(&mut self, ctx: &Ctx<'_>, now: Instant) -> Result<(), rustls::Error> {
        let Some(tls) = ctx.books.plan.hosts[self.host].tls.as_ref() else {
            return Ok(());
        };
        let conn = ClientConnection::new(Arc::clone(&tls.config), tls.server_name.clone())?;
        self.tls = Some(Box::new(Tls {
            conn,
            started: now,
            head: [0; HEAD],
            head_len: 0,
        }));
        Ok(())
    }

    fn tls_handshake_io(&mut self, ctx: &Ctx<'_>) -> Handshake {
        let (Some(sock), Some(t)) = (self.sock.as_mut(), self.tls.as_deref_mut()) else {
            return Handshake::Wait;
        };
        let h = t.handshake(sock);
        if let Handshake::Failed(_, Cause::Tls("plain_http")) = h {
            if let Some(tls) = &ctx.books.plan.hosts[self.host].tls {
                let _ = tls.fatal.set(Fatal::PlainHttp);
            }
        }
        h
    }

    /// Moves the handshake on; once done, the request goes out.
    pub(super) fn handshake(&mut self, ctx: &mut Ctx<'_>) -> Step {
        match self.tls_handshake_io(ctx) {
            Handshake::Wait => Step::Wait,
            Handshake::Failed(kind, cause) => Step::Fail {
                now: Instant::now(),
                kind,
                cause,
            },
            Handshake::Done => {
                let now = Instant::now();
                self.handshake_done(ctx, now);
                self.connect_failures = 0;
                self.ready(ctx, now)
            }
        }
    }

    /// The open loop's early connect goes on to its handshake.
    pub(super) fn preconnect_handshake(&mut self, ctx: &mut Ctx<'_>) {
        match self.tls_handshake_io(ctx) {
            Handshake::Wait => {}
            Handshake::Failed(..) => self.close(),
            Handshake::Done => {
                self.handshake_done(ctx, Instant::now());
                self.end_preconnect();
            }
        }
    }

    /// Records the handshake's time, kind, version and cipher suite.
    fn handshake_done(&mut self, ctx: &mut Ctx<'_>, now: Instant) {
        if !self.phase_counts(ctx, now) {
            return;
        }
        let Some(t) = self.tls.as_deref() else {
            return;
        };
        let stats = &mut ctx.books.stats;
        let us = now.saturating_duration_since(t.started).as_micros() as u64;
        crate::hdr::record(&mut stats.tls_handshake, us);
        match t.conn.handshake_kind() {
            Some(HandshakeKind::Resumed) => stats.handshakes_resumed += 1,
            _ => stats.handshakes_full += 1,
        }
        if stats.tls_version.is_none() {
            stats.tls_version = t.conn.protocol_version().and_then(|v| v.as_str());
            stats.tls_cipher = t
                .conn
                .negotiated_cipher_suite()
                .and_then(|s| s.suite().as_str());
        }
    }

    /// The request goes through the session (see [`Tls::send`]).
    pub(super) fn write_tls(
        &mut self,
        ctx: &mut Ctx<'_>,
        mut written: usize,
        read_pending: bool,
        peer_closed: bool,
    ) -> Step {
        let (Some(sock), Some(t)) = (self.sock.as_mut(), self.tls.as_deref_mut()) else {
            return Step::Wait;
        };
        match t.send(
            sock,
            &ctx.books.plan.requests[self.target].bytes,
            &mut written,
        ) {
            Ok(true) => self.sent_all(ctx, read_pending, peer_closed),
            Ok(false) => {
                self.state = super::State::Writing {
                    written,
                    read_pending,
                    peer_closed,
                };
                Step::Wait
            }
            Err(e) => self.io_failed(&e, Failure::Write),
        }
    }
}
