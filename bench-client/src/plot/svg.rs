//! The charts, drawn with plotters' SVG backend. Text is emitted as SVG
//! `<text>` for the viewer to render, so no font files are needed; plotters
//! only estimates text widths, which is why legends sit beside the plots
//! with room to spare instead of over the lines.

use std::ops::Range;

use plotters::coord::ranged1d::{
    AsRangedCoord, DefaultFormatting, KeyPointHint, Ranged, ValueFormatter,
};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::PreparedRun;
use crate::report::format;

/// Width of every chart, pixels.
pub const WIDTH: u32 = 1000;
pub const SPECTRUM_HEIGHT: u32 = 420;
const TIMELINE_HEIGHT: u32 = 300;
const TITLE_HEIGHT: u32 = 40;
const FONT: &str = "sans-serif";

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type DrawResult = anyhow::Result<()>;

/// Tableau 10: distinct on white, and still distinct for colour-blind
/// readers in its first few entries; cycles beyond ten runs.
const PALETTE: [RGBColor; 10] = [
    RGBColor(78, 121, 167),
    RGBColor(242, 142, 43),
    RGBColor(225, 87, 89),
    RGBColor(118, 183, 178),
    RGBColor(89, 161, 79),
    RGBColor(237, 201, 72),
    RGBColor(176, 122, 161),
    RGBColor(255, 157, 167),
    RGBColor(156, 117, 95),
    RGBColor(186, 176, 172),
];

pub fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// `color(i)` as CSS `#rrggbb`, for the HTML table's swatches.
pub fn css_color(i: usize) -> String {
    let RGBColor(r, g, b) = color(i);
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// The axis label of a point on the nines axis: 0 → `0%`, 1 → `90%`,
/// 3 → `99.9%`; log10(2) → `50%`.
pub fn nines_label(x: f64) -> String {
    let pct = (1.0 - 10f64.powf(-x)) * 100.0;
    let decimals = (x.round() as i64 - 2).max(0) as usize;
    format!("{pct:.decimals$}%")
}

/// A formatter for one latency axis: the same decimals on every tick,
/// enough for the axis's range.
fn ms_formatter(max: f64) -> impl Fn(&f64) -> String {
    let decimals = if max >= 100.0 {
        0
    } else if max >= 10.0 {
        1
    } else if max >= 1.0 {
        2
    } else {
        3
    };
    move |v: &f64| format!("{v:.decimals$}")
}

/// A tick on a log axis spans decades, so each gets its own precision:
/// `0.1`, `0.5`, `2`, `100`.
fn log_ms(v: &f64) -> String {
    let s = if *v >= 10.0 {
        format!("{v:.0}")
    } else if *v >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    };
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Labels longer than `max` characters end in `…`.
fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

const LEGEND_MAX_CHARS: usize = 40;

/// Width of the legend column: plotters' own estimate for 13 px text is
/// about 6 px a character; 7.5 leaves room for wide glyphs.
fn legend_width(runs: &[PreparedRun]) -> u32 {
    let chars = runs
        .iter()
        .map(|r| r.label.chars().count().min(LEGEND_MAX_CHARS))
        .max()
        .unwrap_or(0);
    ((chars as f64 * 7.5) as u32 + 50).clamp(140, 360)
}

/// Splits off a legend column at the right and draws the legend in it.
fn with_legend<'a>(area: &Area<'a>, runs: &[PreparedRun]) -> anyhow::Result<Area<'a>> {
    let w = area.dim_in_pixel().0;
    let (plot, legend) = area.split_horizontally(w.saturating_sub(legend_width(runs)));
    for (i, r) in runs.iter().enumerate() {
        let y = 50 + 20 * i as i32;
        legend.draw(&PathElement::new(
            vec![(4, y), (28, y)],
            color(r.color).stroke_width(3),
        ))?;
        legend.draw(&Text::new(
            truncate(&r.label, LEGEND_MAX_CHARS),
            (34, y - 7),
            (FONT, 13).into_font(),
        ))?;
    }
    Ok(plot)
}

/// A linear f64 axis whose ticks (and grid lines) are exactly the given
/// points: the nines axis needs 50 %, 90 %, 99 %..., which no automatic
/// tick choice yields. (plotters' `WithKeyPoints` cannot take a label
/// formatter on an f64 axis.)
struct KeyAxis {
    range: Range<f64>,
    keys: Vec<f64>,
}

impl Ranged for KeyAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let span = self.range.end - self.range.start;
        let frac = if span > 0.0 {
            (value - self.range.start) / span
        } else {
            0.0
        };
        limit.0 + (frac * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        // Bold lines and labels at the keys only, no light grid between.
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.keys.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.range.clone()
    }
}

