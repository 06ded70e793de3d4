//! `bench-client merge`: one result from runs made at the same time on
//! several generator hosts, against one target. Counts are added, the HDR
//! histograms merged exactly (so the merged percentiles are the true ones,
//! not averages of percentiles), timelines aligned on wall-clock seconds, and
//! each input kept as a `sources` entry.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::Context as _;

use crate::compare::shape::check_same_shape;
use crate::hdr;
use crate::report::load::load_all;
use crate::result::{
    ClientCount, Generator, GeneratorWorker, Host, Http2Info, Latency, Pacing, PhaseLatency,
    Phases, RunResult, ServerTotals, Source, StageResult, StartInfo, TargetResult, TimelineEntry,
    TlsInfo, SCHEMA_VERSION,
};

/// Exit status: 0 merged; 2 the inputs cannot be merged; 3 the output
/// could not be written.
#[derive(Debug, Clone, clap::Args)]
#[command(
    after_help = "Shards (--shard I/N): merge checks that it has each shard of one run exactly once (one run id, every index 0..N) and keeps the whole run's config; it reports the spread of the shards' actual starts (start.spread_ms) and warns past 50 ms: bench-client merge shard-*.json -o merged.json\n\nExit status: 0 merged; 2 the inputs cannot be merged (unreadable file, different load shapes, runs that were not measured at the same time, other HTTP/2 settings, the same run twice, shards missing, repeated or of another run); 3 the output could not be written.\n\nExample: bench-client merge gen-a.json gen-b.json -o all.json --label two-hosts"
)]
pub struct MergeArgs {
    /// Result files of runs made at the same time (two or more).
    #[arg(required = true, num_args = 2.., value_name = "RESULT.json")]
    pub inputs: Vec<PathBuf>,
    /// Where to write the merged result.
    #[arg(short, long, value_name = "ALL.json")]
    pub output: PathBuf,
    /// Label of the merged result (default: the inputs' label when they share one).
    #[arg(long)]
    pub label: Option<String>,
    /// Merge even when the load shapes differ, the runs' measured
    /// intervals do not overlap, their HTTP/2 settings differ, or shards
    /// are missing, repeated or of different runs.
    #[arg(long)]
    pub force: bool,
}

