//! `--metrics-addr`: the run's live metrics as OpenMetrics text at
//! `GET /metrics`, so that Prometheus (or anything that reads the format)
//! can scrape every shard of a run and show the whole test while it goes.
//!
//! The workers never see a scrape: they store their counts into their own
//! live slots ([`crate::engine::Counters`]), and one small thread here reads
//! the slots when asked, and samples them ten times a second for the rate
//! achieved. That thread serves one connection at a time from a blocking
//! listener, and bounds each one (the request head must come within a
//! second and fit in 8 KiB; the answer must be taken within a second), so
//! that a scraper which hangs or sends garbage costs a second of the
//! thread's time, never the run.

pub mod encode;

use std::collections::VecDeque;
use std::io::{self, Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsFd as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::anyhow;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use crate::engine::{Counters, Plan};
use crate::exit::UsageError;
use crate::shape::curve::RateCurve;
use crate::watcher::Watcher;

/// The media type of OpenMetrics 1.0 text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// How often the thread samples the totals for the rate achieved (and how
/// long it waits for a scraper between samples), in ms as `poll` takes it.
const SAMPLE_EVERY_MS: u16 = 100;
const SAMPLE_EVERY: Duration = Duration::from_millis(SAMPLE_EVERY_MS as u64);

/// The span the rate achieved is measured over.
const RATE_WINDOW: Duration = Duration::from_secs(1);

/// How long a scraper has to send its request head, and to take the answer.
const DEADLINE: Duration = Duration::from_secs(1);

/// The longest request head read; a longer one is refused.
const MAX_HEAD: usize = 8 * 1024;

/// The rate the plan asks of this process, over the run: a shard's share
/// of the whole run's (its connections over the run's), so that the
/// shards' target rates add up to the run's in Prometheus.
#[derive(Debug, Clone)]
pub struct TargetRate {
    kind: RateKind,
    share: f64,
}

#[derive(Debug, Clone)]
enum RateKind {
    /// A closed loop asks for no rate.
    None,
    /// `-R` with uniform arrivals.
    Constant(f64),
    /// Stages or Poisson arrivals: the curve's rate, from the run's origin.
    Curve(Arc<RateCurve>),
}

impl TargetRate {
    /// What `plan` asks of this process.
    pub fn of(plan: &Plan) -> TargetRate {
        let kind = match (plan.rate, &plan.arrivals) {
            (Some(rate), _) => RateKind::Constant(rate),
            (None, Some(arrivals)) => RateKind::Curve(Arc::clone(arrivals.curve())),
            (None, None) => RateKind::None,
        };
        let share = plan.conn_ids.len() as f64 / f64::from(plan.connections().max(1));
        TargetRate { kind, share }
    }

    /// The rate asked for at `since_origin` into the run.
    pub fn at(&self, since_origin: Duration) -> Option<f64> {
        let whole = match &self.kind {
            RateKind::None => return None,
            RateKind::Constant(r) => *r,
            RateKind::Curve(c) => c.rate_at(since_origin.as_secs_f64()),
        };
        Some(whole * self.share)
    }
}

/// The metrics address, bound before the load so that a bad one ends the
/// run before anything starts, and so that its port is known (`:0`).
#[derive(Debug)]
pub struct Listener {
    inner: TcpListener,
    addr: SocketAddr,
}

impl Listener {
    /// Binds `addr` and says where the metrics are, on stderr.
    pub fn bind(addr: SocketAddr) -> anyhow::Result<Listener> {
        let unusable = |e: io::Error| {
            UsageError(anyhow!(
                "cannot listen on --metrics-addr {addr}: {e}; give an address of this machine \
                 and a free port (e.g. 0.0.0.0:9464, or 127.0.0.1:0 for any free port)"
            ))
        };
        let inner = TcpListener::bind(addr).map_err(unusable)?;
        let addr = inner.local_addr().map_err(unusable)?;
        inner.set_nonblocking(true).map_err(unusable)?;
        eprintln!("metrics on http://{addr}/metrics");
        Ok(Listener { inner, addr })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves the metrics of `counters` until [`Exporter::finish`], every
    /// sample labelled with `labels`.
    pub fn serve(
        self,
        counters: Arc<Counters>,
        target: TargetRate,
        labels: Vec<(String, String)>,
    ) -> io::Result<Exporter> {
        let watcher = Watcher::spawn("bench-metrics", move |done| {
            let mut server = Server {
                counters: &counters,
                target,
                labels,
                rate: Rate::default(),
            };
            server.run(&self.inner, done)
        })?;
        Ok(Exporter { watcher })
    }
}

/// The serving thread; [`finish`](Self::finish) (or dropping it) stops it
/// and closes the port.
pub struct Exporter {
    watcher: Watcher,
}

impl Exporter {
    pub fn finish(self) {
        self.watcher.finish();
    }
}

struct Server<'a> {
    counters: &'a Counters,
    target: TargetRate,
    labels: Vec<(String, String)>,
    rate: Rate,
}

impl Server<'_> {
    fn run(&mut self, listener: &TcpListener, done: &AtomicBool) {
        while !done.load(Ordering::Relaxed) {
            self.rate.sample(Instant::now(), self.counters.totals().0);
            let mut fds = [PollFd::new(listener.as_fd(), PollFlags::POLLIN)];
            if !matches!(poll(&mut fds, PollTimeout::from(SAMPLE_EVERY_MS)), Ok(n) if n > 0) {
                continue;
            }
            // Those waiting now, one at a time, and the flag between them.
            while !done.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        // A scraper that goes away mid-answer is its own loss.
                        let _ = answer(stream, || self.exposition());
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    // WouldBlock: nobody else waits; anything else (out of
                    // descriptors, a connection reset before it was taken)
                    // is retried on the next turn.
                    Err(_) => break,
                }
            }
        }
    }

    /// The metrics text now.
    fn exposition(&mut self) -> String {
        let now = Instant::now();
        let counts = self.counters.snapshot();
        let since_origin = self
            .counters
            .origin
            .get()
            .map_or(Duration::ZERO, |&o| now.saturating_duration_since(o));
        let sample = encode::Sample {
            counts: &counts,
            rate_achieved: self.rate.per_second(now, counts.requests),
            rate_target: self.target.at(since_origin),
        };
        encode::encode(&sample, &self.labels)
    }
}

