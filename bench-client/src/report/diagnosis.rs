//! What a reader of a run must not miss, decided once from the
//! [`RunResult`] alone: failed requests, a rate that was not held and why,
//! counts that disagree with the server's, a server that shared the
//! client's CPUs. The result is data ([`Warning`], written to the JSON as
//! `warnings`); the text summary only prints it, and `merge` recomputes it
//! for the merged run.
//!
//! It lives under `report` because the report is what a diagnosis is for
//! (the JSON records it, the text prints it), and it reads nothing but a
//! saved result, so a result loaded later diagnoses the same way.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::format;
use crate::result::{RunResult, Verdict};

/// An open-loop run counts as holding its rate when it achieved this
/// fraction of the target (the acceptance bar of the open-loop issue).
pub const RATE_HELD: f64 = 0.99;

/// Late sends above this fraction of all sends are worth a warning even when
/// the average rate was held: the schedule was not.
pub const LATE_SENDS_WARN: f64 = 0.01;

/// A worker that used this share of a CPU, or whose event loop spent this
/// share of the wall time outside its wait for events, makes a run not valid.
pub const WORKER_BUSY: f64 = 0.90;

/// A worker measured for less than this (seconds) is not judged busy: so
/// short a phase (`-n 200`) is mostly thread start-up and first connects.
pub const WORKER_MIN_WALL_S: f64 = 0.25;

/// Open loop: a schedule p99 lateness above this (µs) makes a run not valid.
pub const SCHEDULE_P99_MAX_US: u64 = 1_000;

/// The schedule's p99 is judged over at least this many timer sends: over
/// fewer, the p99 is the maximum, one hiccup of a busy machine.
pub const SCHEDULE_MIN_SENDS: u64 = 100;

/// `merge` warns when its inputs' actual starts lie further apart than
/// this (ms): a second of the timeline then holds visibly less than the
/// whole load at each end.
pub const START_SPREAD_MS: f64 = 50.0;

/// The server is called the limit when the target rate reaches this share
/// of what the connections could carry (Little's law).
const SERVER_LIMIT_SHARE: f64 = 0.9;

/// The connections the run's own figures come from: a shard's part of
/// `config.connections` (which describes the whole run), or all of them.
fn own_connections(r: &RunResult) -> u32 {
    match &r.shard {
        Some(s) => {
            let part = crate::shard::share(u64::from(r.config.connections), s.index, s.count);
            (part.end - part.start) as u32
        }
        None => r.config.connections,
    }
}

/// One warning: its kind with the figures behind it, and the sentence that
/// says it (the same sentence the text summary prints after `WARNING: `).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Warning {
    #[serde(flatten)]
    pub kind: WarningKind,
    /// The warning as a sentence for people.
    pub message: String,
}

