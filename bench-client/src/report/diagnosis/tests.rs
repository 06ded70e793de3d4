use super::*;
use crate::report::testing::{closed_loop_result, open_loop_result};

fn kinds(r: &RunResult) -> Vec<WarningKind> {
    diagnose(r).into_iter().map(|w| w.kind).collect()
}

fn set_server_requests(r: &mut RunResult, n: u64) {
    r.target
        .server
        .as_mut()
        .unwrap()
        .totals
        .as_mut()
        .unwrap()
        .requests = n;
}

#[test]
fn closed_loop_run_with_errors_404s_and_an_unpinned_server() {
    let r = closed_loop_result();
    assert_eq!(
        kinds(&r),
        vec![
            WarningKind::RequestsFailed {
                failed: 3,
                attempted: 1_003,
                failed_pct: 300.0 / 1_003.0,
                errors_by_kind: BTreeMap::from([("reset".into(), 2), ("timeout".into(), 1)]),
            },
            WarningKind::Non2xx {
                responses: 10,
                share_pct: 1.0,
            },
            WarningKind::SharedCpus {
                server: "selector".into(),
                client_cores: 2,
            },
        ]
    );
}

#[test]
fn every_message_is_its_kinds_sentence() {
    let w = diagnose(&closed_loop_result());
    let messages: Vec<&str> = w.iter().map(|w| w.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "3 requests failed (0.3% of 1003 attempts): reset 2, timeout 1",
            "10 non-2xx responses (1.0% of completed requests)",
            "the selector server was not pinned (--server-cpus): it shared the 2 CPUs \
             bench-client could run on, so each slowed the other; pin it with --server-cpus and \
             bench-client with taskset to other CPUs",
        ]
    );
    for w in &w {
        assert_eq!(w.message, w.kind.to_string());
        assert_eq!(w.to_string(), w.message);
    }
}

#[test]
fn a_pinned_server_or_an_external_target_shares_no_cpus() {
    let mut r = closed_loop_result();
    r.config.server_cpus = Some(vec![0]);
    assert!(!kinds(&r)
        .iter()
        .any(|k| matches!(k, WarningKind::SharedCpus { .. })));
    let mut r = closed_loop_result();
    r.config.server = None;
    r.target.server = None;
    assert!(!kinds(&r)
        .iter()
        .any(|k| matches!(k, WarningKind::SharedCpus { .. })));
}

fn rate_warning(r: &RunResult) -> Option<WarningKind> {
    kinds(r).into_iter().find(|k| {
        matches!(
            k,
            WarningKind::RateNotHeld { .. } | WarningKind::LateSends { .. }
        )
    })
}

#[test]
fn rate_not_held_with_room_on_the_connections_is_the_clients_limit() {
    let r = open_loop_result();
    // 4 connections at 181 µs could carry ~22k req/s.
    let capacity = 4.0 * 1e6 / 181.0;
    assert_eq!(
        rate_warning(&r),
        Some(WarningKind::RateNotHeld {
            target_rate: 600.0,
            achieved_rate: 500.0,
            connections: 4,
            mean_service_time_us: 181.0,
            capacity_rate: Some(capacity),
            limit: Limit::Client,
        })
    );
    assert_eq!(
        rate_warning(&r).unwrap().to_string(),
        "the target rate was not held (500.00 of 600.00 req/s): the client was the limit: \
         connections could have carried about 22099.45 req/s but requests went out late; give \
         it more --threads or a less loaded CPU"
    );
}

#[test]
fn rate_not_held_with_saturated_connections_is_the_servers_limit() {
    let mut r = open_loop_result();
    r.latency_uncorrected.as_mut().unwrap().mean = 10_000.0;
    assert_eq!(
        rate_warning(&r),
        Some(WarningKind::RateNotHeld {
            target_rate: 600.0,
            achieved_rate: 500.0,
            connections: 4,
            mean_service_time_us: 10_000.0,
            capacity_rate: Some(400.0),
            limit: Limit::Server,
        })
    );
    // Exactly at 90% of the capacity the server is still called the limit.
    r.latency_uncorrected.as_mut().unwrap().mean = 4.0 * 1e6 / (600.0 / 0.9);
    assert!(matches!(
        rate_warning(&r),
        Some(WarningKind::RateNotHeld {
            limit: Limit::Server,
            ..
        })
    ));
}

