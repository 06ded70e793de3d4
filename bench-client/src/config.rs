//! The validated configuration of a load run, built from [`RunArgs`].
//!
//! Everything the user can get wrong is caught here, before any socket is
//! opened, with an error that quotes the flag, the bad value and the forms
//! that are accepted. The engine never sees clap's types.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use reference_servers::wire::authority::{self, Authority};
use reference_servers::wire::units::{self, UnitError};
use reference_servers::Model;

use crate::cli::RunArgs;
use crate::metric::{Check, MetricError};
use crate::result::{RunConfig, StageConfig};
use crate::shape::arrivals::Arrivals;
use crate::shape::curve::{CapacityError, ConnectionCurve, RateCurve};
use crate::shape::stage::{Kind, Stage, Stages, StagesParseError, Target, MAX_RUN};
use crate::shape::targets::{self, RequestTarget, TargetOrder, TargetsError};
use crate::shard::{self, Shard};
use crate::tls::{TlsOptions, TlsVersion};
use reference_servers::wire::url::UrlParts;

/// Largest accepted request body: the body is built once and kept in memory.
pub const MAX_BODY_BYTES: u64 = 1 << 30;

/// Longest run, warm-up or timeout: beyond any benchmark, and small enough
/// that adding it to an `Instant` cannot overflow.
const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 3600);

/// The check every run is judged by: it fails when no request succeeded (a
/// complete response with a status below 400), so that a dead or broken
/// service never passes as a fast one.
pub const DEFAULT_CHECK: &str = "succeeded<1";

/// Connections when neither `-c` nor `--max-clients` says: wrk's default.
pub const DEFAULT_CONNECTIONS: u32 = 10;

/// `--http2` as given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Http2Mode {
    /// HTTP/2 or a clear failure.
    On,
    /// HTTP/2 when the server speaks it, else HTTP/1.1.
    Auto,
}

impl Http2Mode {
    pub fn name(self) -> &'static str {
        match self {
            Http2Mode::On => "on",
            Http2Mode::Auto => "auto",
        }
    }
}

/// Most `--streams` per connection: far above any server's
/// SETTINGS_MAX_CONCURRENT_STREAMS in practice (nginx: 128).
const MAX_STREAMS: u32 = 10_000;

/// Why the command line does not describe a run.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid value '{value}' for {flag}: expected {expected}")]
    Invalid {
        flag: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("invalid value '{value}' for {flag}: expected {expected}")]
    Unit {
        flag: &'static str,
        value: String,
        expected: UnitError,
    },
    #[error(
        "--connections {connections} disagrees with --max-clients {clients} x --max-conns {conns} \
         = {product}: give --connections, or --max-clients and --max-conns, not both"
    )]
    Connections {
        connections: u64,
        clients: u64,
        conns: u64,
        product: u64,
    },
    #[error(
        "invalid value '{connections}' for --connections: expected a multiple of --max-conns \
         {conns} (N connections are N / M clients of M connections each), such as {below} or {above}"
    )]
    ConnectionsNotDivisible {
        connections: u64,
        conns: u64,
        below: u64,
        above: u64,
    },
    // Not a `source`: the message already ends with the check's own.
    #[error("--fail-on: {0}")]
    FailOn(MetricError),
    #[error("{flag} applies to https:// URLs only, and the URL is '{url}' (use https://)")]
    TlsWithHttp { flag: &'static str, url: String },
    #[error(transparent)]
    Pem(#[from] crate::tls::PemError),
    // Not a `source`: the message already ends with the stage's own.
    #[error("--stage: {0}")]
    Stage(StagesParseError),
    #[error(
        "--stage cannot be combined with {flags}: the stages set the run's length and load \
         (drop {flags}, or the --stage flags)"
    )]
    StageWith { flags: String },
    #[error("{flag} applies to an open loop only (-R, or --stage with rates such as 30s:1000/s)")]
    OpenLoopOnly { flag: &'static str },
    #[error(transparent)]
    Capacity(#[from] CapacityError),
    #[error("invalid URL '{url}': {reason}")]
    Url { url: String, reason: &'static str },
    #[error("invalid URL '{url}': {reason}")]
    Authority {
        url: String,
        reason: authority::AuthorityError,
    },
    #[error(transparent)]
    Targets(#[from] TargetsError),
    #[error(
        "--targets {file} and the URL argument '{url}' were both given: the targets file names \
         the URLs; give one or the other"
    )]
    TargetsAndUrl { file: String, url: String },
    #[error("{flag} cannot be combined with --targets (the targets file names the hosts)")]
    TargetsWith { flag: &'static str },
    #[error("--targets-order applies with --targets FILE only")]
    TargetsOrderAlone,
    #[error(
        "{file}: {targets} targets, more than the {limit} that per-target figures are kept for; \
         split the file"
    )]
    TooManyTargets {
        file: String,
        targets: usize,
        limit: usize,
    },
    #[error(
        "{file} names {hosts} hosts but the run has {connections} connections: each connection \
         belongs to one host, so give -c {hosts} or more"
    )]
    FewerConnectionsThanHosts {
        file: String,
        hosts: usize,
        connections: u32,
    },
    #[error("cannot read --body-file '{path}'")]
    BodyFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// `--start-at`, `--shard`, `--shards`, `--run-id`: the message names
    /// the flag, the value and what to do.
    #[error("{0}")]
    Distributed(String),
    #[error("--body-file '{path}' is {bytes} bytes, more than the limit of {limit} bytes")]
    BodyTooLarge {
        path: PathBuf,
        bytes: u64,
        limit: u64,
    },
}

/// The most targets a file may hold: each has its own figures (a
/// histogram per worker thread), and a summary of more would be unreadable.
pub const MAX_TARGETS: usize = 1_000;

/// `--targets FILE`, checked, with each target's request parts settled.
#[derive(Debug, Clone)]
pub struct Targets {
    pub file: PathBuf,
    /// In file order.
    pub list: Vec<RequestTarget>,
    /// Each target's `Name: value` headers: `-H`, less those the file sets
    /// again (the file's win), then the file's.
    pub headers: Vec<Vec<String>>,
    /// Each target's body: its `@file`, or the run's `--payload` / `--body-file`.
    pub bodies: Vec<Vec<u8>>,
    pub order: TargetOrder,
    /// The hosts (scheme, host, port), in order of first appearance, and
    /// each target's host.
    pub hosts: Vec<HttpUrl>,
    pub host_of: Vec<usize>,
}

impl Targets {
    fn new(
        file: PathBuf,
        list: Vec<RequestTarget>,
        order: TargetOrder,
        cli_headers: &[String],
        default_body: &[u8],
        connections: u32,
    ) -> Result<Targets, ConfigError> {
        let name = file.display().to_string();
        if list.len() > MAX_TARGETS {
            return Err(ConfigError::TooManyTargets {
                file: name,
                targets: list.len(),
                limit: MAX_TARGETS,
            });
        }
        let line_err = |t: &RequestTarget, what: String| {
            ConfigError::Targets(TargetsError::Line {
                file: file.clone(),
                line: t.line,
                what,
            })
        };
        let mut headers = Vec::with_capacity(list.len());
        let mut bodies = Vec::with_capacity(list.len());
        let mut hosts: Vec<HttpUrl> = Vec::new();
        let mut host_of = Vec::with_capacity(list.len());
        for t in &list {
            for (n, _) in &t.headers {
                if n.eq_ignore_ascii_case("content-length")
                    || n.eq_ignore_ascii_case("transfer-encoding")
                {
                    // The same reason as for -H: a length that disagrees
                    // with the bytes sent desynchronises the connection.
                    return Err(line_err(
                        t,
                        format!(
                            "the header {n} is refused: bench-client frames each body itself \
                             (from the target's @BODY-FILE)"
                        ),
                    ));
                }
            }
            let overridden = |h: &String| {
                let n = h.split_once(':').map_or("", |(n, _)| n.trim());
                t.headers.iter().any(|(f, _)| f.eq_ignore_ascii_case(n))
            };
            headers.push(
                cli_headers
                    .iter()
                    .filter(|h| !overridden(h))
                    .cloned()
                    .chain(t.headers.iter().map(|(n, v)| format!("{n}: {v}")))
                    .collect(),
            );
            bodies.push(match &t.body {
                Some(path) => read_body(path).map_err(|e| {
                    let why = std::error::Error::source(&e)
                        .map_or_else(|| e.to_string(), |s| format!("{e}: {s}"));
                    line_err(t, format!("the target's body: {why}"))
                })?,
                None => default_body.to_vec(),
            });
            let same = |h: &HttpUrl| {
                h.https == t.url.https
                    && h.port == t.url.port
                    && h.host.eq_ignore_ascii_case(&t.url.host)
            };
            host_of.push(match hosts.iter().position(same) {
                Some(i) => i,
                None => {
                    hosts.push(HttpUrl {
                        path: "/".into(),
                        ..t.url.clone()
                    });
                    hosts.len() - 1
                }
            });
        }
        if hosts.len() > connections as usize {
            return Err(ConfigError::FewerConnectionsThanHosts {
                file: name,
                hosts: hosts.len(),
                connections,
            });
        }
        Ok(Targets {
            file,
            list,
            headers,
            bodies,
            order,
            hosts,
            host_of,
        })
    }