/// Exit status 2 when the inputs cannot be merged, as `compare` does when it
/// cannot compare, so that a script can tell refused inputs (its setup) from
/// a failure to write.
pub fn run(args: &MergeArgs) -> anyhow::Result<ExitCode> {
    let merged = match execute(args) {
        Ok(merged) => merged,
        Err(e) => {
            eprintln!("error: {e:#}");
            return Ok(ExitCode::from(2));
        }
    };
    // Atomic (temp file + rename): an interrupted merge leaves no half file.
    crate::report::json::save(&merged, &args.output)?;
    eprintln!(
        "merged {} runs ({} requests, {:.1} req/s over {:.1} s) into {}",
        args.inputs.len(),
        merged.summary.requests,
        merged.summary.requests_per_sec,
        merged.summary.duration_s,
        args.output.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `merge` without the writing: the inputs loaded, checked and merged.
pub fn execute(args: &MergeArgs) -> anyhow::Result<RunResult> {
    let runs = load_all(&args.inputs)?;
    let named: Vec<(&Path, &RunResult)> = args
        .inputs
        .iter()
        .map(PathBuf::as_path)
        .zip(&runs)
        .collect();
    if !args.force {
        check_same_shape(&named)?;
        check_overlap(&named)?;
        check_http2_settings(&named)?;
        check_shards(&named)?;
    }
    let mut merged = merge(&named)?;
    if args.label.is_some() {
        merged.label = args.label.clone();
    }
    Ok(merged)
}

/// Refuses runs that were not measured at the same time: merged, two
/// back-to-back runs became one run with a gap in its timeline and a rate
/// over the whole span. Intervals that only touch do not overlap.
pub fn check_overlap(runs: &[(&Path, &RunResult)]) -> anyhow::Result<()> {
    let intervals: Vec<(SystemTime, SystemTime)> = runs
        .iter()
        .map(|(p, r)| {
            let start = parse_start(p, r)?;
            Ok((
                start,
                start + Duration::from_secs_f64(r.summary.duration_s.max(0.0)),
            ))
        })
        .collect::<anyhow::Result<_>>()?;
    let at = |t: SystemTime| humantime::format_rfc3339_millis(t).to_string();
    for (i, (a_start, a_end)) in intervals.iter().enumerate() {
        for (j, (b_start, b_end)) in intervals.iter().enumerate().skip(i + 1) {
            if a_start < b_end && b_start < a_end {
                continue;
            }
            anyhow::bail!(
                "{} (measured {} .. {}) and {} (measured {} .. {}) were not measured at the same time: \
                 merged, they would be one run with a gap (pass --force to merge them anyway)",
                runs[i].0.display(),
                at(*a_start),
                at(*a_end),
                runs[j].0.display(),
                at(*b_start),
                at(*b_end),
            );
        }
    }
    Ok(())
}

/// Refuses HTTP/2 runs that asked for it differently (`--http2` against
/// `--http2=auto`) or announced other flow-control windows: the merged
/// `http2` block has one of each, and windows decide how fast a stream's
/// body may come, so such runs did not apply the same load.
pub fn check_http2_settings(runs: &[(&Path, &RunResult)]) -> anyhow::Result<()> {
    let settings = |h: &Http2Info| (h.requested.clone(), h.stream_window, h.connection_window);
    let mut with_h2 = runs
        .iter()
        .filter_map(|(p, r)| r.http2.as_ref().map(|h| (*p, settings(h))));
    let Some((first_path, first)) = with_h2.next() else {
        return Ok(());
    };
    for (path, other) in with_h2 {
        if other != first {
            let show = |(requested, stream, conn): &(String, u32, u32)| {
                format!(
                    "--http2={requested}, windows {} per stream and {} per connection",
                    crate::report::format::bytes(*stream as f64),
                    crate::report::format::bytes(*conn as f64)
                )
            };
            anyhow::bail!(
                "{} ({}) and {} ({}) ran HTTP/2 with other settings (pass --force to merge them \
                 anyway)",
                first_path.display(),
                show(&first),
                path.display(),
                show(&other)
            );
        }
    }
    Ok(())
}

/// Shards are merged only as a whole run: every input a shard, all of one
/// run id and count, each index exactly once. Anything else would be
/// part of a run, or two runs, presented as one.
pub fn check_shards(runs: &[(&Path, &RunResult)]) -> anyhow::Result<()> {
    let shards: Vec<_> = runs
        .iter()
        .filter_map(|(p, r)| r.shard.as_ref().map(|s| (*p, s)))
        .collect();
    let Some((first_path, first)) = shards.first() else {
        return Ok(());
    };
    if let Some((path, _)) = runs.iter().find(|(_, r)| r.shard.is_none()) {
        anyhow::bail!(
            "{} is not a shard but {} is (shard {}/{} of run {}): a sharded run is merged from \
             its shards alone (pass --force to merge them anyway)",
            path.display(),
            first_path.display(),
            first.index,
            first.count,
            first.run_id
        );
    }
    for (path, s) in &shards[1..] {
        if s.run_id != first.run_id || s.count != first.count {
            anyhow::bail!(
                "{} is shard {}/{} of run {} but {} is shard {}/{} of run {}: the shards of one \
                 run share its id and count (pass --force to merge them anyway)",
                path.display(),
                s.index,
                s.count,
                s.run_id,
                first_path.display(),
                first.index,
                first.count,
                first.run_id
            );
        }
    }
    // One run id is not proof of one run (an id given by hand can be
    // reused): the shards of one run share its whole config, threads
    // aside (each shard's own), and its start.
    let (_, first_run) = runs
        .iter()
        .find(|(_, r)| r.shard.is_some())
        .expect("shards were found above");
    let shape = |r: &RunResult| {
        let mut c = serde_json::to_value(&r.config).unwrap_or_default();
        if let Some(map) = c.as_object_mut() {
            map.remove("threads");
        }
        (c, r.start.as_ref().map(|s| s.intended.clone()))
    };
    let whole = shape(first_run);
    if let Some((path, _)) = runs.iter().find(|(_, r)| shape(r) != whole) {
        anyhow::bail!(
            "{} and {} share run id {} but not its options or its --start-at: shards of one run \
             are started with the same command line (pass --force to merge them anyway)",
            path.display(),
            first_path.display(),
            first.run_id
        );
    }
    let mut seen: Vec<Vec<&Path>> = vec![Vec::new(); first.count as usize];
    for (path, s) in &shards {
        if let Some(at) = seen.get_mut(s.index as usize) {
            at.push(path);
        }
    }
    let missing: Vec<String> = (0..first.count)
        .filter(|&i| seen[i as usize].is_empty())
        .map(|i| i.to_string())
        .collect();
    let repeated: Vec<String> = seen
        .iter()
        .enumerate()
        .filter(|(_, ps)| ps.len() > 1)
        .map(|(i, ps)| {
            let files: Vec<String> = ps.iter().map(|p| p.display().to_string()).collect();
            format!("shard {i} ({})", files.join(", "))
        })
        .collect();
    if !missing.is_empty() || !repeated.is_empty() {
        let mut problems = Vec::new();
        if !missing.is_empty() {
            problems.push(format!(
                "shard{} {} of {} missing",
                if missing.len() > 1 { "s" } else { "" },
                missing.join(", "),
                first.count
            ));
        }
        if !repeated.is_empty() {
            problems.push(format!("given twice: {}", repeated.join("; ")));
        }
        anyhow::bail!(
            "run {} has {} shards, each to be merged exactly once: {} (pass --force to merge \
             them anyway)",
            first.run_id,
            first.count,
            problems.join("; ")
        );
    }
    Ok(())
}

fn parse_start(path: &Path, run: &RunResult) -> anyhow::Result<SystemTime> {
    humantime::parse_rfc3339_weak(&run.started_at).with_context(|| {
        format!(
            "{}: started_at {:?} is not an RFC 3339 time",
            path.display(),
            run.started_at
        )
    })
}

fn merge_histograms(path_runs: &[(&Path, &Latency)]) -> anyhow::Result<Latency> {
    let mut total = hdr::new_histogram();
    for (path, latency) in path_runs {
        let h = hdr::decode(&latency.hdr).with_context(|| format!("{}", path.display()))?;
        total.add(&h).map_err(|e| {
            anyhow::anyhow!("{}: cannot merge its histogram: {e:?}", path.display())
        })?;
    }
    Ok(hdr::latency_from(&total))
}

fn add_maps(into: &mut BTreeMap<String, u64>, from: &BTreeMap<String, u64>) {
    for (k, v) in from {
        *into.entry(k.clone()).or_default() += v;
    }
}

/// Counts add up; the schedule-error percentiles of the parts are not
/// kept as histograms, so the merged ones are the worst of the inputs (an
/// upper bound, never an average of percentiles).
fn merge_pacing<'a>(parts: impl Iterator<Item = Option<&'a Pacing>>) -> Option<Pacing> {
    parts.flatten().fold(None, |acc: Option<Pacing>, p| {
        Some(match acc {
            None => p.clone(),
            Some(a) => Pacing {
                timer_sends: a.timer_sends + p.timer_sends,
                schedule_error_p50_us: a.schedule_error_p50_us.max(p.schedule_error_p50_us),
                schedule_error_p99_us: a.schedule_error_p99_us.max(p.schedule_error_p99_us),
                schedule_error_max_us: a.schedule_error_max_us.max(p.schedule_error_max_us),
                late_sends_busy: a.late_sends_busy + p.late_sends_busy,
            },
        })
    })
}

fn sum_opt<T: std::iter::Sum + Copy>(values: impl Iterator<Item = Option<T>>) -> Option<T> {
    values
        .collect::<Option<Vec<T>>>()
        .map(|v| v.into_iter().sum())
}

/// Jain's index over the clients' request counts (the same formula the
/// engine uses, so that a merged index means what a single run's does).
pub fn jain(clients: &[ClientCount]) -> f64 {
    crate::stats::jain_index(clients.iter().map(|c| c.requests as f64))
}

/// One run given twice (the same file, or a copy of it) would be counted
/// twice, silently: refuse it. Runs of several hosts differ in host name or
/// start time, so the same host, start and counts mean the same run.
fn refuse_repeats(runs: &[(&Path, &RunResult)]) -> anyhow::Result<()> {
    for (i, (pa, a)) in runs.iter().enumerate() {
        for (pb, b) in &runs[i + 1..] {
            // Shards on one host may start in the same millisecond with
            // the same counts; their index tells them apart.
            let same = a.started_at == b.started_at
                && a.shard == b.shard
                && a.host.hostname == b.host.hostname
                && a.summary.requests == b.summary.requests
                && a.summary.errors == b.summary.errors;
            if same {
                anyhow::bail!(
                    "{} and {} hold the same run (host {}, started {}): merging it twice would count it twice",
                    pa.display(),
                    pb.display(),
                    a.host.hostname,
                    a.started_at
                );
            }
        }
    }
    Ok(())
}

/// The merged result of `runs` (each with the file it came from, for
/// errors). The merged config describes the combined load: clients,
/// connections, threads, `-n` and `--rate` are summed; shards' configs
/// already describe the whole run, so only their threads are.
pub fn merge(runs: &[(&Path, &RunResult)]) -> anyhow::Result<RunResult> {
    let (_, first) = *runs.first().context("nothing to merge")?;
    refuse_repeats(runs)?;
    let starts: Vec<SystemTime> = runs
        .iter()
        .map(|(p, r)| parse_start(p, r))
        .collect::<anyhow::Result<_>>()?;
    let start = *starts.iter().min().expect("non-empty");
    let end = runs
        .iter()
        .zip(&starts)
        .map(|((_, r), s)| *s + Duration::from_secs_f64(r.summary.duration_s.max(0.0)))
        .max()
        .expect("non-empty");
    let window_s = end.duration_since(start).unwrap_or_default().as_secs_f64();

    // Summary: plain sums, the rate over the union of the windows. Built
    // from a clone so that fields added to the format later still exist.
    let mut summary = first.summary.clone();
    summary.requests = 0;
    summary.errors = 0;
    summary.duration_s = window_s;
    summary.bytes_sent = 0;
    summary.bytes_received = 0;
    summary.status_codes = BTreeMap::new();
    summary.errors_by_kind = BTreeMap::new();
    summary.errors_by_cause = BTreeMap::new();
    summary.pacing = merge_pacing(runs.iter().map(|(_, r)| r.summary.pacing.as_ref()));
    summary.target_rate = sum_opt(runs.iter().map(|(_, r)| r.summary.target_rate));
    summary.achieved_rate = sum_opt(runs.iter().map(|(_, r)| r.summary.achieved_rate));
    summary.late_sends = sum_opt(runs.iter().map(|(_, r)| r.summary.late_sends));
    for (_, r) in runs {
        summary.requests += r.summary.requests;
        summary.errors += r.summary.errors;
        summary.bytes_sent += r.summary.bytes_sent;
        summary.bytes_received += r.summary.bytes_received;
        add_maps(&mut summary.status_codes, &r.summary.status_codes);
        add_maps(&mut summary.errors_by_kind, &r.summary.errors_by_kind);
        add_maps(&mut summary.errors_by_cause, &r.summary.errors_by_cause);
    }
    summary.requests_per_sec = if window_s > 0.0 {
        summary.requests as f64 / window_s
    } else {
        0.0
    };

    let latency = merge_histograms(
        &runs
            .iter()
            .map(|(p, r)| (*p, &r.latency))
            .collect::<Vec<_>>(),
    )?;
    let latency_uncorrected = runs
        .iter()
        .map(|(p, r)| r.latency_uncorrected.as_ref().map(|l| (*p, l)))
        .collect::<Option<Vec<_>>>()
        .map(|v| merge_histograms(&v))
        .transpose()?;

    // Timelines: shift each by its start offset, rounded to whole seconds
    // (entries are per second, so sub-second offsets cannot be kept).
    let mut buckets: BTreeMap<u64, Vec<&TimelineEntry>> = BTreeMap::new();
    for ((_, r), s) in runs.iter().zip(&starts) {
        let offset = s.duration_since(start).unwrap_or_default().as_secs_f64();
        let offset = offset.round() as u64;
        for e in &r.timeline {
            buckets.entry(e.t_s + offset).or_default().push(e);
        }
    }
    let timeline = buckets
        .into_iter()
        .map(|(t_s, es)| merge_timeline_entries(t_s, &es))
        .collect();

    let sharded = runs.iter().all(|(_, r)| r.shard.is_some());
    let mut clients: Vec<ClientCount> = Vec::new();
    if sharded {
        // Run-wide ids: a client whose connections two shards share is
        // one client, its parts added.
        let mut by_id: BTreeMap<u32, ClientCount> = BTreeMap::new();
        for c in runs.iter().flat_map(|(_, r)| &r.clients) {
            by_id
                .entry(c.id)
                .and_modify(|m| {
                    m.requests += c.requests;
                    m.errors += c.errors;
                })
                .or_insert_with(|| c.clone());
        }
        clients.extend(by_id.into_values());
    } else {
        for (_, r) in runs {
            for c in &r.clients {
                let mut c = c.clone();
                c.id = clients.len() as u32;
                clients.push(c);
            }
        }
    }

    // A merged input contributes its own sources, so merging is associative.
    let mut sources = Vec::new();
    for (_, r) in runs {
        if r.sources.is_empty() {
            sources.push(Source {
                host: r.host.clone(),
                started_at: r.started_at.clone(),
                label: r.label.clone(),
                requests: r.summary.requests,
                shard: r.shard.clone(),
            });
        } else {
            sources.extend(r.sources.iter().cloned());
        }
    }

    let mut config = first.config.clone();
    config.threads = runs.iter().map(|(_, r)| r.config.threads).sum();
    if !sharded {
        config.max_clients = runs.iter().map(|(_, r)| r.config.max_clients).sum();
        config.connections = runs.iter().map(|(_, r)| r.config.connections).sum();
        config.requests = sum_opt(runs.iter().map(|(_, r)| r.config.requests));
        config.rate = sum_opt(runs.iter().map(|(_, r)| r.config.rate));
    }
    config.duration_s = Some(window_s).filter(|_| first.config.duration_s.is_some());
    // Each host draws its own schedule: one seed names the merged run only
    // when every input used it.
    if runs.iter().any(|(_, r)| r.config.seed != first.config.seed) {
        config.seed = None;
    }

    let mut target = first.target.clone();
    if let Some(server) = target.server.as_mut() {
        // Each input that started its own server has its own totals.
        server.totals = runs
            .iter()
            .map(|(_, r)| r.target.server.as_ref().and_then(|s| s.totals.clone()))
            .collect::<Option<Vec<_>>>()
            .map(|ts| ServerTotals {
                model: server.model.clone(),
                connections: ts.iter().map(|t| t.connections).sum(),
                requests: ts.iter().map(|t| t.requests).sum(),
                body_bytes: ts.iter().map(|t| t.body_bytes).sum(),
                tls_full: ts.iter().map(|t| t.tls_full).sum(),
                tls_resumed: ts.iter().map(|t| t.tls_resumed).sum(),
            });
    }

    let labels: Vec<&Option<String>> = runs.iter().map(|(_, r)| &r.label).collect();
    let label = if labels.iter().all(|l| *l == labels[0]) {
        first.label.clone()
    } else {
        None
    };

    let mut merged = first.clone();
    merged.schema_version = SCHEMA_VERSION;
    merged.tool.name = env!("CARGO_PKG_NAME").to_string();
    merged.tool.version = env!("CARGO_PKG_VERSION").to_string();
    merged.started_at = humantime::format_rfc3339_millis(start).to_string();
    merged.label = label;
    merged.host = merged_host(&sources);
    merged.config = config;
    merged.target = target;
    merged.interrupted = runs.iter().any(|(_, r)| r.interrupted);
    merged.summary = summary;
    merged.latency = latency;
    merged.latency_uncorrected = latency_uncorrected;
    merged.timeline = timeline;
    merged.stages = merge_stages(runs.iter().map(|(_, r)| *r));
    merged.targets = merge_targets(runs)?;
    merged.fairness.jain = jain(&clients);
    merged.clients = clients;
    merged.sources = sources;
    // Decided from the merged figures: the inputs' warnings do not add up.
    merged.generator = merged_generator(runs.iter().map(|(_, r)| *r));
    merged.phases = merged_phases(runs)?;
    merged.tls = merged_tls(runs.iter().map(|(_, r)| *r));
    merged.http2 = merged_http2(runs.iter().map(|(_, r)| *r));
    // The merged run is the whole run: the shards are in `sources`.
    merged.shard = None;
    merged.start = merged_start(runs)?;
    merged.warnings = crate::report::diagnosis::diagnose(&merged);
    merged.verdict = Some(crate::report::diagnosis::verdict(&merged.warnings));
    Ok(merged)
}

/// The inputs' `--start-at` blocks, when every input has one: the earliest
/// intended and actual start, the latest lateness, the spread of the actual
/// starts, and the worst clock.
fn merged_start(runs: &[(&Path, &RunResult)]) -> anyhow::Result<Option<StartInfo>> {
    let Some(all) = runs
        .iter()
        .map(|(p, r)| r.start.as_ref().map(|s| (*p, s)))
        .collect::<Option<Vec<_>>>()
    else {
        return Ok(None);
    };
    let time = |p: &Path, what: &str, t: &str| {
        humantime::parse_rfc3339_weak(t).with_context(|| {
            format!(
                "{}: start.{what} {t:?} is not an RFC 3339 time",
                p.display()
            )
        })
    };
    let mut actual = Vec::with_capacity(all.len());
    let mut intended = Vec::with_capacity(all.len());
    for (p, s) in &all {
        actual.push(time(p, "actual", &s.actual)?);
        intended.push(time(p, "intended", &s.intended)?);
    }
    let (first, last) = (
        *actual.iter().min().expect("non-empty"),
        *actual.iter().max().expect("non-empty"),
    );
    let worst = |f: fn(&crate::clock::ClockInfo) -> Option<i64>| {
        all.iter()
            .map(|(_, s)| f(&s.clock))
            .collect::<Option<Vec<_>>>()
            .and_then(|v| v.into_iter().max())
    };
    let clock = crate::clock::ClockInfo {
        synchronized: all.iter().all(|(_, s)| s.clock.synchronized),
        est_error_us: worst(|c| c.est_error_us),
        max_error_us: worst(|c| c.max_error_us),
        status: all
            .iter()
            .map(|(_, s)| &s.clock.status)
            .find(|st| st.as_str() != "TIME_OK")
            .unwrap_or(&all[0].1.clock.status)
            .clone(),
    };
    let at = |t: SystemTime| humantime::format_rfc3339_micros(t).to_string();
    Ok(Some(StartInfo {
        intended: at(*intended.iter().min().expect("non-empty")),
        actual: at(first),
        late_ms: all
            .iter()
            .map(|(_, s)| s.late_ms)
            .fold(f64::NEG_INFINITY, f64::max),
        clock,
        spread_ms: Some(crate::start::late_ms(first, last)),
    }))
}

/// The phase histograms added exactly, when every input has them (a phase
/// missing from one input cannot be made up). Name resolution happened once
/// per input, so there is no single value to keep.
fn merged_phases(runs: &[(&Path, &RunResult)]) -> anyhow::Result<Option<Phases>> {
    let Some(all) = runs
        .iter()
        .map(|(p, r)| r.phases.as_ref().map(|ph| (*p, ph)))
        .collect::<Option<Vec<_>>>()
    else {
        return Ok(None);
    };
    let merge =
        |pick: &dyn Fn(&Phases) -> Option<&PhaseLatency>| -> anyhow::Result<Option<PhaseLatency>> {
            let Some(blocks) = all
                .iter()
                .map(|(p, ph)| pick(ph).map(|b| (*p, b)))
                .collect::<Option<Vec<_>>>()
            else {
                return Ok(None);
            };
            let latencies: Vec<(&Path, &Latency)> =
                blocks.iter().map(|(p, b)| (*p, &b.latency)).collect();
            Ok(Some(PhaseLatency {
                count: blocks.iter().map(|(_, b)| b.count).sum(),
                latency: merge_histograms(&latencies)?,
            }))
        };
    let connect = merge(&|ph| Some(&ph.connect))?;
    let ttfb = merge(&|ph| Some(&ph.ttfb))?;
    let (Some(connect), Some(ttfb)) = (connect, ttfb) else {
        return Ok(None);
    };
    Ok(Some(Phases {
        resolve_us: None,
        connect,
        tls_handshake: merge(&|ph| ph.tls_handshake.as_ref())?,
        ttfb,
    }))
}

/// The inputs' handshakes added up, when every input ran over TLS; the
/// version and suite kept only when all agree.
fn merged_tls<'a>(mut runs: impl Iterator<Item = &'a RunResult>) -> Option<TlsInfo> {
    let mut merged = runs.next()?.tls.clone()?;
    for r in runs {
        let t = r.tls.as_ref()?;
        merged.handshakes_full += t.handshakes_full;
        merged.handshakes_resumed += t.handshakes_resumed;
        if merged.version != t.version {
            merged.version = None;
        }
        if merged.cipher != t.cipher {
            merged.cipher = None;
        }
        merged.resumption &= t.resumption;
        merged.fatal = merged.fatal.or_else(|| t.fatal.clone());
    }
    Some(merged)
}

