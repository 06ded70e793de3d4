//! The HTTP/2 path: the `h2` crate on one current-thread tokio runtime per
//! worker thread. The worker owns the same share of the connections, takes
//! the same `-n` tickets, paces each connection with the same
//! [`Pacer`](super::schedule::Pacer) and records into the same
//! [`Books`](super::books::Books) as the HTTP/1.1 worker; only the carrying
//! differs: each connection is one future ([`conn::H2Conn::run`]) with up
//! to `--streams` requests in flight, and the worker polls its connections
//! as one set.
//!
//! There is no maintained sans-IO HTTP/2 crate, and framing HTTP/2 by
//! hand is out of the question, hence tokio here while HTTP/1.1 stays on
//! mio. The runtime is the worker's own, on the worker's thread: no task
//! moves between threads, and nothing is shared between workers but the
//! `-n` tickets and the progress slots.

mod conn;
mod session;
mod stream;

use std::cell::{Cell, RefCell};
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::stream::{FuturesUnordered, StreamExt};
use tokio::io::{AsyncRead, ReadBuf};
use tokio::sync::Notify;

pub use session::{CONNECTION_WINDOW, STREAM_WINDOW};

use super::books::Books;
use super::load::LoopClock;
use super::{HostPlan, Plan, Shared, WorkerEnd, POLL_CAP};
use crate::http::H2Request;
use crate::signals;
use crate::stats::{Cause, Failure};
use conn::H2Conn;

/// What an HTTP/2 run adds to the plan.
#[derive(Debug, Clone)]
pub struct Http2Plan {
    /// `--streams`: requests in flight per connection.
    pub streams: u32,
    /// The server's SETTINGS_MAX_CONCURRENT_STREAMS as the probe found it:
    /// a new connection opens no more streams than this before the
    /// server's SETTINGS arrive (more would be refused and sent again).
    pub server_max_streams: Option<u64>,
    /// One per target, as `Plan::requests`.
    pub requests: Vec<H2Request>,
}

impl Http2Plan {
    /// Streams a new connection may open before the server's SETTINGS
    /// say how many it takes.
    pub fn first_streams(&self) -> u32 {
        streams_in_flight(self.streams, self.server_max_streams)
    }
}

/// Streams in flight per connection: `--streams`, capped by the server's
/// limit (at least one).
pub fn streams_in_flight(asked: u32, server_max: Option<u64>) -> u32 {
    match server_max {
        Some(max) => u64::from(asked).min(max).max(1) as u32,
        None => asked,
    }
}

/// What a worker's connections share.
pub(super) struct Env<'a, 'b> {
    plan: &'a Plan,
    h2: &'a Http2Plan,
    books: &'b RefCell<Books<'a>>,
    /// Wakes the connections waiting for a due time or a pause when `-n`
    /// runs out or the open loop's window ends.
    release: &'b Notify,
}

thread_local! {
    /// The worker's clock, fed by the runtime's park hooks: the time the
    /// thread waits for events is the time it sleeps in the runtime.
    static CLOCK: RefCell<LoopClock> = RefCell::new(LoopClock::default());
    static PARKED: Cell<Option<Instant>> = const { Cell::new(None) };
}

fn runtime() -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .on_thread_park(|| PARKED.with(|p| p.set(Some(Instant::now()))))
        .on_thread_unpark(|| {
            if let Some(parked) = PARKED.with(Cell::take) {
                CLOCK.with(|c| c.borrow_mut().waited(parked, Instant::now()));
            }
        })
        .build()
}

/// One worker of an HTTP/2 run (see the module's documentation).
pub(super) fn worker(shared: Shared<'_>, h2: &Http2Plan, ids: Vec<u32>) -> io::Result<WorkerEnd> {
    let plan = shared.plan;
    let books = RefCell::new(super::books(&shared));
    let release = Notify::new();
    let env = Env {
        plan,
        h2,
        books: &books,
        release: &release,
    };
    let mut conns: Vec<H2Conn> = ids
        .iter()
        .map(|&id| {
            H2Conn::new(
                plan.client_of(id),
                plan.host_of(id),
                plan.pacer(id),
                plan.picker(id),
            )
        })
        .collect();
    let rt = runtime();
    if let Ok(rt) = &rt {
        if plan.is_open() && !plan.connection_per_request {
            if plan.short_slice {
                super::schedule::request_short_slice();
            }
            rt.block_on(async {
                let mut set: FuturesUnordered<_> =
                    conns.iter_mut().map(|c| c.preconnect(&env)).collect();
                while set.next().await.is_some() {
                    if signals::received().is_some() || plan.stopped() {
                        break;
                    }
                }
            });
        }
    }
    // Always arrive, even after a failure, so that the others can start.
    let origin = shared.gate.arrive_and_wait();
    let rt = rt?;
    books.borrow_mut().start_at(origin);
    let (measure_start, closed_end) = {
        let b = books.borrow();
        (
            b.measure_start,
            b.measure_end.filter(|_| !b.schedule.is_open()),
        )
    };
    // Unconstrained: tokio's cooperative budget (128 operations per poll
    // of a task) is meant to keep one task from starving others, but here
    // the worker is the one task, and the budget would cut a connection's
    // reading and writing short in the middle of a batch of streams,
    // splitting it into smaller writes for good.
    let (end, interrupted) = rt.block_on(tokio::task::unconstrained(async {
        let mut set: FuturesUnordered<_> = conns.iter_mut().map(|c| c.run(&env)).collect();
        let mut tick = tokio::time::interval(POLL_CAP);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let start = tokio::time::Instant::from_std(measure_start);
        let mut started = false;
        loop {
            tokio::select! {
                biased;
                _ = tokio::time::sleep_until(start), if !started => {
                    started = true;
                    CLOCK.with(|c| c.borrow_mut().start_if_due(Instant::now(), measure_start));
                }
                // A closed loop ends at `-d`: its requests in flight are
                // not counted (as over HTTP/1.1) and are reset on drop.
                _ = sleep_until_opt(closed_end), if closed_end.is_some() => {
                    break (Instant::now(), None);
                }
                _ = tick.tick() => {
                    let now = Instant::now();
                    if let Some(signal) = signals::received() {
                        break (now, Some(signal));
                    }
                    if plan.stopped() {
                        break (now, None);
                    }
                    let b = books.borrow();
                    if b.tickets.exhausted() || b.past_end(now) {
                        release.notify_waiters();
                    }
                }
                ended = set.next() => {
                    if ended.is_none() {
                        break (Instant::now(), None);
                    }
                }
            }
        }
    }));
    let books = books.into_inner();
    books.publish();
    // The connections (and their runtime's sockets) go before the books'
    // figures are handed on.
    drop(conns);
    drop(rt);
    Ok(WorkerEnd {
        stats: books.stats,
        end,
        interrupted,
        load: CLOCK.with(|c| c.borrow().finish(end)),
    })
}

