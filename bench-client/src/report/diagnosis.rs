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
use crate::result::RunResult;

/// An open-loop run counts as holding its rate when it achieved this
/// fraction of the target (the acceptance bar of the open-loop issue).
pub const RATE_HELD: f64 = 0.99;

/// Late sends above this fraction of all sends are worth a warning even when
/// the average rate was held: the schedule was not.
pub const LATE_SENDS_WARN: f64 = 0.01;

/// The server is called the limit when the target rate reaches this share
/// of what the connections could carry (Little's law).
const SERVER_LIMIT_SHARE: f64 = 0.9;

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
    kinds.into_iter().map(Warning::new).collect()
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
    let held = s.achieved_rate.map_or(true, |a| a >= RATE_HELD * target);
    if !held {
        // Little's law: with every connection busy waiting for a response,
        // C connections and a mean service time S allow at most C / S req/s.
        let service_us = r
            .latency_uncorrected
            .as_ref()
            .map_or(r.latency.mean, |l| l.mean);
        let capacity = (service_us > 0.0)
            .then(|| r.config.connections as f64 * 1e6 / service_us)
            .filter(|c| c.is_finite());
        let limit = match capacity {
            Some(c) if target >= SERVER_LIMIT_SHARE * c => Limit::Server,
            _ => Limit::Client,
        };
        return Some(WarningKind::RateNotHeld {
            target_rate: target,
            achieved_rate: s.achieved_rate.unwrap_or(0.0),
            connections: r.config.connections,
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
    let client = r.summary.requests;
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
