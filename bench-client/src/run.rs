//! One load run, end to end: validated [`Config`] → (reference server) →
//! [`engine::run`] → merged stats → [`RunResult`] → JSON file + text summary.

use std::io::Write as _;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{anyhow, Context as _};
use nix::sys::resource::{getrlimit, setrlimit, Resource, RLIM_INFINITY};

use crate::config::{Config, Http2Mode, HttpUrl, Output, Stop, Targets};
use crate::engine::h2::Probe;
use crate::engine::Counters;
use crate::engine::{self, HostPlan, Outcome, Plan, RequestBytes, WorkerLoad};
use crate::exit::{self, TargetError, UsageError};
use crate::hdr::Percentile;
use crate::progress::Progress;
use crate::result::{
    Generator, GeneratorWorker, Http2Info, Pacing, PhaseLatency, Phases, RunResult, ServerInfo,
    ShardInfo, StageResult, StartInfo, Summary, Target, TargetResult, TlsInfo, Tool,
    SCHEMA_VERSION,
};
use crate::shape::arrivals::ArrivalPlan;
use crate::shape::curve::{connection_slot, ConnectionCurve, RateCurve};
use crate::shape::stage::Target as StageTarget;
use crate::shape::targets::TargetPlan;
use crate::stats::{StageStats, Stats, TimelineTarget};
use crate::supervisor::SpawnedServer;
use crate::{hdr, host, http, live, report, signals};

/// File descriptors kept free beside the connections (epoll, timerfds,
/// stdio, the server's pipes, the result file).
const SPARE_FDS: u64 = 64;

/// Runs the load described by `config`, saves and prints the result.
/// Exit status ([`exit`]): 0, 1 when a check failed, 3 when the result could
/// not be saved, 130/143 when SIGINT/SIGTERM cut the run short (which wins).
pub fn run(config: &Config) -> anyhow::Result<ExitCode> {
    signals::install().context("cannot install the SIGINT/SIGTERM handlers")?;
    let measured = measure(config, true)?;
    measured.saved?;
    let result = &measured.result;
    let fatal = result.tls.as_ref().and_then(|t| t.fatal.as_deref());
    if let Some(message) = fatal {
        eprintln!("error: {message}");
    }
    Ok(exit::code(match measured.interrupted {
        Some(signal) => signals::exit_status(signal),
        None if fatal.is_some() => exit::CHECK_FAILED,
        None if result.checks.iter().any(|c| c.failed) => exit::CHECK_FAILED,
        None => exit::OK,
    }))
}

/// One run, measured and saved: what [`run`] and each `find-max` trial share.
pub struct Measured {
    pub result: RunResult,
    /// Where the result went, or why it could not be saved.
    pub saved: anyhow::Result<Option<PathBuf>>,
    /// The signal that cut the run short.
    pub interrupted: Option<nix::sys::signal::Signal>,
}

