//! Per-thread run statistics: a plain struct each worker fills without
//! locks, added together once at the end (`+=`), then turned into the
//! result's `summary`, `latency`, `timeline` and `clients` blocks.

use std::collections::BTreeMap;
use std::ops::AddAssign;
use std::time::Duration;

use hdrhistogram::serialization::{Deserializer, Serializer as _, V2Serializer};
use hdrhistogram::Histogram;

use crate::hdr;
use crate::result::{ClientCount, Fairness, TimelineEntry};

/// Highest status code counted on its own; anything above is kept as 999.
const MAX_STATUS: usize = 999;

/// What went wrong with a request attempt. The names are the keys of
/// `summary.errors_by_kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Failure {
    /// The server refused the connection (nothing listening).
    ConnectRefused,
    /// The connection was not established within `--timeout`.
    ConnectTimeout,
    /// Any other failure to connect (e.g. `EADDRNOTAVAIL`: out of local ports).
    Connect,
    /// The peer reset the connection (`ECONNRESET`, `EPIPE`, `ECONNABORTED`).
    Reset,
    /// Reading failed, or the connection closed before the response was complete.
    Read,
    /// Writing the request failed.
    Write,
    /// No complete response within `--timeout` (its latency is still recorded).
    Timeout,
    /// The response could not be framed as HTTP/1.x.
    InvalidResponse,
    /// The TLS handshake or a TLS record failed (the cause says how).
    Tls,
    /// The TLS handshake did not finish within `--timeout`.
    TlsHandshakeTimeout,
    /// HTTP/2: the server reset the stream (RST_STREAM) with a reason
    /// other than REFUSED_STREAM (refused streams are sent again).
    StreamReset,
    /// HTTP/2: the connection failed at the protocol level (a GOAWAY
    /// with an error, a frame the client could not accept).
    Http2,
}

impl Failure {
    pub const ALL: [Failure; 12] = [
        Failure::ConnectRefused,
        Failure::ConnectTimeout,
        Failure::Connect,
        Failure::Reset,
        Failure::Read,
        Failure::Write,
        Failure::Timeout,
        Failure::InvalidResponse,
        Failure::Tls,
        Failure::TlsHandshakeTimeout,
        Failure::StreamReset,
        Failure::Http2,
    ];

    /// Its place in [`ALL`](Self::ALL), where the per-kind counts keep it:
    /// the declaration order, so a cast, not a search.
    pub const fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        match self {
            Failure::ConnectRefused => "connect_refused",
            Failure::ConnectTimeout => "connect_timeout",
            Failure::Connect => "connect",
            Failure::Reset => "reset",
            Failure::Read => "read",
            Failure::Write => "write",
            Failure::Timeout => "timeout",
            Failure::InvalidResponse => "invalid_response",
            Failure::Tls => "tls",
            Failure::TlsHandshakeTimeout => "tls_handshake_timeout",
            Failure::StreamReset => "stream_reset",
            Failure::Http2 => "http2",
        }
    }
}

