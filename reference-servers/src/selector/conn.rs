//! One connection of the selector loop: its socket, its request reader,
//! its response queue, and the turn that moves them all as far as the
//! socket allows without blocking.
//!
//! A turn returns a [`Step`] and the loop acts on it (drive again, wait,
//! close); a connection never touches the loop or other connections.

use std::io::{self, IoSlice, Read, Write};
use std::net::Shutdown;
use std::time::Instant;

use mio::net::TcpStream;
use mio::{Interest, Registry};

use super::queue::{ResponseQueue, Wire, MAX_IOV};
use super::timers::Timer;
use super::tls::{TlsRead, TlsSession};
use super::token::Key;
use super::Shared;
use crate::http::{self, Request, RequestReader, Response, Routed};

/// Reads one connection may do per turn before the others get theirs; it is
/// driven again right after the next poll.
const READS_PER_TURN: usize = 16;

/// What a connection's turn ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    /// Waiting for readiness or a timer.
    Keep,
    /// Turn used up with bytes maybe left to read: drive it again soon.
    Again,
    /// Finished, failed or timed out: deregister and drop it.
    Close,
}

/// How far [`Conn::flush`] got.
enum Flushed {
    /// Nothing is ready to write (the queue is empty or waits on a delay).
    Idle,
    /// The socket buffer is full; a WRITABLE event will resume.
    Blocked,
    /// A response with `Connection: close` is completely written.
    Closing,
}

/// What one read of the socket brought.
enum Input {
    /// Bytes, fed to the request reader (or dropped while lingering).
    Data,
    /// The client closed its side (over TLS: or sent close_notify).
    Eof,
    /// Not TLS, or TLS gone wrong: logged, and the connection must close.
    Refused,
}

/// Where a connection is in its life. A turn, a deadline and the shutdown
/// decide what to do from this (and the socket's readiness) alone, so no
/// combination of flags can mean something nobody intended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Requests are read, parsed and answered in order.
    Open,
    /// The client shut down its side: the complete requests it sent are
    /// still answered, then the connection closes.
    ClientDone,
    /// No request past the queued ones will be answered (a closing response
    /// is queued, or the server is shutting down), so nothing more is read.
    /// Once the queue is empty the connection closes, or lingers while the
    /// client may still be sending. `client_done`: the client shut down its
    /// side, so closing cannot provoke a reset.
    Finishing { client_done: bool },
    /// The closing response is out and our side is shut down; whatever the
    /// client still sends is dropped until it closes or `until` passes (see
    /// [`LINGER`](super::LINGER)).
    Lingering { until: Instant },
}

impl Phase {
    /// The phase once no request past the queued ones may be answered.
    fn finish(self) -> Phase {
        match self {
            Phase::Open => Phase::Finishing { client_done: false },
            Phase::ClientDone => Phase::Finishing { client_done: true },
            finishing_or_lingering => finishing_or_lingering,
        }
    }

    /// The phase once a read found the end of the client's stream. (A
    /// lingering connection closes instead, so it has no next phase.)
    fn client_closed(self) -> Phase {
        match self {
            Phase::Open | Phase::ClientDone => Phase::ClientDone,
            Phase::Finishing { .. } => Phase::Finishing { client_done: true },
            lingering @ Phase::Lingering { .. } => lingering,
        }
    }

    /// Whether the client has shut down its side.
    fn client_done(self) -> bool {
        matches!(
            self,
            Phase::ClientDone | Phase::Finishing { client_done: true }
        )
    }

    /// Whether more requests may still be parsed and answered.
    fn takes_requests(self) -> bool {
        matches!(self, Phase::Open | Phase::ClientDone)
    }
}

/// What a connection does when the server starts shutting down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OnDrain {
    /// Nothing in flight and nothing to wait for: close it now.
    Close,
    /// Its queued responses go out now; drive it.
    Finish,
    /// A request may still arrive (it gets `Connection: close`), or a
    /// lingering connection still drops bytes: leave it to the drain limit.
    Wait,
}