/// The rate achieved: complete responses over the last second, from the
/// totals sampled every [`SAMPLE_EVERY`].
#[derive(Debug, Default)]
struct Rate {
    /// (when, requests), oldest first; the first is the newest sample at
    /// least [`RATE_WINDOW`] old, once the run is that old.
    samples: VecDeque<(Instant, u64)>,
}

impl Rate {
    fn sample(&mut self, now: Instant, requests: u64) {
        if self
            .samples
            .back()
            .is_some_and(|&(t, _)| now.saturating_duration_since(t) < SAMPLE_EVERY)
        {
            return;
        }
        self.samples.push_back((now, requests));
        while self
            .samples
            .get(1)
            .is_some_and(|&(t, _)| now.saturating_duration_since(t) >= RATE_WINDOW)
        {
            self.samples.pop_front();
        }
    }

    /// Requests per second from the oldest sample kept to (`now`, `requests`).
    fn per_second(&self, now: Instant, requests: u64) -> f64 {
        match self.samples.front() {
            Some(&(t, n)) if now > t => {
                requests.saturating_sub(n) as f64 / now.duration_since(t).as_secs_f64()
            }
            _ => 0.0,
        }
    }
}

/// Reads one request head from `stream` and answers it: the metrics for
/// `GET /metrics`, 404 for another path, 405 for another method, 400 for
/// what is not HTTP or too long; a scraper silent past [`DEADLINE`] gets
/// nothing. The connection is closed after the answer.
fn answer(mut stream: TcpStream, metrics: impl FnOnce() -> String) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    let deadline = Instant::now() + DEADLINE;
    let mut head = vec![0u8; MAX_HEAD];
    let mut len = 0;
    let request = loop {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(&head[..len]) {
            Ok(httparse::Status::Complete(_)) => {
                break Some((
                    req.method.unwrap_or_default().to_string(),
                    req.path.unwrap_or_default().to_string(),
                ))
            }
            Ok(httparse::Status::Partial) if len < MAX_HEAD => {}
            _ => break None,
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(());
        }
        stream.set_read_timeout(Some(left))?;
        match stream.read(&mut head[len..]) {
            Ok(0) => return Ok(()),
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // Silent past the deadline (WouldBlock), or gone.
            Err(_) => return Ok(()),
        }
    };
    let (status, content_type, body) = match request {
        Some((method, path)) if method == "GET" && metrics_path(&path) => {
            ("200 OK", CONTENT_TYPE, metrics())
        }
        Some((method, _)) if method != "GET" => (
            "405 Method Not Allowed",
            "text/plain; charset=utf-8",
            "only GET /metrics is served\n".to_string(),
        ),
        Some(_) => (
            "404 Not Found",
            "text/plain; charset=utf-8",
            "the metrics are at /metrics\n".to_string(),
        ),
        None => (
            "400 Bad Request",
            "text/plain; charset=utf-8",
            "not an HTTP/1.x request head of at most 8 KiB\n".to_string(),
        ),
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    stream.set_write_timeout(Some(DEADLINE))?;
    stream.write_all(response.as_bytes())?;
    // Close only our half, so that a scraper still sending sees our answer
    // rather than a reset.
    let _ = stream.shutdown(std::net::Shutdown::Write);
    Ok(())
}

