//! One client connection: a state machine that connects, writes the shared
//! request bytes (keeping an offset across partial writes), frames the
//! response as it is read into the worker's buffer, records the outcome and
//! starts the next request when the schedule says so. Failures are counted,
//! never propagated: the connection is replaced and the run goes on. A
//! reused keep-alive connection that the server closed just as a request
//! went out gets that request re-sent once on a new connection.
//!
//! Each handler does one thing and returns the [`Step`] that comes next;
//! [`drive`](Conn::drive) applies steps in a loop until the connection must
//! wait for an event, a timer or its turn on the resume list. No handler
//! calls another, so a run of failures (an open loop whose connects fail at
//! once, for thousands of overdue requests) is a loop, not a recursion.
//! What only one state needs lives in that state's variant of [`State`].
//!
//! Sockets are registered once, edge-triggered, for both directions: the
//! request is written eagerly (the socket is almost always writable), and a
//! writable event matters only after a write returned `WouldBlock`. That
//! saves the two `epoll_ctl` calls per request that toggling write interest
//! would cost. The socket side (connect, write, read) is in [`socket`].
//!
//! A connection reads at most [`READS_PER_TURN`](socket::READS_PER_TURN)
//! buffers per turn of the worker's loop. A server that sends without end
//! (a chunked body of 1-byte chunks is cheap to send and costly to frame)
//! would otherwise keep the worker inside one connection's read, where the
//! end of `-d`, `--timeout` and signals are never checked. With
//! edge-triggered epoll no new event comes for bytes already waiting, so a
//! connection that used its turn puts itself on the worker's resume list
//! ([`Ctx::resume`]), which the loop serves after those checks.
//!
//! With https, TLS is a layer between the socket and the framer ([`tls`]):
//! a connection handshakes after connecting (`Handshaking`), its request
//! goes through the TLS writer and is flushed as records, and its reads
//! decrypt into the same scratch buffer the framer reads. The plain path
//! is untouched: no TLS state, branch or allocation costs it anything but
//! a test of an empty option.

mod socket;
mod tls;

pub(crate) use socket::{connect_kind, io_kind};

use std::time::{Duration, Instant};

use mio::event::Event;
use mio::net::TcpStream;
use mio::Token;

use super::books::Attempt;
use super::schedule::{Pacer, Turn};
use super::Ctx;
use crate::http::ResponseFramer;
use crate::shape::targets::TargetPicker;
use crate::stats::{Cause, Failure};

/// Closed loop: pause before reconnecting after a failed connect, doubling
/// with each failure in a row up to [`RECONNECT_DELAY_MAX`], so that a dead
/// server costs a few attempts per second and connection, not a busy loop.
const RECONNECT_DELAY: Duration = Duration::from_millis(10);
const RECONNECT_DELAY_MAX: Duration = Duration::from_millis(320);

/// Where a connection is, with what only that phase needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between requests with no timer (about to start one).
    Idle {
        /// Open loop: connecting ahead of the first due time (see
        /// [`preconnect`](Conn::preconnect)).
        preconnecting: bool,
    },
    /// Waiting for its timer at `at`: the next due time, or a reconnect delay.
    Waiting {
        at: Instant,
        wake: Wake,
        preconnecting: bool,
    },
    Connecting,
    /// TCP is up; the TLS handshake is under way.
    Handshaking,
    Writing {
        /// Bytes of the shared request already written.
        written: usize,
        /// A readable event came while the request was still being written.
        read_pending: bool,
        /// The peer's FIN was seen: read on to the end, since no new edge
        /// will say so again.
        peer_closed: bool,
    },
    Reading {
        peer_closed: bool,
        /// On the worker's resume list: its turn ended with bytes perhaps left.
        resume_queued: bool,
    },
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