pub(super) struct Conn {
    /// Its slot and generation, carried by its token and its timers, so
    /// events, timers and turns meant for an earlier or later connection in
    /// the same slot are ignored.
    pub(super) key: Key,
    pub(super) stream: TcpStream,
    /// TLS over `stream` (`--tls`, `--tls-cert`); `None`: plain HTTP.
    tls: Option<Box<TlsSession>>,
    /// Created with the first bytes: a reader owns a 4 KiB buffer, and a
    /// connection that never sends anything (the idle thousands) needs none.
    reader: Option<RequestReader>,
    /// Responses in request order, with the write offset into the front one.
    pub(super) out: ResponseQueue,
    phase: Phase,
    // The socket's readiness, remembered because mio is edge-triggered; it
    // is not part of the phase, as a pipelining connection reads and writes
    // in the same phase.
    /// A readable edge was seen and the socket was not yet read to WouldBlock.
    pub(super) readable: bool,
    /// The last write hit WouldBlock; cleared by a WRITABLE event.
    pub(super) write_blocked: bool,
    /// WRITABLE is part of the registered interest.
    write_registered: bool,
    /// When the connection last moved: accepted, a response byte written, a
    /// delay ended. `--read-timeout` counts from here; reads do not reset it,
    /// so a request trickling in cannot hold the connection forever.
    pub(super) last_progress: Instant,
    /// The instant of this connection's live deadline timer, if armed.
    pub(super) timer_at: Option<Instant>,
}

impl Conn {
    pub(super) fn new(key: Key, stream: TcpStream, shared: &Shared) -> Conn {
        Conn {
            key,
            stream,
            tls: None,
            reader: None,
            out: ResponseQueue::default(),
            phase: Phase::Open,
            readable: false,
            write_blocked: false,
            write_registered: false,
            last_progress: shared.now,
            timer_at: None,
        }
    }

    /// The same connection speaking TLS over its socket.
    pub(super) fn with_tls(mut self, conn: rustls::ServerConnection) -> Conn {
        self.tls = Some(Box::new(TlsSession::new(conn)));
        self
    }

    /// Before the loop drops it: a TLS connection says close_notify.
    pub(super) fn end(&mut self) {
        if let Some(tls) = &mut self.tls {
            tls.close_notify(&mut self.stream);
        }
    }

    /// Whether bytes of an unfinished request are buffered.
    fn has_partial(&self) -> bool {
        self.reader.as_ref().is_some_and(RequestReader::has_partial)
    }

    /// Whether another request may be parsed and answered now.
    fn may_queue(&self) -> bool {
        self.phase.takes_requests() && self.out.has_room()
    }

