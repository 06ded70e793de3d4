//! The human summary printed on stdout after a run, in the spirit of wrk:
//! what was run, the latency distribution, throughput, errors and status
//! codes, then whatever a reader must not miss (warnings) and where the
//! JSON result went. Everything here is derived from the [`RunResult`]
//! alone, so a saved result renders the same way later. It decides
//! nothing: the warnings come from [`diagnosis`], recomputed from the
//! result (so a file saved before results carried `warnings` prints them
//! too), and every number is spelled by [`super::format`].

use std::fmt::Write as _;
use std::path::Path;

use super::diagnosis::{self, ServerCount};
use super::format;
use crate::hdr::Percentile;
use crate::result::{Http2Info, Latency, Phases, RunConfig, RunResult, TlsInfo, Verdict};

/// Renders the whole report of a saved result: its header, then its summary.
pub fn render(result: &RunResult, saved: Option<&Path>) -> String {
    let server = result.target.server.as_ref().map(|s| s.model.as_str());
    let mut out = header(
        &result.config,
        &result.target.url,
        server,
        result.label.as_deref(),
    );
    out.push_str(&summary(result, saved));
    out
}

/// What is about to run, printed before the load starts (as wrk does), so
/// that a CI log shows what is going on for the whole run.
pub fn header(c: &RunConfig, url: &str, server: Option<&str>, label: Option<&str>) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = write_header(&mut out, c, url, server, label);
    out
}

/// Everything after the header: latency, volume, errors, checks, warnings
/// and where the JSON result went (`saved`), printed when the run ends.
pub fn summary(result: &RunResult, saved: Option<&Path>) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = write_summary(&mut out, result);
    for w in diagnosis::diagnose(result) {
        let _ = writeln!(out, "WARNING: {w}");
    }
    let _ = writeln!(out, "{}", verdict_line(&diagnosis::verdict_of(result)));
    let _ = checks(&mut out, result);
    if let Some(p) = saved {
        let _ = writeln!(out, "Saved: {}", p.display());
    }
    out
}

fn write_header(
    out: &mut String,
    c: &RunConfig,
    url: &str,
    server: Option<&str>,
    label: Option<&str>,
) -> std::fmt::Result {
    let length = match (c.duration_s, c.requests) {
        (Some(d), _) => format!("{} test", format::duration_s(d)),
        (None, Some(n)) => format!("{n}-request test"),
        (None, None) => "test".to_string(),
    };
    let server = match server {
        Some(model) => format!(" ({model} server started by bench-client)"),
        None => String::new(),
    };
    writeln!(out, "Running {length} @ {url}{server}")?;
    if let Some(label) = label {
        writeln!(out, "  Label: {label}")?;
    }
    // Over HTTP/2 a connection carries several requests at once, so the
    // connections alone would understate the load.
    if c.is_http2() {
        writeln!(
            out,
            "  {} threads and {} connections × {} streams ({}), {} clients × {} conns",
            c.threads,
            c.connections,
            c.streams_per_connection(),
            c.protocol(),
            c.max_clients,
            c.max_conns
        )?;
    } else {
        writeln!(
            out,
            "  {} threads and {} connections ({} clients × {} conns)",
            c.threads, c.connections, c.max_clients, c.max_conns
        )?;
    }
    let connection = if c.connection_per_request {
        "a new connection per request"
    } else {
        "keep-alive"
    };
    let body = match (c.payload_bytes, &c.body_file) {
        (0, _) => String::new(),
        (n, Some(f)) => format!(", {} body from {f}", format::bytes(n as f64)),
        (n, None) => format!(", {} body", format::bytes(n as f64)),
    };
    // A targets file names each target's method (and maybe its body), so
    // -m and the payload describe only the targets that set none.
    let mut mode = if c.targets_file.is_some() {
        format!("  each target's method, {connection}{body}")
    } else {
        format!("  {} {connection}{body}", c.method)
    };
    if c.warmup_s > 0.0 {
        let _ = write!(mode, ", after {} warm-up", format::duration_s(c.warmup_s));
    }
    writeln!(out, "{mode}")?;
    if let Some(rate) = c.rate {
        writeln!(
            out,
            "  Open loop at {} req/s: latency from each request's intended send time",
            format::rate(rate)
        )?;
    }
    if !c.stages.is_empty() {
        let stages: Vec<String> = c.stages.iter().map(stage_text).collect();
        let kind = if c.arrivals.is_some() {
            "open loop, latency from each request's intended send time"
        } else {
            "closed loop"
        };
        writeln!(out, "  Stages ({kind}): {}", stages.join(", "))?;
    }
    if let (Some(file), Some(order)) = (&c.targets_file, &c.targets_order) {
        let seed = match (order.as_str(), c.seed) {
            ("random", Some(s)) => format!(", --seed {s}"),
            _ => String::new(),
        };
        writeln!(out, "  Targets: {file}, {order}{seed}")?;
    }
    if let Some(arrivals) = &c.arrivals {
        if arrivals != "uniform" || c.seed.is_some() {
            let seed = c.seed.map(|s| format!(", --seed {s}")).unwrap_or_default();
            writeln!(out, "  Arrivals: {arrivals}{seed}")?;
        }
    }
    Ok(())
}