/// Runs the load of `config` (starting and stopping its `--server`), builds
/// and saves the result; prints the header and the summary when `print`
/// (a `find-max` trial prints its own line instead). The caller installs
/// the signal handlers.
pub fn measure(config: &Config, print: bool) -> anyhow::Result<Measured> {
    raise_fd_limit(config)?;
    // Bound first: an address that cannot be used ends the run before
    // anything starts.
    let metrics = config.metrics_addr.map(live::Listener::bind).transpose()?;
    let checks = config.checks();
    for notice in &config.notices {
        eprintln!("note: {notice}");
    }

    let server_args: Vec<String> = if config.server_tls {
        vec!["--tls".to_string()]
    } else {
        Vec::new()
    };
    let server = match config.server {
        Some(model) => Some(
            SpawnedServer::start(model, &server_args, config.server_cpus.as_deref())
                .with_context(|| format!("cannot start the {} server", model.name()))?,
        ),
        None => None,
    };
    let mut tls_options = config.tls.clone();
    let (url, candidates, resolve_us) = match &server {
        Some(s) => {
            let url = HttpUrl {
                https: config.server_tls,
                host: s.addr().ip().to_string(),
                port: s.addr().port(),
                path: config.url.path.clone(),
            };
            if config.server_tls {
                // Trust exactly the certificate the server made, as if
                // `--cacert` named it.
                let Some(cert) = s.cert() else {
                    anyhow::bail!(
                        "the {} server was started with --tls but did not name its certificate \
                         (`listening on https://IP:PORT cert=PATH`)",
                        s.model()
                    );
                };
                let certs = crate::tls::read_certs("--cacert", cert)
                    .context("cannot read the --server's certificate")?;
                tls_options.cacert = Some((cert.to_path_buf(), certs));
            }
            (url, vec![s.addr()], None)
        }
        None => match config.resolve {
            Some(addr) => (config.url.clone(), vec![addr], None),
            None => {
                let start = Instant::now();
                let addrs = resolve(&config.url)?;
                (
                    config.url.clone(),
                    addrs,
                    Some(start.elapsed().as_micros() as u64),
                )
            }
        },
    };
    let addr = preflight(&candidates, config.timeout.min(Duration::from_secs(5)))?;
    let fatal = Arc::new(std::sync::OnceLock::new());
    let tls = if url.https {
        Some(
            crate::tls::client_tls(&tls_options, &url.host, &fatal)
                .map_err(|e| UsageError(anyhow::Error::new(e)))?,
        )
    } else {
        None
    };

    // With `-o -` stdout carries the JSON alone, so every line for people
    // goes to stderr.
    let to_stdout = config.output != Output::Stdout;
    let url_text = url.to_url();
    // The first target's URL alone would read as the whole run's.
    let shown = match &config.targets {
        Some(t) if t.list.len() > 1 => format!(
            "{} targets on {} host(s), from {}",
            t.list.len(),
            t.hosts.len(),
            t.file.display()
        ),
        _ => url_text.clone(),
    };
    let hosts = match &config.targets {
        None => vec![HostPlan {
            addr,
            tls: tls.clone(),
            first_conn: 0,
            conns: config.connections(),
            targets: vec![0],
            picker: None,
        }],
        Some(targets) => target_hosts(config, targets, &tls_options, &fatal, addr, tls.as_ref())?,
    };
    let requests = each_request(config, &url, |spec, _| RequestBytes {
        bytes: http::build_request(spec),
        head: spec.method == "HEAD",
    });
    // HTTP/1.1 (asked for, or `--http2=auto` fell back): the hosts keep
    // the ALPN of http/1.1.
    let (hosts, http2, probed) = match config.http2 {
        None => (hosts, None, None),
        Some(mode) => {
            let h2_requests = each_request(config, &url, |spec, u| {
                http::build_h2_request(spec, u.https).map_err(|e| UsageError(anyhow!(e)))
            })
            .into_iter()
            .collect::<Result<Vec<_>, _>>()?;
            http2_plan(config, hosts, &h2_requests, mode)?
        }
    };
    // The header once the protocol is known: an HTTP/2 probe that finds
    // HTTP/1.1 ends the run before any load, or falls back.
    if print {
        let mut shape = config.run_config(&url_text);
        if config.http2.is_some() && http2.is_none() {
            shape.protocol = Some("http/1.1".to_string());
        }
        print_text(
            &report::text::header(
                &shape,
                &shown,
                config.server.map(|m| m.name()),
                config.label.as_deref(),
            ),
            to_stdout,
        )?;
    }
    if let (true, Some(s)) = (print, &config.shard) {
        let ids = config.own_connections();
        let requests = match (config.stop, config.own_stop()) {
            (Stop::Requests(n), Stop::Requests(own)) => format!(", {own} of the {n} requests"),
            _ => String::new(),
        };
        print_text(
            &format!(
                "shard {}/{} of run {}: connections {}..{} of {}{requests}\n",
                s.index,
                s.count,
                config.run_id,
                ids.start,
                ids.end,
                config.connections()
            ),
            to_stdout,
        )?;
    }
    let arrival_curve = config.arrival_curve();
    let shard_index = config.shard.as_ref().map_or(0, |s| s.index);
    let mut plan = Plan {
        hosts,
        requests,
        per_target: config.targets.is_some(),
        clients: config.max_clients,
        conns_per_client: config.max_conns,
        conn_ids: config.own_connections(),
        threads: config.effective_threads(),
        stop: config.own_stop(),
        warmup: config.warmup,
        timeout: config.timeout,
        connection_per_request: config.connection_per_request,
        rate: arrival_curve.is_none().then_some(config.rate).flatten(),
        arrivals: arrival_curve
            .map(|c| ArrivalPlan::new(c, config.arrivals, config.connections(), shard_index)),
        connection_curve: config
            .stages
            .as_ref()
            .and_then(ConnectionCurve::new)
            .map(Arc::new),
        stage_ends: stage_spans(config).into_iter().map(|r| r.end).collect(),
        short_slice: config.short_slice,
        http2: http2.clone(),
        // Set once the wait for --start-at is over (below).
        origin_at: None,
    };
    let counters = Arc::new(Counters::new(plan.threads as usize, metrics.is_some()));
    // Every sample of a shard says which shard of which run it is, so
    // that Prometheus can add the shards up and tell runs apart.
    let labels = match &config.shard {
        Some(s) => vec![
            ("shard".to_string(), s.index.to_string()),
            ("run_id".to_string(), config.run_id.clone()),
        ],
        None => Vec::new(),
    };
    let exporter = metrics
        .map(|m| m.serve(Arc::clone(&counters), live::TargetRate::of(&plan), labels))
        .transpose()
        .context("cannot start the --metrics-addr thread")?;
    // /metrics answers during the wait too (its counts are zero), so that a
    // scraper sees the shard up before its start.
    let start = config.start_at.map(|at| wait_for_start(config, at, print));
    plan.origin_at = start.as_ref().map(|s| s.origin);
    let progress = Progress::start(
        Arc::clone(&counters),
        config.warmup,
        config.stop,
        config.quiet,
    );
    let outcome = engine::run(&plan, &counters);
    progress.finish();
    if let Some(e) = exporter {
        e.finish();
    }
    let outcome = outcome.context("the load engine failed")?;

    let server = match (server, config.server) {
        (Some(s), Some(model)) => {
            let totals = match s.stop() {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("warning: {e:#}");
                    None
                }
            };
            Some(ServerInfo {
                model: model.name().to_string(),
                totals,
            })
        }
        _ => None,
    };

    let mut result = build_result(config, &url, &outcome, server);
    if let Some(s) = start {
        result.start = Some(StartInfo {
            intended: humantime::format_rfc3339_micros(s.intended).to_string(),
            actual: humantime::format_rfc3339_micros(outcome.running_at).to_string(),
            late_ms: crate::start::late_ms(s.intended, outcome.running_at),
            clock: s.clock,
            spread_ms: None,
        });
    }
    // Any https host, not only the first: a targets file may start with
    // an http one.
    let uses_tls = tls.is_some()
        || config
            .targets
            .as_ref()
            .is_some_and(|t| t.hosts.iter().any(|h| h.https));
    result.phases = Some(phases(&outcome.stats, resolve_us, uses_tls));
    if let (Some(mode), Some(probed)) = (config.http2, &probed) {
        result.config.protocol = Some(
            if http2.is_some() {
                config.protocol()
            } else {
                "http/1.1"
            }
            .to_string(),
        );
        let server_max_streams = probed.server_max_streams();
        result.http2 = Some(Http2Info {
            requested: mode.name().to_string(),
            fell_back: http2.is_none(),
            server_max_streams,
            streams_in_flight: engine::h2::streams_in_flight(config.streams, server_max_streams),
            stream_window: engine::h2::STREAM_WINDOW,
            connection_window: engine::h2::CONNECTION_WINDOW,
            goaways: outcome.stats.goaways,
            resent: outcome.stats.resent,
        });
    }
    if uses_tls {
        result.tls = Some(TlsInfo {
            version: outcome.stats.tls_version.map(str::to_string),
            cipher: outcome.stats.tls_cipher.map(str::to_string),
            handshakes_full: outcome.stats.handshakes_full,
            handshakes_resumed: outcome.stats.handshakes_resumed,
            resumption: tls_options.resume,
            fatal: fatal.get().map(|f| f.message()),
        });
    }
    // The verdict first: `--fail-on generator` reads it.
    result.warnings = report::diagnosis::diagnose(&result);
    result.verdict = Some(report::diagnosis::verdict(&result.warnings));
    result.checks = checks.iter().map(|c| c.evaluate(&result)).collect();
    // A save that fails must not cost the user the figures of a run that
    // may have taken minutes: the summary is printed either way, then the
    // save error ends the run with bench-client's own failure status.
    let saved = save(config, &result, &outcome);
    if print {
        let path = saved.as_ref().ok().and_then(|p| p.as_deref());
        print_text(&report::text::summary(&result, path), to_stdout)?;
    }
    Ok(Measured {
        result,
        saved,
        interrupted: outcome.interrupted,
    })
}