#[test]
fn no_service_time_means_no_capacity_and_the_client_is_blamed() {
    let mut r = open_loop_result();
    r.latency_uncorrected.as_mut().unwrap().mean = 0.0;
    let w = rate_warning(&r).unwrap();
    assert!(
        matches!(
            w,
            WarningKind::RateNotHeld {
                capacity_rate: None,
                limit: Limit::Client,
                ..
            }
        ),
        "{w:?}"
    );
    assert!(
        w.to_string().contains("could have carried about - req/s"),
        "{w}"
    );
}

#[test]
fn a_held_rate_warns_only_about_many_late_sends() {
    let mut r = open_loop_result();
    r.summary.achieved_rate = Some(594.0);
    r.summary.late_sends = Some(10);
    // 10 of 1003 sends is under 1%.
    assert_eq!(rate_warning(&r), None);
    r.summary.late_sends = Some(100);
    assert_eq!(
        rate_warning(&r),
        Some(WarningKind::LateSends {
            late_sends: 100,
            late_pct: 100.0 * 100.0 / 1_003.0,
        })
    );
    // Just under 99% of the target is not held.
    r.summary.achieved_rate = Some(593.9);
    assert!(matches!(
        rate_warning(&r),
        Some(WarningKind::RateNotHeld { .. })
    ));
}

#[test]
fn server_count_verdicts() {
    let mut r = closed_loop_result();
    assert_eq!(
        server_count(&r),
        Some(ServerCount::Matches { requests: 1_000 })
    );
    // A -d run: the server finished what was in flight.
    set_server_requests(&mut r, 1_003);
    assert_eq!(
        server_count(&r),
        Some(ServerCount::InFlight {
            client_requests: 1_000,
            extra: 3
        })
    );
    // An -n run must match exactly.
    r.config.duration_s = None;
    r.config.requests = Some(1_000);
    let mismatch = ServerCount::Mismatch {
        server_requests: 1_003,
        client_requests: 1_000,
    };
    assert_eq!(server_count(&r), Some(mismatch));
    assert!(kinds(&r).contains(&WarningKind::ServerCountMismatch {
        server_requests: 1_003,
        client_requests: 1_000,
    }));
    // ... unless a signal cut it short, or the server also served the warm-up.
    r.interrupted = true;
    assert!(matches!(
        server_count(&r),
        Some(ServerCount::InFlight { .. })
    ));
    r.interrupted = false;
    r.config.warmup_s = 1.0;
    assert_eq!(
        server_count(&r),
        Some(ServerCount::IncludesWarmup {
            client_requests: 1_000
        })
    );
    // Fewer answered than completed is always wrong.
    set_server_requests(&mut r, 990);
    assert!(matches!(
        server_count(&r),
        Some(ServerCount::Mismatch { .. })
    ));
    r.target.server.as_mut().unwrap().totals = None;
    assert_eq!(
        server_count(&r),
        Some(ServerCount::NoTotals {
            server: "selector".into()
        })
    );
    assert!(kinds(&r).contains(&WarningKind::NoServerTotals {
        server: "selector".into()
    }));
    r.target.server = None;
    assert_eq!(server_count(&r), None);
}

#[test]
fn starved_clients_timeouts_only_and_interruption() {
    let mut r = closed_loop_result();
    r.clients[1].requests = 0;
    r.interrupted = true;
    r.summary.duration_s = 1.25;
    let k = kinds(&r);
    assert!(k.contains(&WarningKind::StarvedClients {
        starved: 1,
        clients: 2
    }));
    assert_eq!(
        k.last(),
        Some(&WarningKind::SharedCpus {
            server: "selector".into(),
            client_cores: 2
        })
    );
    assert!(k.contains(&WarningKind::Interrupted { duration_s: 1.25 }));
    // With nothing completed, no client is called starved: all are.
    r.summary.requests = 0;
    let k = kinds(&r);
    assert!(!k
        .iter()
        .any(|k| matches!(k, WarningKind::StarvedClients { .. })));
    assert!(k.contains(&WarningKind::OnlyTimeouts { timeouts: 1 }));
    // An empty histogram is no latency at all, not timeouts'.
    r.latency = crate::hdr::latency_from(&crate::hdr::new_histogram());
    assert!(!kinds(&r)
        .iter()
        .any(|k| matches!(k, WarningKind::OnlyTimeouts { .. })));
}

#[test]
fn a_clean_run_has_no_warning() {
    let mut r = closed_loop_result();
    r.summary.errors = 0;
    r.summary.errors_by_kind.clear();
    r.summary.errors_by_cause.clear();
    r.summary.status_codes.remove("404");
    r.config.server_cpus = Some(vec![1]);
    assert_eq!(diagnose(&r), Vec::new());
}