/// A stage as typed: `30s:1000/s`, `1m:200`.
fn stage_text(s: &crate::result::StageConfig) -> String {
    let d = format::duration_s(s.duration_s);
    match (s.target_rate, s.target_connections) {
        (Some(r), _) => format!("{d}:{r}/s"),
        (None, Some(c)) => format!("{d}:{c}"),
        (None, None) => d,
    }
}

/// A line per stage: its target, what it achieved, its p50 and p99 and
/// its errors.
fn stages(out: &mut String, r: &RunResult) -> std::fmt::Result {
    if r.stages.is_empty() {
        return Ok(());
    }
    writeln!(out, "  Stages")?;
    for (i, (st, cfg)) in r.stages.iter().zip(&r.config.stages).enumerate() {
        let span = format!(
            "{}-{}",
            format::duration_s(st.start_s),
            format::duration_s(st.end_s)
        );
        let load = match (st.mean_target_rate, st.achieved_rate, st.target_connections) {
            (Some(target), Some(achieved), _) => format!(
                "target {} req/s (mean {}), sent {} req/s",
                format::rate(cfg.target_rate.unwrap_or(target)),
                format::rate(target),
                format::rate(achieved)
            ),
            (_, _, Some(c)) => format!(
                "target {c} connections, {} req/s",
                format::rate(st.requests_per_sec)
            ),
            _ => String::new(),
        };
        writeln!(
            out,
            "    {:>2} {span:<12} {load}; p50 {}, p99 {}, errors {}",
            i + 1,
            format::latency_us(st.p50_us as f64),
            format::latency_us(st.p99_us as f64),
            st.errors
        )?;
    }
    Ok(())
}

/// The targets the summary lists; the JSON has them all.
const TARGETS_SHOWN: usize = 20;

/// The busiest targets, a line each: requests, errors, p50, p99.
fn targets(out: &mut String, r: &RunResult) -> std::fmt::Result {
    if r.targets.is_empty() {
        return Ok(());
    }
    let mut busiest: Vec<&crate::result::TargetResult> = r.targets.iter().collect();
    // Stable: ties keep file order.
    busiest.sort_by_key(|t| std::cmp::Reverse(t.requests + t.errors));
    let width = busiest
        .iter()
        .take(TARGETS_SHOWN)
        .map(|t| t.key.len())
        .max()
        .unwrap_or(0)
        .max("Target".len());
    writeln!(
        out,
        "  {:<width$} {:>10} {:>8} {:>10} {:>10}",
        "Target", "Requests", "Errors", "p50", "p99"
    )?;
    for t in busiest.iter().take(TARGETS_SHOWN) {
        let p =
            |k: &str| format::latency_us(t.latency.percentiles.get(k).copied().unwrap_or(0) as f64);
        writeln!(
            out,
            "  {:<width$} {:>10} {:>8} {:>10} {:>10}",
            t.key,
            t.requests,
            t.errors,
            p("50"),
            p("99")
        )?;
    }
    if busiest.len() > TARGETS_SHOWN {
        writeln!(
            out,
            "  ... and {} more targets (all of them in the JSON's `targets`)",
            busiest.len() - TARGETS_SHOWN
        )?;
    }
    Ok(())
}