/// The inputs' streams, when every input ran with `--http2`: GOAWAYs and
/// re-sent requests add up; the server limit and the streams in flight are
/// the smallest seen (the merged run had at least that on every
/// connection; no limit, `null`, is above any); `fell_back` when any input
/// fell back. `requested` and the windows are equal unless `--force`
/// merged runs that differ: then `auto` if any asked for it, and the
/// smallest windows.
fn merged_http2<'a>(mut runs: impl Iterator<Item = &'a RunResult>) -> Option<Http2Info> {
    let mut merged = runs.next()?.http2.clone()?;
    for r in runs {
        let h = r.http2.as_ref()?;
        merged.goaways += h.goaways;
        merged.resent += h.resent;
        merged.server_max_streams = match (merged.server_max_streams, h.server_max_streams) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        merged.streams_in_flight = merged.streams_in_flight.min(h.streams_in_flight);
        merged.stream_window = merged.stream_window.min(h.stream_window);
        merged.connection_window = merged.connection_window.min(h.connection_window);
        if h.requested == "auto" {
            merged.requested = h.requested.clone();
        }
        merged.fell_back |= h.fell_back;
    }
    Some(merged)
}

/// Every input's workers, input by input; none when no input recorded them.
fn merged_generator<'a>(runs: impl Iterator<Item = &'a RunResult>) -> Option<Generator> {
    let workers: Vec<GeneratorWorker> = runs
        .filter_map(|r| r.generator.as_ref())
        .flat_map(|g| g.workers.iter().cloned())
        .collect();
    (!workers.is_empty()).then_some(Generator { workers })
}