#[test]
fn the_json_carries_kind_figures_and_message() {
    let mut r = open_loop_result();
    r.latency_uncorrected.as_mut().unwrap().mean = 10_000.0;
    let w = diagnose(&r)
        .into_iter()
        .find(|w| matches!(w.kind, WarningKind::RateNotHeld { .. }))
        .unwrap();
    let json = serde_json::to_value(&w).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "kind": "rate_not_held",
            "target_rate": 600.0,
            "achieved_rate": 500.0,
            "connections": 4,
            "mean_service_time_us": 10_000.0,
            "capacity_rate": 400.0,
            "limit": "server",
            "message": w.message,
        })
    );
    assert_eq!(serde_json::from_value::<Warning>(json).unwrap(), w);
}

#[test]
fn every_kind_round_trips_through_json() {
    for w in all_kinds() {
        let json = serde_json::to_string(&w).unwrap();
        assert_eq!(serde_json::from_str::<Warning>(&json).unwrap(), w, "{json}");
    }
}

/// One warning of every kind, for the round trip and the schema.
fn all_kinds() -> Vec<Warning> {
    let mut r = open_loop_result();
    r.clients[1].requests = 0;
    r.interrupted = true;
    r.config.requests = Some(1_000);
    r.config.duration_s = None;
    set_server_requests(&mut r, 990);
    let mut w = diagnose(&r);
    r.summary.achieved_rate = Some(600.0);
    r.summary.requests = 0;
    r.target.server.as_mut().unwrap().totals = None;
    w.extend(diagnose(&r));
    let mut seen = Vec::new();
    w.retain(|w| {
        let kind = serde_json::to_value(w).unwrap()["kind"].clone();
        let new = !seen.contains(&kind);
        seen.push(kind);
        new
    });
    assert_eq!(w.len(), 10, "{w:#?}");
    w
}

/// Merged figures decide a merged run's warnings: the failures are counted
/// over both runs, and the inputs' own lists (here a made-up one) are not
/// copied.
#[test]
fn merge_recomputes_warnings_from_the_merged_figures() {
    let mut a = closed_loop_result();
    a.warnings = diagnose(&a);
    let mut b = a.clone();
    b.host.hostname = "other-host".into();
    b.summary.errors = 0;
    b.summary.errors_by_kind.clear();
    b.summary.errors_by_cause.clear();
    b.warnings = vec![Warning::new(WarningKind::OnlyTimeouts { timeouts: 9 })];
    let merged = crate::merge::merge(&[
        (std::path::Path::new("a.json"), &a),
        (std::path::Path::new("b.json"), &b),
    ])
    .unwrap();
    assert!(!merged.warnings.is_empty());
    assert_eq!(merged.warnings, diagnose(&merged));
    assert_eq!(
        merged.warnings[0].kind,
        WarningKind::RequestsFailed {
            failed: 3,
            attempted: 2_003,
            failed_pct: 300.0 / 2_003.0,
            errors_by_kind: BTreeMap::from([("reset".into(), 2), ("timeout".into(), 1)]),
        }
    );
    assert!(!merged
        .warnings
        .iter()
        .any(|w| matches!(w.kind, WarningKind::OnlyTimeouts { .. })));
}

fn worker(cpu_share: f64, busy_share: f64) -> crate::result::GeneratorWorker {
    crate::result::GeneratorWorker {
        cpu_s: cpu_share * 2.0,
        wall_s: 2.0,
        cpu_share,
        cpu_wait_s: 0.0,
        busy_share,
    }
}

fn verdict_with(workers: Vec<crate::result::GeneratorWorker>) -> Verdict {
    let mut r = closed_loop_result();
    r.generator = Some(crate::result::Generator { workers });
    verdict(&diagnose(&r))
}

#[test]
fn a_worker_at_90_percent_of_a_cpu_or_busy_90_percent_makes_the_run_not_valid() {
    assert!(verdict_with(vec![worker(0.89, 0.89), worker(0.1, 0.1)]).valid);
    let v = verdict_with(vec![worker(0.1, 0.1), worker(0.90, 0.2)]);
    assert!(!v.valid);
    assert_eq!(
        v.reasons,
        [
            "worker 1 busy 90 % of the run; these figures may measure bench-client, not the \
          server (add --threads, or move the server to other CPUs)"
        ]
    );
    // Starved by another process: little CPU, but never waiting for events.
    let v = verdict_with(vec![worker(0.3, 0.99)]);
    assert!(
        v.reasons[0].starts_with("worker 0 busy 99 % of the run;"),
        "{v:?}"
    );
    // Too short a phase to judge: mostly start-up.
    let mut short = worker(0.3, 0.99);
    short.wall_s = WORKER_MIN_WALL_S - 0.01;
    assert!(verdict_with(vec![short]).valid);
    // Shared CPUs alone (the fixture's unpinned server) are only a warning.
    let r = closed_loop_result();
    assert!(kinds(&r)
        .iter()
        .any(|k| matches!(k, WarningKind::SharedCpus { .. })));
    assert!(verdict(&diagnose(&r)).valid);
}