/// The detail kept beside an error kind: the OS error, or what the framer saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Cause {
    /// An `errno` value.
    Os(i32),
    /// The peer closed before the response was complete.
    Eof,
    /// The framer rejected the bytes, for the reason its id names
    /// ([`FrameError::cause_id`](crate::http::FrameError::cause_id)).
    Protocol(&'static str),
    /// A TLS failure, by the id of [`crate::tls::cause_id`].
    Tls(&'static str),
    /// Nothing more specific (timeouts).
    None,
}

impl Cause {
    pub fn from_io(e: &std::io::Error) -> Cause {
        e.raw_os_error().map_or(Cause::None, Cause::Os)
    }

    /// `ECONNRESET`, `EOF`, `http2_preface`, ...; `None` where there is
    /// nothing to add.
    pub fn name(self) -> Option<String> {
        match self {
            Cause::Os(code) => Some(format!("{:?}", nix::errno::Errno::from_raw(code))),
            Cause::Eof => Some("EOF".to_string()),
            Cause::Protocol(id) | Cause::Tls(id) => Some(id.to_string()),
            Cause::None => None,
        }
    }
}

/// Requests and errors that completed within one second of the measured phase.
#[derive(Debug, Clone, Default)]
pub struct Second {
    pub requests: u64,
    pub errors: u64,
    /// Open loop: requests actually sent in this second.
    pub sent: u64,
    /// Connections that completed or failed a request in this second.
    pub connections: u64,
    /// Latency (µs) of this second, for its p50 and p99.
    latency: SecondLatency,
}

/// A second's latency histogram, kept small because a run keeps one per
/// second per worker: none until something is recorded, a live histogram
/// (32-bit counts, sized for up to 100 ms, 5.6 KB, growing only if the
/// second sees more) while the second is current, and once the worker has
/// moved on, HdrHistogram's V2 encoding of it (a few hundred bytes). Kept
/// live, an hour's timeline cost ~20 MB per worker, and a soak saw the
/// client's memory grow by 6 KiB a second per worker.
#[derive(Debug, Clone, Default)]
enum SecondLatency {
    #[default]
    Empty,
    Live(Histogram<u32>),
    Packed(Box<[u8]>),
}

/// Latencies a timeline second holds before its histogram has to grow.
const SECOND_PRESIZED_US: u64 = 100_000;

impl Second {
    fn new_histogram() -> Histogram<u32> {
        let mut latency = Histogram::new_with_bounds(1, SECOND_PRESIZED_US, 2)
            .expect("static histogram bounds are valid");
        latency.auto(true);
        latency
    }

    #[inline]
    fn record(&mut self, us: u64) {
        // Cannot fail: the histogram grows as needed.
        let _ = self.live().record(us.clamp(1, hdr::MAX_LATENCY_US));
    }

    /// The histogram to record into, unpacked if it was packed (a late
    /// completion can still land in a second the worker has left).
    fn live(&mut self) -> &mut Histogram<u32> {
        // The usual case, already live, moves nothing.
        if !matches!(self.latency, SecondLatency::Live(_)) {
            self.latency = SecondLatency::Live(match std::mem::take(&mut self.latency) {
                SecondLatency::Packed(bytes) => unpack(&bytes),
                _ => Second::new_histogram(),
            });
        }
        match &mut self.latency {
            SecondLatency::Live(h) => h,
            _ => unreachable!("just made live"),
        }
    }

    /// Replaces a live histogram by its encoding, once the second is over.
    fn pack(&mut self) {
        if let SecondLatency::Live(h) = &self.latency {
            let mut bytes = Vec::new();
            // Serialising into memory cannot fail for a valid histogram.
            if V2Serializer::new().serialize(h, &mut bytes).is_ok() {
                self.latency = SecondLatency::Packed(bytes.into_boxed_slice());
            }
        }
    }

    /// Whether the latency is held encoded (for tests).
    #[cfg(test)]
    fn is_packed(&self) -> bool {
        matches!(self.latency, SecondLatency::Packed(_))
    }

    /// The histogram, decoded when packed; `None` when nothing was recorded.
    fn histogram(&self) -> Option<std::borrow::Cow<'_, Histogram<u32>>> {
        match &self.latency {
            SecondLatency::Empty => None,
            SecondLatency::Live(h) => Some(std::borrow::Cow::Borrowed(h)),
            SecondLatency::Packed(bytes) => Some(std::borrow::Cow::Owned(unpack(bytes))),
        }
    }

    /// The latency at quantile `q` (0 when nothing was recorded).
    pub fn quantile(&self, q: f64) -> u64 {
        match self.histogram() {
            Some(h) if !h.is_empty() => h.value_at_quantile(q),
            _ => 0,
        }
    }
}

/// Decodes what [`Second::pack`] encoded; an undecodable encoding (which
/// only a bug could produce) reads as an empty second.
fn unpack(bytes: &[u8]) -> Histogram<u32> {
    Deserializer::new()
        .deserialize(&mut &bytes[..])
        .unwrap_or_else(|_| Second::new_histogram())
}