/// The top-level host of a merged result: the first source's machine
/// description, the cores of all hosts, and every distinct hostname
/// (`a+b`); `sources` keeps each host exactly.
fn merged_host(sources: &[Source]) -> Host {
    let mut host = sources[0].host.clone();
    host.cores = sources.iter().map(|s| s.host.cores).sum();
    let mut names: Vec<&str> = Vec::new();
    for s in sources {
        if !names.contains(&s.host.hostname.as_str()) {
            names.push(&s.host.hostname);
        }
    }
    host.hostname = names.join("+");
    host
}

/// Per stage, as for the timeline: counts and rates add (each input ran
/// the same stages against its share), p50 is the request-weighted mean of
/// the inputs' p50s (an estimate), p99 their maximum (an upper bound).
fn merge_stages<'a>(runs: impl Iterator<Item = &'a RunResult>) -> Vec<StageResult> {
    let mut merged: Vec<StageResult> = Vec::new();
    let mut weighted_p50: Vec<f64> = Vec::new();
    for r in runs {
        for (i, st) in r.stages.iter().enumerate() {
            if i >= merged.len() {
                merged.push(StageResult {
                    target_rate: None,
                    mean_target_rate: None,
                    achieved_rate: None,
                    target_connections: None,
                    requests: 0,
                    errors: 0,
                    sent: 0,
                    requests_per_sec: 0.0,
                    p50_us: 0,
                    p99_us: 0,
                    ..st.clone()
                });
                weighted_p50.push(0.0);
            }
            let m = &mut merged[i];
            // The first input's `None` starts the sum, not ends it.
            let add = |a: Option<f64>, b: Option<f64>| match (a, b) {
                (Some(a), Some(b)) => Some(a + b),
                (a, b) => a.or(b),
            };
            m.target_rate = add(m.target_rate, st.target_rate);
            m.mean_target_rate = add(m.mean_target_rate, st.mean_target_rate);
            m.achieved_rate = add(m.achieved_rate, st.achieved_rate);
            m.target_connections = match (m.target_connections, st.target_connections) {
                (Some(a), Some(b)) => Some(a.saturating_add(b)),
                (a, b) => a.or(b),
            };
            m.requests += st.requests;
            m.errors += st.errors;
            m.sent += st.sent;
            m.requests_per_sec += st.requests_per_sec;
            m.p99_us = m.p99_us.max(st.p99_us);
            weighted_p50[i] += st.p50_us as f64 * st.requests as f64;
        }
    }
    for (m, w) in merged.iter_mut().zip(weighted_p50) {
        if m.requests > 0 {
            m.p50_us = (w / m.requests as f64).round() as u64;
        }
    }
    merged
}