#[test]
fn open_loop_rate_below_99_percent_or_p99_lateness_over_1ms_is_not_valid() {
    let mut r = open_loop_result();
    let pacing = r.summary.pacing.as_mut().unwrap();
    pacing.schedule_error_p99_us = SCHEDULE_P99_MAX_US;
    r.summary.target_rate = Some(600.0);
    r.summary.achieved_rate = Some(594.0);
    r.summary.late_sends = Some(0);
    assert!(verdict(&diagnose(&r)).valid, "{:?}", diagnose(&r));
    r.summary.achieved_rate = Some(593.9);
    let v = verdict(&diagnose(&r));
    assert!(!v.valid);
    assert!(
        v.reasons[0].starts_with("the target rate was not held"),
        "{v:?}"
    );
    r.summary.achieved_rate = Some(600.0);
    let pacing = r.summary.pacing.as_mut().unwrap();
    pacing.schedule_error_p99_us = SCHEDULE_P99_MAX_US + 1;
    // Over fewer than 100 timer sends the p99 is their maximum: not judged.
    pacing.timer_sends = SCHEDULE_MIN_SENDS - 1;
    assert!(verdict(&diagnose(&r)).valid);
    r.summary.pacing.as_mut().unwrap().timer_sends = SCHEDULE_MIN_SENDS;
    assert_eq!(
        verdict(&diagnose(&r)).reasons,
        [
            "requests went out late: the schedule's p99 lateness was 1.00ms (over 1.00ms); the \
          latency figures include bench-client's own delays (add --threads, or give it a less \
          loaded CPU)"
        ]
    );
}

#[test]
fn connects_out_of_ports_or_descriptors_are_not_valid() {
    let mut r = closed_loop_result();
    assert!(verdict(&diagnose(&r)).valid);
    r.summary
        .errors_by_cause
        .insert("connect:EADDRNOTAVAIL".into(), 3);
    r.summary.errors_by_cause.insert("connect:EMFILE".into(), 1);
    r.summary.errors_by_cause.insert("connect:ENFILE".into(), 1);
    assert!(kinds(&r).contains(&WarningKind::LocalResources {
        ports: 3,
        descriptors: 2
    }));
    let v = verdict(&diagnose(&r));
    assert!(!v.valid);
    assert!(v.reasons[0].starts_with("5 connects failed for lack of local resources"));
}

#[test]
fn a_recorded_verdict_wins_over_a_derived_one() {
    let mut r = closed_loop_result();
    assert!(verdict_of(&r).valid);
    r.verdict = Some(Verdict {
        valid: false,
        reasons: vec!["recorded".into()],
    });
    assert_eq!(verdict_of(&r).reasons, ["recorded"]);
}

fn stage(sent: u64, mean_target_rate: f64) -> crate::result::StageResult {
    crate::result::StageResult {
        start_s: 1.0,
        end_s: 3.0,
        target_rate: Some(mean_target_rate),
        mean_target_rate: Some(mean_target_rate),
        achieved_rate: Some(sent as f64 / 2.0),
        target_connections: None,
        requests: sent,
        errors: 0,
        sent,
        requests_per_sec: sent as f64 / 2.0,
        p50_us: 100,
        p99_us: 200,
    }
}

fn stage_warnings(r: &RunResult) -> Vec<WarningKind> {
    kinds(r)
        .into_iter()
        .filter(|k| matches!(k, WarningKind::StageRateNotHeld { .. }))
        .collect()
}