/// (1) Latency against percentile on a logarithmic "nines" axis, one line
/// per run, from the whole histogram.
pub fn spectrum(area: &Area<'_>, runs: &[PreparedRun]) -> DrawResult {
    let plot = with_legend(area, runs)?;
    let x_max = runs
        .iter()
        .map(|r| r.max_nines)
        .fold(1.0f64, f64::max)
        .min(7.0);
    let ys = || runs.iter().flat_map(|r| r.spectrum.iter().map(|p| p.1));
    let y_max = ys().fold(0.0f64, f64::max).max(0.001);
    let y_min = ys().filter(|&y| y > 0.0).fold(y_max, f64::min);
    // The fastest run's median (the spectrum point nearest 50 %).
    let min_p50 = runs
        .iter()
        .filter_map(|r| r.spectrum.iter().find(|p| p.0 >= 2f64.log10()).map(|p| p.1))
        .fold(y_max, f64::min)
        .max(1e-3);
    let mut key_points = vec![0.0, 2f64.log10()];
    key_points.extend((1..=x_max.floor() as u32).map(f64::from));
    let x = KeyAxis {
        range: 0.0..x_max,
        keys: key_points,
    };
    // Linear like HdrHistogram's plotter, unless the top of the chart is more
    // than 30 times the fastest median: then a linear axis flattens the
    // bodies of the distributions into the floor.
    if y_max / min_p50 > 30.0 {
        let y = (y_min * 0.8..y_max * 1.25).log_scale();
        draw_spectrum(&plot, runs, x, y, "latency (ms, log scale)", &log_ms)
    } else {
        let y_fmt = ms_formatter(y_max);
        draw_spectrum(&plot, runs, x, 0f64..y_max * 1.05, "latency (ms)", &y_fmt)
    }
}

fn draw_spectrum<Y>(
    plot: &Area<'_>,
    runs: &[PreparedRun],
    x: KeyAxis,
    y: Y,
    y_desc: &str,
    y_fmt: &dyn Fn(&f64) -> String,
) -> DrawResult
where
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let mut chart = ChartBuilder::on(plot)
        .caption("Latency by percentile", (FONT, 18))
        .margin(10)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(x, y)?;
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .x_desc("percentile")
        .y_desc(y_desc)
        .x_label_formatter(&|x| nines_label(*x))
        .y_label_formatter(y_fmt)
        .axis_desc_style((FONT, 14))
        .label_style((FONT, 12))
        .draw()?;
    for r in runs {
        chart.draw_series(LineSeries::new(
            r.spectrum.iter().copied(),
            color(r.color).stroke_width(2),
        ))?;
    }
    Ok(())
}

/// Whole seconds, at most about 15 of them, at a round step.
fn second_ticks(t_max: f64) -> Vec<f64> {
    let step = [1u64, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600]
        .into_iter()
        .find(|s| t_max / *s as f64 <= 15.0)
        .unwrap_or(7200);
    (0..=t_max as u64)
        .step_by(step as usize)
        .map(|t| t as f64)
        .collect()
}

/// One line per run over the measured seconds.
/// How an over-time chart scales its y axis.
#[derive(Clone, Copy, PartialEq, Eq)]
enum YScale {
    Linear,
    /// Log when the values span more than 30x (a stalled server next to a
    /// fast one), else linear.
    LogIfWide,
}

/// What an over-time chart draws per run: the measured line, and a dashed
/// target line (empty when the chart or the run has none).
struct Series<'f> {
    measured: &'f dyn Fn(&PreparedRun) -> &[(f64, f64)],
    target: &'f dyn Fn(&PreparedRun) -> &[(f64, f64)],
}

fn over_time(
    area: &Area<'_>,
    runs: &[PreparedRun],
    caption: &str,
    y_desc: &str,
    series: Series<'_>,
    scale: YScale,
    y_fmt: &dyn Fn(&f64) -> String,
) -> DrawResult {
    let plot = with_legend(area, runs)?;
    let both = |r: &PreparedRun| {
        let (m, t) = ((series.measured)(r), (series.target)(r));
        m.iter().chain(t.iter()).copied().collect::<Vec<_>>()
    };
    let t_max = runs
        .iter()
        .flat_map(|r| both(r).into_iter().map(|p| p.0))
        .fold(1.0f64, f64::max);
    let ys = || runs.iter().flat_map(|r| both(r).into_iter().map(|p| p.1));
    let y_max = ys().fold(0.0f64, f64::max).max(1e-3);
    let y_min = ys().filter(|&y| y > 0.0).fold(y_max, f64::min);
    let x = KeyAxis {
        range: 0.0..t_max,
        keys: second_ticks(t_max),
    };
    let mut builder = ChartBuilder::on(&plot);
    builder
        .caption(caption, (FONT, 18))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(60);
    if scale == YScale::LogIfWide && y_max / y_min > 30.0 {
        let y = (y_min * 0.8..y_max * 1.25).log_scale();
        let desc = format!("{y_desc}, log scale");
        draw_over_time(&mut builder, runs, x, y, &desc, &series, &log_ms)
    } else {
        draw_over_time(
            &mut builder,
            runs,
            x,
            0f64..y_max * 1.1,
            y_desc,
            &series,
            y_fmt,
        )
    }
}

