//! The load engine: T worker threads, each one `mio` event loop that owns a
//! fixed share of the connections. No thread per connection, no async
//! runtime, no lock, channel or allocation per request: a worker writes the
//! shared request bytes, frames responses as they are read into its one
//! buffer and records into its own [`Stats`], which are merged once at the
//! end. The workers start together (open-loop runs connect first); that
//! instant is the run's origin.
//!
//! One connection loop serves every mode; what differs is the [`Schedule`]
//! (closed loop, open loop at `--rate`, or a `--stage` curve: due times
//! from each connection's arrivals, or connections opening and closing on
//! the connection curve) it asks before each request.

mod books;
mod conn;
mod counters;
pub mod h2;
mod load;
mod schedule;

use std::io;
use std::net::SocketAddr;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use mio::{Events, Poll, Registry, Token};
use nix::sys::signal::Signal;
use rayon::prelude::*;

use crate::config::Stop;

use crate::shape::arrivals::ArrivalPlan;
use crate::shape::curve::ConnectionCurve;
use crate::shape::targets::TargetPlan;
use crate::signals;
use crate::stats::{StageStats, Stats, TargetStats};
use books::Books;
use conn::Conn;
pub use counters::{Counters, LiveSlot, Slot, Snapshot, LATENCY_BOUNDS, LATENCY_BUCKETS};
pub use load::WorkerLoad;
pub use schedule::Schedule;

/// The worker's timerfd; connection tokens never reach it (their index is below 2³²).
const TIMER: Token = Token(usize::MAX);

/// One worker's read buffer, shared by its connections: large reads mean
/// few system calls for large responses.
const READ_BUFFER_BYTES: usize = 64 * 1024;

/// Longest a worker sleeps in `poll`, so that it sees a signal promptly.
pub(crate) const POLL_CAP: Duration = Duration::from_millis(50);

/// A request the run sends, built once and shared by every connection.
#[derive(Debug, Clone)]
pub struct RequestBytes {
    /// Head and body.
    pub bytes: Arc<[u8]>,
    /// The method is HEAD (responses have no body).
    pub head: bool,
}

/// A host the run connects to: one, or each host of a `--targets` file.
#[derive(Debug, Clone)]
pub struct HostPlan {
    pub addr: SocketAddr,
    /// https: the host's TLS configuration, shared by every worker (its
    /// session cache is what lets later connections resume).
    pub tls: Option<crate::tls::ClientTls>,
    /// Its connections are `first_conn..first_conn + conns` (run-wide ids).
    pub first_conn: u32,
    pub conns: u32,
    /// Its targets (indices into `Plan::requests`), and how its
    /// connections choose among them; `None`: the one request, `targets[0]`.
    pub targets: Vec<usize>,
    pub picker: Option<TargetPlan>,
}

/// What the engine runs: everything resolved and built.
#[derive(Debug, Clone)]
pub struct Plan {
    /// At least one; connections are split between them.
    pub hosts: Vec<HostPlan>,
    /// One per target (one without `--targets`).
    pub requests: Vec<RequestBytes>,
    /// Keep figures per target (`--targets`).
    pub per_target: bool,
    /// The whole run's shape: `clients` of `conns_per_client` connections,
    /// numbered run-wide `0..clients * conns_per_client`, client
    /// `id / conns_per_client`.
    pub clients: u32,
    pub conns_per_client: u32,
    /// The run-wide ids of the connections this process makes: all, or a
    /// shard's block (`--shard`). Schedules, arrivals and intervals are
    /// functions of the run-wide id, so a shard's connections keep their
    /// places in the whole run's schedule.
    pub conn_ids: Range<u32>,
    pub threads: u32,
    pub stop: Stop,
    pub warmup: Duration,
    pub timeout: Duration,
    pub connection_per_request: bool,
    /// Open loop: total requests per second.
    pub rate: Option<f64>,
    /// An open loop that follows a curve (`--stage`, or `--arrivals
    /// poisson`): every connection's due times; `rate` is then `None`.
    pub arrivals: Option<ArrivalPlan>,
    /// Closed-loop `--stage`s: when each connection is open.
    pub connection_curve: Option<Arc<ConnectionCurve>>,
    /// `--stage`s: where each stage ends, from the start of the measured
    /// phase, for the per-stage figures; empty without stages.
    pub stage_ends: Vec<Duration>,
    /// Open loop: ask the kernel for a short scheduler slice per worker
    /// ([`schedule::request_short_slice`]); `--no-short-slice` turns it off.
    pub short_slice: bool,
    /// `--http2`: the load goes over HTTP/2 ([`h2`]); `None`: HTTP/1.1.
    pub http2: Option<Arc<h2::Http2Plan>>,
    /// `--start-at`: the origin is this instant (the start minus the
    /// warm-up), or the moment every worker is ready if that is later;
    /// `None`: that moment.
    pub origin_at: Option<Instant>,
}