impl Warning {
    pub fn new(kind: WarningKind) -> Warning {
        let message = kind.to_string();
        Warning { kind, message }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Who kept an open-loop run from its target rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Limit {
    /// Every connection was busy waiting for responses.
    Server,
    /// The connections had room, but requests went out late.
    Client,
}

/// What went wrong, with its figures. In the JSON the variant is `kind`
/// (snake_case) and the figures are fields beside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WarningKind {
    /// Some requests failed.
    RequestsFailed {
        failed: u64,
        /// Completed plus failed.
        attempted: u64,
        /// `failed / attempted`, in percent.
        failed_pct: f64,
        /// The kinds that occurred (`summary.errors_by_kind` without zeros).
        errors_by_kind: BTreeMap<String, u64>,
    },
    /// Some responses had a status other than 2xx.
    Non2xx {
        responses: u64,
        /// Share of completed requests, in percent.
        share_pct: f64,
    },
    /// An open-loop run achieved less than [`RATE_HELD`] of its target.
    RateNotHeld {
        target_rate: f64,
        achieved_rate: f64,
        connections: u32,
        /// Mean latency from the actual send (µs): what one request kept a
        /// connection busy.
        mean_service_time_us: f64,
        /// Little's law: `connections / mean service time`, req/s; absent
        /// when no service time was measured.
        capacity_rate: Option<f64>,
        limit: Limit,
    },
    /// An open-loop `--stage` sent fewer of its requests than its curve
    /// asks for (beyond rounding, and for Poisson arrivals beyond chance).
    StageRateNotHeld {
        /// 1-based, as the `--stage` flags are counted.
        stage: usize,
        start_s: f64,
        end_s: f64,
        /// The curve's mean rate over the stage.
        target_rate: f64,
        achieved_rate: f64,
        connections: u32,
        /// Little's law over the run's mean service time, req/s.
        capacity_rate: Option<f64>,
        limit: Limit,
    },
    /// The average rate was held but more than [`LATE_SENDS_WARN`] of the
    /// requests went out more than 1 ms late.
    LateSends {
        late_sends: u64,
        /// Share of all sends, in percent.
        late_pct: f64,
    },
    /// Some clients completed no request while others did.
    StarvedClients { starved: u64, clients: u64 },
    /// The server bench-client started printed no totals line.
    NoServerTotals { server: String },
    /// The server's request count disagrees with the client's where they
    /// must agree (see [`server_count`]).
    ServerCountMismatch {
        server_requests: u64,
        client_requests: u64,
    },
    /// Nothing completed: the latency figures are those of timeouts.
    OnlyTimeouts { timeouts: u64 },
    /// SIGINT/SIGTERM cut the run short.
    Interrupted { duration_s: f64 },
    /// bench-client started the server without pinning it (`--server-cpus`),
    /// so the two competed for the same CPUs. bench-client never pins
    /// itself (`taskset` does), and a result records only how many CPUs it
    /// was allowed (`host.cores`), not which, so this is the one case a
    /// result proves. A pinned server is trusted: flagging it would flag
    /// the recommended setup (`taskset -c 1 bench-client --server-cpus 0`).
    SharedCpus { server: String, client_cores: u32 },
    /// A worker thread used at least [`WORKER_BUSY`] of a CPU, or its event
    /// loop spent at least that share of the wall time outside its wait.
    WorkerBusy {
        worker: u32,
        /// `generator.workers[i].cpu_share`, in percent.
        cpu_pct: f64,
        /// `generator.workers[i].busy_share`, in percent.
        busy_pct: f64,
    },
    /// Open loop: the p99 of how late timer sends went out was above
    /// [`SCHEDULE_P99_MAX_US`].
    ScheduleLate { schedule_error_p99_us: u64 },
    /// Connects failed for lack of local ports (`EADDRNOTAVAIL`) or file
    /// descriptors (`EMFILE`, `ENFILE`): bench-client's limits, not the server's.
    LocalResources { ports: u64, descriptors: u64 },
    /// HTTP/2: the server's SETTINGS_MAX_CONCURRENT_STREAMS let fewer
    /// streams be in flight per connection than `--streams` asked. Not a
    /// reason to distrust the figures (they are the server's), but the load
    /// was lighter than the command line says.
    StreamsCapped {
        /// `--streams`, per connection.
        streams: u32,
        /// `http2.streams_in_flight`.
        streams_in_flight: u32,
        server_max_streams: u64,
        connections: u32,
    },
    /// A merged `--start-at` run whose inputs began their measured phases
    /// more than [`START_SPREAD_MS`] apart: their clocks, or their starts,
    /// did not agree, and the first and last seconds carry part of the load.
    StartSpread { spread_ms: f64, limit_ms: f64 },
}

impl WarningKind {
    /// True for the kinds that make a run not valid: the generator, not the
    /// server, may be what its figures measure.
    pub fn invalidates(&self) -> bool {
        matches!(
            self,
            WarningKind::RateNotHeld { .. }
                | WarningKind::StageRateNotHeld { .. }
                | WarningKind::WorkerBusy { .. }
                | WarningKind::ScheduleLate { .. }
                | WarningKind::LocalResources { .. }
        )
    }
}

impl fmt::Display for WarningKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WarningKind::RequestsFailed {
                failed,
                attempted,
                failed_pct,
                errors_by_kind,
            } => {
                let kinds: Vec<String> = errors_by_kind
                    .iter()
                    .map(|(k, n)| format!("{k} {n}"))
                    .collect();
                write!(
                    f,
                    "{failed} requests failed ({failed_pct:.1}% of {attempted} attempts): {}",
                    kinds.join(", ")
                )
            }
            WarningKind::Non2xx {
                responses,
                share_pct,
            } => write!(
                f,
                "{responses} non-2xx responses ({share_pct:.1}% of completed requests)"
            ),
            WarningKind::RateNotHeld {
                target_rate,
                achieved_rate,
                connections,
                mean_service_time_us,
                capacity_rate,
                limit,
            } => {
                let capacity = format::rate(capacity_rate.unwrap_or(f64::INFINITY));
                write!(
                    f,
                    "the target rate was not held ({} of {} req/s): ",
                    format::rate(*achieved_rate),
                    format::rate(*target_rate)
                )?;
                match limit {
                    Limit::Server => write!(
                        f,
                        "the server was the limit: {connections} connections busy waiting for \
                         responses with a mean service time of {} allow at most about {capacity} \
                         req/s; add connections (--max-clients/--max-conns) or lower --rate",
                        format::latency_us(*mean_service_time_us),
                    ),
                    Limit::Client => write!(
                        f,
                        "the client was the limit: connections could have carried about \
                         {capacity} req/s but requests went out late; give it more --threads \
                         or a less loaded CPU"
                    ),
                }
            }
            WarningKind::StageRateNotHeld {
                stage,
                start_s,
                end_s,
                target_rate,
                achieved_rate,
                connections,
                capacity_rate,
                limit,
            } => {
                write!(
                    f,
                    "stage {stage} ({}-{}) did not hold its rate ({} of {} req/s): ",
                    format::duration_s(*start_s),
                    format::duration_s(*end_s),
                    format::rate(*achieved_rate),
                    format::rate(*target_rate)
                )?;
                let capacity = format::rate(capacity_rate.unwrap_or(f64::INFINITY));
                match limit {
                    Limit::Server => write!(
                        f,
                        "the pool of {connections} connections carries about {capacity} req/s \
                         at the run's mean service time; add connections (-c, or --max-clients \
                         x --max-conns) or lower the stage's rate"
                    ),
                    Limit::Client => write!(
                        f,
                        "the connections could have carried about {capacity} req/s but requests \
                         went out late; give it more --threads or a less loaded CPU"
                    ),
                }
            }
            WarningKind::LateSends {
                late_sends,
                late_pct,
            } => write!(
                f,
                "{late_sends} requests ({late_pct:.1}%) went out more than 1 ms late although \
                 the average rate was held: the corrected latency includes that waiting"
            ),
            WarningKind::StarvedClients { starved, clients } => write!(
                f,
                "{starved} of {clients} clients completed no request (starved)"
            ),
            WarningKind::NoServerTotals { server } => write!(
                f,
                "the {server} server printed no totals line on shutdown: its counts cannot be \
                 checked"
            ),
            WarningKind::ServerCountMismatch {
                server_requests,
                client_requests,
            } => write!(
                f,
                "the server answered {server_requests} requests but the client counted \
                 {client_requests} completed ({} {}): responses were lost in flight or cut off \
                 by errors",
                if server_requests > client_requests {
                    "+"
                } else {
                    "-"
                },
                server_requests.abs_diff(*client_requests)
            ),
            WarningKind::OnlyTimeouts { .. } => write!(
                f,
                "no request completed: the latency figures are those of timed-out requests"
            ),
            WarningKind::Interrupted { duration_s } => write!(
                f,
                "interrupted (SIGINT/SIGTERM): a partial result covering {}",
                format::duration_s(*duration_s)
            ),
            WarningKind::SharedCpus {
                server,
                client_cores,
            } => write!(
                f,
                "the {server} server was not pinned (--server-cpus): it shared the \
                 {client_cores} CPUs bench-client could run on, so each slowed the other; pin \
                 it with --server-cpus and bench-client with taskset to other CPUs"
            ),
            WarningKind::WorkerBusy {
                worker,
                cpu_pct,
                busy_pct,
            } => write!(
                f,
                "worker {worker} busy {:.0} % of the run; these figures may measure \
                 bench-client, not the server (add --threads, or move the server to other CPUs)",
                cpu_pct.max(*busy_pct)
            ),
            WarningKind::ScheduleLate {
                schedule_error_p99_us,
            } => write!(
                f,
                "requests went out late: the schedule's p99 lateness was {} (over {}); the \
                 latency figures include bench-client's own delays (add --threads, or give it \
                 a less loaded CPU)",
                format::latency_us(*schedule_error_p99_us as f64),
                format::latency_us(SCHEDULE_P99_MAX_US as f64)
            ),
            WarningKind::LocalResources { ports, descriptors } => write!(
                f,
                "{} connects failed for lack of local resources ({ports} out of local ports, \
                 EADDRNOTAVAIL; {descriptors} out of file descriptors, EMFILE/ENFILE): those \
                 errors are bench-client's, not the server's (keep connections alive instead \
                 of --connection-per-request, or raise the limits)",
                ports + descriptors
            ),
            WarningKind::StreamsCapped {
                streams,
                streams_in_flight,
                server_max_streams,
                connections,
            } => write!(
                f,
                "the server allows {server_max_streams} concurrent streams per connection \
                 (SETTINGS_MAX_CONCURRENT_STREAMS): {streams_in_flight} of the {streams} asked \
                 (--streams) were in flight on each of the {connections} connections, so the \
                 load had at most {} requests in flight instead of {}; for more, add \
                 connections (-c, or --max-clients x --max-conns)",
                u64::from(*connections) * u64::from(*streams_in_flight),
                u64::from(*connections) * u64::from(*streams)
            ),
            WarningKind::StartSpread {
                spread_ms,
                limit_ms,
            } => write!(
                f,
                "the merged runs began their measured phases {spread_ms:.1} ms apart (more than \
                 {limit_ms:.0} ms): their clocks or their starts did not agree (see each \
                 input's start.clock), so the first and last seconds carry part of the load"
            ),
        }
    }
}

