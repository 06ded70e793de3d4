//! The result file: one JSON document per run, saved under `results/`.
//!
//! These structs *are* the documented format (see `results/format/README.md` and
//! `results/format/schema.json`): every field that is written is read back by
//! `plot`, `compare` and `merge`, so changes must be additive and bump
//! [`SCHEMA_VERSION`] when they are not. Units live in field names (`_s`,
//! `_us`, `_bytes`); latencies are whole microseconds.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::metric::CheckOutcome;
use crate::report::diagnosis::Warning;

/// Version of this format; readers refuse documents with a newer major.
pub const SCHEMA_VERSION: u32 = 1;

/// The percentiles written under `latency.percentiles`, as their keys.
pub const PERCENTILE_KEYS: [&str; 7] = ["50", "75", "90", "99", "99.9", "99.99", "100"];

/// One run (or several merged runs) of the load generator.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunResult {
    pub schema_version: u32,
    pub tool: Tool,
    /// Wall-clock start of the measured phase (after warm-up), RFC 3339 UTC
    /// with millisecond precision, e.g. `2026-11-25T19:20:00.123Z`.
    pub started_at: String,
    /// `--label`, if given.
    #[serde(default)]
    pub label: Option<String>,
    /// The generator host.
    pub host: Host,
    /// Set by `merge`: one entry per input run, in input order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<Source>,
    /// Every option of the run, validated (sizes in bytes, durations in seconds).
    pub config: RunConfig,
    pub target: Target,
    /// True when SIGINT/SIGTERM stopped the run early.
    pub interrupted: bool,
    pub summary: Summary,
    /// Latency distribution. In open-loop (`--rate`) runs it is measured from
    /// each request's intended send time (coordinated-omission corrected);
    /// otherwise from the first byte written (with `--connection-per-request`,
    /// from the start of the connect) to the last byte of the response.
    /// Timed-out requests are included with their elapsed time, so the
    /// histogram counts `requests` plus `errors_by_kind.timeout`.
    pub latency: Latency,
    /// Open-loop runs only: latency from the actual send (service time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_uncorrected: Option<Latency>,
    /// One entry per second of the measured phase (the last may cover a
    /// partial second). Open-loop requests still in flight when `-d` ran out
    /// are waited for and counted in the last entry.
    pub timeline: Vec<TimelineEntry>,
    /// `--stage` runs: one entry per stage, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<StageResult>,
    /// Per-client counts, so that starvation shows.
    pub clients: Vec<ClientCount>,
    pub fairness: Fairness,
    /// The checks the run was judged by, in order: the default one (at least
    /// one request succeeded: `succeeded<1` fails the run), then each
    /// `--fail-on`. Any `failed` one makes the run exit 1. Absent from
    /// results made before checks existed, and from merged results.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckOutcome>,
    /// What a reader must not miss (failed requests, a rate not held and
    /// why, counts that disagree with the server's, shared CPUs), each with
    /// its `kind`, its figures and a `message`; decided by
    /// [`crate::report::diagnosis::diagnose`] when the result is built, and
    /// again by `merge`. Absent when there is nothing to say, and from
    /// results made before warnings were recorded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
    /// Whether the figures are about the server rather than bench-client:
    /// not valid when one of the `warnings` says the generator was the
    /// limit (see [`crate::report::diagnosis::verdict`] for the thresholds).
    /// Absent from results made before verdicts were recorded; readers then
    /// derive it from the result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
    /// Latency by phase (plain HTTP and HTTPS alike): name resolution,
    /// connect, TLS handshake, time to first byte. Absent from results made
    /// before phases were recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phases: Option<Phases>,
    /// https runs only: the TLS session figures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsInfo>,
    /// `--http2` runs: what was negotiated and how the streams fared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http2: Option<Http2Info>,
    /// What bench-client measured about itself over the measured phase.
    /// Absent from older results; `merge` lists every input's workers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generator: Option<Generator>,
    /// `--targets` runs: each target's figures, in file order; absent when
    /// the run drove one URL.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<TargetResult>,
    /// `--shard`: which part of which run this result is. `config` then
    /// describes the whole run; the figures are this shard's own. Absent
    /// when not sharded, and from merged results (their `sources` keep it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardInfo>,
    /// `--start-at`: when the measured phase was to begin and began, and
    /// the clock's synchronisation; `merge` adds the spread of its inputs'
    /// starts. Absent without `--start-at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<StartInfo>,
}