/// What a handler asks [`drive`](Conn::drive) to do next. `now` is the
/// instant the step's cause was observed, passed on so that a chain of steps
/// records one consistent time (and an overdue run of requests ends where
/// the schedule was at that instant).
#[derive(Debug, Clone, Copy)]
enum Step {
    /// Nothing to do until an event, a timer or the resume list.
    Wait,
    /// Ask the schedule for the next request.
    Next { now: Instant },
    /// Start the request intended for `intended`; `from_timer`: the
    /// connection was idle, waiting for it (so any lateness is the client's).
    Begin {
        now: Instant,
        intended: Instant,
        from_timer: bool,
    },
    /// Wait for the timer at `at`.
    Sleep { at: Instant, wake: Wake },
    /// Open a socket for the current request.
    Connect { now: Instant },
    /// A connect finished (or failed): see which.
    Connected,
    /// Move the TLS handshake on.
    Handshake,
    /// Write what is left of the request.
    Write,
    /// Read what the socket holds, for one turn at most.
    Read,
    /// The response is in.
    Complete {
        now: Instant,
        status: u16,
        keep_alive: bool,
    },
    /// The attempt failed.
    Fail {
        now: Instant,
        kind: Failure,
        cause: Cause,
    },
    /// Send the current request again on a fresh connection.
    Retry { now: Instant },
    /// No more requests for this connection.
    Finish,
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
    /// The client (group of `--max-conns` connections) it belongs to.
    client: u32,
    gen: u32,
    sock: Option<TcpStream>,
    state: State,
    /// Unconsumed bytes of a head or chunk line split across reads (rarely
    /// used; kept across requests for its allocation).
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
    /// Responses completed on the current socket (0: a fresh connection).
    served: u32,
    /// The current request was already re-sent once on a fresh connection.
    retried: bool,
    /// Failed connects in a row (for the reconnect delay).
    connect_failures: u32,
    /// https: the TLS session of the current socket (boxed: it is large,
    /// and plain connections should not carry its size).
    tls: Option<Box<tls::Tls>>,
    /// When the current socket's `connect()` was called.
    connect_started: Instant,
    /// When the current request started being written (for `ttfb`).
    ttfb_from: Instant,
    /// When the current response's first byte was read.
    first_byte: Option<Instant>,
    /// Its place in the schedule (run-wide connection number, due times,
    /// open intervals).
    pacer: Pacer,
    /// The last timeline second this connection was counted in (the
    /// timeline's connections in force).
    counted_second: usize,
    /// Its host (`Plan::hosts`), and the target of the current request
    /// (`Plan::requests`).
    host: usize,
    target: usize,
    /// `--targets`: how it picks each request's target among its host's.
    /// Boxed: a one-URL run's connections should not carry its size.
    picker: Option<Box<TargetPicker>>,
}

impl Conn {
    pub fn new(idx: usize, client: u32, pacer: Pacer, now: Instant) -> Conn {
        Conn {
            idx,
            client,
            gen: 0,
            sock: None,
            state: State::Idle {
                preconnecting: false,
            },
            pending: Vec::new(),
            framer: ResponseFramer::new(false),
            intended: now,
            sent: now,
            attempt: now,
            measured: false,
            served: 0,
            retried: false,
            connect_failures: 0,
            tls: None,
            connect_started: now,
            ttfb_from: now,
            first_byte: None,
            pacer,
            counted_second: usize::MAX,
            host: 0,
            target: 0,
            picker: None,
        }
    }

    /// Its host, its first target (whether that is a HEAD request), and
    /// with `--targets` its picker.
    pub fn set_host(
        &mut self,
        host: usize,
        target: usize,
        head: bool,
        picker: Option<TargetPicker>,
    ) {
        self.host = host;
        self.target = target;
        self.framer.set_head_request(head);
        self.picker = picker.map(Box::new);
    }

    pub fn gen(&self) -> u32 {
        self.gen & 0x7fff_ffff
    }

    /// Applies steps until the connection has to wait.
    fn drive(&mut self, ctx: &mut Ctx<'_>, mut step: Step) {
        loop {
            step = match step {
                Step::Wait => return,
                Step::Next { now } => self.schedule_next(ctx, now),
                Step::Begin {
                    now,
                    intended,
                    from_timer,
                } => self.begin(ctx, now, intended, from_timer),
                Step::Sleep { at, wake } => self.sleep(ctx, at, wake),
                Step::Connect { now } => self.connect(ctx, now),
                Step::Connected => self.on_connect(ctx),
                Step::Handshake => self.handshake(ctx),
                Step::Write => self.write(ctx),
                Step::Read => self.read(ctx),
                Step::Complete {
                    now,
                    status,
                    keep_alive,
                } => self.complete(ctx, now, status, keep_alive),
                Step::Fail { now, kind, cause } => self.fail(ctx, now, kind, cause),
                Step::Retry { now } => self.retry(now),
                Step::Finish => {
                    self.finish(ctx);
                    return;
                }
            }
        }
    }

