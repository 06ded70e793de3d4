//! One HTTP/2 connection of the run: `--streams` requests in flight on it,
//! paced by the same [`Pacer`] and recorded in the same [`Books`] as an
//! HTTP/1.1 connection. One future per connection, polled by the worker
//! with all the others on its thread: it asks the schedule for the next
//! request, opens a connection when it has none, sends when a stream is
//! free and records each stream's ending.
//!
//! A connection the server closes with a graceful GOAWAY keeps serving its
//! streams (its driver moves to `retired`) while a new one takes the
//! requests the server refused; they are sent again, at most
//! [`MAX_SENDS`] times each, and counted as `resent`.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::time::Instant;

use futures_util::stream::{FuturesUnordered, StreamExt};
use futures_util::FutureExt;

use super::session::{self, Driver, Phases, Session, SetupFailure};
use super::stream::{self, Ending};
use super::{sleep_until_opt, Env};
use crate::engine::books::{Attempt, Books};
use crate::engine::schedule::{Pacer, Turn};
use crate::shape::targets::TargetPicker;
use crate::stats::{Cause, Failure};

/// A request is sent at most this often (the first time included) when
/// servers keep refusing it; then it fails as `http2` REFUSED_STREAM.
const MAX_SENDS: u8 = 4;

/// A request taken from the schedule, waiting for a stream.
#[derive(Debug, Clone, Copy)]
struct Pending {
    attempt: Attempt,
    /// Times it went out already (refused each time).
    sends: u8,
}

type StreamFuture = Pin<Box<dyn Future<Output = (Pending, Ending)>>>;
type SetupFuture<'a> = Pin<Box<dyn Future<Output = Result<(Session, Phases), SetupFailure>> + 'a>>;

/// One connection's own state between the worker's turns.
pub struct H2Conn {
    /// The client (group of `--max-conns` connections) it belongs to.
    client: u32,
    host: usize,
    pacer: Pacer,
    picker: Option<TargetPicker>,
    /// The last timeline second it was counted in.
    counted: usize,
    /// Connected ahead of the schedule (open loop).
    early: Option<Session>,
    /// Failed connects in a row (for the closed loop's reconnect delay).
    connect_failures: u32,
}

impl H2Conn {
    pub fn new(client: u32, host: usize, pacer: Pacer, picker: Option<TargetPicker>) -> H2Conn {
        H2Conn {
            client,
            host,
            pacer,
            picker,
            counted: usize::MAX,
            early: None,
            connect_failures: 0,
        }
    }

    /// Open loop: connects before the run starts, so that the schedule's
    /// first requests do not wait for connects. A failure is left to the
    /// first request to meet.
    pub async fn preconnect(&mut self, env: &Env<'_, '_>) {
        let host = &env.plan.hosts[self.host];
        if let Ok((session, phases)) =
            session::open(host, env.plan.timeout, env.h2.first_streams()).await
        {
            let mut books = env.books.borrow_mut();
            // The early connects are the run's only ones: they count,
            // unless a warm-up's connections (not measured) come first.
            if env.plan.warmup.is_zero() {
                phases.record(&mut books.stats);
            }
            drop(books);
            self.early = Some(session);
        }
    }