/// The `shard` block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardInfo {
    /// 0-based, below `count`.
    pub index: u32,
    pub count: u32,
    /// Shared by every shard of the run (`--run-id`, `$BENCH_RUN_ID`).
    pub run_id: String,
}

/// The `start` block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartInfo {
    /// `--start-at`, RFC 3339 UTC with microseconds.
    pub intended: String,
    /// The wall clock when the measured phase had begun and every worker
    /// was running: `started_at` with microseconds, or a little later when
    /// a worker woke late (in a merged result, the earliest input's).
    pub actual: String,
    /// `actual - intended`, milliseconds (in a merged result, the latest
    /// input's).
    pub late_ms: f64,
    /// What the host's kernel said of its clock (in a merged result, the
    /// worst input's figures, `synchronized` only if all were).
    pub clock: crate::clock::ClockInfo,
    /// Merged results: the latest input's actual start minus the
    /// earliest's, milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spread_ms: Option<f64>,
}

/// One target of a `--targets` file and what it got.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TargetResult {
    /// `METHOD URL`: what names the target in summaries, `compare` and `merge`.
    pub key: String,
    /// Its `# weight: N` (1 when none).
    pub weight: u32,
    /// Completed responses (any status) and failed attempts.
    pub requests: u64,
    pub errors: u64,
    /// As in `summary`: by status code, and by error kind.
    pub status_codes: BTreeMap<String, u64>,
    pub errors_by_kind: BTreeMap<String, u64>,
    /// As in `latency`, over this target's requests (timeouts included).
    pub latency: Latency,
}

/// The verdict on a run: can its figures be read as the server's?
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// True when no reason below holds.
    pub valid: bool,
    /// Why the run is not valid: the messages of the warnings that make it
    /// so, in the order of `warnings`; empty when `valid`.
    pub reasons: Vec<String>,
}

/// The generator's own figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Generator {
    /// One entry per worker thread, in worker order.
    pub workers: Vec<GeneratorWorker>,
}

/// One worker thread over the measured phase (from its start to the
/// worker's end, so an open loop's wait for its last responses is in it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GeneratorWorker {
    /// CPU time of the thread, user plus system (`getrusage(RUSAGE_THREAD)`).
    pub cpu_s: f64,
    /// Wall time the worker was measured over.
    pub wall_s: f64,
    /// `cpu_s / wall_s`: the share of one CPU the worker used, 0 to 1.
    pub cpu_share: f64,
    /// Time the thread was runnable but waiting for a CPU (run-queue delay,
    /// `/proc/thread-self/schedstat`); 0 where the kernel does not keep it.
    #[serde(default)]
    pub cpu_wait_s: f64,
    /// Share of `wall_s` the worker was busy, 0 to 1: the larger of the
    /// share its event loop spent outside its wait for events (`poll`) and
    /// the share it was running or waiting for a CPU (`(cpu_s +
    /// cpu_wait_s) / wall_s`). High with a low `cpu_share`: another process
    /// had its CPU.
    pub busy_share: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Host {
    /// `std::env::consts::OS`, e.g. `linux`.
    pub os: String,
    /// Kernel release (`uname -r`).
    pub kernel: String,
    /// CPU model name.
    pub cpu: String,
    /// Logical cores available to the process.
    pub cores: u32,
    #[serde(default)]
    pub hostname: String,
}