impl AddAssign<&Second> for Second {
    fn add_assign(&mut self, o: &Second) {
        self.requests += o.requests;
        self.errors += o.errors;
        self.sent += o.sent;
        self.connections += o.connections;
        if let Some(h) = o.histogram() {
            // Cannot fail: `self` grows to whatever `o` holds.
            let _ = self.live().add(&*h);
        }
    }
}

/// One `--stage`'s share of a worker's requests: stages are few, so each
/// keeps a whole histogram, merged like `latency`.
#[derive(Debug, Clone)]
pub struct StageStats {
    pub requests: u64,
    pub errors: u64,
    /// Open loop: requests sent.
    pub sent: u64,
    /// Latency (µs), as recorded in `latency`.
    pub latency: Histogram<u64>,
}

impl Default for StageStats {
    fn default() -> StageStats {
        StageStats {
            requests: 0,
            errors: 0,
            sent: 0,
            latency: hdr::new_histogram(),
        }
    }
}

impl StageStats {
    #[inline]
    pub fn response(&mut self, latency_us: u64) {
        self.requests += 1;
        hdr::record(&mut self.latency, latency_us);
    }

    /// A failed attempt; a timeout carries its latency.
    #[inline]
    pub fn error(&mut self, timed_out_us: Option<u64>) {
        self.errors += 1;
        if let Some(us) = timed_out_us {
            hdr::record(&mut self.latency, us);
        }
    }
}

impl AddAssign<&StageStats> for StageStats {
    fn add_assign(&mut self, o: &StageStats) {
        self.requests += o.requests;
        self.errors += o.errors;
        self.sent += o.sent;
        // Same shape on both sides, so this cannot fail.
        let _ = self.latency.add(&o.latency);
    }
}

/// One `--targets` target's figures in one worker.
#[derive(Debug, Clone, Default)]
pub struct TargetStats {
    pub requests: u64,
    pub errors: u64,
    /// Errors by [`Failure`] (index = position in [`Failure::ALL`]).
    pub errors_by_kind: [u64; Failure::ALL.len()],
    /// `(status, responses)`: a few entries, searched linearly.
    pub status: Vec<(u16, u64)>,
    /// Latency (µs), as recorded in `latency`. Made on first use, and
    /// growing only as far as its largest sample: up to a thousand targets
    /// times every worker must not cost a full-range histogram each.
    pub latency: Option<Histogram<u64>>,
}

impl TargetStats {
    fn histogram(&mut self) -> &mut Histogram<u64> {
        self.latency.get_or_insert_with(hdr::new_small_histogram)
    }

    #[inline]
    pub fn response(&mut self, status: u16, latency_us: u64) {
        self.requests += 1;
        match self.status.iter_mut().find(|(s, _)| *s == status) {
            Some(e) => e.1 += 1,
            None => self.status.push((status, 1)),
        }
        hdr::record(self.histogram(), latency_us);
    }

    /// A failed attempt; a timeout carries its latency.
    #[inline]
    pub fn error(&mut self, kind: Failure, timed_out_us: Option<u64>) {
        self.errors += 1;
        let k = kind.index();
        self.errors_by_kind[k] += 1;
        if let Some(us) = timed_out_us {
            hdr::record(self.histogram(), us);
        }
    }

    /// `status_codes`, as in `summary`.
    pub fn status_codes(&self) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        for &(s, n) in &self.status {
            *out.entry(s.to_string()).or_insert(0) += n;
        }
        out
    }

    /// `errors_by_kind`, as in `summary`.
    pub fn errors_by_kind(&self) -> BTreeMap<String, u64> {
        kinds_by_name(&self.errors_by_kind)
    }

    /// The latency histogram, empty when nothing was recorded.
    pub fn latency(&self) -> Histogram<u64> {
        self.latency
            .clone()
            .unwrap_or_else(hdr::new_small_histogram)
    }
}