    /// `METHOD URL`: a target's name in the result and the summary.
    pub fn key(t: &RequestTarget) -> String {
        format!("{} {}", t.method, t.url.to_url())
    }

    /// How many of `connections` each host gets: in proportion to its
    /// targets' weights (largest remainders), at least one each.
    pub fn connections_per_host(&self, connections: u32) -> Vec<u32> {
        let mut weight = vec![0u64; self.hosts.len()];
        for (t, &h) in self.list.iter().zip(&self.host_of) {
            weight[h] += u64::from(t.weight);
        }
        apportion(&weight, connections)
    }
}

/// Splits `n` into shares proportional to `weights` (largest remainders,
/// ties to the earlier), each share at least 1; `n` is at least the number
/// of weights.
pub fn apportion(weights: &[u64], n: u32) -> Vec<u32> {
    let k = weights.len() as u32;
    assert!(k > 0 && n >= k);
    // Everyone's one first, then the rest by weight.
    let rest = u64::from(n - k);
    let total: u64 = weights.iter().sum();
    let mut shares: Vec<u32> = weights
        .iter()
        .map(|&w| 1 + (u128::from(rest) * u128::from(w) / u128::from(total)) as u32)
        .collect();
    let mut left = n - shares.iter().sum::<u32>();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    let remainder = |i: usize| u128::from(rest) * u128::from(weights[i]) % u128::from(total);
    order.sort_by(|&a, &b| remainder(b).cmp(&remainder(a)).then(a.cmp(&b)));
    for i in order.into_iter().cycle() {
        if left == 0 {
            break;
        }
        shares[i] += 1;
        left -= 1;
    }
    shares
}

/// CPUs above this are refused: the kernel's `cpu_set_t` holds 1024.
const MAX_CPU: usize = 1023;

/// Parses a CPU list as taskset and /sys write it: `0`, `0,2`, `1-3,6`.
pub fn parse_cpu_list(text: &str) -> Result<Vec<usize>, ConfigError> {
    let invalid = || ConfigError::Invalid {
        flag: "--server-cpus",
        value: text.to_string(),
        expected: "a CPU list such as 0, 0,2 or 1-3 (CPU numbers from 0 to 1023)",
    };
    let mut cpus = Vec::new();
    for part in text.split(',') {
        let number = |s: &str| -> Result<usize, ConfigError> {
            let s = s.trim();
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid());
            }
            s.parse::<usize>()
                .ok()
                .filter(|&n| n <= MAX_CPU)
                .ok_or_else(invalid)
        };
        match part.split_once('-') {
            Some((lo, hi)) => {
                let (lo, hi) = (number(lo)?, number(hi)?);
                if lo > hi {
                    return Err(invalid());
                }
                cpus.extend(lo..=hi);
            }
            None => cpus.push(number(part)?),
        }
    }
    cpus.sort_unstable();
    cpus.dedup();
    Ok(cpus)
}

/// Where the run ends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stop {
    /// After this long (measured phase, warm-up not included).
    Duration(Duration),
    /// After exactly this many request attempts (responses plus failed attempts).
    Requests(u64),
}

/// Where the JSON result goes.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    File(PathBuf),
    /// `-o -`: the JSON on stdout, the text summary on stderr.
    Stdout,
    /// `DIR/<UTC timestamp>-<label>.json`.
    Dir(PathBuf),
    None,
}

/// Where the request body comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum BodySource {
    None,
    Payload(u64),
    File(PathBuf),
}

/// An `http://` or `https://` URL, split for request building and connecting.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpUrl {
    /// `https://`: the connection speaks TLS.
    pub https: bool,
    pub host: String,
    pub port: u16,
    /// Path and query, always starting with `/`.
    pub path: String,
}

impl HttpUrl {
    /// Parses `http[s]://host[:port][/path][?query]` (IPv6 hosts in brackets).
    pub fn parse(url: &str) -> Result<HttpUrl, ConfigError> {
        let bad = |reason| ConfigError::Url {
            url: url.to_string(),
            reason,
        };
        let parts = UrlParts::split(url);
        let https = match parts.scheme {
            Some(s) if s.eq_ignore_ascii_case("http") => false,
            Some(s) if s.eq_ignore_ascii_case("https") => true,
            _ => return Err(bad("expected http[s]://HOST[:PORT][/PATH]")),
        };
        if parts.authority.is_empty() {
            return Err(bad("missing host"));
        }
        let authority =
            Authority::parse(parts.authority).map_err(|reason| ConfigError::Authority {
                url: url.to_string(),
                reason,
            })?;
        Ok(HttpUrl {
            https,
            host: authority.host,
            port: authority.port.unwrap_or(if https { 443 } else { 80 }),
            path: parts.path_and_query().into_owned(),
        })
    }

    /// `host:port` as a `Host` header value and as a `ToSocketAddrs` string.
    pub fn authority(&self) -> String {
        authority::host_port(&self.host, self.port)
    }

    /// The URL written back, e.g. into the result.
    pub fn to_url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}{}", self.authority(), self.path)
    }
}

/// A validated load run.
#[derive(Debug, Clone)]
pub struct Config {
    /// The URL as given (with `--server`, its host and port are replaced at
    /// run time); with `--targets`, the first target's.
    pub url: HttpUrl,
    /// `--targets FILE`, read and checked.
    pub targets: Option<Targets>,
    pub method: String,
    /// `-H` values, each checked to be `Name: value`.
    pub headers: Vec<String>,
    pub body_source: BodySource,
    /// The request body, read or generated once.
    pub body: Vec<u8>,
    pub max_clients: u32,
    pub max_conns: u32,
    /// Worker threads asked for; `None` means available cores (at most the connections).
    pub threads: Option<u32>,
    pub stop: Stop,
    /// Open-loop total rate (requests per second); `None` is a closed loop.
    pub rate: Option<f64>,
    /// `--stage`s, checked: with them the load follows their curve and
    /// `stop` is their total; `rate` is then `None`.
    pub stages: Option<Stages>,
    /// How an open loop spreads its requests (`--arrivals`, `--seed`).
    pub arrivals: Arrivals,
    pub connection_per_request: bool,
    /// `--http2` (`on`) or `--http2=auto`; `None`: HTTP/1.1.
    pub http2: Option<Http2Mode>,
    /// `--streams`: HTTP/2 streams in flight per connection (1 without).
    pub streams: u32,
    /// Open loop: ask for a short scheduler slice (off with `--no-short-slice`).
    pub short_slice: bool,
    pub timeout: Duration,
    pub warmup: Duration,
    pub server: Option<Model>,
    /// CPUs the `--server` child is pinned to (sorted, no duplicates).
    pub server_cpus: Option<Vec<usize>>,
    /// `--server MODEL --tls`.
    pub server_tls: bool,
    /// The TLS flags (used only with https).
    pub tls: TlsOptions,
    /// `--resolve`: connect here instead of resolving the URL's host.
    pub resolve: Option<std::net::SocketAddr>,
    /// `--metrics-addr`: where the live metrics are served.
    pub metrics_addr: Option<std::net::SocketAddr>,
    pub output: Output,
    pub label: Option<String>,
    pub quiet: bool,
    /// `--fail-on` checks, in order.
    pub fail_on: Vec<Check>,
    /// What the user should know about how the command line was read (a
    /// lowered thread count, a lower-case method), printed before the run.
    pub notices: Vec<String>,
    /// `--start-at`, resolved at launch.
    pub start_at: Option<SystemTime>,
    /// `--shard I/N` or `--shards N`: every other field describes the
    /// whole run; this says which part of it this process makes.
    pub shard: Option<Shard>,
    /// `--run-id`, `$BENCH_RUN_ID`, or a random id when not sharded.
    pub run_id: String,
}