/// Every warning about `r`, in the order the summary prints them.
pub fn diagnose(r: &RunResult) -> Vec<Warning> {
    let s = &r.summary;
    let mut kinds = Vec::new();

    if s.errors > 0 || s.errors_by_kind.values().any(|&n| n > 0) {
        let attempted = s.requests + s.errors;
        kinds.push(WarningKind::RequestsFailed {
            failed: s.errors,
            attempted,
            failed_pct: 100.0 * s.errors as f64 / attempted.max(1) as f64,
            errors_by_kind: s
                .errors_by_kind
                .iter()
                .filter(|(_, &n)| n > 0)
                .map(|(k, &n)| (k.clone(), n))
                .collect(),
        });
    }
    let non_2xx = non_2xx(r);
    if non_2xx > 0 {
        kinds.push(WarningKind::Non2xx {
            responses: non_2xx,
            share_pct: 100.0 * non_2xx as f64 / s.requests.max(1) as f64,
        });
    }
    kinds.extend(rate(r));
    kinds.extend(stage_rates(r));
    kinds.extend(streams_capped(r));
    if let Some(spread_ms) = r.start.as_ref().and_then(|s| s.spread_ms) {
        if spread_ms > START_SPREAD_MS {
            kinds.push(WarningKind::StartSpread {
                spread_ms,
                limit_ms: START_SPREAD_MS,
            });
        }
    }
    let starved = r.clients.iter().filter(|c| c.requests == 0).count() as u64;
    if r.clients.len() >= 2 && starved > 0 && s.requests > 0 {
        kinds.push(WarningKind::StarvedClients {
            starved,
            clients: r.clients.len() as u64,
        });
    }
    match server_count(r) {
        Some(ServerCount::NoTotals { server }) => {
            kinds.push(WarningKind::NoServerTotals { server })
        }
        Some(ServerCount::Mismatch {
            server_requests,
            client_requests,
        }) => kinds.push(WarningKind::ServerCountMismatch {
            server_requests,
            client_requests,
        }),
        _ => {}
    }
    if s.requests == 0 && r.latency.max > 0 {
        kinds.push(WarningKind::OnlyTimeouts {
            timeouts: s.errors_by_kind.get("timeout").copied().unwrap_or(0),
        });
    }
    if r.interrupted {
        kinds.push(WarningKind::Interrupted {
            duration_s: s.duration_s,
        });
    }
    kinds.extend(shared_cpus(r));
    kinds.extend(generator(r));
    kinds.into_iter().map(Warning::new).collect()
}