impl AddAssign<&TargetStats> for TargetStats {
    fn add_assign(&mut self, o: &TargetStats) {
        self.requests += o.requests;
        self.errors += o.errors;
        for (a, b) in self.errors_by_kind.iter_mut().zip(o.errors_by_kind) {
            *a += b;
        }
        for &(s, n) in &o.status {
            match self.status.iter_mut().find(|(x, _)| *x == s) {
                Some(e) => e.1 += n,
                None => self.status.push((s, n)),
            }
        }
        if let Some(h) = &o.latency {
            // Both auto-resize: this cannot fail.
            let _ = self.histogram().add(h);
        }
    }
}

/// What each timeline second was asked to carry.
#[derive(Debug, Clone, Copy)]
pub enum TimelineTarget<'a> {
    /// A closed loop without stages.
    None,
    /// `-R`: the same rate every second.
    Rate(f64),
    /// Open-loop stages or Poisson arrivals: the curve's requests due in
    /// each second, Λ(t + 1) - Λ(t).
    Curve(&'a crate::shape::curve::RateCurve),
    /// Closed-loop stages: the connections asked for mid-second.
    Connections(&'a crate::shape::curve::ConnectionCurve),
}

/// Everything one worker thread measured. Built per thread, merged with `+=`.
#[derive(Debug, Clone)]
pub struct Stats {
    /// Completed responses (any status).
    pub requests: u64,
    /// Failed attempts, all kinds.
    pub errors: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    /// Responses by status code (index = code, 999 = anything above).
    pub status: Vec<u64>,
    /// Errors by [`Failure`] (index = position in [`Failure::ALL`]).
    pub errors_by_kind: [u64; Failure::ALL.len()],
    /// Errors by kind and cause; a few entries, searched linearly (errors are rare).
    pub causes: Vec<(Failure, Cause, u64)>,
    /// Latency (µs): from the intended send time in open-loop runs, from the
    /// first byte written (or the connect) otherwise. Timed-out requests included.
    pub latency: Histogram<u64>,
    /// Open loop only: from the actual send (service time).
    pub latency_uncorrected: Histogram<u64>,
    /// How late requests were sent after their intended time (µs), for
    /// requests that waited on the timer (the pacing error of the client).
    pub schedule_error: Histogram<u64>,
    /// Per new connection (µs): from the `connect()` call to the socket
    /// established.
    pub connect: Histogram<u64>,
    /// Per new TLS connection (µs): from the socket established to the
    /// handshake done.
    pub tls_handshake: Histogram<u64>,
    /// Per response (µs): from the request's first byte written to the
    /// response's first byte read.
    pub ttfb: Histogram<u64>,
    /// TLS handshakes that were full, and that resumed a session.
    pub handshakes_full: u64,
    pub handshakes_resumed: u64,
    /// The TLS version and cipher suite of the last handshake.
    pub tls_version: Option<&'static str>,
    pub tls_cipher: Option<&'static str>,
    /// HTTP/2: connections that received a GOAWAY, and requests sent again
    /// because the server refused them unprocessed.
    pub goaways: u64,
    pub resent: u64,
    /// Open loop: requests sent more than 1 ms after they were due.
    pub late_sends: u64,
    /// Of `late_sends`: the connection was still busy with an earlier
    /// request when this one was due (the server is the limit).
    pub late_busy: u64,
    /// Requests sent in the measured phase (open loop: the achieved rate).
    pub sent: u64,
    /// Open loop: when the last of them was sent, from the start of the
    /// measured phase (what an `-n` run's achieved rate is measured over).
    pub last_sent: Duration,
    /// Per second of the measured phase.
    pub timeline: Vec<Second>,
    /// Per client: (requests, errors).
    pub clients: Vec<(u64, u64)>,
    /// Per `--stage`, in order (empty without stages).
    pub stages: Vec<StageStats>,
    /// Per `--targets` target, in file order (empty without a targets file).
    pub targets: Vec<TargetStats>,
}

impl Stats {
    pub fn new(clients: u32) -> Stats {
        Stats {
            requests: 0,
            errors: 0,
            bytes_sent: 0,
            bytes_received: 0,
            status: vec![0; MAX_STATUS + 1],
            errors_by_kind: [0; Failure::ALL.len()],
            causes: Vec::new(),
            latency: hdr::new_histogram(),
            latency_uncorrected: hdr::new_histogram(),
            schedule_error: hdr::new_histogram(),
            connect: hdr::new_histogram(),
            tls_handshake: hdr::new_histogram(),
            ttfb: hdr::new_histogram(),
            handshakes_full: 0,
            handshakes_resumed: 0,
            goaways: 0,
            resent: 0,
            tls_version: None,
            tls_cipher: None,
            late_sends: 0,
            late_busy: 0,
            sent: 0,
            last_sent: Duration::ZERO,
            timeline: Vec::new(),
            clients: vec![(0, 0); clients as usize],
            stages: Vec::new(),
            targets: Vec::new(),
        }
    }

    /// The timeline slot of second `t`, created on first use (once a second).
    #[inline]
    pub fn second(&mut self, t: usize) -> &mut Second {
        if t >= self.timeline.len() {
            // The worker has moved on: the second it leaves is final.
            if let Some(last) = self.timeline.last_mut() {
                last.pack();
            }
            self.timeline.resize_with(t + 1, Second::default);
        }
        &mut self.timeline[t]
    }

    /// A complete response at second `t` of the measured phase.
    #[inline]
    pub fn response(
        &mut self,
        t: usize,
        client: u32,
        status: u16,
        latency_us: u64,
        uncorrected_us: Option<u64>,
    ) {
        self.requests += 1;
        self.status[(status as usize).min(MAX_STATUS)] += 1;
        self.clients[client as usize].0 += 1;
        hdr::record(&mut self.latency, latency_us);
        if let Some(u) = uncorrected_us {
            hdr::record(&mut self.latency_uncorrected, u);
        }
        let s = self.second(t);
        s.requests += 1;
        s.record(latency_us);
    }

    /// A failed attempt at second `t`. Timeouts carry their elapsed time,
    /// which goes into the latency histograms as well.
    pub fn error(
        &mut self,
        t: usize,
        client: u32,
        kind: Failure,
        cause: Cause,
        timed_out: Option<(u64, Option<u64>)>,
    ) {
        self.errors += 1;
        let k = kind.index();
        self.errors_by_kind[k] += 1;
        match self
            .causes
            .iter_mut()
            .find(|(k, c, _)| *k == kind && *c == cause)
        {
            Some(entry) => entry.2 += 1,
            None => self.causes.push((kind, cause, 1)),
        }
        self.clients[client as usize].1 += 1;
        let s = self.second(t);
        s.errors += 1;
        if let Some((latency_us, uncorrected_us)) = timed_out {
            s.record(latency_us);
            hdr::record(&mut self.latency, latency_us);
            if let Some(u) = uncorrected_us {
                hdr::record(&mut self.latency_uncorrected, u);
            }
        }
    }

    /// `summary.status_codes`.
    pub fn status_codes(&self) -> BTreeMap<String, u64> {
        self.status
            .iter()
            .enumerate()
            .filter(|(_, &n)| n > 0)
            .map(|(code, &n)| (code.to_string(), n))
            .collect()
    }

    /// `summary.errors_by_kind`: every kind that occurred, by its name.
    pub fn errors_by_kind(&self) -> BTreeMap<String, u64> {
        kinds_by_name(&self.errors_by_kind)
    }

    /// `summary.errors_by_cause`: `kind:CAUSE` (e.g. `reset:ECONNRESET`,
    /// `read:EOF`, `invalid_response:http2_preface`) for the errors that have
    /// a cause.
    pub fn errors_by_cause(&self) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        for &(kind, cause, n) in &self.causes {
            if let Some(c) = cause.name() {
                *out.entry(format!("{}:{c}", kind.name())).or_insert(0) += n;
            }
        }
        out
    }

    /// `timeline` of a measured phase of `duration_s`: one entry per second
    /// begun (quiet seconds included). Open-loop runs (`rate`) add, per
    /// second, the requests due in it (`rate` times the part of the second
    /// that was measured: the last may be partial) and the requests sent.
    pub fn timeline_entries(
        &self,
        target: TimelineTarget<'_>,
        duration_s: f64,
    ) -> Vec<TimelineEntry> {
        let open = !matches!(
            target,
            TimelineTarget::None | TimelineTarget::Connections(_)
        );
        let empty = Second::default();
        let seconds = (duration_s.ceil() as usize).max(self.timeline.len());
        (0..seconds)
            .map(|t| {
                let s = self.timeline.get(t).unwrap_or(&empty);
                let span = (duration_s - t as f64).clamp(0.0, 1.0);
                TimelineEntry {
                    t_s: t as u64,
                    requests: s.requests,
                    errors: s.errors,
                    p50_us: s.quantile(0.5),
                    p99_us: s.quantile(0.99),
                    target_rate: match target {
                        TimelineTarget::Rate(r) => Some(r * span),
                        TimelineTarget::Curve(c) => {
                            let from = t as f64;
                            Some(c.cumulative(from + span) - c.cumulative(from))
                        }
                        _ => None,
                    },
                    achieved_rate: open.then_some(s.sent as f64),
                    target_connections: match target {
                        TimelineTarget::Connections(c) => {
                            Some(c.connections_at(t as f64 + span / 2.0))
                        }
                        _ => None,
                    },
                    connections: matches!(target, TimelineTarget::Connections(_))
                        .then_some(s.connections as u32),
                }
            })
            .collect()
    }

    /// `clients`.
    pub fn client_counts(&self) -> Vec<ClientCount> {
        self.clients
            .iter()
            .enumerate()
            .map(|(id, &(requests, errors))| ClientCount {
                id: id as u32,
                requests,
                errors,
            })
            .collect()
    }

    /// `fairness`: Jain's index over the clients' completed requests.
    pub fn fairness(&self) -> Fairness {
        Fairness {
            jain: jain_index(self.clients.iter().map(|c| c.0 as f64)),
        }
    }
}