    /// Parses, writes and reads until nothing moves or the turn is used up.
    pub(super) fn turn(&mut self, shared: &mut Shared) -> Step {
        let mut reads = 0;
        loop {
            let mut progress = false;
            if !matches!(self.phase, Phase::Lingering { .. }) {
                progress |= self.parse(shared);
                match self.flush(shared) {
                    Ok((wrote, outcome)) => {
                        progress |= wrote;
                        if let Flushed::Closing = outcome {
                            // Nothing unread (or a drain that cannot wait):
                            // closing cannot provoke a reset.
                            if self.phase.client_done() || (shared.draining() && !self.readable) {
                                return Step::Close;
                            }
                            self.begin_linger(shared);
                            progress = true;
                        }
                    }
                    Err(err) => {
                        shared.log.connection_error("write", &err);
                        return Step::Close;
                    }
                }
                if self.out.is_empty() {
                    match self.phase {
                        Phase::Open | Phase::Lingering { .. } => {}
                        // Everything asked for is answered and no more will
                        // come (a partial request cut off by EOF gets no
                        // answer).
                        Phase::ClientDone | Phase::Finishing { client_done: true } => {
                            return Step::Close;
                        }
                        Phase::Finishing { client_done: false } => {
                            if !self.readable {
                                return Step::Close;
                            }
                            // The drain stopped reading pipelined requests:
                            // closing with them unread would reset the
                            // answers in flight.
                            self.begin_linger(shared);
                            progress = true;
                        }
                    }
                }
            }

            let lingering = matches!(self.phase, Phase::Lingering { .. });
            let wants_bytes = match self.phase {
                Phase::Open => self.out.has_room(),
                Phase::Lingering { .. } => true,
                Phase::ClientDone | Phase::Finishing { .. } => false,
            };
            if self.readable && wants_bytes {
                if reads == READS_PER_TURN {
                    return Step::Again;
                }
                reads += 1;
                match self.read_once(shared, lingering) {
                    Ok(Input::Eof) => {
                        self.readable = false;
                        if lingering {
                            return Step::Close;
                        }
                        self.phase = self.phase.client_closed();
                        progress = true;
                    }
                    Ok(Input::Data) => progress = true,
                    Ok(Input::Refused) => return Step::Close,
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => self.readable = false,
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => progress = true,
                    Err(err) => {
                        // A reset between requests is just an abrupt close
                        // (load generators end that way); only one that cuts
                        // a request or response short is worth a line.
                        if !lingering && (self.has_partial() || !self.out.is_empty()) {
                            shared.log.connection_error("read", &err);
                        }
                        return Step::Close;
                    }
                }
            }
            if !progress {
                return Step::Keep;
            }
        }
    }

    /// One read: plain bytes, or what one `read_tls` brings decrypted.
    /// Lingering drops bytes below TLS, as they are never answered.
    fn read_once(&mut self, shared: &mut Shared, lingering: bool) -> io::Result<Input> {
        if let (false, Some(tls)) = (lingering, &mut self.tls) {
            let limits = shared.limits;
            let reader = &mut self.reader;
            let feed = |plain: &[u8]| {
                reader
                    .get_or_insert_with(|| RequestReader::new(limits))
                    .feed(plain);
            };
            return match tls.read(&mut self.stream, &mut shared.scratch, &shared.totals, feed)? {
                TlsRead::Progress => Ok(Input::Data),
                TlsRead::Closed => Ok(Input::Eof),
                TlsRead::Failed(err) => {
                    // A plain-HTTP client, garbage or an alert: one capped
                    // line, and the alert if the socket takes it now.
                    shared
                        .log
                        .line(format_args!("dropping a TLS connection: {err}"));
                    tls.send_alert(&mut self.stream);
                    Ok(Input::Refused)
                }
            };
        }
        match self.stream.read(&mut shared.scratch)? {
            0 => Ok(Input::Eof),
            n => {
                if !lingering {
                    let limits = shared.limits;
                    self.reader
                        .get_or_insert_with(|| RequestReader::new(limits))
                        .feed(&shared.scratch[..n]);
                }
                Ok(Input::Data)
            }
        }
    }

    /// Turns complete buffered requests into queued responses; true if any.
    fn parse(&mut self, shared: &mut Shared) -> bool {
        let mut any = false;
        while self.may_queue() {
            let Some(reader) = &mut self.reader else {
                break;
            };
            let next = reader.next_request();
            // Interim responses queue like final ones: pipelined answers
            // ahead of this request must leave first.
            if matches!(next, Ok(None)) && reader.take_continue() {
                self.queue_wire(Wire::Continue, 0, None, None);
                any = true;
            }
            match next {
                Ok(None) => break,
                Ok(Some(mut request)) => {
                    let body_bytes = request.body_len;
                    match http::route(&mut request, !shared.draining()) {
                        Routed::Now(response) => self.queue(response, body_bytes, None, None),
                        Routed::After(delay, response) => {
                            let at = shared.now + delay;
                            shared.timers.push(at, Timer::Delay { key: self.key });
                            self.queue(response, body_bytes, Some(at), Some(request));
                        }
                    }
                }
                Err(err) => self.queue(err.response(), 0, None, None),
            }
            any = true;
        }
        any
    }