impl Config {
    /// Validates the command line; reads `--body-file`.
    pub fn from_args(args: &RunArgs) -> Result<Config, ConfigError> {
        if let (Some(file), Some(url)) = (&args.targets, &args.url) {
            return Err(ConfigError::TargetsAndUrl {
                file: file.display().to_string(),
                url: url.clone(),
            });
        }
        if args.targets.is_some() && args.server.is_some() {
            return Err(ConfigError::TargetsWith { flag: "--server" });
        }
        if args.targets_order.is_some() && args.targets.is_none() {
            return Err(ConfigError::TargetsOrderAlone);
        }
        let file_targets = args.targets.as_deref().map(targets::load).transpose()?;
        let url = match &file_targets {
            Some(list) => list[0].url.clone(),
            None => HttpUrl::parse(args.url.as_deref().unwrap_or(crate::cli::DEFAULT_URL))?,
        };
        let mut notices = Vec::new();
        let count =
            |flag: &'static str, value: &Option<String>| -> Result<Option<u64>, ConfigError> {
                value.as_deref().map(|v| parse_count(flag, v)).transpose()
            };
        let connections = count("--connections", &args.connections)?;
        let clients = count("--max-clients", &args.max_clients)?;
        let conns = count("--max-conns", &args.max_conns)?.unwrap_or(1);
        let threads = count("--threads", &args.threads)?;
        let requests = count("--requests", &args.requests)?;
        let clients = match (connections, clients) {
            (Some(n), Some(c)) if c.checked_mul(conns) != Some(n) => {
                return Err(ConfigError::Connections {
                    connections: n,
                    clients: c,
                    conns,
                    product: c.saturating_mul(conns),
                })
            }
            (Some(n), _) if n % conns != 0 => {
                let below = (n / conns * conns).max(conns);
                return Err(ConfigError::ConnectionsNotDivisible {
                    connections: n,
                    conns,
                    below,
                    above: below + conns,
                });
            }
            (Some(n), _) => n / conns,
            (None, Some(c)) => c,
            (None, None) => u64::from(DEFAULT_CONNECTIONS),
        };
        let too_many = match clients.checked_mul(conns) {
            Some(c) => c > i32::MAX as u64,
            None => true,
        };
        if too_many {
            return Err(ConfigError::Invalid {
                flag: "--max-clients x --max-conns",
                value: format!("{clients} x {conns}"),
                expected: "a product that fits the file descriptor limit",
            });
        }
        let (max_clients, max_conns) = (clients as u32, conns as u32);
        let threads = threads.map(|t| t.min(u64::from(u32::MAX)) as u32);
        if let Some(t) = threads {
            let total = max_clients * max_conns;
            if t > total {
                notices.push(format!(
                    "-t {t} lowered to {total}: a worker thread needs at least one connection"
                ));
            }
        }
        let timeout = parse_duration("--timeout", &args.timeout, false)?;
        let warmup = parse_duration("--warmup", &args.warmup, true)?;
        let rate = args.rate.as_deref().map(parse_rate).transpose()?;
        let stages = parse_stages(args, warmup)?;
        let stop = match (&stages, requests, &args.duration) {
            (Some(st), _, _) => Stop::Duration(st.total()),
            (None, Some(n), _) => Stop::Requests(n),
            (None, None, Some(d)) => Stop::Duration(parse_duration("--duration", d, false)?),
            (None, None, None) => Stop::Duration(Duration::from_secs(10)),
        };
        let open = rate.is_some() || stages.as_ref().is_some_and(|s| s.kind() == Kind::Open);
        let order = match args.targets_order.as_deref().map(str::trim) {
            None | Some("random") => Some(TargetOrder::Random { seed: 0 }),
            Some("round-robin") => Some(TargetOrder::RoundRobin),
            Some(other) => {
                return Err(ConfigError::Invalid {
                    flag: "--targets-order",
                    value: other.to_string(),
                    expected: "random or round-robin",
                })
            }
        };
        let seeded_targets =
            file_targets.is_some() && matches!(order, Some(TargetOrder::Random { .. }));
        // Shards must draw from one seed (mixed with each shard's index
        // later), or `merge` could not tell them one run: without --seed,
        // the run id they share gives it.
        let shared_seed = (args.shard.is_some() || args.shards.is_some())
            .then(|| {
                args.run_id
                    .clone()
                    .or_else(|| std::env::var(shard::RUN_ID_ENV).ok())
            })
            .flatten()
            .map(|id| shard::seed_of(id.trim()));
        let (arrivals, seed) = parse_arrivals(args, open, seeded_targets, shared_seed)?;
        // A closed loop's stages need a connection per slot; unless the
        // user sized the pool, size it to the peak.
        let (max_clients, max_conns) = match stages.as_ref().and_then(ConnectionCurve::new) {
            Some(curve) if connections.is_none() && args.max_clients.is_none() => (
                curve.max_connections().div_ceil(max_conns).max(1),
                max_conns,
            ),
            Some(curve) => {
                curve.check_capacity(max_clients, max_conns)?;
                (max_clients, max_conns)
            }
            None => (max_clients, max_conns),
        };
        let (body_source, body) = match (&args.payload, &args.body_file) {
            (Some(p), _) => {
                let n = parse_size("--payload", p)?;
                (BodySource::Payload(n), payload_bytes(n))
            }
            (None, Some(path)) => (BodySource::File(path.clone()), read_body(path)?),
            (None, None) => (BodySource::None, Vec::new()),
        };
        let method = match &args.method {
            Some(m) if is_token(m) => {
                // RFC 9110 9.1: methods are case-sensitive, so `get` is sent as
                // `get` (a server may rightly answer 501); say so, since wrk
                // and curl users rarely mean it.
                let upper = m.to_ascii_uppercase();
                if m != &upper && STANDARD_METHODS.contains(&upper.as_str()) {
                    notices.push(format!(
                        "-m {m} is sent as written: methods are case-sensitive (RFC 9110), \
                         so '{m}' is not {upper}; use -m {upper} for the standard method"
                    ));
                }
                m.clone()
            }
            Some(m) => {
                return Err(ConfigError::Invalid {
                    flag: "--method",
                    value: m.clone(),
                    expected: "an HTTP method token such as GET, POST or PUT",
                })
            }
            None if body_source != BodySource::None => "POST".to_string(),
            None => "GET".to_string(),
        };
        for h in &args.headers {
            let ok = match h.split_once(':') {
                Some((name, value)) => {
                    is_token(name) && !value.bytes().any(|b| b == b'\r' || b == b'\n')
                }
                None => false,
            };
            if !ok {
                return Err(ConfigError::Invalid {
                    flag: "--header",
                    value: h.clone(),
                    expected: "'Name: value', e.g. 'Accept: text/plain'",
                });
            }
            // The client frames every body itself: a user's length or coding
            // that disagrees with the bytes sent would desynchronise each
            // keep-alive connection, and the server would count garbage.
            let name = h.split_once(':').map_or("", |(n, _)| n.trim());
            if name.eq_ignore_ascii_case("content-length")
                || name.eq_ignore_ascii_case("transfer-encoding")
            {
                return Err(ConfigError::Invalid {
                    flag: "--header",
                    value: h.clone(),
                    expected: "a header other than Content-Length or Transfer-Encoding \
                               (bench-client frames the body itself; set its size with --payload or --body-file)",
                });
            }
        }
        let targets = match file_targets {
            Some(list) => Some(Targets::new(
                args.targets.clone().expect("loaded from it"),
                list,
                match order.expect("always set") {
                    TargetOrder::Random { .. } => TargetOrder::Random { seed },
                    rr => rr,
                },
                &args.headers,
                &body,
                max_clients * max_conns,
            )?),
            None => None,
        };
        // The TLS flags apply to every https target alike.
        let tls_url = targets
            .iter()
            .flat_map(|t| &t.list)
            .map(|t| &t.url)
            .find(|u| u.https)
            .unwrap_or(&url);
        let tls = tls_options(args, tls_url)?;
        let resolve = args
            .tls
            .resolve
            .as_deref()
            .map(|r| parse_resolve(r, &url))
            .transpose()?;
        let http2 = match args.http2.as_deref() {
            None => None,
            Some("on") => Some(Http2Mode::On),
            Some("auto") => Some(Http2Mode::Auto),
            Some(other) => {
                return Err(ConfigError::Invalid {
                    flag: "--http2",
                    value: other.to_string(),
                    expected: "no value (HTTP/2 or a clear failure) or =auto (HTTP/1.1 when the \
                               server does not speak HTTP/2)",
                })
            }
        };
        let streams = match args.streams {
            None => 1,
            Some(m) if (1..=MAX_STREAMS).contains(&m) => m,
            Some(m) => {
                return Err(ConfigError::Invalid {
                    flag: "--streams",
                    value: m.to_string(),
                    expected: "a whole number of streams per connection from 1 to 10000",
                })
            }
        };
        if args.connection_per_request && streams > 1 {
            return Err(ConfigError::Invalid {
                flag: "--streams",
                value: streams.to_string(),
                expected: "1 with --connection-per-request (one stream per connection, then \
                           close); drop one of the two",
            });
        }
        if http2.is_some() {
            let dropped = crate::http::h2_dropped_headers(&args.headers);
            if !dropped.is_empty() {
                notices.push(format!(
                    "HTTP/2 has no connection-specific headers: dropped {} (RFC 9113 8.2.2)",
                    dropped.join(", ")
                ));
            }
        }
        let connections = max_clients * max_conns;
        let (shard, run_id) = parse_shard(args, connections, stop, |k| std::env::var(k).ok())?;
        let start_at = args
            .start_at
            .as_deref()
            .map(|t| crate::start::parse(t, SystemTime::now()))
            .transpose()
            .map_err(ConfigError::Distributed)?;
        let output = match (&args.output, args.no_save) {
            (_, true) => Output::None,
            (Some(p), false) if p.as_os_str() == "-" => Output::Stdout,
            (Some(p), false) => Output::File(p.clone()),
            (None, false) => Output::Dir(args.results_dir.clone()),
        };
        Ok(Config {
            url,
            targets,
            method,
            headers: args.headers.clone(),
            body_source,
            body,
            max_clients,
            max_conns,
            threads,
            stop,
            rate,
            stages,
            arrivals,
            connection_per_request: args.connection_per_request,
            http2,
            streams,
            short_slice: !args.no_short_slice,
            timeout,
            warmup,
            server: args.server,
            server_cpus: args
                .server_cpus
                .as_deref()
                .map(parse_cpu_list)
                .transpose()?,
            server_tls: args.tls.tls,
            tls,
            resolve,
            metrics_addr: args
                .metrics_addr
                .as_deref()
                .map(parse_metrics_addr)
                .transpose()?,
            output,
            label: args.label.clone(),
            quiet: args.quiet,
            fail_on: args
                .fail_on
                .iter()
                .map(|e| Check::parse(e))
                .collect::<Result<_, _>>()
                .map_err(ConfigError::FailOn)?,
            notices,
            start_at,
            shard,
            run_id,
        })
    }

    /// Every check the run is judged by: the default one (at least one
    /// request succeeded), then each `--fail-on`.
    pub fn checks(&self) -> Vec<Check> {
        let default = Check::parse(DEFAULT_CHECK).expect("the default check is valid");
        std::iter::once(default)
            .chain(self.fail_on.iter().cloned())
            .collect()
    }

    /// Requests go out on a schedule: `-R`, or stages with rates.
    pub fn is_open(&self) -> bool {
        self.rate.is_some() || self.stages.as_ref().is_some_and(|s| s.kind() == Kind::Open)
    }

    /// The rate curve the open loop's connections read their due times
    /// from: the stages', or a constant `-R` for Poisson arrivals (over the
    /// warm-up and `-d`, or as long as a run may last with `-n`). `None`
    /// for `-R` with uniform arrivals, which keeps its own formula
    /// ([`crate::engine::Schedule::Open`]), and for a closed loop.
    pub fn arrival_curve(&self) -> Option<RateCurve> {
        if let Some(stages) = &self.stages {
            return RateCurve::new(stages);
        }
        let rate = self.rate?;
        if self.arrivals == Arrivals::Uniform {
            return None;
        }
        let span = match self.stop {
            Stop::Duration(d) => (self.warmup + d).min(MAX_RUN),
            Stop::Requests(_) => MAX_RUN,
        };
        let constant = |duration| Stage {
            duration,
            target: Target::Rate(rate),
        };
        let stages = Stages::new(vec![constant(Duration::ZERO), constant(span)])
            .expect("a constant positive rate over at most MAX_RUN is a valid stage list");
        RateCurve::new(&stages)
    }

    /// The mean rate the run asks for: `-R`, or the stages' requests over
    /// their length.
    pub fn target_rate(&self) -> Option<f64> {
        if let Some(rate) = self.rate {
            return Some(rate);
        }
        let stages = self.stages.as_ref()?;
        let curve = RateCurve::new(stages)?;
        Some(curve.total() / stages.total().as_secs_f64())
    }

    /// The protocol asked for: `h2` (https) or `h2c` (http) with
    /// `--http2`, else `http/1.1`. `--http2=auto` may end on `http/1.1`;
    /// the result records what was used.
    pub fn protocol(&self) -> &'static str {
        match (self.http2, self.url.https || self.server_tls) {
            (None, _) => "http/1.1",
            (Some(_), true) => "h2",
            (Some(_), false) => "h2c",
        }
    }

    /// `--max-clients * --max-conns`.
    pub fn connections(&self) -> u32 {
        self.max_clients * self.max_conns
    }

    /// Worker threads actually used: at least 1, at most one per connection
    /// this process makes.
    pub fn effective_threads(&self) -> u32 {
        let default = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
        let own = self.own_connections().len() as u32;
        self.threads.unwrap_or(default).clamp(1, own.max(1))
    }

    /// The run-wide ids of the connections this process makes: all of
    /// them, or its shard's block.
    pub fn own_connections(&self) -> Range<u32> {
        match &self.shard {
            Some(s) => s.connections(self.connections()),
            None => 0..self.connections(),
        }
    }

    /// Where this process stops: `-d` as given, or its shard's part of `-n`.
    pub fn own_stop(&self) -> Stop {
        match (&self.shard, self.stop) {
            // A uniform open loop: the shard's connections' own counts, so
            // that the shards send the one-machine schedule.
            (Some(s), Stop::Requests(n)) if self.is_open() && self.arrival_curve().is_none() => {
                Stop::Requests(s.requests_by_connection(n, self.connections()))
            }
            (Some(s), Stop::Requests(n)) => Stop::Requests(s.requests(n)),
            (_, stop) => stop,
        }
    }

    /// This process's part of the whole run's load: its share of the
    /// connections, and so of an open loop's schedule (1 when not sharded).
    pub fn own_share(&self) -> f64 {
        f64::from(self.own_connections().len() as u32) / f64::from(self.connections().max(1))
    }

    /// The `config` block of the result; `url` is the URL actually driven.
    pub fn run_config(&self, url: &str) -> RunConfig {
        RunConfig {
            url: url.to_string(),
            method: self.method.clone(),
            headers: self.headers.clone(),
            max_clients: self.max_clients,
            max_conns: self.max_conns,
            connections: self.connections(),
            threads: self.effective_threads(),
            duration_s: match self.stop {
                Stop::Duration(d) => Some(d.as_secs_f64()),
                Stop::Requests(_) => None,
            },
            requests: match self.stop {
                Stop::Requests(n) => Some(n),
                Stop::Duration(_) => None,
            },
            payload_bytes: self.body.len() as u64,
            body_file: match &self.body_source {
                BodySource::File(p) => Some(p.display().to_string()),
                _ => None,
            },
            connection_per_request: self.connection_per_request,
            protocol: Some(self.protocol().to_string()),
            streams: self.http2.map(|_| self.streams),
            timeout_s: self.timeout.as_secs_f64(),
            warmup_s: self.warmup.as_secs_f64(),
            rate: self.rate,
            stages: self
                .stages
                .iter()
                .flat_map(|s| s.as_slice())
                .map(|s| StageConfig {
                    duration_s: s.duration.as_secs_f64(),
                    target_rate: match s.target {
                        Target::Rate(r) => Some(r),
                        Target::Connections(_) => None,
                    },
                    target_connections: match s.target {
                        Target::Connections(c) => Some(c),
                        Target::Rate(_) => None,
                    },
                })
                .collect(),
            arrivals: self.is_open().then(|| {
                match self.arrivals {
                    Arrivals::Uniform => "uniform",
                    Arrivals::Poisson { .. } => "poisson",
                }
                .to_string()
            }),
            seed: match (self.arrivals, &self.targets) {
                (Arrivals::Poisson { seed }, _) if self.is_open() => Some(seed),
                (
                    _,
                    Some(Targets {
                        order: TargetOrder::Random { seed },
                        ..
                    }),
                ) => Some(*seed),
                _ => None,
            },
            targets_file: self.targets.as_ref().map(|t| t.file.display().to_string()),
            targets_order: self.targets.as_ref().map(|t| {
                match t.order {
                    TargetOrder::Random { .. } => "random",
                    TargetOrder::RoundRobin => "round-robin",
                }
                .to_string()
            }),
            server: self.server.map(|m| m.name().to_string()),
            server_cpus: self.server_cpus.clone(),
        }
    }
}