/// Per target, by key in the first input's order: counts add, and the
/// histograms add exactly (each target keeps its own). A target missing
/// from an input (the load-shape check normally refuses that) adds nothing.
fn merge_targets(runs: &[(&Path, &RunResult)]) -> anyhow::Result<Vec<TargetResult>> {
    let (_, first) = runs[0];
    first
        .targets
        .iter()
        .map(|t| {
            let parts: Vec<(&Path, &TargetResult)> = runs
                .iter()
                .filter_map(|(p, r)| r.targets.iter().find(|x| x.key == t.key).map(|x| (*p, x)))
                .collect();
            let mut m = t.clone();
            m.requests = parts.iter().map(|(_, x)| x.requests).sum();
            m.errors = parts.iter().map(|(_, x)| x.errors).sum();
            m.status_codes = BTreeMap::new();
            m.errors_by_kind = BTreeMap::new();
            for (_, x) in &parts {
                add_maps(&mut m.status_codes, &x.status_codes);
                add_maps(&mut m.errors_by_kind, &x.errors_by_kind);
            }
            m.latency = merge_histograms(
                &parts
                    .iter()
                    .map(|(p, x)| (*p, &x.latency))
                    .collect::<Vec<_>>(),
            )?;
            Ok(m)
        })
        .collect()
}