/// One input of a merged result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Source {
    pub host: Host,
    pub started_at: String,
    #[serde(default)]
    pub label: Option<String>,
    pub requests: u64,
    /// The input's `shard`, when it was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardInfo>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunConfig {
    pub url: String,
    pub method: String,
    /// `-H` values as given, `Name: value`.
    pub headers: Vec<String>,
    pub max_clients: u32,
    pub max_conns: u32,
    /// `max_clients * max_conns`.
    pub connections: u32,
    pub threads: u32,
    /// `-d`; null when the run is bounded by `-n`.
    pub duration_s: Option<f64>,
    /// `-n`; null when the run is bounded by time.
    pub requests: Option<u64>,
    /// Request body size in bytes (0 for none).
    pub payload_bytes: u64,
    pub body_file: Option<String>,
    pub connection_per_request: bool,
    pub timeout_s: f64,
    pub warmup_s: f64,
    /// `--rate`, total requests per second; null for closed-loop runs.
    #[serde(default)]
    pub rate: Option<f64>,
    /// `--stage`s, in order; absent when the run had none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<StageConfig>,
    /// Open-loop runs: how requests were spread in time, `uniform` or
    /// `poisson`; absent in closed-loop runs and in results made before
    /// arrivals could be chosen (which were uniform).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrivals: Option<String>,
    /// `--seed` of `poisson` arrivals (chosen at start when not given):
    /// the same seed and options send at the same intended times.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// `--server` model, if bench-client started the server.
    pub server: Option<String>,
    /// `--server-cpus`: the CPUs the server child was pinned to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_cpus: Option<Vec<usize>>,
    /// `--targets FILE`, as given; absent when the run drove one URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets_file: Option<String>,
    /// With `--targets`: `random` (by weight, from `seed`) or `round-robin`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets_order: Option<String>,
    /// The protocol the load went over: `http/1.1`, `h2` (HTTP/2 over TLS,
    /// by ALPN) or `h2c` (cleartext HTTP/2 with prior knowledge). Absent
    /// from results made before HTTP/2, which were all `http/1.1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// HTTP/2: `--streams`, the concurrent streams asked for per
    /// connection (the server's SETTINGS_MAX_CONCURRENT_STREAMS may cap
    /// it: see `http2.streams_in_flight`). Absent over HTTP/1.1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub streams: Option<u32>,
}

/// What a result without the field meant: every run before HTTP/2.
pub const DEFAULT_PROTOCOL: &str = "http/1.1";

impl RunConfig {
    /// The protocol the load went over; absent in older results, which
    /// were all HTTP/1.1.
    pub fn protocol(&self) -> &str {
        self.protocol.as_deref().unwrap_or(DEFAULT_PROTOCOL)
    }

    /// True when the load went over HTTP/2 (`h2` or `h2c`); `--http2=auto`
    /// that fell back records `http/1.1` and is not.
    pub fn is_http2(&self) -> bool {
        self.protocol() != DEFAULT_PROTOCOL
    }

    /// Requests a connection carries at once, as asked: `--streams` over
    /// HTTP/2, else 1 (HTTP/1.1 has one request in flight per connection,
    /// whatever `--streams` said before a fallback).
    pub fn streams_per_connection(&self) -> u32 {
        if self.is_http2() {
            self.streams.unwrap_or(1)
        } else {
            1
        }
    }
}

/// One `--stage`: over `duration_s` the load moves linearly from the
/// previous stage's target (0 before the first) to this one's. Exactly one
/// of the targets is present.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageConfig {
    pub duration_s: f64,
    /// Open loop: requests per second in all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_rate: Option<f64>,
    /// Closed loop: connections open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_connections: Option<u32>,
}