/// The verdict the `warnings` of a run amount to: not valid when any of
/// them [invalidates](WarningKind::invalidates) it. The thresholds:
/// - a worker used ≥ [`WORKER_BUSY`] (90 %) of a CPU, or its event loop
///   spent ≥ 90 % of the wall time outside its wait for events;
/// - open loop: achieved < [`RATE_HELD`] (99 %) of the target rate, or the
///   schedule's p99 lateness > [`SCHEDULE_P99_MAX_US`] (1 ms), judged over
///   at least [`SCHEDULE_MIN_SENDS`] timer sends;
/// - connects failed for lack of local ports or file descriptors.
///
/// Shared CPUs alone are a warning, not a reason.
pub fn verdict(warnings: &[Warning]) -> Verdict {
    let reasons: Vec<String> = warnings
        .iter()
        .filter(|w| w.kind.invalidates())
        .map(|w| w.message.clone())
        .collect();
    Verdict {
        valid: reasons.is_empty(),
        reasons,
    }
}

/// A result's verdict: the recorded one, or for a result saved before
/// verdicts were recorded, the one its warnings amount to.
pub fn verdict_of(r: &RunResult) -> Verdict {
    r.verdict.clone().unwrap_or_else(|| verdict(&diagnose(r)))
}

/// The generator's own limits: busy workers, a late schedule, local ports
/// or descriptors run out.
fn generator(r: &RunResult) -> Vec<WarningKind> {
    let mut kinds = Vec::new();
    let workers = r.generator.as_ref().map_or(&[][..], |g| &g.workers[..]);
    for (i, w) in workers.iter().enumerate() {
        let busy = w.cpu_share >= WORKER_BUSY || w.busy_share >= WORKER_BUSY;
        if busy && w.wall_s >= WORKER_MIN_WALL_S {
            kinds.push(WarningKind::WorkerBusy {
                worker: i as u32,
                cpu_pct: 100.0 * w.cpu_share,
                busy_pct: 100.0 * w.busy_share,
            });
        }
    }
    if let Some(p) = &r.summary.pacing {
        if p.timer_sends >= SCHEDULE_MIN_SENDS && p.schedule_error_p99_us > SCHEDULE_P99_MAX_US {
            kinds.push(WarningKind::ScheduleLate {
                schedule_error_p99_us: p.schedule_error_p99_us,
            });
        }
    }
    let count = |names: &[&str]| -> u64 {
        let causes = &r.summary.errors_by_cause;
        causes
            .iter()
            .filter(|(key, _)| key.rsplit(':').next().is_some_and(|c| names.contains(&c)))
            .map(|(_, n)| n)
            .sum()
    };
    let ports = count(&["EADDRNOTAVAIL"]);
    let descriptors = count(&["EMFILE", "ENFILE"]);
    if ports + descriptors > 0 {
        kinds.push(WarningKind::LocalResources { ports, descriptors });
    }
    kinds
}