/// Counts add exactly. Per-second percentiles cannot be merged without the
/// per-second histograms, which results do not keep: p50 is the
/// request-weighted mean of the inputs' p50s (an estimate), p99 their
/// maximum (an upper bound).
fn merge_timeline_entries(t_s: u64, es: &[&TimelineEntry]) -> TimelineEntry {
    let requests: u64 = es.iter().map(|e| e.requests).sum();
    let mut merged = es[0].clone();
    let p50_us = if requests == 0 {
        es.iter().map(|e| e.p50_us).max().unwrap_or(0)
    } else {
        let weighted: f64 = es.iter().map(|e| e.p50_us as f64 * e.requests as f64).sum();
        (weighted / requests as f64).round() as u64
    };
    merged.t_s = t_s;
    merged.requests = requests;
    merged.errors = es.iter().map(|e| e.errors).sum();
    merged.p50_us = p50_us;
    merged.p99_us = es.iter().map(|e| e.p99_us).max().unwrap_or(0);
    merged.target_rate = sum_opt(es.iter().map(|e| e.target_rate));
    merged.achieved_rate = sum_opt(es.iter().map(|e| e.achieved_rate));
    merged.target_connections = sum_opt(es.iter().map(|e| e.target_connections));
    merged.connections = sum_opt(es.iter().map(|e| e.connections));
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    // Built through serde, like real results, so that fields added to the
    // format later (optional ones, with defaults) do not break these tests.
    fn client(id: u32, requests: u64) -> ClientCount {
        serde_json::from_value(serde_json::json!({"id": id, "requests": requests, "errors": 0}))
            .unwrap()
    }

    fn entry(requests: u64, p50_us: u64, p99_us: u64) -> TimelineEntry {
        serde_json::from_value(serde_json::json!({
            "t_s": 0, "requests": requests, "errors": 1, "p50_us": p50_us, "p99_us": p99_us,
            "achieved_rate": requests as f64,
        }))
        .unwrap()
    }

    fn stage(requests: u64, p50_us: u64, p99_us: u64) -> StageResult {
        serde_json::from_value(serde_json::json!({
            "start_s": 0.0, "end_s": 1.0, "target_rate": 100.0, "mean_target_rate": 50.0,
            "achieved_rate": 50.0, "requests": requests, "errors": 1, "sent": requests,
            "requests_per_sec": requests as f64, "p50_us": p50_us, "p99_us": p99_us,
        }))
        .unwrap()
    }

    /// Two hosts that ran the same stages: counts and rates add, p50 is
    /// weighted by requests, p99 the larger; the stages' own targets stay
    /// per-host in `config` and add up per stage.
    #[test]
    fn stages_merge_like_the_timeline() {
        let mut a = crate::report::testing::open_loop_result();
        a.stages = vec![stage(100, 10, 50)];
        let mut b = a.clone();
        b.host.hostname = "other-host".into();
        b.stages = vec![stage(300, 30, 40)];
        let m = merge(&[(Path::new("a.json"), &a), (Path::new("b.json"), &b)]).unwrap();
        let st = &m.stages[0];
        assert_eq!((st.requests, st.errors, st.sent), (400, 2, 400));
        assert_eq!(st.target_rate, Some(200.0));
        assert_eq!(st.mean_target_rate, Some(100.0));
        assert_eq!(st.achieved_rate, Some(100.0));
        assert_eq!(st.p50_us, 25);
        assert_eq!(st.p99_us, 50);
    }

    fn target(key: &str, requests: u64, latency_us: u64) -> TargetResult {
        let mut h = hdr::new_small_histogram();
        for _ in 0..requests {
            hdr::record(&mut h, latency_us);
        }
        TargetResult {
            key: key.into(),
            weight: 1,
            requests,
            errors: 1,
            status_codes: [("200".to_string(), requests)].into_iter().collect(),
            errors_by_kind: [("timeout".to_string(), 1)].into_iter().collect(),
            latency: hdr::latency_from(&h),
        }
    }

    /// Per-target figures add exactly, histograms included, and each
    /// target keeps its own.
    #[test]
    fn targets_merge_exactly_target_by_target() {
        let mut a = crate::report::testing::closed_loop_result();
        a.targets = vec![
            target("GET http://h:1/a", 10, 100),
            target("GET http://h:1/b", 5, 900),
        ];
        let mut b = a.clone();
        b.host.hostname = "other-host".into();
        b.targets = vec![
            target("GET http://h:1/a", 30, 300),
            target("GET http://h:1/b", 1, 900),
        ];
        let m = merge(&[(Path::new("a.json"), &a), (Path::new("b.json"), &b)]).unwrap();
        let t = &m.targets;
        assert_eq!((t[0].requests, t[0].errors, t[1].requests), (40, 2, 6));
        assert_eq!(t[0].status_codes["200"], 40);
        assert_eq!(t[0].errors_by_kind["timeout"], 2);
        let h = hdr::decode(&t[0].latency.hdr).unwrap();
        assert_eq!(h.len(), 40);
        assert_eq!(h.count_between(100, 100), 10);
        assert_eq!(t[1].latency.percentiles["50"], h_p(900));
        // A different list of targets is a different load.
        b.targets.pop();
        assert!(check_same_shape(&[(Path::new("a.json"), &a), (Path::new("b.json"), &b)]).is_err());
    }

    /// What the histogram reports for a value of `us` (its bucket's top).
    fn h_p(us: u64) -> u64 {
        let mut h = hdr::new_histogram();
        hdr::record(&mut h, us);
        h.value_at_quantile(0.5)
    }

    fn h2c_run(host: &str, max: Option<u64>, in_flight: u32, goaways: u64) -> RunResult {
        let mut r = crate::report::testing::closed_loop_result();
        r.host.hostname = host.into();
        r.config.protocol = Some("h2c".into());
        r.config.streams = Some(10);
        r.http2 = Some(Http2Info {
            requested: "on".into(),
            fell_back: false,
            server_max_streams: max,
            streams_in_flight: in_flight,
            stream_window: 1 << 20,
            connection_window: 4 << 20,
            goaways,
            resent: goaways * 2,
        });
        r
    }

    /// GOAWAYs and re-sent requests add up; the server's limit and the
    /// streams in flight are the smallest any host saw (no limit is above
    /// every limit), so a cap on one host is not hidden by another.
    #[test]
    fn http2_counts_add_and_limits_keep_the_smallest() {
        let a = h2c_run("a", None, 10, 1);
        let b = h2c_run("b", Some(8), 8, 2);
        let c = h2c_run("c", Some(100), 10, 0);
        let runs = [
            (Path::new("a.json"), &a),
            (Path::new("b.json"), &b),
            (Path::new("c.json"), &c),
        ];
        check_http2_settings(&runs).unwrap();
        let h = merge(&runs).unwrap().http2.unwrap();
        assert_eq!((h.goaways, h.resent), (3, 6));
        assert_eq!(h.server_max_streams, Some(8));
        assert_eq!(h.streams_in_flight, 8);
        assert_eq!((h.stream_window, h.connection_window), (1 << 20, 4 << 20));
        assert_eq!((h.requested.as_str(), h.fell_back), ("on", false));
        // The cap on one host is diagnosed on the merged run.
        let merged = merge(&runs).unwrap();
        assert!(merged.warnings.iter().any(|w| matches!(
            w.kind,
            crate::report::diagnosis::WarningKind::StreamsCapped {
                streams_in_flight: 8,
                ..
            }
        )));
        // An input without HTTP/2 figures leaves none to merge.
        let mut d = c.clone();
        d.host.hostname = "d".into();
        d.http2 = None;
        let runs = [(Path::new("a.json"), &a), (Path::new("d.json"), &d)];
        assert_eq!(merge(&runs).unwrap().http2, None);
    }

    /// Other windows or another `--http2` are another load: refused, and
    /// with `--force` merged to the smallest windows and `auto`, with the
    /// fallback of any input kept.
    #[test]
    fn other_http2_settings_are_refused_unless_forced() {
        let a = h2c_run("a", Some(100), 10, 0);
        let mut b = h2c_run("b", Some(100), 10, 0);
        b.http2.as_mut().unwrap().stream_window = 65_535;
        let runs = [(Path::new("a.json"), &a), (Path::new("b.json"), &b)];
        let e = check_http2_settings(&runs).unwrap_err().to_string();
        assert_eq!(
            e,
            "a.json (--http2=on, windows 1MiB per stream and 4MiB per connection) and b.json \
             (--http2=on, windows 64.00KiB per stream and 4MiB per connection) ran HTTP/2 with \
             other settings (pass --force to merge them anyway)"
        );
        let mut c = h2c_run("c", Some(100), 10, 0);
        c.http2.as_mut().unwrap().requested = "auto".into();
        c.http2.as_mut().unwrap().fell_back = true;
        let runs3 = [runs[0], runs[1], (Path::new("c.json"), &c)];
        assert!(check_http2_settings(&[runs[0], runs3[2]]).is_err());
        let h = merge(&runs3).unwrap().http2.unwrap();
        assert_eq!(h.stream_window, 65_535);
        assert_eq!((h.requested.as_str(), h.fell_back), ("auto", true));
    }

    /// Shard `index` of `count` of run `run_id`: the whole run's config
    /// (6 connections, 1,500 req/s), its own figures (its share of 3,000
    /// requests over 2 s), started at `start_ms` past a whole second.
    fn shard(index: u32, count: u32, run_id: &str, start_ms: u32) -> RunResult {
        let mut r = crate::report::testing::open_loop_result();
        r.sources.clear();
        r.config.max_clients = 6;
        r.config.max_conns = 1;
        r.config.connections = 6;
        r.config.rate = Some(1_500.0);
        r.config.requests = Some(3_000);
        let own = crate::shard::share(3_000, index, count);
        r.summary.requests = own.end - own.start;
        r.summary.duration_s = 2.0;
        r.summary.requests_per_sec = r.summary.requests as f64 / 2.0;
        r.summary.target_rate = Some(1_500.0 / f64::from(count));
        r.summary.achieved_rate = r.summary.target_rate;
        r.started_at = format!("2026-11-29T19:00:03.{start_ms:03}Z");
        r.clients = vec![client(2 * index, 10), client(2 * index + 1, 20)];
        r.shard = Some(crate::result::ShardInfo {
            index,
            count,
            run_id: run_id.into(),
        });
        r.start = Some(StartInfo {
            intended: "2026-11-29T19:00:03.000000Z".into(),
            actual: format!("2026-11-29T19:00:03.{start_ms:03}000Z"),
            late_ms: f64::from(start_ms),
            clock: crate::clock::ClockInfo {
                synchronized: true,
                est_error_us: Some(100 * i64::from(index + 1)),
                max_error_us: Some(1_000),
                status: "TIME_OK".into(),
            },
            spread_ms: None,
        });
        r
    }

    fn named(runs: &[(String, RunResult)]) -> Vec<(&Path, &RunResult)> {
        runs.iter()
            .map(|(p, r)| (Path::new(p.as_str()), r))
            .collect()
    }

    fn shards(list: &[(u32, &str, u32)], count: u32) -> Vec<(String, RunResult)> {
        list.iter()
            .map(|&(i, id, ms)| (format!("shard-{i}.json"), shard(i, count, id, ms)))
            .collect()
    }

    /// Three shards of one run, on one host, started in the same
    /// millisecond with equal counts: not "the same run twice". Merged,
    /// they are the whole run: its config (not three times it), clients by
    /// run-wide id, the rate over the union of the intervals, which agrees
    /// with the sum of the shards' rates when their starts are aligned.
    #[test]
    fn shards_of_one_run_merge_into_the_whole_run() {
        let runs = shards(&[(0, "r", 0), (1, "r", 0), (2, "r", 0)], 3);
        let runs = named(&runs);
        check_shards(&runs).unwrap();
        check_same_shape(&runs).unwrap();
        let m = merge(&runs).unwrap();
        assert_eq!(m.summary.requests, 3_000);
        assert_eq!(
            (m.config.connections, m.config.requests, m.config.rate),
            (6, Some(3_000), Some(1_500.0))
        );
        assert_eq!(m.summary.target_rate, Some(1_500.0));
        let sum: f64 = runs.iter().map(|(_, r)| r.summary.requests_per_sec).sum();
        let merged = m.summary.requests_per_sec;
        assert!((merged - sum).abs() / sum < 0.02, "{merged} vs {sum}");
        let ids: Vec<u32> = m.clients.iter().map(|c| c.id).collect();
        assert_eq!(ids, [0, 1, 2, 3, 4, 5]);
        assert!(m.shard.is_none());
        let shards: Vec<u32> = m
            .sources
            .iter()
            .map(|s| s.shard.as_ref().unwrap().index)
            .collect();
        assert_eq!(shards, [0, 1, 2]);
        let start = m.start.unwrap();
        assert_eq!(start.spread_ms, Some(0.0));
        assert_eq!(start.clock.est_error_us, Some(300), "the worst");
        assert!(!m.warnings.iter().any(|w| w.message.contains("apart")));
    }

    /// A client whose connections two shards share is one client.
    #[test]
    fn a_client_split_between_shards_is_added_up() {
        let mut runs = shards(&[(0, "r", 0), (1, "r", 0)], 2);
        runs[1].1.clients = vec![client(1, 5), client(2, 7)];
        let m = merge(&named(&runs)).unwrap();
        let c: Vec<(u32, u64)> = m.clients.iter().map(|c| (c.id, c.requests)).collect();
        assert_eq!(c, [(0, 10), (1, 25), (2, 7)]);
    }

    /// Starts 80 ms apart: the spread is reported and warned about (it
    /// makes the run no less valid: the figures are the server's).
    #[test]
    fn a_start_spread_past_50_ms_is_warned_about() {
        let runs = shards(&[(0, "r", 0), (1, "r", 80), (2, "r", 20)], 3);
        let m = merge(&named(&runs)).unwrap();
        let start = m.start.as_ref().unwrap();
        assert_eq!(start.spread_ms, Some(80.0));
        assert_eq!(start.actual, "2026-11-29T19:00:03.000000Z");
        assert_eq!(start.late_ms, 80.0);
        let w = m
            .warnings
            .iter()
            .find(|w| {
                matches!(
                    w.kind,
                    crate::report::diagnosis::WarningKind::StartSpread { .. }
                )
            })
            .expect("a start_spread warning");
        assert!(w
            .message
            .starts_with("the merged runs began their measured phases 80.0 ms apart"));
        assert!(!w.kind.invalidates(), "the figures are still the server's");
    }

    /// A missing shard, one given twice, another run's, a shard with a
    /// run that is not one: each refused, naming it; `--force` merges.
    #[test]
    fn shards_missing_repeated_or_foreign_are_refused() {
        let e =
            |runs: Vec<(String, RunResult)>| check_shards(&named(&runs)).unwrap_err().to_string();
        assert_eq!(
            e(shards(&[(0, "r", 0), (2, "r", 0)], 3)),
            "run r has 3 shards, each to be merged exactly once: shard 1 of 3 missing (pass \
             --force to merge them anyway)"
        );
        let mut twice = shards(&[(0, "r", 0), (1, "r", 0), (1, "r", 3)], 3);
        twice[2].0 = "again.json".into();
        assert_eq!(
            e(twice),
            "run r has 3 shards, each to be merged exactly once: shard 2 of 3 missing; given \
             twice: shard 1 (shard-1.json, again.json) (pass --force to merge them anyway)"
        );
        assert_eq!(
            e(shards(&[(0, "r", 0), (1, "other", 0), (2, "r", 0)], 3)),
            "shard-1.json is shard 1/3 of run other but shard-0.json is shard 0/3 of run r: the \
             shards of one run share its id and count (pass --force to merge them anyway)"
        );
        // One id reused by hand for two runs: other options, or another
        // start, are not one run.
        let mut reused = shards(&[(0, "r", 0), (1, "r", 0)], 2);
        reused[1].1.config.seed = Some(9);
        assert!(e(reused).starts_with(
            "shard-1.json and shard-0.json share run id r but not its options or its --start-at"
        ));
        let mut later = shards(&[(0, "r", 0), (1, "r", 0)], 2);
        if let Some(s) = later[1].1.start.as_mut() {
            s.intended = "2026-11-29T19:10:03.000000Z".into();
        }
        assert!(e(later).contains("share run id r but not its options or its --start-at"));
        let mut threads = shards(&[(0, "r", 0), (1, "r", 0)], 2);
        threads[1].1.config.threads = 7;
        assert!(
            check_shards(&named(&threads)).is_ok(),
            "threads are each shard's own"
        );
        let mut mixed = shards(&[(0, "r", 0)], 1);
        let mut plain = crate::report::testing::open_loop_result();
        plain.host.hostname = "b".into();
        mixed.push(("plain.json".into(), plain));
        assert!(e(mixed).starts_with("plain.json is not a shard but shard-0.json is"));
        // The same file twice is still the same run twice.
        let one = shards(&[(0, "r", 0)], 2).remove(0);
        let same = vec![one.clone(), ("copy.json".into(), one.1)];
        assert!(merge(&named(&same))
            .unwrap_err()
            .to_string()
            .contains("hold the same run"));
        // Forced, a partial run merges.
        let dir = tempfile::tempdir().unwrap();
        let partial = shards(&[(0, "r", 0), (2, "r", 0)], 3);
        let mut inputs = Vec::new();
        for (name, r) in &partial {
            let p = dir.path().join(name);
            crate::report::json::save(r, &p).unwrap();
            inputs.push(p);
        }
        let args = |force| MergeArgs {
            inputs: inputs.clone(),
            output: dir.path().join("m.json"),
            label: None,
            force,
        };
        assert!(execute(&args(false))
            .unwrap_err()
            .to_string()
            .contains("shard 1 of 3 missing"));
        assert_eq!(execute(&args(true)).unwrap().summary.requests, 2_000);
    }

    #[test]
    fn jain_index_bounds() {
        let c = |r: &[u64]| -> Vec<ClientCount> {
            r.iter()
                .enumerate()
                .map(|(i, &n)| client(i as u32, n))
                .collect()
        };
        assert!((jain(&c(&[10, 10, 10])) - 1.0).abs() < 1e-12);
        assert!((jain(&c(&[30, 0, 0])) - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(jain(&[]), 1.0);
    }

    /// Review finding: `merge a.json a.json` "merged" one run with itself
    /// and reported twice its requests.
    #[test]
    fn the_same_run_twice_is_refused() {
        let a = crate::report::testing::closed_loop_result();
        let e = merge(&[(Path::new("a.json"), &a), (Path::new("copy.json"), &a)])
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "a.json and copy.json hold the same run (host bench-host, started 2026-11-25T19:20:00.123Z): \
             merging it twice would count it twice"
        );
        let mut b = a.clone();
        b.host.hostname = "other-host".into();
        let m = merge(&[(Path::new("a.json"), &a), (Path::new("b.json"), &b)]).unwrap();
        assert_eq!(m.summary.requests, 2 * a.summary.requests);
    }

    #[test]
    fn timeline_entries_add_counts_and_bound_p99() {
        let (a, b) = (entry(100, 1000, 5000), entry(300, 2000, 4000));
        let m = merge_timeline_entries(7, &[&a, &b]);
        assert_eq!((m.t_s, m.requests, m.errors), (7, 400, 2));
        assert_eq!(m.p50_us, 1750);
        assert_eq!(m.p99_us, 5000);
        assert_eq!(m.target_rate, None);
        assert_eq!(m.achieved_rate, Some(400.0));
    }

    #[test]
    fn pacing_adds_counts_and_keeps_the_worst_percentiles() {
        let p = |sends, p99, busy| Pacing {
            timer_sends: sends,
            schedule_error_p50_us: p99 / 2,
            schedule_error_p99_us: p99,
            schedule_error_max_us: p99 * 10,
            late_sends_busy: busy,
        };
        let (a, b) = (p(100, 80, 1), p(300, 60, 2));
        let m = merge_pacing([Some(&a), None, Some(&b)].into_iter()).unwrap();
        assert_eq!(m.timer_sends, 400);
        assert_eq!(m.late_sends_busy, 3);
        assert_eq!(m.schedule_error_p99_us, 80);
        assert_eq!(m.schedule_error_max_us, 800);
        assert!(merge_pacing([None, None].into_iter()).is_none());
    }
}