/// What one stage achieved, over its span of the measured phase.
/// Requests and errors count by when they were intended (open loop) or
/// started (closed loop), so that a response arriving after its stage
/// ended still belongs to it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StageResult {
    /// When the stage starts and ends, seconds from `started_at`.
    pub start_s: f64,
    pub end_s: f64,
    /// Open loop: the rate at the stage's end, and the requests the curve
    /// asks for over the stage divided by its length (its mean target).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_rate: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_target_rate: Option<f64>,
    /// Open loop: requests sent in the stage per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub achieved_rate: Option<f64>,
    /// Closed loop: the connections the stage ends at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_connections: Option<u32>,
    /// Completed responses and failed attempts of the stage.
    pub requests: u64,
    pub errors: u64,
    /// Requests sent in the stage (open loop).
    #[serde(default)]
    pub sent: u64,
    /// Completed per second of the stage.
    pub requests_per_sec: f64,
    pub p50_us: u64,
    pub p99_us: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Target {
    pub url: String,
    /// Present when bench-client started a reference server itself.
    pub server: Option<ServerInfo>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServerInfo {
    pub model: String,
    /// The server's shutdown totals line; null if it printed none.
    pub totals: Option<ServerTotals>,
}

/// The reference servers' shutdown line, saved as printed: the servers'
/// own type, so that the line and this part of the format cannot drift.
pub use reference_servers::wire::totals::TotalsLine as ServerTotals;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    /// Completed responses (any status).
    pub requests: u64,
    /// Failed requests, all kinds (see `errors_by_kind`). With `-n N`,
    /// `requests + errors == N` unless the run was interrupted.
    pub errors: u64,
    /// Length of the measured phase.
    pub duration_s: f64,
    /// `requests / duration_s`.
    pub requests_per_sec: f64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    /// Responses per status code, keys like `"200"`.
    pub status_codes: BTreeMap<String, u64>,
    /// Errors per kind (only kinds that occurred; the values add up to `errors`):
    /// `connect_refused` (nothing listening), `connect_timeout` (no connection
    /// within `--timeout`), `connect` (any other connect failure, e.g.
    /// `EADDRNOTAVAIL`), `reset` (`ECONNRESET`, `EPIPE`, `ECONNABORTED` while
    /// reading or writing), `read` (other read failures, and a close before the
    /// response was complete), `write`, `timeout` (no complete response within
    /// `--timeout`; such requests are also in `latency`), `invalid_response`
    /// (not HTTP/1.x). The OS error behind each failure is in
    /// `errors_by_cause`.
    pub errors_by_kind: BTreeMap<String, u64>,
    /// The same errors by kind and OS error name, `kind:CAUSE` (e.g.
    /// `reset:ECONNRESET`, `connect_refused:ECONNREFUSED`, `read:EOF`), for
    /// the errors that have a cause; absent when there were none.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub errors_by_cause: BTreeMap<String, u64>,
    /// Open-loop runs: the requested total rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_rate: Option<f64>,
    /// Open-loop runs: requests sent per second (over `duration_s`; in an
    /// `-n` run over its sends, up to the last one plus 1 / `target_rate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub achieved_rate: Option<f64>,
    /// Open-loop runs: requests sent more than 1 ms after they were due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_sends: Option<u64>,
    /// Open-loop runs: how precisely the client kept its schedule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pacing: Option<Pacing>,
}

/// How late requests went out against their due time (open loop). Requests
/// sent on their timer measure the generator's own pacing error; a late send
/// whose connection was still waiting for the previous response is the
/// server's doing, not the client's.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pacing {
    /// Requests sent on their timer (the connection was free when due).
    pub timer_sends: u64,
    pub schedule_error_p50_us: u64,
    pub schedule_error_p99_us: u64,
    pub schedule_error_max_us: u64,
    /// Of `late_sends`, those due while their connection was still busy.
    pub late_sends_busy: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Latency {
    /// Always `"us"`.
    pub unit: String,
    pub min: u64,
    pub mean: f64,
    pub stdev: f64,
    pub max: u64,
    /// Keys from [`PERCENTILE_KEYS`].
    pub percentiles: BTreeMap<String, u64>,
    /// The whole histogram: base64 of HdrHistogram's compressed V2 encoding
    /// (`V2DeflateSerializer`), decodable by any HdrHistogram implementation.
    pub hdr: String,
}