fn write_summary(out: &mut String, r: &RunResult) -> std::fmt::Result {
    let s = &r.summary;

    // Latency. Timed-out requests keep their latency, so a run that
    // completed nothing can still have a table, and it says whose it is.
    if s.requests == 0 && r.latency.max == 0 {
        writeln!(out, "  Latency: no completed requests")?;
    } else {
        match &r.latency_uncorrected {
            Some(unc) => latency_table(out, &[("corrected", &r.latency), ("uncorrected", unc)])?,
            None => latency_table(out, &[("", &r.latency)])?,
        }
    }

    if let Some(p) = &r.phases {
        phases(out, p)?;
    }
    if let Some(t) = &r.tls {
        tls(out, t)?;
    }
    if let Some(h) = &r.http2 {
        http2(out, &r.config, h)?;
    }

    // Volume and throughput.
    writeln!(
        out,
        "  {} requests in {}, {} sent, {} received",
        s.requests,
        format::duration_s(s.duration_s),
        format::bytes(s.bytes_sent as f64),
        format::bytes(s.bytes_received as f64)
    )?;
    errors_and_statuses(out, r)?;
    if let Some(target) = s.target_rate {
        open_loop(out, r, target)?;
    }
    let per_sec = |n: u64| {
        if s.duration_s > 0.0 {
            n as f64 / s.duration_s
        } else {
            0.0
        }
    };
    writeln!(
        out,
        "Requests/sec: {:>10}",
        format::rate(s.requests_per_sec)
    )?;
    writeln!(
        out,
        "Transfer/sec: {:>10} sent, {} received",
        format::bytes(per_sec(s.bytes_sent)),
        format::bytes(per_sec(s.bytes_received))
    )?;

    stages(out, r)?;
    targets(out, r)?;
    fairness(out, r)?;
    server_totals(out, r)
}