/// A stage is judged on its own: short by one request is rounding, short
/// by more is a rate not held, and with the pool's capacity below the
/// stage's rate the pool is named as the limit.
#[test]
fn a_stage_that_sent_too_few_is_named() {
    let mut r = open_loop_result();
    r.config.connections = 1;
    r.latency_uncorrected.as_mut().unwrap().mean = 10_000.0;
    // Stage 1: 199 of 200 (rounding); stage 2: 150 of 200 at 100 req/s,
    // where one connection at 10 ms carries 100 req/s.
    r.stages = vec![stage(199, 100.0), stage(150, 100.0)];
    let found = stage_warnings(&r);
    assert_eq!(
        found,
        [WarningKind::StageRateNotHeld {
            stage: 2,
            start_s: 1.0,
            end_s: 3.0,
            target_rate: 100.0,
            achieved_rate: 75.0,
            connections: 1,
            capacity_rate: Some(100.0),
            limit: Limit::Server,
        }]
    );
    assert!(found[0].invalidates());
    assert_eq!(
        found[0].to_string(),
        "stage 2 (1s-3s) did not hold its rate (75.00 of 100.00 req/s): the pool of 1 \
         connections carries about 100.00 req/s at the run's mean service time; add connections \
         (-c, or --max-clients x --max-conns) or lower the stage's rate"
    );
    // Poisson arrivals are allowed their chance: 3√200 ≈ 42 short.
    r.config.arrivals = Some("poisson".into());
    r.stages = vec![stage(165, 100.0)];
    assert!(stage_warnings(&r).is_empty());
}

/// An h2c run that asked for 10 streams on each of its 4 connections.
fn h2c_run(server_max_streams: Option<u64>, streams_in_flight: u32) -> RunResult {
    let mut r = closed_loop_result();
    r.config.protocol = Some("h2c".into());
    r.config.streams = Some(10);
    r.http2 = Some(crate::result::Http2Info {
        requested: "on".into(),
        fell_back: false,
        server_max_streams,
        streams_in_flight,
        stream_window: 65_535,
        connection_window: 65_535,
        goaways: 0,
        resent: 0,
    });
    r
}

fn streams_warning(r: &RunResult) -> Option<Warning> {
    diagnose(r)
        .into_iter()
        .find(|w| matches!(w.kind, WarningKind::StreamsCapped { .. }))
}

#[test]
fn a_server_stream_limit_below_streams_is_named_with_the_way_out() {
    let w = streams_warning(&h2c_run(Some(8), 8)).expect("a streams_capped warning");
    assert_eq!(
        w.kind,
        WarningKind::StreamsCapped {
            streams: 10,
            streams_in_flight: 8,
            server_max_streams: 8,
            connections: 4,
        }
    );
    assert_eq!(
        w.message,
        "the server allows 8 concurrent streams per connection (SETTINGS_MAX_CONCURRENT_STREAMS): \
         8 of the 10 asked (--streams) were in flight on each of the 4 connections, so the load \
         had at most 32 requests in flight instead of 40; for more, add connections (-c, or \
         --max-clients x --max-conns)"
    );
    // The figures are still the server's: a lighter load, not a wrong one.
    assert!(verdict(&[w]).valid);
}

#[test]
fn no_streams_warning_without_a_cap_below_streams() {
    // The server allowed all that was asked.
    assert!(streams_warning(&h2c_run(Some(100), 10)).is_none());
    // No limit set by the server: fewer in flight is not its doing.
    assert!(streams_warning(&h2c_run(None, 0)).is_none());
    // --http2=auto fell back: HTTP/1.1 has no streams to cap.
    let mut r = h2c_run(Some(1), 1);
    r.config.protocol = Some("http/1.1".into());
    r.http2.as_mut().unwrap().fell_back = true;
    assert!(streams_warning(&r).is_none());
}

/// Over HTTP/2 each connection has several requests in flight: the pool
/// carries connections x streams in flight / service time, so a rate an
/// HTTP/1.1 pool could not carry is the client's shortfall here.
#[test]
fn http2_capacity_counts_the_streams_in_flight() {
    let mut r = open_loop_result();
    r.latency_uncorrected.as_mut().unwrap().mean = 10_000.0;
    // As HTTP/1.1: 4 connections x 1 / 10 ms = 400 req/s, the server's limit.
    assert!(matches!(
        rate_warning(&r),
        Some(WarningKind::RateNotHeld {
            limit: Limit::Server,
            ..
        })
    ));
    r.config.protocol = Some("h2c".into());
    r.config.streams = Some(10);
    r.http2 = h2c_run(Some(8), 8).http2;
    // 4 connections x 8 streams the server allowed / 10 ms = 3200 req/s.
    assert!(matches!(
        rate_warning(&r),
        Some(WarningKind::RateNotHeld {
            capacity_rate: Some(c),
            limit: Limit::Client,
            ..
        }) if (c - 3_200.0).abs() < 1e-6
    ));
}