    fn queue(
        &mut self,
        response: Response,
        request_body_bytes: u64,
        not_before: Option<Instant>,
        delayed_request: Option<Request>,
    ) {
        let wire = Wire::Final(response);
        self.queue_wire(wire, request_body_bytes, not_before, delayed_request);
    }

    fn queue_wire(
        &mut self,
        wire: Wire,
        request_body_bytes: u64,
        not_before: Option<Instant>,
        delayed_request: Option<Request>,
    ) {
        if wire.close() {
            self.phase = self.phase.finish();
        }
        self.out
            .push(wire, request_body_bytes, not_before, delayed_request);
    }

    /// Writes ready responses in order until done or blocked. Returns whether
    /// any byte was written, and where it stopped.
    fn flush(&mut self, shared: &mut Shared) -> io::Result<(bool, Flushed)> {
        if self.tls.is_some() {
            return self.flush_tls(shared);
        }
        let mut wrote = false;
        loop {
            if self.write_blocked {
                return Ok((wrote, Flushed::Blocked));
            }
            let mut iov = [IoSlice::new(&[]); MAX_IOV];
            let count = self.out.gather(shared.now, &mut iov);
            if count == 0 {
                return Ok((wrote, Flushed::Idle));
            }
            let sent = match self.stream.write_vectored(&iov[..count]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(sent) => sent,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    self.write_blocked = true;
                    return Ok((wrote, Flushed::Blocked));
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(err),
            };
            wrote = true;
            self.last_progress = shared.now;
            if self.out.advance(sent, &shared.totals) {
                return Ok((true, Flushed::Closing));
            }
        }
    }

    /// [`flush`](Self::flush) over TLS: records first (handshake messages,
    /// tickets, earlier responses), then the next responses' plaintext into
    /// rustls. A response counts as written once its last record is on the
    /// socket, as a plain one does once its last byte is.
    fn flush_tls(&mut self, shared: &mut Shared) -> io::Result<(bool, Flushed)> {
        let Some(tls) = &mut self.tls else {
            return Ok((false, Flushed::Idle));
        };
        let mut wrote = false;
        loop {
            if self.write_blocked {
                return Ok((wrote, Flushed::Blocked));
            }
            let out = tls.write_records(&mut self.stream)?;
            if out.wrote {
                wrote = true;
                self.last_progress = shared.now;
            }
            if out.blocked {
                self.write_blocked = true;
                return Ok((wrote, Flushed::Blocked));
            }
            let handed = std::mem::take(&mut tls.handed);
            if handed > 0 && self.out.advance(handed, &shared.totals) {
                return Ok((true, Flushed::Closing));
            }
            if tls.is_handshaking() {
                return Ok((wrote, Flushed::Idle));
            }
            let mut iov = [IoSlice::new(&[]); MAX_IOV];
            let count = self.out.gather(shared.now, &mut iov);
            if count == 0 {
                return Ok((wrote, Flushed::Idle));
            }
            if tls.hand(&iov[..count])? == 0 {
                // rustls's buffer is empty here, so it takes something.
                return Err(io::ErrorKind::WriteZero.into());
            }
        }
    }

    /// Shuts down our side after the closing response and starts dropping
    /// whatever the client still sends (see [`LINGER`](super::LINGER)).
    fn begin_linger(&mut self, shared: &mut Shared) {
        self.end();
        let _ = self.stream.shutdown(Shutdown::Write);
        let until = shared.now + shared.linger;
        self.phase = Phase::Lingering { until };
        self.arm(until, shared);
    }

    /// Makes sure a deadline timer fires no later than `due`. A deadline that
    /// moves later needs no new timer: the live one re-arms when it fires.
    pub(super) fn arm(&mut self, due: Instant, shared: &mut Shared) {
        if self.timer_at.map_or(true, |at| due < at) {
            shared.timers.push(
                due,
                Timer::Deadline {
                    key: self.key,
                    at: due,
                },
            );
            self.timer_at = Some(due);
        }
    }

