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
use super::{token_of, Shared};
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

pub(super) struct Conn {
    /// Distinguishes this connection from later ones reusing its slot, so
    /// stale timers and turns are ignored.
    pub(super) id: u64,
    pub(super) stream: TcpStream,
    /// Created with the first bytes: a reader owns a 4 KiB buffer, and a
    /// connection that never sends anything (the idle thousands) needs none.
    pub(super) reader: Option<RequestReader>,
    /// Responses in request order, with the write offset into the front one.
    pub(super) out: ResponseQueue,
    /// A readable edge was seen and the socket was not yet read to WouldBlock.
    pub(super) readable: bool,
    /// The last write hit WouldBlock; cleared by a WRITABLE event.
    pub(super) write_blocked: bool,
    /// WRITABLE is part of the registered interest.
    pub(super) write_registered: bool,
    /// The client shut down its side; queued responses still go out.
    pub(super) read_eof: bool,
    /// A closing response is queued, or the server is shutting down.
    pub(super) no_more_requests: bool,
    /// The closing response is out and our side is shut down; unread bytes are
    /// dropped until the client closes or this instant passes.
    pub(super) linger_until: Option<Instant>,
    /// When the connection last moved: accepted, a response byte written, a
    /// delay ended. `--read-timeout` counts from here; reads do not reset it,
    /// so a request trickling in cannot hold the connection forever.
    pub(super) last_progress: Instant,
    /// The instant of this connection's live deadline timer, if armed.
    pub(super) timer_at: Option<Instant>,
}

impl Conn {
    pub(super) fn new(id: u64, stream: TcpStream, shared: &Shared) -> Conn {
        Conn {
            id,
            stream,
            reader: None,
            out: ResponseQueue::default(),
            readable: false,
            write_blocked: false,
            write_registered: false,
            read_eof: false,
            no_more_requests: false,
            linger_until: None,
            last_progress: shared.now,
            timer_at: None,
        }
    }

    /// Whether bytes of an unfinished request are buffered.
    pub(super) fn has_partial(&self) -> bool {
        self.reader.as_ref().is_some_and(RequestReader::has_partial)
    }

    /// Whether another request may be parsed and answered now.
    fn may_queue(&self) -> bool {
        !self.no_more_requests && self.out.has_room()
    }