/// A `--start-at` run, awake: when it was to start, the clock's state,
/// and the engine's origin.
struct Start {
    intended: SystemTime,
    clock: crate::clock::ClockInfo,
    origin: Instant,
}

/// Sleeps until the warm-up and the connects are due before `at`, then
/// places the engine's origin so that the measured phase begins at `at`.
/// A signal cuts the sleep short; the engine then stops at once.
fn wait_for_start(config: &Config, at: SystemTime, print: bool) -> Start {
    let lead = config.warmup + crate::start::connect_margin(config.timeout);
    if print {
        let left = at
            .duration_since(SystemTime::now())
            .unwrap_or_default()
            .as_secs_f64();
        eprintln!(
            "start at {} (in {left:.3} s), connecting {:.3} s before",
            humantime::format_rfc3339_millis(at),
            lead.as_secs_f64()
        );
    }
    crate::start::sleep_until(at.checked_sub(lead).unwrap_or(at));
    let clock = crate::clock::read();
    // The wall clock first: read the other way round, the gap between the
    // two readings would place the origin that much early.
    let (wall, now) = (SystemTime::now(), Instant::now());
    let until = at.duration_since(wall).unwrap_or_default();
    Start {
        intended: at,
        clock,
        origin: (now + until).checked_sub(config.warmup).unwrap_or(now),
    }
}