    /// Runs this connection until its schedule has no more requests.
    pub async fn run(&mut self, env: &Env<'_, '_>) {
        let plan = env.plan;
        let books: &RefCell<Books<'_>> = env.books;
        let per_request = plan.connection_per_request;
        let mut session: Option<Session> = self.early.take();
        let mut setup: Option<SetupFuture<'_>> = None;
        let mut retired: FuturesUnordered<Pin<Box<Driver>>> = FuturesUnordered::new();
        let mut inflight: FuturesUnordered<StreamFuture> = FuturesUnordered::new();
        let mut resend: VecDeque<Pending> = VecDeque::new();
        let mut next: Option<Pending> = None;
        // Waiting for a due time (open loop) or for a pause to end (the
        // closed loop's reconnect delay, a stage's closed interval).
        let mut due: Option<Instant> = None;
        let mut pause: Option<Instant> = None;
        let mut done = false;
        let mut goaway_seen = false;
        loop {
            let now = Instant::now();
            let cap = capacity(env, session.as_ref());
            if next.is_none() && inflight.len() < cap {
                if let Some(p) = resend.pop_front() {
                    next = Some(p);
                } else if due.is_none() && pause.is_none() && !done {
                    let schedule = books.borrow().schedule;
                    match self.pacer.next(&schedule, now) {
                        Turn::Now => next = self.begin(env, now, now, false),
                        Turn::Due(d) if d <= now => next = self.begin(env, now, d, false),
                        Turn::Due(d) => {
                            let b = books.borrow();
                            if !(b.tickets.exhausted() || b.past_end(d)) {
                                due = Some(d);
                            }
                        }
                        Turn::ClosedUntil(at) => {
                            retire(&mut session, &mut retired);
                            pause = Some(at);
                        }
                        Turn::Done => {}
                    }
                    done = next.is_none() && due.is_none() && pause.is_none();
                }
            }
            // A request waits and nothing carries it: connect.
            if next.is_some() && session.is_none() && setup.is_none() && pause.is_none() {
                let host = &plan.hosts[self.host];
                setup = Some(Box::pin(session::open(
                    host,
                    plan.timeout,
                    env.h2.first_streams(),
                )));
            }
            // Send if a stream is free; a refusal to open one ends the
            // connection's use (a GOAWAY came).
            let mut blocked = false;
            if let (Some(p), Some(s)) = (next, session.as_mut()) {
                if inflight.len() < cap {
                    match poll_fn(|cx| s.send.poll_ready(cx)).now_or_never() {
                        Some(Ok(())) => {
                            next = None;
                            match self.send(env, s, p, now) {
                                Ok(f) => inflight.push(f),
                                Err((p, e)) => {
                                    next = Some(p);
                                    goaway(env, &e, &mut goaway_seen);
                                    retire(&mut session, &mut retired);
                                }
                            }
                            if per_request {
                                retire(&mut session, &mut retired);
                            }
                            continue;
                        }
                        Some(Err(e)) => {
                            goaway(env, &e, &mut goaway_seen);
                            retire(&mut session, &mut retired);
                            continue;
                        }
                        None => blocked = true,
                    }
                }
            }
            if done && next.is_none() && inflight.is_empty() && resend.is_empty() {
                return;
            }
            tokio::select! {
                biased;
                Some((p, ending)) = inflight.next(), if !inflight.is_empty() => {
                    self.ended(env, p, ending, &mut resend, &mut goaway_seen);
                }
                event = session_event(&mut session, blocked), if session.is_some() => match event {
                    SessionEvent::Ready(Ok(())) => {}
                    SessionEvent::Ready(Err(e)) => {
                        goaway(env, &e, &mut goaway_seen);
                        retire(&mut session, &mut retired);
                    }
                    SessionEvent::Closed(ended) => {
                        match ended {
                            Err(e) => goaway(env, &e, &mut goaway_seen),
                            // The server closed a connection we still
                            // used: HTTP/2 closes cleanly only by GOAWAY.
                            Ok(()) if !goaway_seen => {
                                goaway_seen = true;
                                books.borrow_mut().stats.goaways += 1;
                            }
                            Ok(()) => {}
                        }
                        session = None;
                    }
                },
                _ = retired.next(), if !retired.is_empty() => {}
                opened = poll_setup(&mut setup), if setup.is_some() => {
                    setup = None;
                    goaway_seen = false;
                    match opened {
                        Ok((s, phases)) => {
                            self.connect_failures = 0;
                            let mut b = books.borrow_mut();
                            let measured = next.is_some_and(|p| p.attempt.measured);
                            if measured && b.counts(Instant::now()) {
                                phases.record(&mut b.stats);
                            }
                            session = Some(s);
                        }
                        Err((kind, cause)) => {
                            if let Some(p) = next.take() {
                                self.fail(env, &p, kind, cause);
                            }
                            let schedule = books.borrow().schedule;
                            if !schedule.is_open() {
                                self.connect_failures = self.connect_failures.saturating_add(1);
                                let delay = crate::engine::conn::reconnect_delay(self.connect_failures);
                                pause = Some(Instant::now() + delay);
                            }
                        }
                    }
                }
                _ = sleep_until_opt(due), if due.is_some() => {
                    let d = due.take().unwrap_or(now);
                    let fresh = self.begin(env, Instant::now(), d, true);
                    done = fresh.is_none();
                    // A refused request may have taken `next` meanwhile: the
                    // due one waits behind it rather than replacing it.
                    match (next, fresh) {
                        (None, f) => next = f,
                        (Some(_), Some(f)) => resend.push_back(f),
                        (Some(_), None) => {}
                    }
                }
                // A request that waits for the connection to take a new
                // stream (a server that allows none) has its deadline too.
                _ = sleep_until_opt(next.filter(|_| blocked).map(|p| p.attempt.sent + plan.timeout)), if blocked => {
                    if let Some(p) = next.take() {
                        self.fail(env, &p, Failure::Timeout, Cause::None);
                    }
                    retire(&mut session, &mut retired);
                }
                _ = sleep_until_opt(pause), if pause.is_some() => {
                    pause = None;
                }
                _ = env.release.notified(), if due.is_some() || pause.is_some() => {
                    // `-n` is used up or the open loop's window is over: a
                    // connection only waiting for its turn is done.
                    let b = books.borrow();
                    if b.tickets.exhausted() || b.past_end(Instant::now()) {
                        due = None;
                        pause = None;
                        done = true;
                    }
                }
            }
        }
    }