/// `/metrics`, with or without a query (Prometheus may add one).
fn metrics_path(path: &str) -> bool {
    path.split('?').next() == Some("/metrics")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Shutdown;

    #[test]
    fn the_rate_is_over_the_last_second() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let mut r = Rate::default();
        assert_eq!(r.per_second(t0, 0), 0.0, "no sample yet");
        // 1000 responses a second for 3 s, then none.
        for i in 0..=30u64 {
            r.sample(ms(i * 100), i * 100);
        }
        assert!((r.per_second(ms(3000), 3000) - 1000.0).abs() < 1e-9);
        for i in 31..=45u64 {
            r.sample(ms(i * 100), 3000);
        }
        assert_eq!(r.per_second(ms(4500), 3000), 0.0);
        // Samples come no closer than SAMPLE_EVERY, and no more are kept
        // than the window needs.
        r.sample(ms(4510), 3000);
        assert!(r.samples.len() <= 12, "{} samples", r.samples.len());
    }

    #[test]
    fn the_rate_of_the_first_second_is_over_what_there_is() {
        let t0 = Instant::now();
        let mut r = Rate::default();
        r.sample(t0, 0);
        let half = t0 + Duration::from_millis(500);
        assert!((r.per_second(half, 100) - 200.0).abs() < 1e-9);
    }

    #[test]
    fn a_target_follows_the_curve_from_the_origin() {
        let stages = crate::shape::stage::Stages::new(vec![crate::shape::stage::Stage {
            duration: Duration::from_secs(10),
            target: crate::shape::stage::Target::Rate(1000.0),
        }])
        .unwrap();
        let whole = |kind| TargetRate { kind, share: 1.0 };
        let curve = whole(RateKind::Curve(Arc::new(RateCurve::new(&stages).unwrap())));
        assert_eq!(curve.at(Duration::from_secs(5)), Some(500.0));
        assert_eq!(whole(RateKind::Constant(7.0)).at(Duration::ZERO), Some(7.0));
        assert_eq!(whole(RateKind::None).at(Duration::from_secs(1)), None);
        // A shard with a quarter of the connections is asked a quarter.
        let quarter = TargetRate {
            kind: RateKind::Constant(1000.0),
            share: 0.25,
        };
        assert_eq!(quarter.at(Duration::ZERO), Some(250.0));
    }

    /// `request` sent to [`answer`] on a real socket; the whole reply.
    fn exchange(request: &[u8]) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        client.write_all(request).unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        let (server, _) = listener.accept().unwrap();
        answer(server, || "# EOF\n".to_string()).unwrap();
        let mut reply = String::new();
        client.read_to_string(&mut reply).unwrap();
        reply
    }

    #[test]
    fn get_metrics_is_answered_and_anything_else_refused() {
        let ok = exchange(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
        assert!(ok.contains(&format!("Content-Type: {CONTENT_TYPE}\r\n")));
        assert!(ok.ends_with("\r\n\r\n# EOF\n"), "{ok}");
        let query = exchange(b"GET /metrics?x=1 HTTP/1.0\r\n\r\n");
        assert!(query.starts_with("HTTP/1.1 200 OK\r\n"), "{query}");
        for (request, status) in [
            (&b"GET / HTTP/1.1\r\n\r\n"[..], "404"),
            (b"POST /metrics HTTP/1.1\r\n\r\n", "405"),
            (b"\x16\x03\x01garbage\r\n\r\n", "400"),
        ] {
            let reply = exchange(request);
            assert!(
                reply.starts_with(&format!("HTTP/1.1 {status} ")),
                "{request:?}: {reply}"
            );
        }
        let long = format!(
            "GET /metrics HTTP/1.1\r\nX: {}\r\n\r\n",
            "a".repeat(MAX_HEAD)
        );
        assert!(exchange(long.as_bytes()).starts_with("HTTP/1.1 400 "));
        // Closed before a whole head: no answer, no error.
        assert_eq!(exchange(b"GET /metr"), "");
    }

    #[test]
    fn a_silent_scraper_is_dropped_at_the_deadline() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        let handle = std::thread::spawn(move || answer(server, || unreachable!()));
        client
            .set_read_timeout(Some(DEADLINE * 20))
            .expect("a read timeout");
        let mut reply = Vec::new();
        // EOF (the thread let go of it), not our read timeout.
        client.read_to_end(&mut reply).unwrap();
        assert!(reply.is_empty());
        handle.join().unwrap().unwrap();
    }
}