/// Writes lines for people to stdout, or to stderr when stdout carries the
/// JSON. A closed pipe (`| head`) is the reader's choice, not a failure.
fn print_text(text: &str, to_stdout: bool) -> anyhow::Result<()> {
    let written = if to_stdout {
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes()).and_then(|()| out.flush())
    } else {
        std::io::stderr().lock().write_all(text.as_bytes())
    };
    match written {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(e).context("cannot write the summary")
        }
        _ => Ok(()),
    }
}

/// Assembles the result document from what the engine measured.
pub fn build_result(
    config: &Config,
    url: &HttpUrl,
    outcome: &Outcome,
    server: Option<ServerInfo>,
) -> RunResult {
    let stats = &outcome.stats;
    let duration_s = outcome.measured.as_secs_f64();
    let per_sec = |n: u64| {
        if duration_s > 0.0 {
            n as f64 / duration_s
        } else {
            0.0
        }
    };
    let open_loop = config.is_open();
    let url_text = url.to_url();
    let timeline_target = Curves::of(config);
    // A shard's targets are its part of the whole run's.
    let share = config.own_share();
    let target_rate = config.target_rate().map(|r| r * share);
    let mut timeline = stats.timeline_entries(timeline_target.as_target(), duration_s);
    let mut clients = stats.client_counts();
    if config.shard.is_some() {
        for e in &mut timeline {
            e.target_rate = e.target_rate.map(|r| r * share);
            e.target_connections = e.target_connections.map(|c| own_slots(config, c));
        }
        // Run-wide client ids, so that merge can add a client's parts.
        let first = config.own_connections().start / config.max_conns;
        for c in &mut clients {
            c.id += first;
        }
    }
    RunResult {
        schema_version: SCHEMA_VERSION,
        tool: Tool {
            name: "bench-client".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        },
        started_at: humantime::format_rfc3339_millis(outcome.started_at).to_string(),
        label: config.label.clone(),
        host: host::host_info(),
        sources: Vec::new(),
        config: config.run_config(&url_text),
        target: Target {
            url: url_text,
            server,
        },
        interrupted: outcome.interrupted.is_some(),
        summary: Summary {
            requests: stats.requests,
            errors: stats.errors,
            duration_s,
            requests_per_sec: per_sec(stats.requests),
            bytes_sent: stats.bytes_sent,
            bytes_received: stats.bytes_received,
            status_codes: stats.status_codes(),
            errors_by_kind: stats.errors_by_kind(),
            errors_by_cause: stats.errors_by_cause(),
            target_rate,
            achieved_rate: target_rate.map(|rate| achieved_rate(config, stats, duration_s, rate)),
            late_sends: open_loop.then_some(stats.late_sends),
            pacing: open_loop.then(|| pacing(stats)),
        },
        latency: hdr::latency_from(&stats.latency),
        latency_uncorrected: open_loop.then(|| hdr::latency_from(&stats.latency_uncorrected)),
        timeline,
        stages: stage_results(config, stats),
        clients,
        fairness: stats.fairness(),
        checks: Vec::new(),
        warnings: Vec::new(),
        verdict: None,
        generator: Some(generator(&outcome.workers)),
        targets: target_results(config, stats),
        phases: None,
        tls: None,
        http2: None,
        shard: config.shard.as_ref().map(|s| ShardInfo {
            index: s.index,
            count: s.count,
            run_id: config.run_id.clone(),
        }),
        start: None,
    }
}