impl Plan {
    /// A fatal TLS failure was recorded: no request can succeed.
    #[inline]
    pub fn stopped(&self) -> bool {
        self.hosts
            .iter()
            .any(|h| h.tls.as_ref().is_some_and(|t| t.stopped()))
    }

    /// The host of connection `id`.
    pub fn host_of(&self, id: u32) -> usize {
        self.hosts
            .iter()
            .position(|h| id < h.first_conn + h.conns)
            .unwrap_or(0)
    }

    /// The whole run's connections.
    pub fn connections(&self) -> u32 {
        self.clients * self.conns_per_client
    }

    /// Worker threads: at least one, at most one per connection made here.
    fn worker_threads(&self) -> u32 {
        self.threads.clamp(1, self.conn_ids.len().max(1) as u32)
    }

    /// The first client with a connection made here: the per-client
    /// figures are kept from it on (its index is `client_of`'s 0).
    pub fn first_client(&self) -> u32 {
        self.conn_ids.start / self.conns_per_client
    }

    /// Clients with a connection made here (a shard's first and last may
    /// share their clients with the next and previous shards).
    pub fn own_clients(&self) -> u32 {
        match self.conn_ids.end.checked_sub(1) {
            Some(last) if !self.conn_ids.is_empty() => {
                last / self.conns_per_client - self.first_client() + 1
            }
            _ => 0,
        }
    }

    /// The index, among [`own_clients`](Self::own_clients), of connection
    /// `id`'s client.
    #[inline]
    pub fn client_of(&self, id: u32) -> u32 {
        id / self.conns_per_client - self.first_client()
    }

    /// Requests go out on a schedule rather than as responses come in.
    pub fn is_open(&self) -> bool {
        self.rate.is_some() || self.arrivals.is_some()
    }

    /// Connection `id`'s place in the schedule, whichever protocol
    /// carries it: its due times on a curve, its open intervals on stages.
    pub(crate) fn pacer(&self, id: u32) -> schedule::Pacer {
        let mut pacer = schedule::Pacer::new(id);
        if let Some(arrivals) = &self.arrivals {
            pacer.set_arrivals(arrivals.connection(id));
        }
        if let Some(curve) = &self.connection_curve {
            pacer.set_intervals(curve.connection_intervals(
                id,
                self.clients,
                self.conns_per_client,
            ));
        }
        pacer
    }

    /// With `--targets`, how connection `id` picks its targets among its
    /// host's.
    pub(crate) fn picker(&self, id: u32) -> Option<crate::shape::targets::TargetPicker> {
        let h = &self.hosts[self.host_of(id)];
        h.picker.as_ref().map(|p| p.picker(id - h.first_conn))
    }
}

/// What a run measured.
#[derive(Debug)]
pub struct Outcome {
    pub stats: Stats,
    /// Length of the measured phase (warm-up excluded).
    pub measured: Duration,
    /// Wall-clock start of the measured phase.
    pub started_at: SystemTime,
    /// The wall clock when the measured phase had begun and every worker
    /// was running (woken from its wait for the origin): `started_at`, or
    /// later when a worker woke late.
    pub running_at: SystemTime,
    /// The signal that cut the run short.
    pub interrupted: Option<Signal>,
    /// Each worker's own load over the measured phase, in worker order.
    pub workers: Vec<WorkerLoad>,
}

