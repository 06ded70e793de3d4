//! `bench-client plot`: charts of one or more results, as one SVG or as a
//! self-contained HTML page (inline SVGs and a table of key figures).
//!
//! Charts: the latency percentile spectrum on a "nines" axis (as
//! HdrHistogram's plotter draws it, from the whole stored histogram), req/s
//! and p99 over time from `timeline`, and req/s per run as bars. Drawing is
//! in [`svg`], the page in [`html`]; this module loads and prepares the runs.

pub mod html;
pub mod svg;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use rayon::prelude::*;

use crate::exit::UsageError;
use crate::hdr;
use crate::report::load::load_all;
use crate::result::RunResult;
use reference_servers::wire::url::UrlParts;

#[derive(Debug, Clone, clap::Args)]
#[command(
    after_help = "Example: bench-client plot selector.json fork.json -o report.html --title selector-vs-fork"
)]
pub struct PlotArgs {
    /// Result files to plot.
    #[arg(required = true, value_name = "RESULT.json")]
    pub inputs: Vec<PathBuf>,
    /// Output file: `.svg` (the charts stacked) or `.html` (a page with the
    /// charts and a table of key figures).
    #[arg(short, long, value_name = "OUT.svg|OUT.html")]
    pub output: PathBuf,
    /// Title of the page / SVG.
    #[arg(long)]
    pub title: Option<String>,
}

/// What `plot` writes, from the output file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    Svg,
    Html,
}

impl OutputKind {
    pub fn from_path(path: &Path) -> anyhow::Result<Self> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("svg") => Ok(OutputKind::Svg),
            Some("html") | Some("htm") => Ok(OutputKind::Html),
            _ => anyhow::bail!(
                "cannot tell the output format of {}: name it OUT.svg or OUT.html",
                path.display()
            ),
        }
    }
}

/// Exit status 2 for inputs or an output name that cannot be used, 3 when
/// the chart cannot be drawn or written.
pub fn run(args: &PlotArgs) -> anyhow::Result<ExitCode> {
    let kind = OutputKind::from_path(&args.output).map_err(UsageError)?;
    let runs = load_all(&args.inputs)?;
    let prepared = prepare(&runs, &args.inputs).map_err(UsageError)?;
    let title = args
        .title
        .clone()
        .unwrap_or_else(|| "bench-client results".to_string());
    let doc = match kind {
        OutputKind::Svg => svg::stacked(&prepared, &title)?,
        OutputKind::Html => html::page(&prepared, &title)?,
    };
    write_atomically(&args.output, doc.as_bytes())?;
    eprintln!("wrote {}", args.output.display());
    Ok(ExitCode::SUCCESS)
}

fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let name = path
        .file_name()
        .with_context(|| format!("{} is not a file path", path.display()))?;
    let tmp = dir.join(format!(
        ".{}.tmp{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

/// One run, ready to draw.
#[derive(Debug, Clone)]
pub struct PreparedRun {
    /// Unique among the plotted runs.
    pub label: String,
    /// The load without the server, e.g. `50x4 64KiB GET /delay/10`: runs
    /// sharing it are drawn together in the HTML page.
    pub load: String,
    pub file: PathBuf,
    /// Index into the palette: the run's position among all plotted runs,
    /// so that it keeps its colour in every chart and in the table.
    pub color: usize,
    /// `(nines, latency ms)`: nines = -log10(1 - quantile).
    pub spectrum: Vec<(f64, f64)>,
    /// `(t_s, req/s)`.
    pub rps_over_time: Vec<(f64, f64)>,
    /// Open-loop runs: the requests due in each second (the schedule's
    /// curve), drawn dashed under what was achieved.
    pub target_over_time: Vec<(f64, f64)>,
    /// `(t_s, p99 ms)`, seconds with responses only.
    pub p99_over_time: Vec<(f64, f64)>,
    /// log10 of the sample count: the deepest quantile this run resolves.
    pub max_nines: f64,
    pub run: RunResult,
}

/// `64KiB`, `1MiB`, `100B`, `1.50KiB`: [`crate::report::format::bytes`].
pub fn fmt_bytes(b: u64) -> String {
    crate::report::format::bytes(b as f64)
}

/// The load of a run without its server: `50x4 64KiB /delay/10 @1000/s`,
/// over HTTP/2 `50x4 h2c 10 streams ...` (the same connections carry more).
pub fn load_description(run: &RunResult) -> String {
    let c = &run.config;
    let mut s = format!("{}x{}", c.max_clients, c.max_conns);
    if c.is_http2() {
        s += &format!(" {} {} streams", c.protocol(), c.streams_per_connection());
    }
    if c.payload_bytes > 0 {
        s += &format!(" {}", fmt_bytes(c.payload_bytes));
    }
    if c.method != "GET" && !(c.method == "POST" && c.payload_bytes > 0) {
        s += &format!(" {}", c.method);
    }
    let path = UrlParts::split(&c.url).path_and_query();
    if path != "/" {
        s += &format!(" {path}");
    }
    if let Some(rate) = c.rate {
        s += &format!(" @{rate}/s");
    }
    if c.connection_per_request {
        s += " conn/req";
    }
    s
}

/// How a run is named on charts: its label, else its server model (or
/// target host) and load, e.g. `selector 50x4 64KiB`.
pub fn run_label(run: &RunResult) -> String {
    if let Some(l) = run.label.as_deref().filter(|l| !l.trim().is_empty()) {
        return l.to_string();
    }
    let server = run
        .target
        .server
        .as_ref()
        .map(|s| s.model.clone())
        .or_else(|| run.config.server.clone())
        .unwrap_or_else(|| UrlParts::split(&run.config.url).authority.to_string());
    format!("{server} {}", load_description(run))
}

/// -log10(1 - q), capped so that q = 1 stays finite.
pub fn nines(q: f64) -> f64 {
    -(1.0 - q).max(1e-9).log10()
}

/// Decodes the histograms and derives every series, runs in parallel (each
/// histogram decode and quantile walk is independent). Labels are made
/// unique by appending `#2`, `#3`.
pub fn prepare(runs: &[RunResult], files: &[PathBuf]) -> anyhow::Result<Vec<PreparedRun>> {
    let mut prepared: Vec<PreparedRun> = runs
        .par_iter()
        .zip(files.par_iter())
        .map(|(run, file)| prepare_one(run, file))
        .collect::<anyhow::Result<_>>()?;
    let mut seen: Vec<String> = Vec::new();
    for (i, p) in prepared.iter_mut().enumerate() {
        p.color = i;
        let base = p.label.clone();
        let mut n = 1;
        while seen.contains(&p.label) {
            n += 1;
            p.label = format!("{base} #{n}");
        }
        seen.push(p.label.clone());
    }
    Ok(prepared)
}

/// The most targets drawn per run: more lines than colours tell apart.
pub const TARGET_LINES: usize = 10;

/// A `--targets` run's busiest targets (at most [`TARGET_LINES`]), each
/// as a line of its own (label: the target's key) for a spectrum chart;
/// empty for a run without targets.
pub fn target_lines(run: &PreparedRun) -> anyhow::Result<Vec<PreparedRun>> {
    let mut busiest: Vec<&crate::result::TargetResult> = run.run.targets.iter().collect();
    busiest.sort_by_key(|t| std::cmp::Reverse(t.requests + t.errors));
    busiest
        .into_iter()
        .take(TARGET_LINES)
        .enumerate()
        .map(|(i, t)| {
            let h = hdr::decode(&t.latency.hdr)
                .with_context(|| format!("{}: target {}", run.file.display(), t.key))?;
            let (spectrum, max_nines) = spectrum_of(&h);
            Ok(PreparedRun {
                label: t.key.clone(),
                color: i,
                spectrum,
                max_nines,
                rps_over_time: Vec::new(),
                target_over_time: Vec::new(),
                p99_over_time: Vec::new(),
                ..run.clone()
            })
        })
        .collect()
}

/// The percentile spectrum of `h`, `(nines, ms)`, and the deepest nines
/// its sample count resolves.
fn spectrum_of(h: &hdrhistogram::Histogram<u64>) -> (Vec<(f64, f64)>, f64) {
    let count = h.len();
    let max_nines = if count > 1 {
        (count as f64).log10()
    } else {
        0.0
    };
    let mut spectrum: Vec<(f64, f64)> = Vec::new();
    if count > 0 {
        for v in h.iter_quantiles(5) {
            let q = v.quantile_iterated_to();
            // The last step reaches q = 1; draw the maximum where the
            // histogram's resolution ends (1 - 1/count), as HdrHistogram does.
            let x = if q >= 1.0 {
                max_nines
            } else {
                nines(q).min(max_nines)
            };
            let ms = h.highest_equivalent(v.value_iterated_to()) as f64 / 1000.0;
            if spectrum.last().is_some_and(|&(px, _)| x < px) {
                continue;
            }
            spectrum.push((x, ms));
        }
    }
    (spectrum, max_nines)
}

fn prepare_one(run: &RunResult, file: &Path) -> anyhow::Result<PreparedRun> {
    let h = hdr::decode(&run.latency.hdr).with_context(|| file.display().to_string())?;
    let (spectrum, max_nines) = spectrum_of(&h);
    // The last timeline entry may cover less than a second; rescale it to a
    // rate, and drop it when it is too short to mean anything (unless it is
    // the whole run).
    let duration = run.summary.duration_s;
    let mut rps_over_time = Vec::new();
    let mut target_over_time = Vec::new();
    let mut p99_over_time = Vec::new();
    for e in &run.timeline {
        let covered = (duration - e.t_s as f64).clamp(0.0, 1.0);
        let covered = if duration <= 0.0 { 1.0 } else { covered };
        // A run shorter than a second still gets its one point.
        if covered < 0.25 && run.timeline.len() > 1 {
            continue;
        }
        let covered = covered.max(1e-3);
        rps_over_time.push((e.t_s as f64, e.requests as f64 / covered));
        if let Some(due) = e.target_rate {
            target_over_time.push((e.t_s as f64, due / covered));
        }
        if e.requests > 0 {
            p99_over_time.push((e.t_s as f64, e.p99_us as f64 / 1000.0));
        }
    }
    Ok(PreparedRun {
        label: run_label(run),
        load: load_description(run),
        file: file.to_path_buf(),
        color: 0,
        spectrum,
        rps_over_time,
        target_over_time,
        p99_over_time,
        max_nines,
        run: run.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One line per target, the busiest ten, each from its own
    /// histogram; the SVG draws them under the run's charts.
    #[test]
    fn the_ten_busiest_targets_get_a_line_each() {
        let mut run = crate::report::testing::closed_loop_result();
        run.targets = (0..12u64)
            .map(|i| {
                let mut h = hdr::new_small_histogram();
                for _ in 0..=i {
                    hdr::record(&mut h, 1000 * (i + 1));
                }
                crate::result::TargetResult {
                    key: format!("GET http://h/{i}"),
                    weight: 1,
                    requests: i + 1,
                    errors: 0,
                    status_codes: Default::default(),
                    errors_by_kind: Default::default(),
                    latency: hdr::latency_from(&h),
                }
            })
            .collect();
        let prepared = prepare(&[run], &[PathBuf::from("r.json")]).unwrap();
        let lines = target_lines(&prepared[0]).unwrap();
        assert_eq!(lines.len(), TARGET_LINES);
        assert_eq!(lines[0].label, "GET http://h/11", "the busiest first");
        let top = lines[0].spectrum.last().unwrap().1;
        assert!((12.0..12.1).contains(&top), "its own maximum, {top} ms");
        let doc = svg::stacked(&prepared, "t").unwrap();
        assert!(doc.contains("Latency by target"));
        assert!(doc.contains("GET http://h/11") && !doc.contains("GET http://h/0<"));
    }

    /// An open loop's timeline carries what was due each second: it is
    /// the dashed target line, rescaled like the measured rate in a short
    /// last second; a closed loop has none, and its chart says nothing of one.
    #[test]
    fn the_schedule_target_is_drawn_for_open_loops_only() {
        let mut run = crate::report::testing::closed_loop_result();
        let closed = prepare(std::slice::from_ref(&run), &[PathBuf::from("c.json")]).unwrap();
        assert!(closed[0].target_over_time.is_empty());
        let doc = svg::stacked(&closed, "t").unwrap();
        assert!(!doc.contains("dashed: the schedule"));

        run.summary.duration_s = run.timeline.len() as f64;
        for (i, e) in run.timeline.iter_mut().enumerate() {
            e.target_rate = Some(100.0 * (i + 1) as f64);
        }
        let open = prepare(&[run.clone()], &[PathBuf::from("o.json")]).unwrap();
        let want: Vec<(f64, f64)> = run
            .timeline
            .iter()
            .map(|e| (e.t_s as f64, e.target_rate.unwrap()))
            .collect();
        assert_eq!(open[0].target_over_time, want);
        let doc = svg::stacked(&open, "t").unwrap();
        assert!(doc.contains("dashed: the schedule"));
    }

    /// HTTP/2 runs name their protocol and streams beside the
    /// connections; HTTP/1.1 runs (old or new) read as they always did.
    #[test]
    fn http2_runs_are_named_with_protocol_and_streams() {
        let mut run = crate::report::testing::closed_loop_result();
        run.label = None;
        let http1 = run_label(&run);
        assert_eq!(http1, "selector 2x2");
        run.config.protocol = Some("http/1.1".into());
        assert_eq!(run_label(&run), http1);
        run.config.protocol = Some("h2".into());
        run.config.streams = Some(10);
        assert_eq!(run_label(&run), "selector 2x2 h2 10 streams");
        assert_eq!(load_description(&run), "2x2 h2 10 streams");
    }

    #[test]
    fn bytes_are_short() {
        assert_eq!(fmt_bytes(0), "0B");
        assert_eq!(fmt_bytes(65536), "64KiB");
        assert_eq!(fmt_bytes(1536), "1.50KiB");
        assert_eq!(fmt_bytes(1 << 20), "1MiB");
    }

    #[test]
    fn nines_of_common_quantiles() {
        assert!((nines(0.9) - 1.0).abs() < 1e-9);
        assert!((nines(0.999) - 3.0).abs() < 1e-9);
        assert!(nines(1.0).is_finite());
    }

    #[test]
    fn output_kind_from_extension() {
        assert_eq!(
            OutputKind::from_path(Path::new("a/b.SVG")).unwrap(),
            OutputKind::Svg
        );
        assert_eq!(
            OutputKind::from_path(Path::new("r.html")).unwrap(),
            OutputKind::Html
        );
        let e = OutputKind::from_path(Path::new("r.png")).unwrap_err();
        assert!(e.to_string().contains("r.png"), "{e}");
    }
}