    /// Takes the request intended for `intended` from the schedule, if it
    /// may start: picks its target, counts an open loop's send.
    fn begin(
        &mut self,
        env: &Env<'_, '_>,
        now: Instant,
        intended: Instant,
        from_timer: bool,
    ) -> Option<Pending> {
        let mut books = env.books.borrow_mut();
        let measured = books.may_start(now, intended)?;
        let host = &env.plan.hosts[self.host];
        let target = match self.picker.as_mut() {
            Some(p) => host.targets[p.next_target()],
            None => host.targets[0],
        };
        if measured && books.schedule.is_open() {
            books.sent(now, intended, from_timer);
        }
        Some(Pending {
            attempt: Attempt {
                client: self.client,
                target,
                intended,
                sent: now,
                measured,
            },
            sends: 0,
        })
    }

    /// Opens a stream for `p` on `s`; gives `p` back if the connection
    /// will take no more.
    fn send(
        &mut self,
        env: &Env<'_, '_>,
        s: &mut Session,
        mut p: Pending,
        now: Instant,
    ) -> Result<StreamFuture, (Pending, h2::Error)> {
        let request = &env.h2.requests[p.attempt.target];
        let empty = request.body.is_empty();
        let (response, tx) = match s.send.send_request(request.head(), empty) {
            Ok(pair) => pair,
            Err(e) => return Err((p, e)),
        };
        // With a connection per request the connect is part of the latency,
        // as over HTTP/1.1: `sent` stays at the request's start.
        if !env.plan.connection_per_request || p.sends > 0 {
            p.attempt.sent = now;
        }
        p.sends += 1;
        if p.attempt.measured {
            env.books.borrow_mut().stats.bytes_sent += request.body.len() as u64;
        }
        let body = request.body.clone();
        let tx = (!empty).then_some(tx);
        let deadline = tokio::time::Instant::from_std(p.attempt.sent.max(now) + env.plan.timeout);
        Ok(Box::pin(async move {
            let ending =
                match tokio::time::timeout_at(deadline, stream::exchange(response, tx, body)).await
                {
                    Ok(ending) => ending,
                    Err(_) => Ending::TimedOut,
                };
            (p, ending)
        }))
    }