/// Runs the load described by `plan`; workers publish their totals, and
/// the start of the run once it is known, into `counters`.
///
/// Open-loop keep-alive runs connect every connection first (as wrk2 does:
/// thousands of connects inside the schedule would make its first requests
/// late); then all workers start together, and that instant is the origin of
/// the run (warm-up included) and of the schedule.
pub fn run(plan: &Plan, counters: &Counters) -> io::Result<Outcome> {
    let tickets = AtomicU64::new(match plan.stop {
        Stop::Requests(n) => n,
        Stop::Duration(_) => 0,
    });
    let threads = plan.worker_threads() as usize;
    let gate = Gate::new(threads, &counters.origin, plan.origin_at);
    let results: Vec<io::Result<WorkerEnd>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let ids: Vec<u32> = (plan.conn_ids.start + t as u32..plan.conn_ids.end)
                    .step_by(threads)
                    .collect();
                let shared = Shared {
                    plan,
                    gate: &gate,
                    tickets: matches!(plan.stop, Stop::Requests(_)).then_some(&tickets),
                    slot: counters.slot(t),
                    live: counters.live(t),
                };
                let spawned = std::thread::Builder::new()
                    .name(format!("bench-worker-{t}"))
                    .spawn_scoped(scope, move || match plan.http2.as_deref() {
                        Some(h2) => h2::worker(shared, h2, ids),
                        None => worker(shared, ids),
                    });
                if spawned.is_err() {
                    // Nobody must wait at the gate for a thread that never ran.
                    gate.forfeit();
                }
                spawned
            })
            .collect();
        handles
            .into_iter()
            .map(|h| match h {
                Ok(h) => h
                    .join()
                    .unwrap_or_else(|_| Err(io::Error::other("a worker thread panicked"))),
                Err(e) => Err(e),
            })
            .collect()
    });
    let origin = counters.origin.get().copied().unwrap_or_else(Instant::now);
    // The wall clock at an instant in the past.
    let (wall, now) = (SystemTime::now(), Instant::now());
    let wall_at = |t: Instant| wall - now.saturating_duration_since(t);
    let measure_start = origin + plan.warmup;
    let started_at = wall_at(measure_start);
    // Read when the last worker woke, if the measured phase had begun by
    // then (no warm-up): mapping an instant to the wall clock at the end
    // of the run would be off by however the two clocks drifted apart.
    let running_at = match gate.last_woke() {
        Some((woke, wall)) if woke >= measure_start => wall,
        _ => started_at,
    };
    let mut per_thread = Vec::with_capacity(threads);
    let mut end = measure_start;
    let mut interrupted = None;
    let mut workers = Vec::with_capacity(threads);
    for r in results {
        let w = r?;
        end = end.max(w.end);
        interrupted = interrupted.or(w.interrupted);
        per_thread.push(w.stats);
        workers.push(w.load);
    }
    let stats = per_thread
        .into_par_iter()
        .reduce_with(|mut a, b| {
            a += b;
            a
        })
        .unwrap_or_else(|| Stats::new(plan.own_clients()));
    let measured = match (plan.stop, interrupted) {
        // A fatal TLS failure ends the run early: it lasted until then.
        (Stop::Duration(d), None) if !plan.stopped() => d,
        _ => end.saturating_duration_since(measure_start),
    };
    Ok(Outcome {
        stats,
        measured,
        started_at,
        running_at,
        interrupted,
        workers,
    })
}

/// Where the workers meet before the run starts; the last to arrive sets
/// the origin for all: now, or the planned origin (`--start-at`) if that
/// is later. A thread that could not be started forfeits its place, so
/// that nobody waits for it.
struct Gate<'a> {
    /// Workers still to arrive, and the origin once all have.
    state: Mutex<(usize, Option<Instant>)>,
    all_here: Condvar,
    /// Where the progress bar reads the origin.
    publish: &'a OnceLock<Instant>,
    planned: Option<Instant>,
    /// When the last worker woke from its wait for the origin, and the
    /// wall clock then.
    woke: Mutex<Option<(Instant, SystemTime)>>,
}