/// The server's stream limit below `--streams`, as
/// [`WarningKind::StreamsCapped`] states it. Only a limit the server set
/// counts: without one, fewer streams in flight means no connection was
/// made, which the failed requests already say.
fn streams_capped(r: &RunResult) -> Option<WarningKind> {
    let h2 = r.http2.as_ref().filter(|_| r.config.is_http2())?;
    let streams = r.config.streams_per_connection();
    let server_max_streams = h2.server_max_streams?;
    (h2.streams_in_flight < streams).then_some(WarningKind::StreamsCapped {
        streams,
        streams_in_flight: h2.streams_in_flight,
        server_max_streams,
        connections: own_connections(r),
    })
}

/// Responses whose status code is not 2xx.
pub fn non_2xx(r: &RunResult) -> u64 {
    r.summary
        .status_codes
        .iter()
        .filter(|(code, _)| !code.starts_with('2'))
        .map(|(_, n)| n)
        .sum()
}

/// An open-loop run's rate verdict: not held (and who was the limit), or
/// held with too many late sends; nothing for a closed-loop run.
fn rate(r: &RunResult) -> Option<WarningKind> {
    let s = &r.summary;
    let target = s.target_rate?;
    // Poisson sends vary by about √N around the curve's N: a shortfall
    // within 3√N is chance, not a rate the run failed to hold.
    let want = target * s.duration_s;
    let chance = if r.config.arrivals.as_deref() == Some("poisson") {
        3.0 * want.max(0.0).sqrt() / s.duration_s.max(f64::MIN_POSITIVE)
    } else {
        0.0
    };
    let held = s
        .achieved_rate
        .map_or(true, |a| a >= RATE_HELD * target || a >= target - chance);
    if !held {
        let (service_us, capacity) = pool_capacity(r);
        let limit = match capacity {
            Some(c) if target >= SERVER_LIMIT_SHARE * c => Limit::Server,
            _ => Limit::Client,
        };
        return Some(WarningKind::RateNotHeld {
            target_rate: target,
            achieved_rate: s.achieved_rate.unwrap_or(0.0),
            connections: own_connections(r),
            mean_service_time_us: service_us,
            capacity_rate: capacity,
            limit,
        });
    }
    let late = s.late_sends.unwrap_or(0);
    let late_share = late as f64 / (s.requests + s.errors).max(1) as f64;
    (late_share > LATE_SENDS_WARN).then_some(WarningKind::LateSends {
        late_sends: late,
        late_pct: 100.0 * late_share,
    })
}