/// Of the first `slots` connection slots of a closed loop's stages (the
/// connections the curve asks for), how many this process makes.
fn own_slots(config: &Config, slots: u32) -> u32 {
    let (clients, conns) = (config.max_clients, config.max_conns);
    config
        .own_connections()
        .filter(|&id| connection_slot(id, clients, conns) < slots)
        .count() as u32
}

/// A `--targets` run's hosts, each resolved and checked, with its own TLS
/// name. `first` is the address already found for the run's URL, the first
/// target's host, and `first_tls` its TLS.
fn target_hosts(
    config: &Config,
    targets: &Targets,
    tls_options: &crate::tls::TlsOptions,
    fatal: &Arc<std::sync::OnceLock<crate::tls::Fatal>>,
    first: SocketAddr,
    first_tls: Option<&crate::tls::ClientTls>,
) -> anyhow::Result<Vec<HostPlan>> {
    let shares = targets.connections_per_host(config.connections());
    let mut hosts = Vec::with_capacity(targets.hosts.len());
    let mut first_conn = 0;
    for (i, (h, &conns)) in targets.hosts.iter().zip(&shares).enumerate() {
        let (addr, tls) = if i == 0 {
            (first, first_tls.cloned())
        } else {
            let addr = preflight(&resolve(h)?, config.timeout.min(Duration::from_secs(5)))?;
            let tls = h
                .https
                .then(|| crate::tls::client_tls(tls_options, &h.host, fatal))
                .transpose()
                .map_err(|e| UsageError(anyhow::Error::new(e)))?;
            (addr, tls)
        };
        let mine: Vec<usize> = (0..targets.list.len())
            .filter(|&t| targets.host_of[t] == i)
            .collect();
        let weights: Vec<u32> = mine.iter().map(|&t| targets.list[t].weight).collect();
        hosts.push(HostPlan {
            addr,
            tls,
            first_conn,
            conns,
            picker: Some(TargetPlan::new(
                &weights,
                targets.order,
                conns,
                config.shard.as_ref().map_or(0, |s| s.index),
            )),
            targets: mine,
        });
        first_conn += conns;
    }
    Ok(hosts)
}