fn draw_over_time<Y>(
    builder: &mut ChartBuilder<'_, '_, SVGBackend<'_>>,
    runs: &[PreparedRun],
    x: KeyAxis,
    y: Y,
    y_desc: &str,
    series: &Series<'_>,
    y_fmt: &dyn Fn(&f64) -> String,
) -> DrawResult
where
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let mut chart = builder.build_cartesian_2d(x, y)?;
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .x_desc("seconds since start")
        .y_desc(y_desc)
        .y_label_formatter(y_fmt)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .axis_desc_style((FONT, 14))
        .label_style((FONT, 12))
        .draw()?;
    // Stage boundaries, dotted in the run's colour: where a ramp turns is
    // where the curves are expected to bend. The target, dashed: what the
    // schedule asked for, so a rate not held shows as a gap.
    let y_range = chart.plotting_area().get_y_range();
    let x_range = chart.plotting_area().get_x_range();
    for r in runs {
        let style = color(r.color).mix(0.6).stroke_width(1);
        let bounds = r
            .run
            .stages
            .iter()
            .map(|st| st.end_s)
            .filter(|&t| t > x_range.start && t < x_range.end);
        for t in bounds {
            let edge = [(t, y_range.start), (t, y_range.end)];
            chart.draw_series(DottedLineSeries::new(edge, 0, 4, move |c| {
                Circle::new(c, 1, style.filled())
            }))?;
        }
        let target = (series.target)(r);
        if !target.is_empty() {
            let dashed = color(r.color).mix(0.7).stroke_width(1);
            chart.draw_series(DashedLineSeries::new(target.iter().copied(), 6, 4, dashed))?;
        }
    }
    for r in runs {
        let style = color(r.color).stroke_width(2);
        let measured = (series.measured)(r);
        chart.draw_series(LineSeries::new(measured.iter().copied(), style))?;
        // Dots make one- and two-second runs visible at all.
        chart.draw_series(
            measured
                .iter()
                .map(|&p| Circle::new(p, 3, color(r.color).filled())),
        )?;
    }
    Ok(())
}

/// (2a) Requests per second over time.
pub fn rps_over_time(area: &Area<'_>, runs: &[PreparedRun]) -> DrawResult {
    let caption = if runs.iter().any(|r| !r.target_over_time.is_empty()) {
        "Requests per second over time (dashed: the schedule's target)"
    } else {
        "Requests per second over time"
    };
    over_time(
        area,
        runs,
        caption,
        "req/s",
        Series {
            measured: &|r| &r.rps_over_time,
            target: &|r| &r.target_over_time,
        },
        YScale::Linear,
        &|y| format::count_short(*y),
    )
}

/// (2b) p99 latency over time.
pub fn p99_over_time(area: &Area<'_>, runs: &[PreparedRun]) -> DrawResult {
    over_time(
        area,
        runs,
        "p99 latency over time",
        "p99 (ms)",
        Series {
            measured: &|r| &r.p99_over_time,
            target: &|_| &[],
        },
        YScale::LogIfWide,
        &ms_formatter(
            runs.iter()
                .flat_map(|r| r.p99_over_time.iter().map(|p| p.1))
                .fold(0.0, f64::max),
        ),
    )
}

const BAR_LABEL_MAX_CHARS: usize = 36;

pub fn bars_height(n: usize) -> u32 {
    (90 + 32 * n as u32).max(180)
}