impl<'a> Gate<'a> {
    fn new(workers: usize, publish: &'a OnceLock<Instant>, planned: Option<Instant>) -> Gate<'a> {
        Gate {
            state: Mutex::new((workers, None)),
            all_here: Condvar::new(),
            publish,
            planned,
            woke: Mutex::new(None),
        }
    }

    /// Waits for every worker, then until the origin; returns it. A
    /// signal ends the wait early (the worker's loop then sees it first).
    fn arrive_and_wait(&self) -> Instant {
        let origin = self.arrive();
        wait_until(origin);
        let now = (Instant::now(), SystemTime::now());
        let mut woke = self.woke.lock().unwrap_or_else(|e| e.into_inner());
        if woke.map_or(true, |w| w.0 < now.0) {
            *woke = Some(now);
        }
        origin
    }

    fn last_woke(&self) -> Option<(Instant, SystemTime)> {
        *self.woke.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for every worker; returns the run's origin.
    fn arrive(&self) -> Instant {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        self.leave(&mut state);
        loop {
            if let Some(origin) = state.1 {
                return origin;
            }
            state = self.all_here.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn forfeit(&self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        self.leave(&mut state);
    }

    fn leave(&self, state: &mut (usize, Option<Instant>)) {
        state.0 = state.0.saturating_sub(1);
        if state.0 == 0 && state.1.is_none() {
            let origin = self
                .planned
                .map_or_else(Instant::now, |p| p.max(Instant::now()));
            state.1 = Some(origin);
            let _ = self.publish.set(origin);
            self.all_here.notify_all();
        }
    }
}

/// Sleeps until `at`, to within a few microseconds: the thread sleeps
/// until shortly before (in steps of at most [`POLL_CAP`], to see a
/// signal), then yields until the instant, since a sleep's wake-up is late
/// by the timer slack (50 µs by default) and more on a busy machine.
fn wait_until(at: Instant) {
    const SPIN: Duration = Duration::from_millis(2);
    loop {
        let now = Instant::now();
        if now >= at || signals::received().is_some() {
            return;
        }
        let left = at - now;
        if left > SPIN {
            std::thread::sleep((left - SPIN).min(POLL_CAP));
        } else {
            std::thread::yield_now();
        }
    }
}

/// What every worker reads; nothing in it is written per request but the
/// `-n` tickets, which are taken in batches.
#[derive(Clone, Copy)]
struct Shared<'a> {
    plan: &'a Plan,
    gate: &'a Gate<'a>,
    tickets: Option<&'a AtomicU64>,
    slot: &'a Slot,
    live: Option<&'a LiveSlot>,
}

struct WorkerEnd {
    stats: Stats,
    end: Instant,
    interrupted: Option<Signal>,
    load: WorkerLoad,
}

/// `-n`: the run-wide count of requests left, claimed in small batches so
/// that workers rarely touch the shared counter, and the batches shrink
/// towards the end so that no worker sits on tickets another could use.
pub(crate) struct Tickets<'a> {
    left: Option<&'a AtomicU64>,
    local: u64,
    divisor: u64,
}

impl Tickets<'_> {
    /// `-n` is used up: no worker will send another request.
    #[inline]
    pub fn exhausted(&self) -> bool {
        match self.left {
            Some(left) => self.local == 0 && left.load(Ordering::Relaxed) == 0,
            None => false,
        }
    }

    /// One more request may be sent.
    #[inline]
    pub fn take(&mut self) -> bool {
        let Some(left) = self.left else {
            return true;
        };
        if self.local > 0 {
            self.local -= 1;
            return true;
        }
        let mut cur = left.load(Ordering::Relaxed);
        loop {
            if cur == 0 {
                return false;
            }
            let batch = (cur / self.divisor).clamp(1, 64);
            match left.compare_exchange_weak(cur, cur - batch, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => {
                    self.local = batch - 1;
                    return true;
                }
                Err(now) => cur = now,
            }
        }
    }
}

/// A worker's state that every connection touches: passed to the
/// connection's methods beside the connection itself.
pub(crate) struct Ctx<'a> {
    pub books: Books<'a>,
    pub registry: Registry,
    pub timers: schedule::Timers,
    /// Connections not yet done.
    pub active: usize,
    /// Every read of this worker lands here (see `Conn::read`).
    pub scratch: Box<[u8]>,
    /// Connections that used their turn of reading with bytes perhaps left
    /// (see `conn::socket::READS_PER_TURN`): served once per turn of the loop,
    /// after the checks of `-d`, `--timeout` and signals.
    pub resume: Vec<usize>,
}