/// The run's requests in `Plan::requests`' order (the URL's, or each
/// target's), each made by `build` from its spec and its URL: one place
/// says what goes into a request, whichever protocol writes it.
fn each_request<T>(
    config: &Config,
    url: &HttpUrl,
    build: impl Fn(&http::RequestSpec<'_>, &HttpUrl) -> T,
) -> Vec<T> {
    let one = |method: &str, u: &HttpUrl, headers: &[String], body: &[u8]| {
        let spec = http::RequestSpec {
            method,
            path: &u.path,
            host: &u.authority(),
            headers,
            body,
            connection_close: config.connection_per_request,
        };
        build(&spec, u)
    };
    match &config.targets {
        None => vec![one(&config.method, url, &config.headers, &config.body)],
        Some(t) => t
            .list
            .iter()
            .enumerate()
            .map(|(i, target)| one(&target.method, &target.url, &t.headers[i], &t.bodies[i]))
            .collect(),
    }
}

/// The hosts (with the ALPN they offer), the HTTP/2 plan (`None`: the run
/// goes over HTTP/1.1) and what the probe found.
type Http2Choice = (
    Vec<HostPlan>,
    Option<Arc<engine::h2::Http2Plan>>,
    Option<Probe>,
);

/// `--http2`: asks the first host what it speaks. HTTP/2: the hosts offer
/// `h2` alone by ALPN and the plan carries the HTTP/2 requests. HTTP/1.1:
/// a clear failure, or with `--http2=auto` the HTTP/1.1 engine. A probe
/// that fails (a refused connect, a certificate) leaves the run to meet
/// and count the failure as every request would.
fn http2_plan(
    config: &Config,
    mut hosts: Vec<HostPlan>,
    requests: &[http::H2Request],
    mode: Http2Mode,
) -> anyhow::Result<Http2Choice> {
    let probed = engine::h2::probe(&hosts[0], config.timeout.min(Duration::from_secs(5)));
    let probe = match probed {
        Ok(p) => p,
        Err(_) => Probe::Http2 {
            server_max_streams: None,
        },
    };
    if let Probe::Http1(how) = probe {
        if mode == Http2Mode::On {
            let said = match how {
                "answered_http1" => "the server answered in HTTP/1.1",
                "alpn_http1" => "the server chose http/1.1 by ALPN (it does not offer h2)",
                _ => "the server did not negotiate h2 by ALPN",
            };
            return Err(TargetError(anyhow!("{said}; drop --http2 or use --http2=auto")).into());
        }
        return Ok((hosts, None, Some(probe)));
    }
    for h in &mut hosts {
        h.tls = h.tls.as_ref().map(|t| t.with_alpn(&[b"h2"]));
    }
    let plan = engine::h2::Http2Plan {
        streams: config.streams,
        requests: requests.to_vec(),
        server_max_streams: probe.server_max_streams(),
    };
    Ok((hosts, Some(Arc::new(plan)), Some(probe)))
}

/// `targets`: each target's figures, in file order.
fn target_results(config: &Config, stats: &Stats) -> Vec<TargetResult> {
    let Some(targets) = &config.targets else {
        return Vec::new();
    };
    targets
        .list
        .iter()
        .zip(&stats.targets)
        .map(|(t, s)| TargetResult {
            key: Targets::key(t),
            weight: t.weight,
            requests: s.requests,
            errors: s.errors,
            status_codes: s.status_codes(),
            errors_by_kind: s.errors_by_kind(),
            latency: hdr::latency_from(&s.latency()),
        })
        .collect()
}

/// The phase histograms, as the result records them.
pub fn phases(stats: &Stats, resolve_us: Option<u64>, tls: bool) -> Phases {
    let block = |h: &hdrhistogram::Histogram<u64>| PhaseLatency {
        count: h.len(),
        latency: hdr::latency_from(h),
    };
    Phases {
        resolve_us,
        connect: block(&stats.connect),
        tls_handshake: tls.then(|| block(&stats.tls_handshake)),
        ttfb: block(&stats.ttfb),
    }
}

/// The workers' own figures, as the result records them.
fn generator(workers: &[WorkerLoad]) -> Generator {
    let share = |part: f64, whole: f64| {
        if whole > 0.0 {
            (part / whole).clamp(0.0, 1.0)
        } else {
            0.0
        }
    };
    Generator {
        workers: workers
            .iter()
            .map(|w| GeneratorWorker {
                cpu_s: w.cpu_s,
                wall_s: w.wall_s,
                cpu_share: share(w.cpu_s, w.wall_s),
                cpu_wait_s: w.cpu_wait_s,
                busy_share: share(w.wall_s - w.wait_s, w.wall_s)
                    .max(share(w.cpu_s + w.cpu_wait_s, w.wall_s)),
            })
            .collect(),
    }
}

/// Open loop: requests sent per second. A `-d` run sends over its whole
/// duration. An `-n` run ends when its last response is in, but its sends
/// span only up to the last one plus that request's share of the schedule
/// (1 / rate): dividing by the whole run made a short on-time run look
/// faster than its target (3 requests at 3/s "achieved" 4.3/s) and a slow
/// server's tail look like a slow client.
fn achieved_rate(config: &Config, stats: &Stats, duration_s: f64, rate: f64) -> f64 {
    let window_s = match config.stop {
        Stop::Requests(_) if stats.sent > 0 => stats.last_sent.as_secs_f64() + 1.0 / rate,
        _ => duration_s,
    };
    if window_s > 0.0 {
        stats.sent as f64 / window_s
    } else {
        0.0
    }
}

/// The curves a run's timeline is measured against, owned.
enum Curves {
    None,
    Rate(f64),
    Curve(RateCurve),
    Connections(ConnectionCurve),
}

impl Curves {
    fn of(config: &Config) -> Curves {
        match (&config.stages, config.rate) {
            (Some(st), _) => match (RateCurve::new(st), ConnectionCurve::new(st)) {
                (Some(c), _) => Curves::Curve(c),
                (None, Some(c)) => Curves::Connections(c),
                (None, None) => Curves::None,
            },
            (None, Some(r)) => Curves::Rate(r),
            (None, None) => Curves::None,
        }
    }

    fn as_target(&self) -> TimelineTarget<'_> {
        match self {
            Curves::None => TimelineTarget::None,
            Curves::Rate(r) => TimelineTarget::Rate(*r),
            Curves::Curve(c) => TimelineTarget::Curve(c),
            Curves::Connections(c) => TimelineTarget::Connections(c),
        }
    }
}