/// The mean service time (µs, uncorrected where the run has it) and what
/// the connection pool can carry at it. Little's law: with every
/// connection busy waiting for responses, C connections of M requests in
/// flight each (1 over HTTP/1.1; over HTTP/2 the streams the server
/// allowed) and a mean service time S allow at most C·M / S req/s.
fn pool_capacity(r: &RunResult) -> (f64, Option<f64>) {
    let service_us = r
        .latency_uncorrected
        .as_ref()
        .map_or(r.latency.mean, |l| l.mean);
    let per_connection = match &r.http2 {
        Some(h) if r.config.is_http2() => h.streams_in_flight,
        _ => r.config.streams_per_connection(),
    };
    let in_flight = f64::from(own_connections(r)) * f64::from(per_connection);
    let capacity = (service_us > 0.0)
        .then(|| in_flight * 1e6 / service_us)
        .filter(|c| c.is_finite());
    (service_us, capacity)
}

/// Open-loop stages that sent fewer requests than their curve asks for.
/// Uniform arrivals send a stage's share to within one request; Poisson
/// arrivals vary by about √N, so a shortfall counts only beyond 3√N.
fn stage_rates(r: &RunResult) -> Vec<WarningKind> {
    let poisson = r.config.arrivals.as_deref() == Some("poisson");
    let (_, capacity) = pool_capacity(r);
    r.stages
        .iter()
        .enumerate()
        .filter_map(|(i, st)| {
            let (target, achieved) = (st.mean_target_rate?, st.achieved_rate?);
            let len = st.end_s - st.start_s;
            let want = target * len;
            let slack = if poisson { 3.0 * want.sqrt() } else { 1.0 };
            let short = (st.sent as f64) < (RATE_HELD * want).min(want - slack);
            if len <= 0.0 || want <= 0.0 || !short {
                return None;
            }
            let limit = match capacity {
                Some(c) if target >= SERVER_LIMIT_SHARE * c => Limit::Server,
                _ => Limit::Client,
            };
            Some(WarningKind::StageRateNotHeld {
                stage: i + 1,
                start_s: st.start_s,
                end_s: st.end_s,
                target_rate: target,
                achieved_rate: achieved,
                connections: own_connections(r),
                capacity_rate: capacity,
                limit,
            })
        })
        .collect()
}

/// The server's request count against the client's, when bench-client
/// started the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerCount {
    /// The server printed no totals line.
    NoTotals { server: String },
    /// Both counted the same.
    Matches { requests: u64 },
    /// The server counted more because it also served the warm-up, which
    /// the client discarded.
    IncludesWarmup { client_requests: u64 },
    /// A run cut by a deadline or a signal leaves requests in flight: the
    /// server finished them, the client no longer counted them.
    InFlight { client_requests: u64, extra: u64 },
    /// The counts disagree where they must agree: a run bounded by `-n`
    /// (without warm-up or interruption), or a server that answered fewer
    /// than the client completed.
    Mismatch {
        server_requests: u64,
        client_requests: u64,
    },
}

/// The verdict on the server's count; `None` for an external target.
pub fn server_count(r: &RunResult) -> Option<ServerCount> {
    let info = r.target.server.as_ref()?;
    let Some(t) = &info.totals else {
        return Some(ServerCount::NoTotals {
            server: info.model.clone(),
        });
    };
    // `--http2=auto` asked a cleartext server for HTTP/2 with the
    // connection preface, which an HTTP/1.1 server answers (400) and counts
    // before the run falls back: one request the client never made.
    let probe = r
        .http2
        .as_ref()
        .is_some_and(|h| h.fell_back && r.target.url.starts_with("http://"));
    let client = r.summary.requests + u64::from(probe);
    Some(if t.requests == client {
        ServerCount::Matches { requests: client }
    } else if t.requests > client && r.config.warmup_s > 0.0 {
        ServerCount::IncludesWarmup {
            client_requests: client,
        }
    } else if t.requests > client && (r.config.requests.is_none() || r.interrupted) {
        // Only a run bounded by -n must match exactly.
        ServerCount::InFlight {
            client_requests: client,
            extra: t.requests - client,
        }
    } else {
        ServerCount::Mismatch {
            server_requests: t.requests,
            client_requests: client,
        }
    })
}

/// The shared-CPU rule, as [`WarningKind::SharedCpus`] states it.
fn shared_cpus(r: &RunResult) -> Option<WarningKind> {
    let server = r.config.server.as_ref()?;
    r.config
        .server_cpus
        .is_none()
        .then(|| WarningKind::SharedCpus {
            server: server.clone(),
            client_cores: r.host.cores,
        })
}

#[cfg(test)]
mod tests;