/// (3) Requests per second per run, horizontal bars so that long labels fit.
pub fn rps_bars(area: &Area<'_>, runs: &[PreparedRun]) -> DrawResult {
    let n = runs.len().max(1);
    let x_max = runs
        .iter()
        .map(|r| r.run.summary.requests_per_sec)
        .fold(1.0f64, f64::max);
    let label_chars = runs
        .iter()
        .map(|r| r.label.chars().count().min(BAR_LABEL_MAX_CHARS))
        .max()
        .unwrap_or(4);
    let key_points: Vec<f64> = (0..n).map(|i| i as f64).collect();
    // Row i (from the top) holds run i.
    let label_of = |y: f64| -> String {
        let i = n as i64 - 1 - y.round() as i64;
        runs.get(i as usize)
            .map(|r| truncate(&r.label, BAR_LABEL_MAX_CHARS))
            .unwrap_or_default()
    };
    let mut chart = ChartBuilder::on(area)
        .caption("Requests per second by run", (FONT, 18))
        .margin(10)
        .margin_right(30)
        .x_label_area_size(40)
        .y_label_area_size((label_chars as f64 * 7.0) as u32 + 20)
        .build_cartesian_2d(
            0f64..x_max * 1.18,
            KeyAxis {
                range: -0.5..n as f64 - 0.5,
                keys: key_points,
            },
        )?;
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .disable_y_mesh()
        .x_desc("req/s")
        .x_label_formatter(&|x| format::count_short(*x))
        .y_label_formatter(&|y| label_of(*y))
        .axis_desc_style((FONT, 14))
        .label_style((FONT, 12))
        .draw()?;
    for (i, r) in runs.iter().enumerate() {
        let y = (n - 1 - i) as f64;
        let v = r.run.summary.requests_per_sec;
        chart.draw_series(std::iter::once(Rectangle::new(
            [(0.0, y - 0.32), (v, y + 0.32)],
            color(r.color).filled(),
        )))?;
        chart.draw_series(std::iter::once(Text::new(
            format!("{v:.0}"),
            (v + x_max * 0.01, y + 0.12),
            (FONT, 12).into_font(),
        )))?;
    }
    Ok(())
}

/// Draws `f` on a fresh SVG of `size` and returns the document.
pub fn single(size: (u32, u32), f: impl FnOnce(&Area<'_>) -> DrawResult) -> anyhow::Result<String> {
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, size).into_drawing_area();
        root.fill(&WHITE)?;
        f(&root)?;
        root.present()?;
    }
    Ok(buf)
}

/// All charts stacked in one SVG, under a title; then, per `--targets`
/// run, its busiest targets' spectra.
pub fn stacked(runs: &[PreparedRun], title: &str) -> anyhow::Result<String> {
    let bars = bars_height(runs.len());
    let by_target = runs
        .iter()
        .map(|r| Ok((r.label.clone(), super::target_lines(r)?)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let by_target: Vec<(String, Vec<PreparedRun>)> = by_target
        .into_iter()
        .filter(|(_, lines)| !lines.is_empty())
        .collect();
    let per_target = by_target.len() as u32 * (TITLE_HEIGHT + SPECTRUM_HEIGHT);
    let height = TITLE_HEIGHT + SPECTRUM_HEIGHT + 2 * TIMELINE_HEIGHT + bars + per_target;
    single((WIDTH, height), |root| {
        let (head, rest) = root.split_vertically(TITLE_HEIGHT);
        head.draw(&Text::new(
            title.to_string(),
            (10, 10),
            (FONT, 22).into_font(),
        ))?;
        let (a, rest) = rest.split_vertically(SPECTRUM_HEIGHT);
        spectrum(&a, runs)?;
        let (b, rest) = rest.split_vertically(TIMELINE_HEIGHT);
        rps_over_time(&b, runs)?;
        let (c, rest) = rest.split_vertically(TIMELINE_HEIGHT);
        p99_over_time(&c, runs)?;
        let (d, mut rest) = rest.split_vertically(bars);
        rps_bars(&d, runs)?;
        for (label, lines) in &by_target {
            let (head, after) = rest.split_vertically(TITLE_HEIGHT);
            head.draw(&Text::new(
                format!("Latency by target: {}", truncate(label, 80)),
                (10, 10),
                (FONT, 18).into_font(),
            ))?;
            let (e, after) = after.split_vertically(SPECTRUM_HEIGHT);
            spectrum(&e, lines)?;
            rest = after;
        }
        Ok(())
    })
}

/// The charts one SVG each, for the HTML page: spectrum, req/s over time,
/// p99 over time, bars.
pub fn separate(runs: &[PreparedRun]) -> anyhow::Result<[String; 4]> {
    Ok([
        single((WIDTH, SPECTRUM_HEIGHT), |a| spectrum(a, runs))?,
        single((WIDTH, TIMELINE_HEIGHT), |a| rps_over_time(a, runs))?,
        single((WIDTH, TIMELINE_HEIGHT), |a| p99_over_time(a, runs))?,
        single((WIDTH, bars_height(runs.len())), |a| rps_bars(a, runs))?,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nines_axis_labels() {
        assert_eq!(nines_label(0.0), "0%");
        assert_eq!(nines_label(2f64.log10()), "50%");
        assert_eq!(nines_label(1.0), "90%");
        assert_eq!(nines_label(2.0), "99%");
        assert_eq!(nines_label(3.0), "99.9%");
        assert_eq!(nines_label(4.0), "99.99%");
    }

    #[test]
    fn long_labels_are_truncated() {
        assert_eq!(truncate("abc", 5), "abc");
        assert_eq!(truncate("abcdefgh", 5), "abcd…");
    }
}