/// Where each `--stage` lies in the measured phase (which starts with the
/// first stage: stages and a warm-up are not combined).
pub fn stage_spans(config: &Config) -> Vec<std::ops::Range<Duration>> {
    let mut start = Duration::ZERO;
    config
        .stages
        .iter()
        .flat_map(|s| s.as_slice())
        .map(|s| {
            let span = start..start + s.duration;
            start = span.end;
            span
        })
        .collect()
}

/// `stages`: each stage's target and what it got.
fn stage_results(config: &Config, stats: &Stats) -> Vec<StageResult> {
    let Some(stages) = &config.stages else {
        return Vec::new();
    };
    let curve = RateCurve::new(stages);
    let spans = stage_spans(config);
    let empty = StageStats::default();
    stages
        .as_slice()
        .iter()
        .zip(spans)
        .enumerate()
        .map(|(i, (stage, span))| {
            let st = stats.stages.get(i).unwrap_or(&empty);
            let (a, b) = (span.start.as_secs_f64(), span.end.as_secs_f64());
            let len = b - a;
            let per_sec = |n: f64| if len > 0.0 { n / len } else { 0.0 };
            let open = curve.is_some();
            // A shard's part of each target.
            let share = config.own_share();
            StageResult {
                start_s: a,
                end_s: b,
                target_rate: match stage.target {
                    StageTarget::Rate(r) => Some(r * share),
                    StageTarget::Connections(_) => None,
                },
                mean_target_rate: curve
                    .as_ref()
                    .map(|c| per_sec(c.cumulative(b) - c.cumulative(a)) * share),
                achieved_rate: open.then(|| per_sec(st.sent as f64)),
                target_connections: match stage.target {
                    StageTarget::Connections(c) if config.shard.is_some() => {
                        Some(own_slots(config, c))
                    }
                    StageTarget::Connections(c) => Some(c),
                    StageTarget::Rate(_) => None,
                },
                requests: st.requests,
                errors: st.errors,
                sent: st.sent,
                requests_per_sec: per_sec(st.requests as f64),
                p50_us: hdr::percentile(&st.latency, Percentile::P50),
                p99_us: hdr::percentile(&st.latency, Percentile::P99),
            }
        })
        .collect()
}

/// Open loop: how precisely the client kept its schedule.
fn pacing(s: &Stats) -> Pacing {
    let h = &s.schedule_error;
    Pacing {
        timer_sends: h.len(),
        schedule_error_p50_us: hdr::percentile(h, Percentile::P50),
        schedule_error_p99_us: hdr::percentile(h, Percentile::P99),
        schedule_error_max_us: hdr::percentile(h, Percentile::Max),
        late_sends_busy: s.late_busy,
    }
}

fn save(config: &Config, result: &RunResult, outcome: &Outcome) -> anyhow::Result<Option<PathBuf>> {
    let path = match &config.output {
        Output::None => return Ok(None),
        Output::Stdout => {
            report::json::write_to(result, &mut std::io::stdout().lock())
                .context("cannot write the JSON result to stdout")?;
            return Ok(None);
        }
        Output::File(p) => p.clone(),
        Output::Dir(dir) => {
            let label = config
                .label
                .clone()
                .or_else(|| config.server.map(|m| m.name().to_string()))
                .unwrap_or_else(|| "run".to_string());
            report::json::default_path(dir, outcome.started_at, &label)
        }
    };
    report::json::save(result, &path)?;
    Ok(Some(path))
}