impl AddAssign for Stats {
    fn add_assign(&mut self, o: Stats) {
        self.requests += o.requests;
        self.errors += o.errors;
        self.bytes_sent += o.bytes_sent;
        self.bytes_received += o.bytes_received;
        for (a, b) in self.status.iter_mut().zip(&o.status) {
            *a += b;
        }
        for (a, b) in self.errors_by_kind.iter_mut().zip(o.errors_by_kind) {
            *a += b;
        }
        for (kind, cause, n) in o.causes {
            match self
                .causes
                .iter_mut()
                .find(|(k, c, _)| *k == kind && *c == cause)
            {
                Some(entry) => entry.2 += n,
                None => self.causes.push((kind, cause, n)),
            }
        }
        // Same shape on both sides, so these cannot fail.
        let _ = self.latency.add(&o.latency);
        let _ = self.latency_uncorrected.add(&o.latency_uncorrected);
        let _ = self.schedule_error.add(&o.schedule_error);
        let _ = self.connect.add(&o.connect);
        let _ = self.tls_handshake.add(&o.tls_handshake);
        let _ = self.ttfb.add(&o.ttfb);
        self.handshakes_full += o.handshakes_full;
        self.handshakes_resumed += o.handshakes_resumed;
        self.tls_version = self.tls_version.or(o.tls_version);
        self.tls_cipher = self.tls_cipher.or(o.tls_cipher);
        self.goaways += o.goaways;
        self.resent += o.resent;
        self.late_sends += o.late_sends;
        self.late_busy += o.late_busy;
        self.sent += o.sent;
        self.last_sent = self.last_sent.max(o.last_sent);
        if o.timeline.len() > self.timeline.len() {
            self.timeline.resize_with(o.timeline.len(), Second::default);
        }
        for (a, b) in self.timeline.iter_mut().zip(&o.timeline) {
            *a += b;
        }
        for (a, b) in self.clients.iter_mut().zip(&o.clients) {
            a.0 += b.0;
            a.1 += b.1;
        }
        if o.stages.len() > self.stages.len() {
            self.stages.resize_with(o.stages.len(), StageStats::default);
        }
        for (a, b) in self.stages.iter_mut().zip(&o.stages) {
            *a += b;
        }
        if o.targets.len() > self.targets.len() {
            self.targets
                .resize_with(o.targets.len(), TargetStats::default);
        }
        for (a, b) in self.targets.iter_mut().zip(&o.targets) {
            *a += b;
        }
    }
}