    /// Records how a stream ended, or queues a refused request again.
    fn ended(
        &mut self,
        env: &Env<'_, '_>,
        p: Pending,
        ending: Ending,
        resend: &mut VecDeque<Pending>,
        goaway_seen: &mut bool,
    ) {
        let now = Instant::now();
        match ending {
            Ending::Response {
                status,
                first_byte,
                body_bytes,
            } => {
                let mut books = env.books.borrow_mut();
                if p.attempt.measured {
                    books.stats.bytes_received += body_bytes;
                }
                books.response(
                    &p.attempt,
                    now,
                    status,
                    Some((first_byte, p.attempt.sent)),
                    &mut self.counted,
                );
            }
            Ending::Refused { goaway } if p.sends < MAX_SENDS => {
                let mut books = env.books.borrow_mut();
                let counts = p.attempt.measured && books.counts(now);
                if counts {
                    books.stats.resent += 1;
                }
                if goaway && !*goaway_seen {
                    // The refusal is how a GOAWAY shows on the streams it
                    // refused.
                    *goaway_seen = true;
                    if counts {
                        books.stats.goaways += 1;
                    }
                }
                resend.push_back(p);
            }
            Ending::Refused { .. } => {
                self.fail(env, &p, Failure::Http2, Cause::Protocol("REFUSED_STREAM"))
            }
            Ending::Failed(kind, cause) => self.fail(env, &p, kind, cause),
            Ending::TimedOut => self.fail(env, &p, Failure::Timeout, Cause::None),
        }
    }

    fn fail(&mut self, env: &Env<'_, '_>, p: &Pending, kind: Failure, cause: Cause) {
        env.books
            .borrow_mut()
            .failure(&p.attempt, Instant::now(), kind, cause, &mut self.counted);
    }
}

/// Counts the connection's GOAWAY once, whichever way it shows: a refusal
/// to open a stream, the connection's end, a stream it refused.
fn goaway(env: &Env<'_, '_>, e: &h2::Error, seen: &mut bool) {
    if e.is_go_away() && e.is_remote() && !*seen {
        *seen = true;
        env.books.borrow_mut().stats.goaways += 1;
    }
}

/// Stops sending on the current connection; its streams in flight finish
/// on it (its driver keeps running in `retired`), then it closes.
fn retire(session: &mut Option<Session>, retired: &mut FuturesUnordered<Pin<Box<Driver>>>) {
    if let Some(s) = session.take() {
        drop(s.send);
        retired.push(s.driver);
    }
}

/// Streams in flight a connection may have: `--streams`, capped by the
/// server's SETTINGS_MAX_CONCURRENT_STREAMS once it is known.
fn capacity(env: &Env<'_, '_>, session: Option<&Session>) -> usize {
    let server_max = session.map(|s| s.send.current_max_send_streams() as u64);
    super::streams_in_flight(env.h2.streams, server_max) as usize
}

enum SessionEvent {
    /// The connection can open a stream again (or cannot, ever).
    Ready(Result<(), h2::Error>),
    /// The connection ended.
    Closed(Result<(), h2::Error>),
}

/// Drives the connection, and when a request waits for h2 to take a new
/// stream (`want_ready`), says when it can.
async fn session_event(session: &mut Option<Session>, want_ready: bool) -> SessionEvent {
    let Some(s) = session.as_mut() else {
        return std::future::pending().await;
    };
    poll_fn(|cx| {
        if let std::task::Poll::Ready(r) = s.driver.as_mut().poll(cx) {
            return std::task::Poll::Ready(SessionEvent::Closed(r));
        }
        if want_ready {
            if let std::task::Poll::Ready(r) = s.send.poll_ready(cx) {
                return std::task::Poll::Ready(SessionEvent::Ready(r));
            }
        }
        std::task::Poll::Pending
    })
    .await
}

async fn poll_setup(
    setup: &mut Option<SetupFuture<'_>>,
) -> Result<(Session, Phases), SetupFailure> {
    match setup.as_mut() {
        Some(f) => f.as_mut().await,
        None => std::future::pending().await,
    }
}