/// The TLS flags, checked: files read and parsed, versions known, and none
/// given with an http:// URL (a flag that would silently do nothing is a
/// mistake worth saying). `--server --tls` makes the URL https later.
fn tls_options(run: &RunArgs, url: &HttpUrl) -> Result<TlsOptions, ConfigError> {
    let args = &run.tls;
    let resume = match args.tls_resume.as_str() {
        "on" => true,
        "off" => false,
        other => {
            return Err(ConfigError::Invalid {
                flag: "--tls-resume",
                value: other.to_string(),
                expected: "on or off",
            })
        }
    };
    let version = match args.tls_version.as_deref() {
        None => None,
        Some("1.2") => Some(TlsVersion::V1_2),
        Some("1.3") => Some(TlsVersion::V1_3),
        Some(other) => {
            return Err(ConfigError::Invalid {
                flag: "--tls-version",
                value: other.to_string(),
                expected: "1.2 or 1.3",
            })
        }
    };
    let client_cert = match (&args.cert, &args.key) {
        (Some(c), Some(k)) => Some((c.clone(), k.clone())),
        (None, None) => None,
        (Some(c), None) => {
            return Err(ConfigError::Invalid {
                flag: "--cert",
                value: c.display().to_string(),
                expected: "a client certificate together with its --key FILE",
            })
        }
        (None, Some(k)) => {
            return Err(ConfigError::Invalid {
                flag: "--key",
                value: k.display().to_string(),
                expected: "a private key together with its --cert FILE",
            })
        }
    };
    if !url.https && !args.tls {
        let given = [
            ("--cacert", args.cacert.is_some()),
            ("--insecure", args.insecure),
            ("--cert", client_cert.is_some()),
            ("--tls-version", version.is_some()),
            ("--tls-resume", !resume),
        ];
        if let Some((flag, _)) = given.iter().find(|(_, on)| *on) {
            return Err(ConfigError::TlsWithHttp {
                flag,
                url: url.to_url(),
            });
        }
    }
    if let Some((cert, key)) = &client_cert {
        crate::tls::read_certs("--cert", cert)?;
        crate::tls::read_key(key)?;
    }
    let cacert = match &args.cacert {
        Some(path) => Some((path.clone(), crate::tls::read_certs("--cacert", path)?)),
        None => None,
    };
    Ok(TlsOptions {
        cacert,
        insecure: args.insecure,
        client_cert,
        version,
        resume,
    })
}