/// A worker before the start: its event loop, connections and context.
struct Prepared<'a> {
    poll: Poll,
    events: Events,
    conns: Vec<Conn>,
    ctx: Ctx<'a>,
}

fn worker(shared: Shared<'_>, ids: Vec<u32>) -> io::Result<WorkerEnd> {
    let prepared = prepare(&shared, &ids);
    // Always arrive, even after a failure, so that the others can start.
    let origin = shared.gate.arrive_and_wait();
    let Prepared {
        mut poll,
        mut events,
        mut conns,
        mut ctx,
    } = prepared?;
    let plan = shared.plan;
    ctx.books.start_at(origin);
    let now = Instant::now();
    let sweep_every = (plan.timeout / 20).clamp(Duration::from_millis(1), POLL_CAP);
    for c in conns.iter_mut() {
        c.next_request(&mut ctx, now);
    }
    let mut next_sweep = now + sweep_every;
    let mut interrupted = None;
    let mut resuming: Vec<usize> = Vec::with_capacity(conns.len());
    let mut released = false;
    let mut draining = false;
    let mut clock = load::LoopClock::default();
    let end = loop {
        let now = Instant::now();
        clock.start_if_due(now, ctx.books.measure_start);
        if let Some(signal) = signals::received() {
            interrupted = Some(signal);
            break now;
        }
        if plan.stopped() {
            break now;
        }
        if ctx.books.past_end(now) {
            if !ctx.books.schedule.is_open() {
                break now;
            }
            if !draining && matches!(ctx.books.schedule, Schedule::Curve { .. }) {
                // Every connection finishes when its curve sends no more
                // (a late due time still goes out: `Books::too_late`).
                draining = true;
            }
            if !draining {
                // Open loop: wait for the requests in flight, send no more.
                for c in conns.iter_mut() {
                    c.release_if_waiting(&mut ctx);
                }
                draining = true;
            }
        }
        while let Some((at, idx)) = ctx.timers.pop_due(now) {
            conns[idx].on_timer(&mut ctx, at, now);
        }
        if now >= next_sweep {
            for c in conns.iter_mut() {
                c.check_timeout(&mut ctx, now);
            }
            next_sweep = now + sweep_every;
        }
        if !released && ctx.books.tickets.exhausted() {
            // Connections waiting for a due time (open loop) or a reconnect
            // would otherwise keep the run alive just to find nothing to send.
            for c in conns.iter_mut() {
                c.release_if_waiting(&mut ctx);
            }
            released = true;
        }
        // Those queued before this turn; any that queue again wait for the next.
        std::mem::swap(&mut resuming, &mut ctx.resume);
        for idx in resuming.drain(..) {
            conns[idx].resume(&mut ctx);
        }
        if ctx.active == 0 {
            break now;
        }
        ctx.timers.arm()?;
        let mut timeout = next_sweep.saturating_duration_since(now).min(POLL_CAP);
        if let Some(e) = ctx.books.measure_end.filter(|&e| e > now) {
            timeout = timeout.min(e - now);
        }
        if !ctx.resume.is_empty() {
            // Bytes are waiting: look for events without sleeping.
            timeout = Duration::ZERO;
        }
        let before = Instant::now();
        let polled = poll.poll(&mut events, Some(timeout));
        clock.waited(before, Instant::now());
        match polled {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        for ev in events.iter() {
            if ev.token() == TIMER {
                ctx.timers.fired()?;
                continue;
            }
            let (idx, gen) = conn::split_token(ev.token());
            match conns.get_mut(idx) {
                Some(c) if c.gen() == gen => c.on_event(&mut ctx, ev),
                _ => {}
            }
        }
    };
    // Report the final totals even if the last request was not published.
    ctx.books.publish();
    drop(conns);
    Ok(WorkerEnd {
        stats: ctx.books.stats,
        end,
        interrupted,
        load: clock.finish(end),
    })
}

/// Builds a worker's event loop and connections; in open-loop keep-alive
/// runs, also connects them (waiting at most `--timeout`, or until a signal).
fn prepare<'a>(shared: &Shared<'a>, ids: &[u32]) -> io::Result<Prepared<'a>> {
    let plan = shared.plan;
    let open = plan.is_open();
    if open && plan.short_slice {
        schedule::request_short_slice();
    }
    let poll = Poll::new()?;
    let registry = poll.registry().try_clone()?;
    let timers = schedule::Timers::new(ids.len())?;
    timers.register(&registry, TIMER)?;
    let now = Instant::now();
    let conns: Vec<Conn> = ids
        .iter()
        .enumerate()
        .map(|(idx, &id)| {
            let host = plan.host_of(id);
            let h = &plan.hosts[host];
            let mut c = Conn::new(idx, plan.client_of(id), plan.pacer(id), now);
            c.set_host(
                host,
                h.targets[0],
                plan.requests[h.targets[0]].head,
                plan.picker(id),
            );
            c
        })
        .collect();
    let ctx = Ctx {
        books: books(shared),
        registry,
        timers,
        active: conns.len(),
        scratch: vec![0; READ_BUFFER_BYTES].into_boxed_slice(),
        resume: Vec::with_capacity(conns.len()),
    };
    let mut prepared = Prepared {
        poll,
        events: Events::with_capacity(1024.min(conns.len() + 1)),
        conns,
        ctx,
    };
    if open && !plan.connection_per_request {
        preconnect(&mut prepared)?;
    }
    Ok(prepared)
}