/// Jain's fairness index `(Σx)² / (n·Σx²)`: 1 when all are equal (all
/// zero included), 1/n when one has everything.
pub fn jain_index(xs: impl Iterator<Item = f64> + Clone) -> f64 {
    let n = xs.clone().count() as f64;
    let sum: f64 = xs.clone().sum();
    let sum_sq: f64 = xs.map(|x| x * x).sum();
    if n == 0.0 || sum_sq == 0.0 {
        1.0
    } else {
        sum * sum / (n * sum_sq)
    }
}

/// Failure counts indexed like [`Failure::ALL`], as the result names them:
/// every kind that occurred, by its name.
fn kinds_by_name(counts: &[u64]) -> BTreeMap<String, u64> {
    Failure::ALL
        .iter()
        .zip(counts)
        .filter(|(_, &n)| n > 0)
        .map(|(k, &n)| (k.name().to_string(), n))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The per-kind counts index by declaration order: `index` must agree
    /// with `ALL`, or a count would land under another kind's name.
    #[test]
    fn failure_index_is_its_place_in_all() {
        for (i, kind) in Failure::ALL.iter().enumerate() {
            assert_eq!(kind.index(), i, "{}", kind.name());
        }
    }

    #[test]
    fn jain() {
        let table: &[(&[f64], f64)] = &[
            (&[], 1.0),
            (&[0.0, 0.0], 1.0),
            (&[5.0, 5.0, 5.0], 1.0),
            (&[10.0, 0.0, 0.0, 0.0], 0.25),
            (&[1.0, 3.0], 16.0 / 20.0),
        ];
        for &(xs, want) in table {
            let got = jain_index(xs.iter().copied());
            assert!((got - want).abs() < 1e-12, "{xs:?}: {got} != {want}");
        }
    }

    #[test]
    fn merge_adds_everything() {
        let mut a = Stats::new(2);
        a.response(0, 0, 200, 100, None);
        a.error(2, 1, Failure::Reset, Cause::Os(libc::ECONNRESET), None);
        let mut b = Stats::new(2);
        b.response(1, 1, 200, 300, None);
        b.response(1, 1, 503, 300, None);
        b.error(
            0,
            0,
            Failure::Timeout,
            Cause::None,
            Some((10_000_000, None)),
        );
        b.error(0, 0, Failure::Reset, Cause::Os(libc::ECONNRESET), None);
        a += b;
        assert_eq!((a.requests, a.errors), (3, 3));
        assert_eq!(a.latency.len(), 4, "3 responses and 1 timeout");
        assert_eq!(
            a.status_codes(),
            BTreeMap::from([("200".into(), 2), ("503".into(), 1)])
        );
        assert_eq!(
            a.errors_by_kind(),
            BTreeMap::from([("reset".into(), 2), ("timeout".into(), 1)])
        );
        assert_eq!(
            a.errors_by_cause(),
            BTreeMap::from([("reset:ECONNRESET".into(), 2)])
        );
        assert_eq!(a.clients, vec![(1, 2), (2, 1)]);
        let tl = a.timeline_entries(TimelineTarget::None, 2.5);
        assert_eq!(
            tl.iter().map(|e| e.requests).collect::<Vec<_>>(),
            vec![1, 2, 0]
        );
        assert_eq!(
            tl.iter().map(|e| e.errors).collect::<Vec<_>>(),
            vec![2, 0, 1]
        );
        assert!(tl[0].target_rate.is_none());
    }

    /// Framer errors are kept by their cause id, beside the OS error names.
    #[test]
    fn protocol_causes_are_keyed_by_their_id() {
        let mut a = Stats::new(1);
        a.error(
            0,
            0,
            Failure::InvalidResponse,
            Cause::Protocol("cl_and_te"),
            None,
        );
        let mut b = Stats::new(1);
        for id in ["cl_and_te", "http2_preface"] {
            b.error(0, 0, Failure::InvalidResponse, Cause::Protocol(id), None);
        }
        b.error(0, 0, Failure::Read, Cause::Eof, None);
        a += b;
        assert_eq!(
            a.errors_by_cause(),
            BTreeMap::from([
                ("invalid_response:cl_and_te".into(), 2),
                ("invalid_response:http2_preface".into(), 1),
                ("read:EOF".into(), 1),
            ])
        );
        assert_eq!(
            a.errors_by_kind(),
            BTreeMap::from([("invalid_response".into(), 3), ("read".into(), 1)])
        );
    }

    #[test]
    fn timeline_seconds_are_small_and_grow_for_slow_seconds() {
        let mut s = Stats::new(1);
        for us in [100, 200, 300] {
            s.response(0, 0, 200, us, None);
        }
        s.response(1, 0, 200, 7_200_000_000, None);
        let mut other = Stats::new(1);
        other.response(1, 0, 200, 5_000_000, None);
        s += other;
        let tl = s.timeline_entries(TimelineTarget::None, 2.0);
        assert_eq!(tl[0].p50_us, 200);
        assert!(
            tl[0].p99_us >= 299 && tl[0].p99_us <= 301,
            "{}",
            tl[0].p99_us
        );
        assert!(
            tl[1].p99_us >= hdr::MAX_LATENCY_US * 99 / 100,
            "{}",
            tl[1].p99_us
        );
        assert!(
            tl[1].p50_us >= 4_950_000 && tl[1].p50_us <= 5_050_000,
            "{}",
            tl[1].p50_us
        );
    }

    /// A finished second is kept encoded: small, and read back exactly.
    #[test]
    fn finished_seconds_are_packed_and_keep_their_percentiles() {
        let mut s = Stats::new(1);
        for us in 1..=1000 {
            s.response(0, 0, 200, us * 37, None);
        }
        let live = s.timeline_entries(TimelineTarget::None, 1.0)[0].clone();
        s.response(3, 0, 200, 500, None);
        assert!(s.timeline[0].is_packed(), "second 0 is over");
        assert!(!s.timeline[3].is_packed(), "second 3 is current");
        assert!(matches!(s.timeline[1].latency, SecondLatency::Empty));
        let SecondLatency::Packed(bytes) = &s.timeline[0].latency else {
            unreachable!()
        };
        assert!(bytes.len() < 2_000, "{} bytes", bytes.len());
        let packed = &s.timeline_entries(TimelineTarget::None, 4.0)[0];
        assert_eq!((packed.p50_us, packed.p99_us), (live.p50_us, live.p99_us));
        // A late completion in a packed second still counts.
        s.response(0, 0, 200, 1, None);
        assert_eq!(
            s.timeline_entries(TimelineTarget::None, 4.0)[0].requests,
            1001
        );
    }

    #[test]
    fn open_loop_timeline_has_requests_due_and_sent_per_second() {
        let mut s = Stats::new(1);
        s.second(0).sent = 100;
        s.second(1).sent = 40;
        let tl = s.timeline_entries(TimelineTarget::Rate(100.0), 1.5);
        assert_eq!(tl.len(), 2);
        assert_eq!(tl[0].target_rate, Some(100.0));
        assert_eq!(tl[0].achieved_rate, Some(100.0));
        assert_eq!(tl[1].target_rate, Some(50.0), "half a second was measured");
        assert_eq!(tl[1].achieved_rate, Some(40.0));
    }
}