/// `--metrics-addr IP:PORT`: an IP address, not a name, so that what is
/// bound is what was asked for.
fn parse_metrics_addr(text: &str) -> Result<std::net::SocketAddr, ConfigError> {
    text.parse().map_err(|_| ConfigError::Invalid {
        flag: "--metrics-addr",
        value: text.to_string(),
        expected: "IP:PORT, e.g. 0.0.0.0:9464, [::]:9464, or 127.0.0.1:0 for any free port",
    })
}

/// `--resolve HOST:PORT:ADDR` (ADDR an IP address, IPv6 in brackets or
/// not), which must name the URL's host and port, as curl's does to apply.
fn parse_resolve(text: &str, url: &HttpUrl) -> Result<std::net::SocketAddr, ConfigError> {
    let invalid = |expected| ConfigError::Invalid {
        flag: "--resolve",
        value: text.to_string(),
        expected,
    };
    const FORM: &str = "HOST:PORT:ADDR with the URL's host and port and an IP address, \
                        e.g. example.com:443:127.0.0.1";
    // HOST:PORT ends at the first colon after a bracketed IPv6 host, if
    // any; the shared authority rule reads it.
    let after_host = if text.starts_with('[') {
        text.find(']').map_or(text.len(), |i| i + 1)
    } else {
        0
    };
    let end = after_host + text[after_host..].find(':').ok_or_else(|| invalid(FORM))?;
    let rest = &text[end + 1..];
    let (port, addr) = rest.split_once(':').ok_or_else(|| invalid(FORM))?;
    let host_port = &text[..end + 1 + port.len()];
    let authority = Authority::parse(host_port).map_err(|_| invalid(FORM))?;
    let port = authority.port.ok_or_else(|| invalid(FORM))?;
    let addr = addr.trim_start_matches('[').trim_end_matches(']');
    let ip: std::net::IpAddr = addr.parse().map_err(|_| invalid(FORM))?;
    if !authority.host.eq_ignore_ascii_case(&url.host) || port != url.port {
        return Err(invalid(FORM));
    }
    Ok(std::net::SocketAddr::new(ip, port))
}

/// Methods of RFC 9110 and RFC 5789, whose lower-case spelling is most
/// likely a slip.
const STANDARD_METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
];

/// Parses a count of at least 1 (connections, threads, requests). Signs are
/// refused with the same message as any other non-number.
pub fn parse_count(flag: &'static str, s: &str) -> Result<u64, ConfigError> {
    let t = s.trim();
    match t.parse::<u64>() {
        Ok(n) if n > 0 && t.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
        _ => Err(ConfigError::Invalid {
            flag,
            value: s.to_string(),
            expected: "a whole number of at least 1",
        }),
    }
}

/// `--shard I/N` or `--shards N` (the index from `env`'s
/// `JOB_COMPLETION_INDEX`) and the run id (`--run-id`, else `env`'s
/// `BENCH_RUN_ID`; a random one only when not sharded, since shards must
/// share theirs). Every shard must get a connection, and with `-n` a request.
fn parse_shard(
    args: &RunArgs,
    connections: u32,
    stop: Stop,
    env: impl Fn(&str) -> Option<String>,
) -> Result<(Option<Shard>, String), ConfigError> {
    let shard = match (&args.shard, &args.shards) {
        (Some(s), _) => Some(Shard::parse(s)),
        (None, Some(n)) => Some(Shard::from_count(n, env(shard::INDEX_ENV).as_deref())),
        (None, None) => None,
    }
    .transpose()
    .map_err(ConfigError::Distributed)?;
    let run_id = match (&args.run_id, env(shard::RUN_ID_ENV)) {
        (Some(id), _) => Some(shard::check_run_id(id, "--run-id")),
        (None, Some(id)) => Some(shard::check_run_id(id.trim(), shard::RUN_ID_ENV)),
        (None, None) => None,
    }
    .transpose()
    .map_err(ConfigError::Distributed)?;
    let Some(s) = shard else {
        return Ok((None, run_id.unwrap_or_else(shard::random_run_id)));
    };
    let flag = match &args.shard {
        Some(text) => format!("--shard {text}"),
        None => format!("--shards {} (index {})", s.count, s.index),
    };
    let Some(run_id) = run_id else {
        return Err(ConfigError::Distributed(format!(
            "{flag} needs the run id that all shards share, so that merge can tell the run's \
             shards from another run's: give --run-id ID (the same on every shard) or set {}",
            shard::RUN_ID_ENV
        )));
    };
    if s.count > connections {
        return Err(ConfigError::Distributed(format!(
            "{flag}: {} shards but the run has {connections} connections, so {} of them would \
             have none; give -c {} or more, or use at most {connections} shards",
            s.count,
            s.count - connections,
            s.count
        )));
    }
    if let Stop::Requests(n) = stop {
        if u64::from(s.count) > n {
            return Err(ConfigError::Distributed(format!(
                "{flag}: -n {n} over {} shards leaves a shard without a request; give -n {} \
                 or more, or use at most {n} shards",
                s.count, s.count
            )));
        }
    }
    Ok((Some(s), run_id))
}

/// `--stage`s, checked, and refused beside the flags whose job they take.
fn parse_stages(args: &RunArgs, warmup: Duration) -> Result<Option<Stages>, ConfigError> {
    if args.stages.is_empty() {
        return Ok(None);
    }
    let flags: Vec<&str> = [
        (args.duration.is_some(), "-d/--duration"),
        (args.requests.is_some(), "-n/--requests"),
        (args.rate.is_some(), "-R/--rate"),
        // The stages ramp from 0: a warm-up before them would be a second,
        // unshaped start.
        (!warmup.is_zero(), "--warmup"),
    ]
    .into_iter()
    .filter_map(|(given, flag)| given.then_some(flag))
    .collect();
    if !flags.is_empty() {
        return Err(ConfigError::StageWith {
            flags: flags.join(", "),
        });
    }
    Stages::parse(&args.stages)
        .map(Some)
        .map_err(ConfigError::Stage)
}

/// `--arrivals` and `--seed`: uniform unless asked, and a seed drawn now
/// when none is given, so that the result can name it and be repeated.
/// `seeded_targets`: `--targets-order random` takes the seed too, in any loop.
/// `shared_seed`: a sharded run's seed when none is given (the shards must
/// share it).
fn parse_arrivals(
    args: &RunArgs,
    open: bool,
    seeded_targets: bool,
    shared_seed: Option<u64>,
) -> Result<(Arrivals, u64), ConfigError> {
    if !open {
        if args.arrivals.is_some() {
            return Err(ConfigError::OpenLoopOnly { flag: "--arrivals" });
        }
        if args.seed.is_some() && !seeded_targets {
            return Err(ConfigError::OpenLoopOnly { flag: "--seed" });
        }
    }
    let seed = match args.seed.as_deref() {
        Some(s) => match s.trim().parse::<u64>() {
            Ok(n) if s.trim().bytes().all(|b| b.is_ascii_digit()) => n,
            _ => {
                return Err(ConfigError::Invalid {
                    flag: "--seed",
                    value: s.to_string(),
                    expected: "a whole number from 0 to 18446744073709551615",
                })
            }
        },
        None => shared_seed.unwrap_or_else(random_seed),
    };
    match args.arrivals.as_deref().map(str::trim) {
        None | Some("uniform") => Ok((Arrivals::Uniform, seed)),
        Some("poisson") => Ok((Arrivals::Poisson { seed }, seed)),
        Some(other) => Err(ConfigError::Invalid {
            flag: "--arrivals",
            value: other.to_string(),
            expected: "uniform or poisson",
        }),
    }
}