/// Where the time of a request went, phase by phase. Each clock:
/// - `resolve_us`: the URL's host name resolved to addresses, once, before
///   the run (`getaddrinfo`); absent with `--resolve` or `--server`, and
///   from merged results.
/// - `connect`: per new connection, from the `connect()` call to the socket
///   established (its writable event, with no socket error).
/// - `tls_handshake`: per new https connection, from the socket
///   established to the handshake done (the server's Finished processed).
/// - `ttfb`: per response, from the moment the request's first byte is
///   handed to the socket (or to TLS) to the first byte of the response
///   read (decrypted, with TLS).
///
/// Connections count when made for a measured request (or, in an open
/// loop without warm-up, ahead of the schedule).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Phases {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolve_us: Option<u64>,
    pub connect: PhaseLatency,
    /// https runs only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_handshake: Option<PhaseLatency>,
    pub ttfb: PhaseLatency,
}

/// One phase's histogram: the fields of `latency`, with its sample count.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhaseLatency {
    /// Samples in the histogram (connections for `connect` and
    /// `tls_handshake`, responses for `ttfb`).
    pub count: u64,
    #[serde(flatten)]
    pub latency: Latency,
}

/// https: how the sessions were set up.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TlsInfo {
    /// The negotiated version, e.g. `TLSv1_3`; null when no handshake finished.
    pub version: Option<String>,
    /// The negotiated cipher suite, e.g. `TLS13_AES_128_GCM_SHA256`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cipher: Option<String>,
    /// Handshakes that were full (a new session).
    pub handshakes_full: u64,
    /// Handshakes that resumed an earlier session (`--tls-resume on`).
    pub handshakes_resumed: u64,
    /// Whether session resumption was offered (`--tls-resume`).
    pub resumption: bool,
    /// A failure that stopped the run early (a certificate refused, a plain
    /// HTTP server), as printed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fatal: Option<String>,
}

/// `--http2` runs: the protocol chosen and the streams' figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Http2Info {
    /// `--http2` as given: `on` (HTTP/2 or a clear failure) or `auto`
    /// (HTTP/1.1 when the server does not speak HTTP/2).
    pub requested: String,
    /// `auto` fell back to HTTP/1.1 (`config.protocol` says `http/1.1`).
    pub fell_back: bool,
    /// The server's SETTINGS_MAX_CONCURRENT_STREAMS as first seen; null
    /// when it set none (unlimited) or no connection was made.
    pub server_max_streams: Option<u64>,
    /// Streams in flight per connection: `--streams`, capped by the server.
    pub streams_in_flight: u32,
    /// The receive windows bench-client announced, bytes: per stream
    /// (SETTINGS_INITIAL_WINDOW_SIZE) and for the connection.
    pub stream_window: u32,
    pub connection_window: u32,
    /// Connections that received a GOAWAY.
    pub goaways: u64,
    /// Requests the server refused unprocessed (above a GOAWAY's last
    /// stream id, or reset with REFUSED_STREAM) and that were sent again
    /// on another connection; each counts once, as the one request it is.
    pub resent: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// Seconds since `started_at` (the entry covers `[t_s, t_s + 1)`).
    pub t_s: u64,
    pub requests: u64,
    pub errors: u64,
    pub p50_us: u64,
    pub p99_us: u64,
    /// Open-loop runs: requests due in this second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_rate: Option<f64>,
    /// Open-loop runs: requests sent in this second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub achieved_rate: Option<f64>,
    /// Closed-loop `--stage` runs: the connections the stages ask for in
    /// the middle of this second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_connections: Option<u32>,
    /// Closed-loop `--stage` runs: connections that completed a request or
    /// failed one in this second (the count in force).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connections: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClientCount {
    pub id: u32,
    pub requests: u64,
    pub errors: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Fairness {
    /// Jain's fairness index over the clients' request counts: 1.0 when all
    /// clients completed the same number, 1/n when one client did all.
    pub jain: f64,
}