/// Sleeps until `at`; `None` never wakes (a `select!` branch with
/// nothing to wait for).
async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await,
        None => std::future::pending().await,
    }
}

/// What one connection found the server to speak.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// HTTP/2, with its SETTINGS_MAX_CONCURRENT_STREAMS (`None`: no limit).
    Http2 { server_max_streams: Option<u64> },
    /// HTTP/1.1: how it said so.
    Http1(&'static str),
}

impl Probe {
    /// The server's SETTINGS_MAX_CONCURRENT_STREAMS, when it set one.
    pub fn server_max_streams(&self) -> Option<u64> {
        match *self {
            Probe::Http2 { server_max_streams } => server_max_streams,
            Probe::Http1(_) => None,
        }
    }
}

/// Bytes of the server's first answer kept to tell HTTP/1.1 from HTTP/2.
const SNIFF_BYTES: usize = 8;

/// A reader that keeps the first bytes the server sent: an HTTP/1.1
/// server answers HTTP/2's connection preface with `HTTP/1.1 400`, which
/// `h2` can only call a frame error.
struct Sniff<T> {
    inner: T,
    seen: std::rc::Rc<RefCell<Vec<u8>>>,
}

impl<T: AsyncRead + Unpin> AsyncRead for Sniff<T> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        let mut seen = self.seen.borrow_mut();
        let room = SNIFF_BYTES.saturating_sub(seen.len());
        let new = &buf.filled()[before..];
        seen.extend_from_slice(&new[..new.len().min(room)]);
        polled
    }
}

impl<T: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for Sniff<T> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<io::Result<usize>> {
        std::pin::Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Asks `host` what it speaks, before the run: over https, by ALPN
/// (offering h2 and http/1.1); over http, by HTTP/2's preface and a PING,
/// whose answer also means the server's SETTINGS have been read.
pub fn probe(host: &HostPlan, timeout: Duration) -> Result<Probe, (Failure, Cause)> {
    let rt = runtime().map_err(|e| (Failure::Connect, Cause::from_io(&e)))?;
    rt.block_on(async {
        let deadline = tokio::time::Instant::now() + timeout;
        let late = |kind| move |_| (kind, Cause::None);
        let tcp = tokio::time::timeout_at(deadline, tokio::net::TcpStream::connect(host.addr))
            .await
            .map_err(late(Failure::ConnectTimeout))?
            .map_err(|e| (super::conn::connect_kind(&e), Cause::from_io(&e)))?;
        let seen = std::rc::Rc::new(RefCell::new(Vec::new()));
        let io: Box<dyn session::Io> = match &host.tls {
            None => Box::new(Sniff {
                inner: tcp,
                seen: seen.clone(),
            }),
            Some(tls) => {
                let mut config = (*tls.config).clone();
                config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
                let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
                let stream = tokio::time::timeout_at(deadline, connector.connect(tls.server_name.clone(), tcp))
                    .await
                    .map_err(late(Failure::TlsHandshakeTimeout))?
                    .map_err(|e| session::tls_failure(&e))?;
                match stream.get_ref().1.alpn_protocol() {
                    Some(b"h2") => Box::new(stream),
                    Some(_) => return Ok(Probe::Http1("alpn_http1")),
                    None => return Ok(Probe::Http1("alpn_none")),
                }
            }
        };
        let mut builder = session::builder(1);
        builder.initial_max_send_streams(usize::MAX);
        let handshake = async {
            let (send, mut driver) = builder.handshake::<_, bytes::Bytes>(io).await?;
            let mut pings = driver.ping_pong().expect("a new connection's ping_pong is unclaimed");
            tokio::select! {
                r = &mut driver => r.map(|()| None),
                pong = pings.ping(h2::Ping::opaque()) => pong.map(|_| Some(send.current_max_send_streams())),
            }
        };
        match tokio::time::timeout_at(deadline, handshake).await {
            Err(_) => Err((Failure::ConnectTimeout, Cause::None)),
            Ok(Ok(Some(max))) => Ok(Probe::Http2 {
                server_max_streams: (max != usize::MAX).then_some(max as u64),
            }),
            Ok(result) => {
                if seen.borrow().starts_with(b"HTTP/1.") {
                    return Ok(Probe::Http1("answered_http1"));
                }
                match result {
                    Err(e) => Err(stream::classify(&e)),
                    // The server closed before answering the PING.
                    _ => Err((Failure::Read, Cause::Eof)),
                }
            }
        }
    })
}