/// A worker's books, empty, with its share of `-n`'s tickets.
fn books<'a>(shared: &Shared<'a>) -> Books<'a> {
    let plan = shared.plan;
    let threads = u64::from(plan.worker_threads());
    let mut stats = Stats::new(plan.own_clients());
    stats.stages = vec![StageStats::default(); plan.stage_ends.len()];
    if plan.per_target {
        stats.targets = vec![TargetStats::default(); plan.requests.len()];
    }
    let tickets = Tickets {
        left: shared.tickets,
        local: 0,
        divisor: threads * 16,
    };
    let mut books = Books::new(plan, stats, tickets, shared.slot);
    books.live = shared.live.map(counters::LiveRecorder::new);
    books
}

/// Connects every connection ahead of the schedule and waits for the
/// connects to finish (failures are left to the requests to count).
fn preconnect(w: &mut Prepared<'_>) -> io::Result<()> {
    for c in w.conns.iter_mut() {
        c.preconnect(&mut w.ctx);
    }
    let deadline = Instant::now() + w.ctx.books.plan.timeout;
    loop {
        let now = Instant::now();
        if now >= deadline
            || signals::received().is_some()
            || w.ctx.books.plan.stopped()
            || !w.conns.iter().any(Conn::is_preconnecting)
        {
            return Ok(());
        }
        match w
            .poll
            .poll(&mut w.events, Some((deadline - now).min(POLL_CAP)))
        {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        for ev in w.events.iter() {
            let (idx, gen) = conn::split_token(ev.token());
            match w.conns.get_mut(idx) {
                Some(c) if c.gen() == gen => c.on_event(&mut w.ctx, ev),
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_are_exact_across_threads() {
        for total in [1u64, 7, 1000, 123_457] {
            let left = AtomicU64::new(total);
            let threads = 4;
            let taken: u64 = std::thread::scope(|s| {
                let hs: Vec<_> = (0..threads)
                    .map(|_| {
                        s.spawn(|| {
                            let mut t = Tickets {
                                left: Some(&left),
                                local: 0,
                                divisor: threads * 16,
                            };
                            let mut n = 0;
                            while t.take() {
                                n += 1;
                            }
                            assert!(t.exhausted());
                            n
                        })
                    })
                    .collect();
                hs.into_iter().map(|h| h.join().unwrap()).sum()
            });
            assert_eq!(taken, total);
        }
    }

    #[test]
    fn without_a_count_tickets_never_run_out() {
        let mut t = Tickets {
            left: None,
            local: 0,
            divisor: 16,
        };
        assert!((0..10_000).all(|_| t.take()));
        assert!(!t.exhausted());
    }
}