    /// Asks the schedule for the next request and sends it, or sets a timer.
    pub fn next_request(&mut self, ctx: &mut Ctx<'_>, now: Instant) {
        self.drive(ctx, Step::Next { now });
    }

    /// The timer for `at` fired; stale entries are ignored.
    pub fn on_timer(&mut self, ctx: &mut Ctx<'_>, at: Instant, now: Instant) {
        let State::Waiting {
            at: when,
            wake,
            preconnecting,
        } = self.state
        else {
            return;
        };
        if when != at {
            return;
        }
        self.state = State::Idle { preconnecting };
        let step = match wake {
            Wake::Due(intended) => Step::Begin {
                now,
                intended,
                from_timer: true,
            },
            Wake::Retry => Step::Next { now },
        };
        self.drive(ctx, step);
    }

    pub fn on_event(&mut self, ctx: &mut Ctx<'_>, ev: &Event) {
        let step = match self.state {
            State::Connecting => {
                if ev.is_writable() || ev.is_error() || ev.is_write_closed() || ev.is_read_closed()
                {
                    Step::Connected
                } else {
                    Step::Wait
                }
            }
            State::Handshaking => Step::Handshake,
            State::Writing {
                written,
                read_pending,
                peer_closed,
            } => {
                self.state = State::Writing {
                    written,
                    read_pending: read_pending || ev.is_readable() || ev.is_read_closed(),
                    peer_closed: peer_closed || ev.is_read_closed(),
                };
                if ev.is_writable() || ev.is_error() || ev.is_write_closed() {
                    Step::Write
                } else {
                    Step::Wait
                }
            }
            State::Reading {
                peer_closed,
                resume_queued,
            } => {
                if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
                    self.state = State::Reading {
                        peer_closed: peer_closed || ev.is_read_closed(),
                        resume_queued,
                    };
                    Step::Read
                } else {
                    Step::Wait
                }
            }
            State::Idle { .. } | State::Waiting { .. } if self.is_preconnecting() => {
                self.on_preconnect(ctx, ev);
                Step::Wait
            }
            State::Idle { .. } | State::Waiting { .. } => {
                self.check_idle();
                Step::Wait
            }
            State::Done => Step::Wait,
        };
        self.drive(ctx, step);
    }

    /// Its turn on the resume list: reads on where the last turn stopped.
    pub fn resume(&mut self, ctx: &mut Ctx<'_>) {
        if let State::Reading {
            peer_closed,
            resume_queued: true,
        } = self.state
        {
            self.state = State::Reading {
                peer_closed,
                resume_queued: false,
            };
            self.drive(ctx, Step::Read);
        }
    }

    /// Fails the current attempt if it has run past `--timeout`.
    pub fn check_timeout(&mut self, ctx: &mut Ctx<'_>, now: Instant) {
        let kind = match self.state {
            State::Connecting => Failure::ConnectTimeout,
            State::Handshaking => Failure::TlsHandshakeTimeout,
            State::Writing { .. } | State::Reading { .. } => Failure::Timeout,
            _ => return,
        };
        if now.saturating_duration_since(self.attempt) >= ctx.books.plan.timeout {
            let cause = Cause::None;
            self.drive(ctx, Step::Fail { now, kind, cause });
        }
    }

    /// `-n` is used up: a connection only waiting for its next turn is done.
    pub fn release_if_waiting(&mut self, ctx: &mut Ctx<'_>) {
        if matches!(self.state, State::Waiting { .. } | State::Idle { .. }) {
            self.finish(ctx);
        }
    }

    fn schedule_next(&mut self, ctx: &mut Ctx<'_>, now: Instant) -> Step {
        match self.pacer.next(&ctx.books.schedule, now) {
            Turn::Now => Step::Begin {
                now,
                intended: now,
                from_timer: false,
            },
            Turn::Due(due) => due_step(now, due),
            // The request in flight has just completed: close the socket
            // and sleep until the next interval opens.
            Turn::ClosedUntil(at) => {
                self.close();
                Step::Sleep {
                    at,
                    wake: Wake::Retry,
                }
            }
            Turn::Done => Step::Finish,
        }
    }

    fn sleep(&mut self, ctx: &mut Ctx<'_>, at: Instant, wake: Wake) -> Step {
        if ctx.books.tickets.exhausted() || ctx.books.past_end(at) {
            return Step::Finish;
        }
        let preconnecting = self.is_preconnecting();
        self.state = State::Waiting {
            at,
            wake,
            preconnecting,
        };
        ctx.timers.push(at, self.idx);
        Step::Wait
    }

    /// Starts the request intended for `intended`.
    fn begin(
        &mut self,
        ctx: &mut Ctx<'_>,
        now: Instant,
        intended: Instant,
        from_timer: bool,
    ) -> Step {
        let Some(measured) = ctx.books.may_start(now, intended) else {
            return Step::Finish;
        };
        self.measured = measured;
        self.intended = intended;
        self.retried = false;
        if let Some(p) = self.picker.as_deref_mut() {
            let host = &ctx.books.plan.hosts[self.host];
            self.target = host.targets[p.next_target()];
            self.framer
                .set_head_request(ctx.books.plan.requests[self.target].head);
        }
        if measured && ctx.books.schedule.is_open() {
            ctx.books.sent(now, intended, from_timer);
        }
        if self.sock.is_none() {
            Step::Connect { now }
        } else if self.is_preconnecting() {
            // Its early connect (or handshake) is still under way: the
            // request waits for it.
            self.attempt = now;
            self.sent = now;
            self.end_preconnect();
            if self.tls.is_some() {
                self.state = State::Handshaking;
                Step::Handshake
            } else {
                self.state = State::Connecting;
                Step::Wait
            }
        } else {
            self.sent = now;
            self.attempt = now;
            self.start_writing(now);
            Step::Write
        }
    }

    fn complete(&mut self, ctx: &mut Ctx<'_>, now: Instant, status: u16, keep_alive: bool) -> Step {
        self.served += 1;
        let attempt = self.attempt_record();
        let ttfb = self.first_byte.map(|first| (first, self.ttfb_from));
        ctx.books
            .response(&attempt, now, status, ttfb, &mut self.counted_second);
        if !keep_alive || ctx.books.plan.connection_per_request {
            self.close();
        }
        self.state = State::Idle {
            preconnecting: false,
        };
        Step::Next { now }
    }

    /// A failed attempt: counted (timeouts with their latency), the socket
    /// dropped, and the next request started, after a pause if the connect failed.
    fn fail(&mut self, ctx: &mut Ctx<'_>, now: Instant, kind: Failure, cause: Cause) -> Step {
        let attempt = self.attempt_record();
        ctx.books
            .failure(&attempt, now, kind, cause, &mut self.counted_second);
        self.close();
        self.state = State::Idle {
            preconnecting: false,
        };
        // A failed handshake is a failed connect: retrying at once would spin.
        let connect_failed = matches!(
            kind,
            Failure::ConnectRefused
                | Failure::ConnectTimeout
                | Failure::Connect
                | Failure::Tls
                | Failure::TlsHandshakeTimeout
        );
        if connect_failed && !ctx.books.schedule.is_open() {
            self.connect_failures = self.connect_failures.saturating_add(1);
            Step::Sleep {
                at: now + reconnect_delay(self.connect_failures),
                wake: Wake::Retry,
            }
        } else {
            Step::Next { now }
        }
    }

    /// The current request, for the books.
    fn attempt_record(&self) -> Attempt {
        Attempt {
            client: self.client,
            target: self.target,
            intended: self.intended,
            sent: self.sent,
            measured: self.measured,
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

/// The pause before the next connect after `failures` failed in a row.
pub(crate) fn reconnect_delay(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(5);
    (RECONNECT_DELAY * (1 << doublings)).min(RECONNECT_DELAY_MAX)
}

/// A request due at `due`: begun now if that time has come (late sends
/// keep their intended time), else a timer for it.
fn due_step(now: Instant, due: Instant) -> Step {
    if due <= now {
        Step::Begin {
            now,
            intended: due,
            from_timer: false,
        }
    } else {
        Step::Sleep {
            at: due,
            wake: Wake::Due(due),
        }
    }
}

#[cfg(test)]
mod tests;