    /// The live deadline timer fired: re-arm if the deadline moved, else act.
    pub(super) fn on_deadline(&mut self, shared: &mut Shared) -> Step {
        let now = shared.now;
        if let Phase::Lingering { until } = self.phase {
            if now >= until {
                return Step::Close;
            }
            self.arm(until, shared);
            return Step::Keep;
        }
        let mut due = match self.out.front_waits_until(now) {
            // Waiting on our own /delay timer; the client is not late.
            Some(not_before) => not_before + shared.read_timeout,
            None => self.last_progress + shared.read_timeout,
        };
        if let (true, Some(grace_until)) = (self.out.is_empty(), shared.grace_until) {
            // Shutting down: a request still arriving gets the same grace
            // as in the blocking models, then the same rule.
            due = due.min(grace_until);
        }
        if due > now {
            self.arm(due, shared);
            return Step::Keep;
        }
        if !self.out.is_empty() {
            shared.log.line(format_args!(
                "closing a connection whose client took no response bytes for {}",
                humantime::format_duration(shared.read_timeout)
            ));
            return Step::Close;
        }
        if let Some(error) = self.reader.as_ref().and_then(RequestReader::at_deadline) {
            // The 408 gets one more timeout to be read before the close.
            self.phase = self.phase.finish();
            self.queue(error.response(), 0, None, None);
            self.last_progress = now;
            self.arm(now + shared.read_timeout, shared);
            return Step::Keep;
        }
        // An idle keep-alive connection: close without a word.
        Step::Close
    }

    /// The server started shutting down: what this connection does about it.
    pub(super) fn on_drain(&mut self, now: Instant) -> OnDrain {
        if let Phase::Lingering { .. } = self.phase {
            // A lingering connection with bytes unread keeps dropping them
            // (within the drain limit) so its last answer survives.
            return if self.readable {
                OnDrain::Wait
            } else {
                OnDrain::Close
            };
        }
        if !self.out.is_empty() {
            // Queued responses finish; nothing new is read after them.
            self.phase = self.phase.finish();
            self.out.cut_delays_short(now);
            return OnDrain::Finish;
        }
        if self.out.served() > 0 && !self.has_partial() {
            // An idle kept-alive connection has nothing in flight.
            return OnDrain::Close;
        }
        // A fresh or half-sent request may still arrive within the drain
        // limit and gets a response with `Connection: close`.
        OnDrain::Wait
    }