    /// Parses, writes and reads until nothing moves or the turn is used up.
    pub(super) fn turn(&mut self, slot: usize, shared: &mut Shared) -> Step {
        let mut reads = 0;
        loop {
            let mut progress = false;
            if self.linger_until.is_none() {
                progress |= self.parse(slot, shared);
                match self.flush(shared) {
                    Ok((wrote, outcome)) => {
                        progress |= wrote;
                        if let Flushed::Closing = outcome {
                            // Nothing unread (or a drain that cannot wait):
                            // closing cannot provoke a reset.
                            if self.read_eof || (shared.draining && !self.readable) {
                                return Step::Close;
                            }
                            self.begin_linger(slot, shared);
                            progress = true;
                        }
                    }
                    Err(err) => {
                        shared.log.connection_error("write", &err);
                        return Step::Close;
                    }
                }
                if self.linger_until.is_none()
                    && self.out.is_empty()
                    && (self.read_eof || self.no_more_requests)
                {
                    // Everything asked for is answered and no more will come
                    // (a partial request cut off by EOF gets no answer).
                    if self.read_eof || !self.readable {
                        return Step::Close;
                    }
                    // The drain stopped reading pipelined requests: closing
                    // with them unread would reset the answers in flight.
                    self.begin_linger(slot, shared);
                    progress = true;
                }
            }

            let lingering = self.linger_until.is_some();
            if self.readable && !self.read_eof && (lingering || self.may_queue()) {
                if reads == READS_PER_TURN {
                    return Step::Again;
                }
                reads += 1;
                match self.stream.read(&mut shared.scratch) {
                    Ok(0) => {
                        self.read_eof = true;
                        self.readable = false;
                        if lingering {
                            return Step::Close;
                        }
                        progress = true;
                    }
                    Ok(n) => {
                        if !lingering {
                            let limits = shared.limits;
                            self.reader
                                .get_or_insert_with(|| RequestReader::new(limits))
                                .feed(&shared.scratch[..n]);
                        }
                        progress = true;
                    }
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

    /// Turns complete buffered requests into queued responses; true if any.
    fn parse(&mut self, slot: usize, shared: &mut Shared) -> bool {
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
                Ok(Some(request)) => {
                    let body_bytes = request.body.len() as u64;
                    match http::route(&request, !shared.draining) {
                        Routed::Now(response) => self.queue(response, body_bytes, None, None),
                        Routed::After(delay, response) => {
                            let at = shared.now + delay;
                            shared.timers.push(at, Timer::Delay { slot, id: self.id });
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
            self.no_more_requests = true;
        }
        self.out
            .push(wire, request_body_bytes, not_before, delayed_request);
    }

    /// Writes ready responses in order until done or blocked. Returns whether
    /// any byte was written, and where it stopped.
    fn flush(&mut self, shared: &mut Shared) -> io::Result<(bool, Flushed)> {
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

    /// Shuts down our side after the closing response and starts dropping
    /// whatever the client still sends (see [`LINGER`](super::LINGER)).
    fn begin_linger(&mut self, slot: usize, shared: &mut Shared) {
        let _ = self.stream.shutdown(Shutdown::Write);
        let until = shared.now + shared.linger;
        self.linger_until = Some(until);
        self.no_more_requests = true;
        self.arm(slot, until, shared);
    }

    /// Makes sure a deadline timer fires no later than `due`. A deadline that
    /// moves later needs no new timer: the live one re-arms when it fires.
    pub(super) fn arm(&mut self, slot: usize, due: Instant, shared: &mut Shared) {
        if self.timer_at.map_or(true, |at| due < at) {
            shared.timers.push(
                due,
                Timer::Deadline {
                    slot,
                    id: self.id,
                    at: due,
                },
            );
            self.timer_at = Some(due);
        }
    }

    /// The live deadline timer fired: re-arm if the deadline moved, else act.
    pub(super) fn on_deadline(&mut self, slot: usize, shared: &mut Shared) -> Step {
        let now = shared.now;
        if let Some(until) = self.linger_until {
            if now >= until {
                return Step::Close;
            }
            self.arm(slot, until, shared);
            return Step::Keep;
        }
        let due = match self.out.front_waits_until(now) {
            // Waiting on our own /delay timer; the client is not late.
            Some(not_before) => not_before + shared.read_timeout,
            None => self.last_progress + shared.read_timeout,
        };
        if due > now {
            self.arm(slot, due, shared);
            return Step::Keep;
        }
        if !self.out.is_empty() {
            shared.log.line(format_args!(
                "closing a connection whose client took no response bytes for {}",
                humantime::format_duration(shared.read_timeout)
            ));
            return Step::Close;
        }
        if self.has_partial() {
            // The 408 gets one more timeout to be read before the close.
            self.no_more_requests = true;
            self.queue(http::HttpError::REQUEST_TIMEOUT.response(), 0, None, None);
            self.last_progress = now;
            self.arm(slot, now + shared.read_timeout, shared);
            return Step::Keep;
        }
        // An idle keep-alive connection: close without a word.
        Step::Close
    }

    /// Registers WRITABLE only while a write waits for buffer space.
    pub(super) fn update_interest(&mut self, slot: usize, registry: &Registry) -> io::Result<()> {
        let want_write = self.write_blocked && self.linger_until.is_none();
        if want_write != self.write_registered {
            let interest = if want_write {
                Interest::READABLE | Interest::WRITABLE
            } else {
                Interest::READABLE
            };
            registry.reregister(&mut self.stream, token_of(slot), interest)?;
            self.write_registered = want_write;
        }
        Ok(())
    }
}
