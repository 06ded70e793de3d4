//! Output of a run, one file per concern: the JSON result file (`json`),
//! the text summary printed on stdout (`text`), the warnings both carry
//! (`diagnosis`) and how every report spells a number (`format`).
pub mod diagnosis;
pub mod format;
pub mod json;
pub mod load;
pub mod text;

/// Hand-built results shared by the format tests: every field set to a value
/// that a test can recognise in the output.
#[cfg(test)]
pub(crate) mod testing {
    use std::collections::BTreeMap;

    use crate::hdr;
    use crate::result::*;

    fn latency(samples: &[(u64, u64)]) -> Latency {
        let mut h = hdr::new_histogram();
        for &(us, count) in samples {
            h.record_n(us, count).unwrap();
        }
        hdr::latency_from(&h)
    }

    /// Two clients of two connections against a spawned selector server:
    /// 1,000 requests in 2 s, a few errors and a 404.
    pub(crate) fn closed_loop_result() -> RunResult {
        RunResult {
            schema_version: SCHEMA_VERSION,
            tool: Tool {
                name: "bench-client".into(),
                version: "0.1.0".into(),
            },
            started_at: "2026-11-25T19:20:00.123Z".into(),
            label: Some("smoke".into()),
            host: Host {
                os: "linux".into(),
                kernel: "6.1.0".into(),
                cpu: "Test CPU @ 2.0GHz".into(),
                cores: 2,
                hostname: "bench-host".into(),
            },
            sources: Vec::new(),
            config: RunConfig {
                url: "http://127.0.0.1:40000/".into(),
                method: "GET".into(),
                headers: vec!["X-Test: 1".into()],
                max_clients: 2,
                max_conns: 2,
                connections: 4,
                threads: 2,
                duration_s: Some(2.0),
                requests: None,
                payload_bytes: 0,
                body_file: None,
                connection_per_request: false,
                timeout_s: 10.0,
                warmup_s: 0.0,
                rate: None,
                stages: Vec::new(),
                arrivals: None,
                seed: None,
                server: Some("selector".into()),
                server_cpus: None,
                targets_file: None,
                targets_order: None,
                protocol: None,
                streams: None,
            },
            target: Target {
                url: "http://127.0.0.1:40000/".into(),
                server: Some(ServerInfo {
                    model: "selector".into(),
                    totals: Some(ServerTotals {
                        model: "selector".into(),
                        connections: 4,
                        requests: 1_000,
                        body_bytes: 0,
                        tls_full: 0,
                        tls_resumed: 0,
                    }),
                }),
            },
            interrupted: false,
            summary: Summary {
                requests: 1_000,
                errors: 3,
                duration_s: 2.0,
                requests_per_sec: 500.0,
                bytes_sent: 2_048_000,
                bytes_received: 3 * 1024 * 1024,
                status_codes: BTreeMap::from([("200".into(), 990), ("404".into(), 10)]),
                errors_by_kind: BTreeMap::from([("reset".into(), 2), ("timeout".into(), 1)]),
                errors_by_cause: BTreeMap::from([("reset:ECONNRESET".into(), 2)]),
                target_rate: None,
                achieved_rate: None,
                late_sends: None,
                pacing: None,
            },
            // 500 at 100 µs, 400 at 2 ms, 90 at 15 ms, 10 at 1.5 s.
            latency: latency(&[(100, 500), (2_000, 400), (15_000, 90), (1_500_000, 10)]),
            latency_uncorrected: None,
            timeline: vec![
                TimelineEntry {
                    t_s: 0,
                    requests: 480,
                    errors: 3,
                    p50_us: 100,
                    p99_us: 15_000,
                    target_rate: None,
                    achieved_rate: None,
                    target_connections: None,
                    connections: None,
                },
                TimelineEntry {
                    t_s: 1,
                    requests: 520,
                    errors: 0,
                    p50_us: 110,
                    p99_us: 1_500_000,
                    target_rate: None,
                    achieved_rate: None,
                    target_connections: None,
                    connections: None,
                },
            ],
            stages: Vec::new(),
            clients: vec![
                ClientCount {
                    id: 0,
                    requests: 600,
                    errors: 1,
                },
                ClientCount {
                    id: 1,
                    requests: 400,
                    errors: 2,
                },
            ],
            fairness: Fairness { jain: 0.96 },
            checks: Vec::new(),
            warnings: Vec::new(),
            verdict: None,
            generator: None,
            targets: Vec::new(),
            phases: None,
            tls: None,
            http2: None,
            shard: None,
            start: None,
        }
    }

    /// The same run, open loop at 600 req/s that held only 500, with every
    /// optional field present.
    pub(crate) fn open_loop_result() -> RunResult {
        let mut r = closed_loop_result();
        r.config.rate = Some(600.0);
        r.summary.target_rate = Some(600.0);
        r.summary.achieved_rate = Some(500.0);
        r.summary.late_sends = Some(120);
        r.summary.pacing = Some(Pacing {
            timer_sends: 880,
            schedule_error_p50_us: 40,
            schedule_error_p99_us: 90,
            schedule_error_max_us: 2_500,
            late_sends_busy: 110,
        });
        r.latency_uncorrected = Some(latency(&[(90, 900), (1_000, 100)]));
        for e in &mut r.timeline {
            e.target_rate = Some(600.0);
            e.achieved_rate = Some(e.requests as f64);
        }
        r.sources = vec![Source {
            host: r.host.clone(),
            started_at: r.started_at.clone(),
            label: None,
            requests: 1_000,
            shard: None,
        }];
        r
    }
}