/// The target's addresses; a name that does not resolve is the target's
/// failure (exit 1), like a refused connection.
fn resolve(url: &HttpUrl) -> anyhow::Result<Vec<SocketAddr>> {
    let addrs: Vec<SocketAddr> = (url.host.as_str(), url.port)
        .to_socket_addrs()
        .with_context(|| format!("cannot resolve host '{}'", url.host))
        .map_err(TargetError)?
        .collect();
    if addrs.is_empty() {
        return Err(TargetError(anyhow!("host '{}' has no address", url.host)).into());
    }
    Ok(addrs)
}

/// One connect before the run, so that a missing server is one clear line
/// instead of a run full of `connect_refused`. Returns the first address
/// that answers (`localhost` may resolve to `::1` before `127.0.0.1`, and a
/// server may listen on only one of them).
fn preflight(addrs: &[SocketAddr], timeout: Duration) -> anyhow::Result<SocketAddr> {
    let mut first_error = None;
    for &addr in addrs {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(_) => return Ok(addr),
            Err(e) => {
                first_error.get_or_insert((addr, e));
            }
        }
    }
    let (addr, e) = first_error.expect("at least one address was tried");
    let error = if e.kind() == std::io::ErrorKind::ConnectionRefused {
        anyhow!("cannot connect to {addr}: connection refused (start a server, or pass --server selector)")
    } else {
        anyhow::Error::new(e).context(format!("cannot connect to {addr}"))
    };
    Err(TargetError(error).into())
}

/// Raises the soft RLIMIT_NOFILE to the hard limit if the connections need
/// it, or refuses before anything starts, saying how many would fit.
fn raise_fd_limit(config: &Config) -> anyhow::Result<()> {
    let connections = config.own_connections().len() as u64;
    let needed = connections + u64::from(config.effective_threads()) * 3 + SPARE_FDS;
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).context("cannot read RLIMIT_NOFILE")?;
    if soft != RLIM_INFINITY && soft < needed {
        if hard != RLIM_INFINITY && hard < needed {
            let fit = hard.saturating_sub(needed - connections);
            return Err(UsageError(anyhow!(
                "{connections} connections (--max-clients {} x --max-conns {}) need about {needed} file descriptors, \
                 but the hard limit (RLIMIT_NOFILE) is {hard}, which fits at most {fit} connections; \
                 raise it (e.g. `ulimit -Hn {needed}; ulimit -n {needed}` as root, or in /etc/security/limits.conf) \
                 or use fewer connections",
                config.max_clients,
                config.max_conns,
            ))
            .into());
        }
        let target = if hard == RLIM_INFINITY { needed } else { hard };
        setrlimit(Resource::RLIMIT_NOFILE, target, hard)
            .with_context(|| format!("cannot raise RLIMIT_NOFILE from {soft} to {target}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    fn config(args: &[&str]) -> Config {
        let argv = std::iter::once("bench-client").chain(args.iter().copied());
        Config::from_args(&crate::cli::Cli::try_parse_from(argv).unwrap().run).unwrap()
    }

    /// Review finding: `-R 3 -n 3` reported "achieved 4.27 req/s (142%)":
    /// the run's length includes the last response, not a third slot.
    #[test]
    fn achieved_rate_of_an_n_run_spans_its_sends_not_its_tail() {
        let mut s = Stats::new(1);
        s.sent = 3;
        s.last_sent = Duration::from_millis(667);
        // The run ended with the last response, 35 ms after its send.
        let r = achieved_rate(&config(&["-R", "3", "-n", "3"]), &s, 0.702, 3.0);
        assert!((r - 3.0).abs() < 0.01, "{r}");
        // A -d run sends over its whole duration.
        s.sent = 6;
        let r = achieved_rate(&config(&["-R", "3", "-d", "2s"]), &s, 2.0, 3.0);
        assert_eq!(r, 3.0);
    }
}