/// A seed nobody chose: the clock and the process id, mixed, so that two
/// runs started in the same second still differ.
fn random_seed() -> u64 {
    use rand::{RngCore as _, SeedableRng as _};
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mixed = nanos ^ (u64::from(std::process::id()) << 32);
    rand_xoshiro::SplitMix64::seed_from_u64(mixed).next_u64()
}

/// Parses `-R`: requests per second, above 0 and at most a billion.
fn parse_rate(s: &str) -> Result<f64, ConfigError> {
    let t = s.trim();
    let plain = !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    match t.parse::<f64>() {
        Ok(r) if plain && r.is_finite() && r > 0.0 && r <= 1e9 => Ok(r),
        _ => Err(ConfigError::Invalid {
            flag: "--rate",
            value: s.to_string(),
            expected: "requests per second, a number above 0 (e.g. 1, 2000, 0.5)",
        }),
    }
}

/// Parses a size with the one reader the servers use too (`512`, `64k`,
/// `64KB`, `64KiB`, `1MiB`: every multiple is binary), at most 1 GiB.
pub fn parse_size(flag: &'static str, s: &str) -> Result<u64, ConfigError> {
    units::parse_size(s, MAX_BODY_BYTES).map_err(|expected| ConfigError::Unit {
        flag,
        value: s.to_string(),
        expected,
    })
}

/// Parses a duration with the one reader the servers use too (`10` seconds,
/// `10s`, `500ms`, `2m`, `1h 30m`), at most a year; zero only where
/// `allow_zero` (e.g. `--warmup 0`).
pub fn parse_duration(
    flag: &'static str,
    s: &str,
    allow_zero: bool,
) -> Result<Duration, ConfigError> {
    let d = units::parse_duration(s, MAX_DURATION).map_err(|expected| ConfigError::Unit {
        flag,
        value: s.to_string(),
        expected,
    })?;
    if d.is_zero() && !allow_zero {
        return Err(ConfigError::Invalid {
            flag,
            value: s.to_string(),
            expected: "a duration above zero, such as 10s, 500ms or 2m",
        });
    }
    Ok(d)
}

/// A body of `n` printable bytes (a repeating alphabet, so captures stay readable).
fn payload_bytes(n: u64) -> Vec<u8> {
    (0..n).map(|i| b'a' + (i % 26) as u8).collect()
}

fn read_body(path: &Path) -> Result<Vec<u8>, ConfigError> {
    let io = |source| ConfigError::BodyFile {
        path: path.to_path_buf(),
        source,
    };
    let len = std::fs::metadata(path).map_err(io)?.len();
    if len > MAX_BODY_BYTES {
        return Err(ConfigError::BodyTooLarge {
            path: path.to_path_buf(),
            bytes: len,
            limit: MAX_BODY_BYTES,
        });
    }
    std::fs::read(path).map_err(io)
}