    /// Registers WRITABLE only while a write waits for buffer space.
    pub(super) fn update_interest(&mut self, registry: &Registry) -> io::Result<()> {
        let want_write = self.write_blocked && !matches!(self.phase, Phase::Lingering { .. });
        if want_write != self.write_registered {
            let interest = if want_write {
                Interest::READABLE | Interest::WRITABLE
            } else {
                Interest::READABLE
            };
            registry.reregister(&mut self.stream, self.key.token(), interest)?;
            self.write_registered = want_write;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::{Shutdown, TcpListener as StdListener, TcpStream as StdStream};
    use std::os::fd::AsFd;
    use std::time::Duration;

    use clap::Parser;
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

    use super::*;
    use crate::cli::ServerArgs;

    /// Bound on every wait, so a broken connection fails instead of hanging.
    const IO_TIMEOUT: Duration = Duration::from_secs(10);

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        server: ServerArgs,
    }

    fn shared() -> Shared {
        Shared::new(&Cli::parse_from(["test"]).server)
    }

    /// A connection on a loopback socket, and the client's end of it.
    fn connection(shared: &Shared) -> (Conn, StdStream) {
        let listener = StdListener::bind("127.0.0.1:0").expect("bind a loopback listener");
        let client = StdStream::connect(listener.local_addr().unwrap()).expect("connect");
        client.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        let (server, _) = listener.accept().expect("accept");
        server.set_nonblocking(true).unwrap();
        let key = Key {
            slot: 0,
            generation: 0,
        };
        (Conn::new(key, TcpStream::from_std(server), shared), client)
    }

    /// Waits until the server's socket reports `flags`, then marks it
    /// readable as the loop does on a readable event.
    fn deliver(conn: &mut Conn, flags: PollFlags) {
        let mut fds = [PollFd::new(conn.stream.as_fd(), flags)];
        let timeout = PollTimeout::try_from(IO_TIMEOUT).unwrap();
        let ready = poll(&mut fds, timeout).expect("poll the server's socket");
        assert_eq!(ready, 1, "the client's bytes did not arrive");
        conn.readable = true;
    }

    /// Reads what the server sent, up to its end of the stream.
    fn read_all(client: &mut StdStream) -> String {
        let mut data = Vec::new();
        client
            .read_to_end(&mut data)
            .expect("read until the server's FIN");
        String::from_utf8_lossy(&data).into_owned()
    }

    #[test]
    fn phase_transitions_keep_what_each_phase_already_knows() {
        use Phase::*;
        let until = Instant::now();
        // (from, after finish, after the client closed its side)
        let table = [
            (Open, Finishing { client_done: false }, ClientDone),
            (ClientDone, Finishing { client_done: true }, ClientDone),
            (
                Finishing { client_done: false },
                Finishing { client_done: false },
                Finishing { client_done: true },
            ),
            (
                Finishing { client_done: true },
                Finishing { client_done: true },
                Finishing { client_done: true },
            ),
            (
                Lingering { until },
                Lingering { until },
                Lingering { until },
            ),
        ];
        for (from, finished, closed) in table {
            assert_eq!(from.finish(), finished, "finish from {from:?}");
            assert_eq!(from.client_closed(), closed, "client closed in {from:?}");
        }
        assert!(Open.takes_requests() && ClientDone.takes_requests());
        assert!(!Finishing { client_done: true }.takes_requests());
        assert!(!Lingering { until }.takes_requests());
    }

    #[test]
    fn a_closing_response_goes_from_open_through_finishing_to_lingering() {
        let mut shared = shared();
        let (mut conn, mut client) = connection(&shared);
        client
            .write_all(b"GET /delay/1000 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            .unwrap();
        deliver(&mut conn, PollFlags::POLLIN);
        assert_eq!(conn.turn(&mut shared), Step::Keep);
        assert_eq!(
            conn.phase,
            Phase::Finishing { client_done: false },
            "the closing answer waits on its delay; nothing more is read"
        );

        shared.now += Duration::from_secs(1);
        assert_eq!(conn.turn(&mut shared), Step::Keep);
        let until = shared.now + shared.linger;
        assert_eq!(conn.phase, Phase::Lingering { until });
        let answer = read_all(&mut client);
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
        assert!(answer.contains("Connection: close\r\n"), "{answer}");

        drop(client);
        deliver(&mut conn, PollFlags::POLLIN);
        assert_eq!(
            conn.turn(&mut shared),
            Step::Close,
            "the client closed: lingering is over"
        );
    }

    #[test]
    fn a_client_that_shut_its_side_still_gets_its_answers_then_the_close() {
        let mut shared = shared();
        let (mut conn, mut client) = connection(&shared);
        client
            .write_all(
                b"GET / HTTP/1.1\r\nHost: t\r\n\r\n\
                  GET /delay/1000 HTTP/1.1\r\nHost: t\r\n\r\n",
            )
            .unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        // nix names no POLLRDHUP; the kernel reports it once the FIN is in.
        deliver(&mut conn, PollFlags::from_bits_retain(libc::POLLRDHUP));
        assert_eq!(conn.turn(&mut shared), Step::Keep);
        assert_eq!(
            conn.phase,
            Phase::ClientDone,
            "the delayed answer is still owed"
        );

        shared.now += Duration::from_secs(1);
        assert_eq!(
            conn.turn(&mut shared),
            Step::Close,
            "everything asked for is answered"
        );
        assert_eq!(conn.out.served(), 2);
        drop(conn);
        let answers = read_all(&mut client);
        assert_eq!(
            answers.matches("HTTP/1.1 200 OK\r\n").count(),
            2,
            "{answers}"
        );
    }

    #[test]
    fn a_partial_request_at_the_read_timeout_gets_408_then_lingers() {
        let mut shared = shared();
        let (mut conn, mut client) = connection(&shared);
        client.write_all(b"GET / HTTP/1.1\r\nHost:").unwrap();
        deliver(&mut conn, PollFlags::POLLIN);
        assert_eq!(conn.turn(&mut shared), Step::Keep);
        assert_eq!(conn.phase, Phase::Open);

        shared.now += shared.read_timeout;
        assert_eq!(conn.on_deadline(&mut shared), Step::Keep);
        assert_eq!(conn.phase, Phase::Finishing { client_done: false });
        assert_eq!(conn.turn(&mut shared), Step::Keep);
        assert!(matches!(conn.phase, Phase::Lingering { .. }));
        let answer = read_all(&mut client);
        assert!(answer.starts_with("HTTP/1.1 408 "), "{answer}");
    }

    /// The shutdown grace ends like a read timeout, by the one rule: a half
    /// received request gets 408, a connection with nothing pending closes.
    #[test]
    fn at_the_end_of_the_shutdown_grace_a_partial_request_gets_408() {
        let mut shared = shared();
        let (mut half, mut client) = connection(&shared);
        client.write_all(b"GET / HTTP/1.1\r\nHost:").unwrap();
        deliver(&mut half, PollFlags::POLLIN);
        assert_eq!(half.turn(&mut shared), Step::Keep);
        let (mut fresh, _quiet) = connection(&shared);

        let grace_until = shared.now + http::SHUTDOWN_GRACE;
        shared.grace_until = Some(grace_until);
        assert_eq!(half.on_drain(shared.now), OnDrain::Wait);
        assert_eq!(fresh.on_drain(shared.now), OnDrain::Wait);
        shared.now = grace_until;
        assert_eq!(fresh.on_deadline(&mut shared), Step::Close);
        assert_eq!(half.on_deadline(&mut shared), Step::Keep);
        assert_eq!(half.phase, Phase::Finishing { client_done: false });
        assert_eq!(
            half.turn(&mut shared),
            Step::Close,
            "draining, nothing unread"
        );
        assert_eq!(half.out.served(), 1, "the 408 is written and counted");
        drop(half);
        let answer = read_all(&mut client);
        assert!(answer.starts_with("HTTP/1.1 408 "), "{answer}");
    }

    #[test]
    fn shutdown_finishes_queued_answers_closes_idle_ones_and_waits_for_new_ones() {
        let mut shared = shared();
        let now = shared.now;

        let (mut fresh, _client) = connection(&shared);
        assert_eq!(fresh.on_drain(now), OnDrain::Wait, "a request may come");
        assert_eq!(fresh.phase, Phase::Open);

        let (mut delayed, mut client) = connection(&shared);
        client
            .write_all(b"GET /delay/30000 HTTP/1.1\r\nHost: t\r\n\r\n")
            .unwrap();
        deliver(&mut delayed, PollFlags::POLLIN);
        assert_eq!(delayed.turn(&mut shared), Step::Keep);
        assert_eq!(delayed.on_drain(now), OnDrain::Finish);
        assert_eq!(delayed.phase, Phase::Finishing { client_done: false });
        assert_eq!(delayed.out.front_waits_until(now), None, "due at once");

        let (mut served, mut client) = connection(&shared);
        client
            .write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            .unwrap();
        deliver(&mut served, PollFlags::POLLIN);
        assert_eq!(served.turn(&mut shared), Step::Keep);
        assert_eq!(served.out.served(), 1);
        assert_eq!(served.on_drain(now), OnDrain::Close, "idle, kept alive");

        let (mut lingering, _client) = connection(&shared);
        lingering.phase = Phase::Lingering { until: now };
        assert_eq!(lingering.on_drain(now), OnDrain::Close, "nothing to drop");
        lingering.readable = true;
        assert_eq!(lingering.on_drain(now), OnDrain::Wait, "bytes to drop");
    }
}