/// One column per latency block: min, mean, stdev, max, then percentiles.
fn latency_table(out: &mut String, blocks: &[(&str, &Latency)]) -> std::fmt::Result {
    // Padded to the width of the row labels below, so that columns line up.
    let mut header = format!("{:<11}", "  Latency");
    for (name, _) in blocks {
        let _ = write!(header, "{name:>13}");
    }
    writeln!(out, "{}", header.trim_end())?;
    type Row = fn(&Latency) -> f64;
    let stats: [(&str, Row); 4] = [
        ("min", |l| l.min as f64),
        ("mean", |l| l.mean),
        ("stdev", |l| l.stdev),
        ("max", |l| l.max as f64),
    ];
    for (name, value) in stats {
        let mut line = format!("    {name:<7}");
        for (_, l) in blocks {
            let _ = write!(line, "{:>13}", format::latency_us(value(l)));
        }
        writeln!(out, "{line}")?;
    }
    // The max is already shown.
    for p in Percentile::ALL.iter().filter(|p| **p != Percentile::Max) {
        let mut line = format!("    {:<7}", format!("{}%", p.key()));
        for (_, l) in blocks {
            let v = l.percentiles.get(p.key()).map(|&v| v as f64);
            let _ = write!(
                line,
                "{:>13}",
                v.map_or("-".to_string(), format::latency_us)
            );
        }
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// Where the time went, phase by phase: one row per phase.
fn phases(out: &mut String, p: &Phases) -> std::fmt::Result {
    writeln!(
        out,
        "  {:<16}{:>8} {:>10} {:>10} {:>10} {:>10}",
        "Phases", "count", "mean", "50%", "99%", "max"
    )?;
    if let Some(us) = p.resolve_us {
        writeln!(
            out,
            "    {:<13} {:>8} {:>10}",
            "resolve",
            1,
            format::latency_us(us as f64)
        )?;
    }
    let mut rows = vec![("connect", &p.connect)];
    if let Some(h) = &p.tls_handshake {
        rows.push(("tls_handshake", h));
    }
    rows.push(("ttfb", &p.ttfb));
    for (name, ph) in rows {
        let l = &ph.latency;
        let pct = |k: &str| {
            l.percentiles
                .get(k)
                .map_or("-".to_string(), |&v| format::latency_us(v as f64))
        };
        if ph.count == 0 {
            writeln!(out, "    {name:<13} {:>8}", 0)?;
            continue;
        }
        writeln!(
            out,
            "    {name:<13} {:>8} {:>10} {:>10} {:>10} {:>10}",
            ph.count,
            format::latency_us(l.mean),
            pct("50"),
            pct("99"),
            format::latency_us(l.max as f64)
        )?;
    }
    Ok(())
}

/// The TLS sessions: version, suite, full and resumed handshakes.
fn tls(out: &mut String, t: &TlsInfo) -> std::fmt::Result {
    let version = t.version.as_deref().unwrap_or("no handshake finished");
    let cipher = t
        .cipher
        .as_deref()
        .map_or(String::new(), |c| format!(" {c}"));
    let resumption = if t.resumption {
        ""
    } else {
        " (resumption off)"
    };
    writeln!(
        out,
        "  TLS: {version}{cipher}; handshakes: {} full, {} resumed{resumption}",
        t.handshakes_full, t.handshakes_resumed
    )
}

/// The streams: how many were in flight on how many connections, what the
/// server allowed, the windows, GOAWAYs and re-sent requests; or that
/// `--http2=auto` fell back, when it did (the figures are then HTTP/1.1's).
fn http2(out: &mut String, c: &RunConfig, h: &Http2Info) -> std::fmt::Result {
    if h.fell_back {
        return writeln!(
            out,
            "  HTTP/2: --http2=auto fell back to HTTP/1.1 (the server does not speak HTTP/2)"
        );
    }
    let server_max = h
        .server_max_streams
        .map_or("unlimited".to_string(), |m| m.to_string());
    writeln!(
        out,
        "  HTTP/2 ({}): {} connections × {} streams in flight (--streams {}, server max \
         concurrent streams {server_max}); windows {} per stream, {} per connection; {} \
         GOAWAYs received, {} requests re-sent",
        c.protocol(),
        c.connections,
        h.streams_in_flight,
        c.streams_per_connection(),
        format::bytes(h.stream_window as f64),
        format::bytes(h.connection_window as f64),
        h.goaways,
        h.resent
    )
}

fn errors_and_statuses(out: &mut String, r: &RunResult) -> std::fmt::Result {
    let s = &r.summary;
    if s.errors == 0 && s.errors_by_kind.values().all(|&n| n == 0) {
        writeln!(out, "  Errors: none")?;
    } else {
        writeln!(out, "  Errors: {}", s.errors)?;
        for (kind, n) in &s.errors_by_kind {
            writeln!(out, "    {kind:<20} {n:>10}")?;
            // The causes behind this kind: an OS error name
            // (`reset:ECONNRESET`), or what was wrong with a response
            // (`invalid_response:http2_preface`), said in words.
            let prefix = format!("{kind}:");
            for (cause, m) in &s.errors_by_cause {
                if let Some(name) = cause.strip_prefix(&prefix) {
                    let words = crate::http::describe_cause(name)
                        .or_else(|| crate::tls::describe_cause(name));
                    match words {
                        Some(words) => writeln!(out, "      {name:<18} {m:>10}  {words}")?,
                        None => writeln!(out, "      {name:<18} {m:>10}")?,
                    }
                }
            }
        }
    }
    writeln!(out, "  Status codes")?;
    if s.status_codes.is_empty() {
        writeln!(out, "    none")?;
    }
    for (code, n) in &s.status_codes {
        if code.starts_with('2') {
            writeln!(out, "    {code:<20} {n:>10}")?;
        } else {
            writeln!(out, "    {code:<20} {n:>10}  <- non-2xx")?;
        }
    }
    Ok(())
}

fn open_loop(out: &mut String, r: &RunResult, target: f64) -> std::fmt::Result {
    let s = &r.summary;
    let sent = s.requests + s.errors;
    match s.achieved_rate {
        Some(achieved) => writeln!(
            out,
            "  Rate: target {} req/s, achieved {} req/s ({:.1}%)",
            format::rate(target),
            format::rate(achieved),
            100.0 * achieved / target.max(f64::MIN_POSITIVE)
        )?,
        None => writeln!(out, "  Rate: target {} req/s", format::rate(target))?,
    }
    let late = s.late_sends.unwrap_or(0);
    let late_share = late as f64 / sent.max(1) as f64;
    writeln!(
        out,
        "  Late sends: {late} ({:.1}% of {sent} sent more than 1 ms after they were due)",
        100.0 * late_share
    )?;
    if let Some(p) = &s.pacing {
        writeln!(
            out,
            "  Pacing error: p50 {}, p99 {}, max {} over {} sends on their timer; \
             {} late sends were due while their connection was busy",
            format::latency_us(p.schedule_error_p50_us as f64),
            format::latency_us(p.schedule_error_p99_us as f64),
            format::latency_us(p.schedule_error_max_us as f64),
            p.timer_sends,
            p.late_sends_busy
        )?;
    }
    Ok(())
}

fn fairness(out: &mut String, r: &RunResult) -> std::fmt::Result {
    if r.clients.len() < 2 {
        return Ok(());
    }
    let min = r.clients.iter().min_by_key(|c| (c.requests, c.id));
    let max = r
        .clients
        .iter()
        .max_by_key(|c| (c.requests, u32::MAX - c.id));
    let (Some(min), Some(max)) = (min, max) else {
        return Ok(());
    };
    let mean = r.clients.iter().map(|c| c.requests as f64).sum::<f64>() / r.clients.len() as f64;
    writeln!(
        out,
        "Fairness: Jain {:.3} over {} clients; requests per client: min {} (client {}), \
         mean {:.1}, max {} (client {})",
        r.fairness.jain,
        r.clients.len(),
        min.requests,
        min.id,
        mean,
        max.requests,
        max.id
    )?;
    Ok(())
}

fn server_totals(out: &mut String, r: &RunResult) -> std::fmt::Result {
    let (Some(info), Some(verdict)) = (&r.target.server, diagnosis::server_count(r)) else {
        return Ok(());
    };
    if let Some(t) = &info.totals {
        writeln!(
            out,
            "Server totals ({}): {} requests, {} connections, {} body bytes",
            t.model, t.requests, t.connections, t.body_bytes
        )?;
    }
    match verdict {
        ServerCount::NoTotals { server } => {
            writeln!(out, "Server totals ({server}): none printed")
        }
        ServerCount::Matches { requests } => {
            writeln!(out, "  matches the client's {requests} completed requests")
        }
        ServerCount::IncludesWarmup { client_requests } => writeln!(
            out,
            "  client completed {client_requests} (the server's count includes the warm-up)"
        ),
        ServerCount::InFlight {
            client_requests,
            extra,
        } => writeln!(
            out,
            "  client completed {client_requests}; the server answered {extra} more, in flight when the run ended"
        ),
        // The warning says it.
        ServerCount::Mismatch { .. } => Ok(()),
    }
}

/// `VALID`, or `NOT VALID: ` and the reasons, on one line.
pub fn verdict_line(v: &Verdict) -> String {
    if v.valid {
        "VALID".to_string()
    } else {
        format!("NOT VALID: {}", v.reasons.join("; "))
    }
}

/// The checks, when the user gave some or one failed (the default check
/// passing on every healthy run is not news).
fn checks(out: &mut String, r: &RunResult) -> std::fmt::Result {
    let failed = r.checks.iter().filter(|c| c.failed).count();
    if r.checks.len() < 2 && failed == 0 {
        return Ok(());
    }
    let verdict = if failed == 0 { "passed" } else { "FAILED" };
    writeln!(
        out,
        "Checks: {verdict} ({failed} of {} failed)",
        r.checks.len()
    )?;
    for c in &r.checks {
        writeln!(out, "  {}", c.describe())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testing::{closed_loop_result, open_loop_result};
    use crate::result::ServerTotals;

    fn lines(s: &str) -> Vec<&str> {
        s.lines().collect()
    }

    #[test]
    fn closed_loop_summary_snapshot() {
        let r = closed_loop_result();
        let text = render(&r, Some(Path::new("results/20261125T192000Z-smoke.json")));
        let expected = "\
Running 2s test @ http://127.0.0.1:40000/ (selector server started by bench-client)
  Label: smoke
  2 threads and 4 connections (2 clients × 2 conns)
  GET keep-alive
  Latency
    min         100.00µs
    mean         17.20ms
    stdev       149.05ms
    max            1.50s
    50%         100.00µs
    75%           2.00ms
    90%           2.00ms
    99%          15.01ms
    99.9%          1.50s
    99.99%         1.50s
  1000 requests in 2s, 1.95MiB sent, 3MiB received
  Errors: 3
    reset                         2
      ECONNRESET                  2
    timeout                       1
  Status codes
    200                         990
    404                          10  <- non-2xx
Requests/sec:     500.00
Transfer/sec:    1000KiB sent, 1.50MiB received
Fairness: Jain 0.960 over 2 clients; requests per client: min 400 (client 1), mean 500.0, max 600 (client 0)
Server totals (selector): 1000 requests, 4 connections, 0 body bytes
  matches the client's 1000 completed requests
WARNING: 3 requests failed (0.3% of 1003 attempts): reset 2, timeout 1
WARNING: 10 non-2xx responses (1.0% of completed requests)
WARNING: the selector server was not pinned (--server-cpus): it shared the 2 CPUs bench-client could run on, so each slowed the other; pin it with --server-cpus and bench-client with taskset to other CPUs
VALID
Saved: results/20261125T192000Z-smoke.json
";
        assert_eq!(text, expected);
    }

    #[test]
    fn phases_and_tls_are_a_short_table_and_a_line() {
        let mut r = closed_loop_result();
        let mut h = crate::hdr::new_histogram();
        h.record_n(100, 4).unwrap();
        let block = crate::result::PhaseLatency {
            count: 4,
            latency: crate::hdr::latency_from(&h),
        };
        r.phases = Some(Phases {
            resolve_us: Some(1_500),
            connect: block.clone(),
            tls_handshake: Some(block.clone()),
            ttfb: crate::result::PhaseLatency {
                count: 0,
                latency: crate::hdr::latency_from(&crate::hdr::new_histogram()),
            },
        });
        r.tls = Some(TlsInfo {
            version: Some("TLSv1_3".into()),
            cipher: Some("TLS13_AES_256_GCM_SHA384".into()),
            handshakes_full: 1,
            handshakes_resumed: 3,
            resumption: true,
            fatal: None,
        });
        let text = render(&r, None);
        let expected = "\
  Phases             count       mean        50%        99%        max
    resolve              1     1.50ms
    connect              4   100.00µs   100.00µs   100.00µs   100.00µs
    tls_handshake        4   100.00µs   100.00µs   100.00µs   100.00µs
    ttfb                 0
  TLS: TLSv1_3 TLS13_AES_256_GCM_SHA384; handshakes: 1 full, 3 resumed
";
        assert!(text.contains(expected), "{text}");
    }

    fn h2c_result() -> RunResult {
        let mut r = closed_loop_result();
        r.config.protocol = Some("h2c".into());
        r.config.streams = Some(10);
        r.http2 = Some(crate::result::Http2Info {
            requested: "on".into(),
            fell_back: false,
            server_max_streams: Some(8),
            streams_in_flight: 8,
            stream_window: 1 << 20,
            connection_window: 3 << 19,
            goaways: 2,
            resent: 5,
        });
        r
    }

    #[test]
    fn an_http2_run_states_connections_streams_and_protocol() {
        let text = render(&h2c_result(), None);
        assert!(
            text.contains(
                "\n  2 threads and 4 connections × 10 streams (h2c), 2 clients × 2 conns\n"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "\n  HTTP/2 (h2c): 4 connections × 8 streams in flight (--streams 10, server max \
                 concurrent streams 8); windows 1MiB per stream, 1.50MiB per connection; 2 \
                 GOAWAYs received, 5 requests re-sent\n"
            ),
            "{text}"
        );
        let mut r = h2c_result();
        r.http2.as_mut().unwrap().server_max_streams = None;
        assert!(render(&r, None).contains("server max concurrent streams unlimited)"));
    }

    /// `--http2=auto` against an HTTP/1.1 server: the header is HTTP/1.1's
    /// as it always was, and the summary says why.
    #[test]
    fn a_fallback_says_so_and_reads_as_http1() {
        let mut r = h2c_result();
        r.config.protocol = Some("http/1.1".into());
        let h = r.http2.as_mut().unwrap();
        h.requested = "auto".into();
        h.fell_back = true;
        let text = render(&r, None);
        assert!(
            text.contains("\n  2 threads and 4 connections (2 clients × 2 conns)\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "\n  HTTP/2: --http2=auto fell back to HTTP/1.1 (the server does not speak HTTP/2)\n"
            ),
            "{text}"
        );
        assert!(!text.contains("streams in flight"), "{text}");
    }

    #[test]
    fn open_loop_shows_both_latencies_rates_and_late_sends() {
        let text = render(&open_loop_result(), None);
        let l = lines(&text);
        assert!(l.contains(
            &"  Open loop at 600.00 req/s: latency from each request's intended send time"
        ));
        assert!(
            l.contains(&"  Latency      corrected  uncorrected"),
            "{text}"
        );
        assert!(
            l.contains(&"    min         100.00µs      90.00µs"),
            "{text}"
        );
        assert!(
            l.contains(&"    99%          15.01ms       1.00ms"),
            "{text}"
        );
        assert!(l.contains(&"  Rate: target 600.00 req/s, achieved 500.00 req/s (83.3%)"));
        assert!(l.contains(
            &"  Late sends: 120 (12.0% of 1003 sent more than 1 ms after they were due)"
        ));
        assert!(
            l.contains(
                &"  Pacing error: p50 40.00µs, p99 90.00µs, max 2.50ms over 880 sends on their timer; \
                  110 late sends were due while their connection was busy"
            ),
            "{text}"
        );
        // 4 connections at ~180 µs could carry ~22k req/s: the client fell behind.
        let warning = l
            .iter()
            .find(|x| x.starts_with("WARNING: the target rate was not held"))
            .unwrap_or_else(|| panic!("no rate warning in:\n{text}"));
        assert!(
            warning.starts_with(
                "WARNING: the target rate was not held (500.00 of 600.00 req/s): the client was the limit"
            ),
            "{warning}"
        );
        assert!(!text.contains("Saved:"));
    }

    #[test]
    fn open_loop_blames_the_server_when_connections_are_saturated() {
        let mut r = open_loop_result();
        // 4 connections × 10 ms service time: at most 400 req/s, below the 600 asked.
        r.latency_uncorrected.as_mut().unwrap().mean = 10_000.0;
        let text = render(&r, None);
        assert!(
            text.contains(
                "WARNING: the target rate was not held (500.00 of 600.00 req/s): the server was \
                 the limit: 4 connections busy waiting for responses with a mean service time of \
                 10.00ms allow at most about 400.00 req/s"
            ),
            "{text}"
        );
    }

    #[test]
    fn held_rate_gives_no_rate_warning() {
        let mut r = open_loop_result();
        r.summary.achieved_rate = Some(599.0);
        r.summary.late_sends = Some(0);
        let text = render(&r, None);
        assert!(!text.contains("not held"), "{text}");
        assert!(!text.contains("went out more than 1 ms late"), "{text}");
        r.summary.late_sends = Some(100);
        assert!(
            render(&r, None).contains("WARNING: 100 requests (10.0%) went out more than 1 ms late")
        );
    }

    #[test]
    fn server_count_mismatch_is_a_warning() {
        let mut r = closed_loop_result();
        // Bounded by -n: the counts must match exactly.
        r.config.duration_s = None;
        r.config.requests = Some(1_000);
        r.target.server.as_mut().unwrap().totals = Some(ServerTotals {
            model: "selector".into(),
            connections: 4,
            requests: 1_002,
            body_bytes: 0,
            tls_full: 0,
            tls_resumed: 0,
        });
        let text = render(&r, None);
        assert!(text.contains(
            "WARNING: the server answered 1002 requests but the client counted 1000 completed (+ 2)"
        ));
        assert!(!text.contains("matches the client's"));
        // With a warm-up the server's count is expected to be higher.
        r.config.warmup_s = 1.0;
        let text = render(&r, None);
        assert!(!text.contains("WARNING: the server answered"), "{text}");
        assert!(text.contains("GET keep-alive, after 1s warm-up"));
        assert!(
            text.contains("\n  client completed 1000 (the server's count includes the warm-up)\n")
        );
    }

    /// A targets file names each target's method: the header must not
    /// claim `-m`'s for all of them.
    #[test]
    fn a_targets_run_does_not_claim_one_method() {
        let mut r = closed_loop_result();
        assert!(render(&r, None).contains("  GET keep-alive"));
        r.config.targets_file = Some("t.txt".into());
        r.config.targets_order = Some("random".into());
        let text = render(&r, None);
        assert!(!text.contains("GET keep-alive"), "{text}");
        assert!(
            text.contains("  each target's method, keep-alive"),
            "{text}"
        );
        assert!(text.contains("  Targets: t.txt, random"), "{text}");
    }

    #[test]
    fn server_answering_more_after_a_deadline_is_no_warning_but_fewer_is() {
        let mut r = closed_loop_result();
        r.target
            .server
            .as_mut()
            .unwrap()
            .totals
            .as_mut()
            .unwrap()
            .requests = 1_003;
        let text = render(&r, None);
        assert!(!text.contains("WARNING: the server answered"), "{text}");
        assert!(text.contains(
            "\n  client completed 1000; the server answered 3 more, in flight when the run ended\n"
        ));
        // The client cannot complete what the server never answered.
        r.target
            .server
            .as_mut()
            .unwrap()
            .totals
            .as_mut()
            .unwrap()
            .requests = 990;
        assert!(render(&r, None).contains(
            "WARNING: the server answered 990 requests but the client counted 1000 completed (- 10)"
        ));
    }

    #[test]
    fn missing_server_totals_are_a_warning() {
        let mut r = closed_loop_result();
        r.target.server.as_mut().unwrap().totals = None;
        let text = render(&r, None);
        assert!(text.contains("Server totals (selector): none printed\n"));
        assert!(text.contains("WARNING: the selector server printed no totals line"));
    }

    #[test]
    fn no_server_section_for_external_target_and_no_fairness_for_one_client() {
        let mut r = closed_loop_result();
        r.target.server = None;
        r.clients.truncate(1);
        let text = render(&r, None);
        assert!(
            text.starts_with("Running 2s test @ http://127.0.0.1:40000/\n"),
            "{text}"
        );
        assert!(!text.contains("Server totals"));
        assert!(!text.contains("Fairness"));
    }

    /// Review finding: a run whose every request timed out printed a latency
    /// table (timeouts are recorded) under "no latency was measured".
    #[test]
    fn only_timeouts_say_whose_latency_is_shown() {
        let mut r = closed_loop_result();
        r.summary.requests = 0;
        let text = render(&r, None);
        assert!(
            text.contains(
                "WARNING: no request completed: the latency figures are those of timed-out requests"
            ),
            "{text}"
        );
        assert!(!text.contains("no latency was measured"), "{text}");
        r.latency = crate::hdr::latency_from(&crate::hdr::new_histogram());
        let text = render(&r, None);
        assert!(
            text.contains("  Latency: no completed requests\n"),
            "{text}"
        );
        assert!(!text.contains("0.00µs"), "no rows of zeros: {text}");
    }

    #[test]
    fn invalid_responses_say_what_was_wrong() {
        let mut r = closed_loop_result();
        r.summary.errors_by_kind = [("invalid_response".to_string(), 7)].into();
        r.summary.errors = 7;
        r.summary.errors_by_cause = [("invalid_response:http2_preface".to_string(), 7)].into();
        let text = render(&r, None);
        let line = format!(
            "      http2_preface               7  {}\n",
            crate::http::describe_cause("http2_preface").unwrap()
        );
        assert!(text.contains(&line), "{line:?} in {text}");
    }

    #[test]
    fn interrupted_and_starved_runs_warn() {
        let mut r = closed_loop_result();
        r.interrupted = true;
        r.summary.duration_s = 1.25;
        r.clients[1].requests = 0;
        let text = render(&r, None);
        assert!(
            text.contains(
                "WARNING: interrupted (SIGINT/SIGTERM): a partial result covering 1s 250ms"
            ),
            "{text}"
        );
        assert!(text.contains("WARNING: 1 of 2 clients completed no request (starved)"));
    }

    #[test]
    fn request_bounded_run_with_payload_and_per_request_connections() {
        let mut r = closed_loop_result();
        r.config.duration_s = None;
        r.config.requests = Some(200);
        r.config.method = "POST".into();
        r.config.payload_bytes = 65_536;
        r.config.connection_per_request = true;
        r.summary.errors = 0;
        r.summary.errors_by_kind.clear();
        let text = render(&r, None);
        assert!(text.starts_with("Running 200-request test @ "), "{text}");
        assert!(text.contains("\n  POST a new connection per request, 64KiB body\n"));
        assert!(text.contains("\n  Errors: none\n"));
        assert!(!text.contains("requests failed"), "{text}");
    }

    /// The header names the stages as typed; the summary gives each stage
    /// a line with its target, what it achieved, p50, p99 and errors.
    #[test]
    fn stages_in_header_and_summary() {
        let mut r = open_loop_result();
        r.config.rate = None;
        r.config.arrivals = Some("poisson".into());
        r.config.seed = Some(42);
        r.config.stages = serde_json::from_str(
            r#"[{"duration_s": 30, "target_rate": 1000}, {"duration_s": 120, "target_rate": 1000}]"#,
        )
        .unwrap();
        r.stages = serde_json::from_str(
            r#"[{"start_s": 0, "end_s": 30, "target_rate": 1000, "mean_target_rate": 500,
                 "achieved_rate": 499, "requests": 14970, "errors": 0, "sent": 14970,
                 "requests_per_sec": 499, "p50_us": 1200, "p99_us": 8000},
                {"start_s": 30, "end_s": 150, "target_rate": 1000, "mean_target_rate": 1000,
                 "achieved_rate": 1000, "requests": 120000, "errors": 3, "sent": 120000,
                 "requests_per_sec": 1000, "p50_us": 900, "p99_us": 3000}]"#,
        )
        .unwrap();
        let head = header(&r.config, "http://h/", None, None);
        assert!(
            head.contains(
                "  Stages (open loop, latency from each request's intended send time): \
                 30s:1000/s, 2m:1000/s\n  Arrivals: poisson, --seed 42\n"
            ),
            "{head}"
        );
        let text = summary(&r, None);
        assert!(
            text.contains(
                "  Stages\n     1 0s-30s       target 1000.00 req/s (mean 500.00), sent 499.00 \
                 req/s; p50 1.20ms, p99 8.00ms, errors 0\n     2 30s-2m 30s   target 1000.00 req/s \
                 (mean 1000.00), sent 1000.00 req/s; p50 900.00µs, p99 3.00ms, errors 3\n"
            ),
            "{text}"
        );
    }
}