/// RFC 9110 `token`: what a method or a header name may be made of.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use clap::Parser;

    fn config(args: &[&str]) -> Result<Config, ConfigError> {
        let mut argv = vec!["bench-client"];
        argv.extend_from_slice(args);
        Config::from_args(&Cli::try_parse_from(argv).expect("clap accepts").run)
    }

    fn targets_file(text: &str) -> (tempfile::TempDir, String) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.txt");
        std::fs::write(&p, text).unwrap();
        let p = p.to_str().unwrap().to_string();
        (dir, p)
    }

    #[test]
    fn file_headers_override_cli_headers_of_the_same_name() {
        let (_d, f) = targets_file("GET http://h:1/\nx-a: file\n\nGET http://h:1/b\n");
        let c = config(&["--targets", &f, "-H", "X-A: cli", "-H", "X-B: cli"]).unwrap();
        let t = c.targets.unwrap();
        assert_eq!(t.headers[0], ["X-B: cli", "x-a: file"]);
        assert_eq!(t.headers[1], ["X-A: cli", "X-B: cli"]);
        assert_eq!(c.url.to_url(), "http://h:1/", "the first target's");
    }

    #[test]
    fn targets_take_a_seed_in_a_closed_loop_and_refuse_what_cannot_apply() {
        let (_d, f) = targets_file("GET http://h:1/\n\nGET https://g:2/\n");
        let c = config(&["--targets", &f, "--seed", "5"]).unwrap();
        assert_eq!(c.run_config("x").seed, Some(5));
        let t = c.targets.unwrap();
        assert_eq!((t.hosts.len(), t.host_of.as_slice()), (2, &[0, 1][..]));
        assert!(matches!(
            config(&[
                "--targets",
                &f,
                "--targets-order",
                "round-robin",
                "--seed",
                "5"
            ]),
            Err(ConfigError::OpenLoopOnly { flag: "--seed" })
        ));
        assert!(matches!(
            config(&["--targets-order", "random"]),
            Err(ConfigError::TargetsOrderAlone)
        ));
        assert!(matches!(
            config(&["--targets", &f, "--targets-order", "zigzag"]),
            Err(ConfigError::Invalid {
                flag: "--targets-order",
                ..
            })
        ));
        assert!(matches!(
            config(&["--targets", &f, "-c", "1"]),
            Err(ConfigError::FewerConnectionsThanHosts { hosts: 2, .. })
        ));
        let (_d, bad) = targets_file("GET http://h:1/\nContent-Length: 3\n");
        let e = config(&["--targets", &bad]).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("{bad}:1: the header Content-Length")),
            "{e}"
        );
    }

    #[test]
    fn connections_are_apportioned_by_weight_with_one_each_at_least() {
        assert_eq!(apportion(&[3, 1], 4), [3, 1]);
        assert_eq!(apportion(&[1, 1, 1], 10), [4, 3, 3]);
        assert_eq!(apportion(&[1_000_000, 1], 2), [1, 1]);
        assert_eq!(apportion(&[7], 5), [5]);
        for n in 3..50 {
            assert_eq!(apportion(&[5, 2, 9], n).iter().sum::<u32>(), n);
        }
    }

    #[test]
    fn stages_set_the_length_and_size_a_closed_pool() {
        let c = config(&["--stage", "30s:1000/s", "--stage", "2m:1000/s"]).unwrap();
        assert_eq!(c.stop, Stop::Duration(Duration::from_secs(150)));
        assert!(c.is_open());
        assert_eq!(c.rate, None);
        assert_eq!(c.arrivals, Arrivals::Uniform);
        assert_eq!(c.connections(), DEFAULT_CONNECTIONS, "-c is the pool");
        // Λ = 15,000 + 120,000 over 150 s.
        assert_eq!(c.target_rate(), Some(900.0));
        let c = config(&["--stage", "1m:200", "--max-conns", "3"]).unwrap();
        assert!(!c.is_open());
        assert_eq!((c.max_clients, c.max_conns), (67, 3));
        assert!(c.arrival_curve().is_none());
        let c = config(&[
            "-R",
            "100",
            "-d",
            "2s",
            "--arrivals",
            "poisson",
            "--seed",
            "9",
        ])
        .unwrap();
        assert_eq!(c.arrivals, Arrivals::Poisson { seed: 9 });
        let curve = c.arrival_curve().expect("poisson -R reads a curve");
        assert_eq!(curve.total(), 200.0);
        // -R with uniform arrivals keeps its own formula.
        assert!(config(&["-R", "100"]).unwrap().arrival_curve().is_none());
        assert!(matches!(
            config(&["--seed", "x", "-R", "1"]),
            Err(ConfigError::Invalid { flag: "--seed", .. })
        ));
    }

    /// `--shard`, `--shards` with the index from the environment, and the
    /// run id: what a shard gets, and each refusal naming what to give.
    #[test]
    fn shards_and_run_ids() {
        let args = |extra: &[&str]| {
            let mut argv = vec!["bench-client"];
            argv.extend_from_slice(extra);
            Cli::try_parse_from(argv).expect("clap accepts").run
        };
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let n = Stop::Requests(9001);
        let (s, id) =
            parse_shard(&args(&["--shard", "1/3", "--run-id", "r1"]), 6, n, env(&[])).unwrap();
        assert_eq!((s, id.as_str()), (Some(Shard { index: 1, count: 3 }), "r1"));
        let vars = &[("JOB_COMPLETION_INDEX", "2"), ("BENCH_RUN_ID", "uid-7")];
        let (s, id) = parse_shard(&args(&["--shards", "3"]), 6, n, env(vars)).unwrap();
        assert_eq!(
            (s, id.as_str()),
            (Some(Shard { index: 2, count: 3 }), "uid-7")
        );
        // --run-id wins over the environment.
        let (_, id) =
            parse_shard(&args(&["--shards", "3", "--run-id", "x"]), 6, n, env(vars)).unwrap();
        assert_eq!(id, "x");
        let (s, id) = parse_shard(&args(&[]), 6, n, env(&[])).unwrap();
        assert!(
            s.is_none() && id.len() == 16,
            "a random id when not sharded"
        );
        let e = |extra: &[&str], conns, stop| {
            parse_shard(&args(extra), conns, stop, env(&[]))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            e(&["--shard", "0/3"], 6, n),
            "--shard 0/3 needs the run id that all shards share, so that merge can tell the \
             run's shards from another run's: give --run-id ID (the same on every shard) or set \
             BENCH_RUN_ID"
        );
        assert_eq!(
            e(&["--shard", "4/5", "--run-id", "r"], 4, n),
            "--shard 4/5: 5 shards but the run has 4 connections, so 1 of them would have none; \
             give -c 5 or more, or use at most 4 shards"
        );
        assert_eq!(
            e(&["--shard", "0/3", "--run-id", "r"], 6, Stop::Requests(2)),
            "--shard 0/3: -n 2 over 3 shards leaves a shard without a request; give -n 3 or \
             more, or use at most 2 shards"
        );
        assert!(e(&["--shards", "3", "--run-id", "r"], 6, n).contains("JOB_COMPLETION_INDEX"));
        assert!(e(&["--shard", "0/3", "--run-id", "a b"], 6, n).contains("for --run-id"));
        assert!(Cli::try_parse_from(["bench-client", "--shard", "0/2", "--shards", "2"]).is_err());
    }

    /// Shards given no --seed draw from the one their run id gives, so
    /// that their configs (which merge compares) agree.
    #[test]
    fn shards_without_a_seed_share_one_from_the_run_id() {
        let seed = |shard: &str, id: &str| {
            config(&[
                "--shard",
                shard,
                "--run-id",
                id,
                "-c",
                "4",
                "-R",
                "100",
                "--arrivals",
                "poisson",
            ])
            .unwrap()
            .run_config("x")
            .seed
        };
        assert_eq!(seed("0/2", "run-a"), seed("1/2", "run-a"));
        assert_ne!(seed("0/2", "run-a"), seed("0/2", "run-b"));
        assert_eq!(seed("0/2", "run-a"), Some(crate::shard::seed_of("run-a")));
    }

    /// A shard's config is the whole run's; its own part is derived.
    #[test]
    fn a_shard_makes_its_part_of_the_whole_run() {
        let c = config(&[
            "--shard", "0/4", "--run-id", "r", "-c", "10", "-n", "9001", "-R", "1000", "-t", "8",
        ])
        .unwrap();
        assert_eq!((c.connections(), c.stop), (10, Stop::Requests(9001)));
        assert_eq!(c.own_connections(), 0..3);
        // A uniform open loop: its 3 connections' one-machine counts (901
        // + 900 + 900); a closed loop: a quarter of -n (2251).
        assert_eq!(c.own_stop(), Stop::Requests(2701));
        let closed =
            config(&["--shard", "0/4", "--run-id", "r", "-c", "10", "-n", "9001"]).unwrap();
        assert_eq!(closed.own_stop(), Stop::Requests(2251));
        assert!((c.own_share() - 0.3).abs() < 1e-12);
        assert_eq!(c.effective_threads(), 3, "at most one per own connection");
        let rc = c.run_config("http://h/");
        assert_eq!(
            (rc.connections, rc.requests, rc.rate),
            (10, Some(9001), Some(1000.0))
        );
        let c = config(&["-c", "10", "-n", "5"]).unwrap();
        assert_eq!(
            (c.own_connections(), c.own_stop()),
            (0..10, Stop::Requests(5))
        );
        assert_eq!(c.own_share(), 1.0);
    }

    #[test]
    fn server_cpu_lists() {
        assert_eq!(parse_cpu_list("0").unwrap(), vec![0]);
        assert_eq!(parse_cpu_list("3,1-2,2").unwrap(), vec![1, 2, 3]);
        for bad in ["", "a", "1-", "-1", "3-1", "1024", "0,,1", "+1"] {
            let err = parse_cpu_list(bad).unwrap_err().to_string();
            assert_eq!(
                err,
                format!(
                    "invalid value '{bad}' for --server-cpus: expected a CPU list such as 0, 0,2 or 1-3 (CPU numbers from 0 to 1023)"
                )
            );
        }
    }

    // The spellings of sizes and durations have their one table in
    // `reference_servers::wire::units`; these check the client's limits.
    #[test]
    fn client_size_and_duration_limits() {
        assert_eq!(parse_size("--payload", "1GiB").unwrap(), 1 << 30);
        assert_eq!(parse_size("--payload", "64kb").unwrap(), 65_536);
        assert_eq!(
            parse_size("--payload", "2g").unwrap_err().to_string(),
            "invalid value '2g' for --payload: expected a size of at most 1GiB"
        );
        assert_eq!(
            parse_duration("--duration", "10", false).unwrap(),
            Duration::from_secs(10)
        );
        assert_eq!(
            parse_duration("--warmup", "0", true).unwrap(),
            Duration::ZERO
        );
        assert_eq!(
            parse_duration("--duration", "0", false)
                .unwrap_err()
                .to_string(),
            "invalid value '0' for --duration: expected a duration above zero, such as 10s, 500ms or 2m"
        );
        assert_eq!(
            parse_duration("--duration", "400days", false)
                .unwrap_err()
                .to_string(),
            "invalid value '400days' for --duration: expected a duration of at most 365 days"
        );
    }

    #[test]
    fn counts_refuse_signs_zero_and_fractions() {
        assert_eq!(parse_count("--connections", "10").unwrap(), 10);
        for bad in ["0", "-1", "+1", "1.5", "", "ten"] {
            assert_eq!(
                parse_count("--connections", bad).unwrap_err().to_string(),
                format!("invalid value '{bad}' for --connections: expected a whole number of at least 1")
            );
        }
        for bad in ["-5", "0", "inf", "NaN", "1e3", "2e9"] {
            assert!(
                config(&["-R", bad])
                    .unwrap_err()
                    .to_string()
                    .starts_with(&format!(
                        "invalid value '{bad}' for --rate: expected requests per second"
                    )),
                "{bad}"
            );
        }
    }

    #[test]
    fn connections_as_in_wrk() {
        let c = config(&["-c", "12"]).unwrap();
        assert_eq!((c.max_clients, c.max_conns), (12, 1));
        let c = config(&["-c", "12", "--max-conns", "4"]).unwrap();
        assert_eq!((c.max_clients, c.max_conns), (3, 4));
        let c = config(&["-c", "12", "--max-clients", "3", "--max-conns", "4"]).unwrap();
        assert_eq!((c.max_clients, c.max_conns), (3, 4));
        let c = config(&["--max-conns", "4"]).unwrap();
        assert_eq!((c.max_clients, c.max_conns), (10, 4));
        assert_eq!(
            config(&["-c", "10", "--max-conns", "4"])
                .unwrap_err()
                .to_string(),
            "invalid value '10' for --connections: expected a multiple of --max-conns 4 \
             (N connections are N / M clients of M connections each), such as 8 or 12"
        );
        assert_eq!(
            config(&["-c", "2", "--max-conns", "4"])
                .unwrap_err()
                .to_string(),
            "invalid value '2' for --connections: expected a multiple of --max-conns 4 \
             (N connections are N / M clients of M connections each), such as 4 or 8"
        );
        assert_eq!(
            config(&["-c", "10", "--max-clients", "3"])
                .unwrap_err()
                .to_string(),
            "--connections 10 disagrees with --max-clients 3 x --max-conns 1 = 3: \
             give --connections, or --max-clients and --max-conns, not both"
        );
    }

    #[test]
    fn notices_for_lowered_threads_and_lower_case_methods() {
        let c = config(&["-c", "2", "-t", "8"]).unwrap();
        assert_eq!(c.effective_threads(), 2);
        assert_eq!(
            c.notices,
            ["-t 8 lowered to 2: a worker thread needs at least one connection"]
        );
        let c = config(&["-m", "get"]).unwrap();
        assert_eq!(c.method, "get", "sent as written");
        assert_eq!(
            c.notices,
            ["-m get is sent as written: methods are case-sensitive (RFC 9110), so 'get' is not GET; use -m GET for the standard method"]
        );
        assert!(config(&["-m", "PURGE"]).unwrap().notices.is_empty());
        assert!(config(&["-m", "purge"]).unwrap().notices.is_empty());
    }

    /// Was the hidden BENCH_CLIENT_NO_SHORT_SLICE environment variable.
    #[test]
    fn short_slice_is_a_flag() {
        assert!(config(&[]).unwrap().short_slice);
        assert!(!config(&["--no-short-slice"]).unwrap().short_slice);
    }

    #[test]
    fn output_to_stdout() {
        assert_eq!(config(&["-o", "-"]).unwrap().output, Output::Stdout);
    }

    #[test]
    fn urls() {
        let ok: &[(&str, &str, u16, &str)] = &[
            ("http://127.0.0.1:8888/", "127.0.0.1", 8888, "/"),
            ("http://localhost", "localhost", 80, "/"),
            ("HTTP://h:1/a/b?c=d#frag", "h", 1, "/a/b?c=d"),
            ("http://h:2?q", "h", 2, "/?q"),
            ("http://[::1]:9/x", "::1", 9, "/x"),
            ("http://h:/x", "h", 80, "/x"),
            ("http://:8890/", "127.0.0.1", 8890, "/"),
        ];
        for &(input, host, port, path) in ok {
            let u = HttpUrl::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(
                (u.host.as_str(), u.port, u.path.as_str()),
                (host, port, path)
            );
        }
        for bad in [
            "ftp://x/",
            "127.0.0.1:8080",
            "http://",
            "http://h:99999/",
            "http://[::1/",
        ] {
            assert!(
                matches!(
                    HttpUrl::parse(bad),
                    Err(ConfigError::Url { .. } | ConfigError::Authority { .. })
                ),
                "{bad}"
            );
        }
        let u = HttpUrl::parse("https://x/").unwrap();
        assert!(u.https);
        assert_eq!((u.port, u.to_url().as_str()), (443, "https://x:443/"));
    }

    #[test]
    fn error_messages_name_flag_value_and_forms() {
        let e = config(&["--payload", "64x"]).unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "invalid value '64x' for --payload: expected {}",
                units::SIZE_FORMS
            )
        );
        let e = config(&["-d", "ten"]).unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "invalid value 'ten' for --duration: expected {}",
                units::DURATION_FORMS
            )
        );
        let e = config(&["-H", "NoColon"]).unwrap_err().to_string();
        assert!(e.starts_with("invalid value 'NoColon' for --header"), "{e}");
        let e = config(&["--max-conns", "0"]).unwrap_err().to_string();
        assert!(e.starts_with("invalid value '0' for --max-conns"), "{e}");
        let e = config(&["-R", "0"]).unwrap_err().to_string();
        assert!(e.starts_with("invalid value '0' for --rate"), "{e}");
    }

    #[test]
    fn defaults_and_implied_method() {
        let c = config(&[]).unwrap();
        assert_eq!(c.stop, Stop::Duration(Duration::from_secs(10)));
        assert_eq!(c.timeout, Duration::from_secs(10));
        assert_eq!(c.method, "GET");
        assert_eq!(c.connections(), 10);
        assert_eq!((c.max_clients, c.max_conns), (10, 1));
        assert_eq!(c.output, Output::Dir(PathBuf::from("results")));
        let c = config(&[
            "--payload",
            "1k",
            "--max-clients",
            "3",
            "--max-conns",
            "4",
            "-n",
            "7",
        ])
        .unwrap();
        assert_eq!(c.method, "POST");
        assert_eq!(c.body.len(), 1024);
        assert_eq!(c.connections(), 12);
        assert_eq!(c.stop, Stop::Requests(7));
        let c = config(&[
            "--payload",
            "1k",
            "-m",
            "PUT",
            "--no-save",
            "-t",
            "64",
            "-c",
            "1",
        ])
        .unwrap();
        assert_eq!(c.method, "PUT");
        assert_eq!(c.output, Output::None);
        assert_eq!(
            c.effective_threads(),
            1,
            "threads are capped at the connections"
        );
    }

    /// Review finding: `-H 'Content-Length: 5' --payload 64k` sent the user's
    /// length with 65,536 body bytes, so the server read the rest of the body
    /// as the next requests (the comment in `build_request` claimed the
    /// opposite). Framing headers are now refused.
    #[test]
    fn framing_headers_are_refused() {
        for h in [
            "Content-Length: 5",
            "content-length:0",
            "Transfer-Encoding: chunked",
        ] {
            let e = config(&["--payload", "64k", "-H", h])
                .unwrap_err()
                .to_string();
            assert!(
                e.starts_with(&format!(
                    "invalid value '{h}' for --header: expected a header other than Content-Length"
                )),
                "{e}"
            );
        }
        assert!(config(&["-H", "Content-Type: text/plain", "--payload", "1k"]).is_ok());
    }

    #[test]
    fn tls_flags() {
        let c = config(&["https://example.com/"]).unwrap();
        assert!(c.url.https && c.tls.resume && c.tls.version.is_none() && !c.tls.insecure);
        let c = config(&[
            "-k",
            "--tls-version",
            "1.2",
            "--tls-resume",
            "off",
            "https://h/",
        ])
        .unwrap();
        assert!(c.tls.insecure && !c.tls.resume);
        assert_eq!(c.tls.version, Some(TlsVersion::V1_2));
        assert_eq!(
            config(&["--tls-resume", "maybe", "https://h/"])
                .unwrap_err()
                .to_string(),
            "invalid value 'maybe' for --tls-resume: expected on or off"
        );
        assert_eq!(
            config(&["--key", "k.pem", "https://h/"])
                .unwrap_err()
                .to_string(),
            "invalid value 'k.pem' for --key: expected a private key together with its --cert FILE"
        );
        // A TLS flag that would do nothing is refused, naming it.
        for flag in [
            &["-k"][..],
            &["--tls-version", "1.3"],
            &["--tls-resume", "off"],
        ] {
            let mut args = flag.to_vec();
            args.push("http://h/");
            let e = config(&args).unwrap_err();
            assert!(matches!(e, ConfigError::TlsWithHttp { .. }), "{e}");
        }
        let argv = ["bench-client", "-k", "--cacert", "x.pem", "https://h/"];
        assert!(
            Cli::try_parse_from(argv).is_err(),
            "-k and --cacert conflict"
        );
    }

    #[test]
    fn cacert_files() {
        let dir = tempfile::tempdir().unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["a.test".to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let two = dir.path().join("two.pem");
        std::fs::write(&two, format!("{}{}", cert.pem(), cert.pem())).unwrap();
        let c = config(&["--cacert", two.to_str().unwrap(), "https://h/"]).unwrap();
        assert_eq!(c.tls.cacert.unwrap().1.len(), 2, "several certificates");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, key.serialize_pem()).unwrap();
        let e = config(&["--cacert", empty.to_str().unwrap(), "https://h/"])
            .unwrap_err()
            .to_string();
        assert!(e.ends_with("for --cacert: expected a PEM file with at least one certificate (-----BEGIN CERTIFICATE-----)"), "{e}");
        let keyfile = dir.path().join("key.pem");
        std::fs::write(&keyfile, key.serialize_pem()).unwrap();
        let c = config(&[
            "--cert",
            two.to_str().unwrap(),
            "--key",
            keyfile.to_str().unwrap(),
            "https://h/",
        ])
        .unwrap();
        assert!(c.tls.client_cert.is_some());
        let e = config(&[
            "--cert",
            two.to_str().unwrap(),
            "--key",
            two.to_str().unwrap(),
            "https://h/",
        ])
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("for --key: expected a PEM file with a private key"),
            "{e}"
        );
    }

    #[test]
    fn resolve_as_in_curl() {
        let c = config(&["--resolve", "h:8443:127.0.0.2", "https://h:8443/"]).unwrap();
        assert_eq!(c.resolve, Some("127.0.0.2:8443".parse().unwrap()));
        let c = config(&["--resolve", "h:80:[::1]", "http://h/"]).unwrap();
        assert_eq!(c.resolve, Some("[::1]:80".parse().unwrap()));
        // A bracketed IPv6 host, read by the shared authority rule.
        let c = config(&["--resolve", "[::1]:8443:127.0.0.1", "https://[::1]:8443/"]).unwrap();
        assert_eq!(c.resolve, Some("127.0.0.1:8443".parse().unwrap()));
        for bad in [
            "h:8443",
            "h:x:127.0.0.1",
            "h:8443:nowhere",
            "other:8443:127.0.0.1",
            "h:1:127.0.0.1",
        ] {
            let e = config(&["--resolve", bad, "https://h:8443/"])
                .unwrap_err()
                .to_string();
            assert!(
                e.starts_with(&format!(
                    "invalid value '{bad}' for --resolve: expected HOST:PORT:ADDR"
                )),
                "{e}"
            );
        }
    }

    #[test]
    fn metrics_addr_is_an_ip_and_port() {
        let c = config(&["--metrics-addr", "127.0.0.1:0"]).unwrap();
        assert_eq!(c.metrics_addr, Some("127.0.0.1:0".parse().unwrap()));
        let c = config(&["--metrics-addr", "[::]:9464"]).unwrap();
        assert_eq!(c.metrics_addr, Some("[::]:9464".parse().unwrap()));
        assert_eq!(config(&[]).unwrap().metrics_addr, None);
        for bad in ["9464", "localhost:9464", "0.0.0.0", "0.0.0.0:99999"] {
            let e = config(&["--metrics-addr", bad]).unwrap_err().to_string();
            assert!(
                e.starts_with(&format!(
                    "invalid value '{bad}' for --metrics-addr: expected IP:PORT"
                )),
                "{e}"
            );
        }
    }

    #[test]
    fn missing_body_file_names_the_path() {
        let e = config(&["--body-file", "/nonexistent/body.bin"])
            .unwrap_err()
            .to_string();
        assert_eq!(e, "cannot read --body-file '/nonexistent/body.bin'");
    }
}
