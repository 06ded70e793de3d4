//! The knee chart of a `find-max` search (`knee.svg`): latency percentiles
//! against the offered rate, with the latency objectives and the answer
//! marked, and the achieved rate against the offered one. Trials that were
//! not valid are drawn in grey: they are no evidence.

use plotters::prelude::*;

use super::summary::{Summary, TrialOutcome};
use crate::plot::svg::color;
use crate::report::format;

const WIDTH: u32 = 1000;
const PANEL_HEIGHT: u32 = 380;
const FONT: &str = "sans-serif";

/// The chart as SVG text, drawn from the summary alone.
pub fn knee(summary: &Summary) -> anyhow::Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, PANEL_HEIGHT * 2)).into_drawing_area();
        root.fill(&WHITE)?;
        let (top, bottom) = root.split_vertically(PANEL_HEIGHT);
        latency_panel(&top, summary)?;
        rate_panel(&bottom, summary)?;
        root.present()?;
    }
    Ok(svg)
}

/// Trials that prove nothing (not valid), in both panels.
const NOT_VALID: RGBColor = RGBColor(160, 160, 160);

type Area<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;

fn x_max(s: &Summary) -> f64 {
    s.trials.iter().map(|t| t.rate).fold(1.0, f64::max) * 1.08
}

fn latency_panel(area: &Area<'_>, s: &Summary) -> anyhow::Result<()> {
    let valid = || {
        s.trials
            .iter()
            .filter(|t| t.outcome != TrialOutcome::Invalid)
    };
    let all_ms = valid()
        .flat_map(|t| [t.p50_us, t.p90_us, t.p99_us])
        .flatten()
        .map(|us| us as f64 / 1e3)
        .chain(
            s.trials
                .iter()
                .flat_map(|t| t.objectives.iter())
                .filter(|o| o.unit == "us")
                .map(|o| o.threshold / 1e3),
        );
    let (lo, hi) = all_ms
        .filter(|v| *v > 0.0)
        .fold((f64::MAX, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let (lo, hi) = if hi > 0.0 {
        (lo * 0.7, hi * 1.5)
    } else {
        (0.1, 10.0)
    };
    let mut chart = ChartBuilder::on(area)
        .caption("Latency (corrected) against offered rate", (FONT, 18))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..x_max(s), (lo..hi).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("offered rate (req/s)")
        .y_desc("latency (ms, log scale)")
        .axis_desc_style((FONT, 14))
        .label_style((FONT, 12))
        .draw()?;
    let percentile = |i: usize| -> Vec<(f64, f64)> {
        let mut points: Vec<(f64, f64)> = valid()
            .filter_map(|t| {
                let us = [t.p50_us, t.p90_us, t.p99_us][i]?;
                Some((t.rate, (us as f64 / 1e3).max(lo)))
            })
            .collect();
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        points
    };
    for (i, name) in ["p50", "p90", "p99"].iter().enumerate() {
        let points = percentile(i);
        let c = color(i);
        chart
            .draw_series(LineSeries::new(points.clone(), c.stroke_width(2)))?
            .label(*name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(3)));
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, c.filled())))?;
    }
    let objectives: Vec<(String, f64)> = s
        .trials
        .first()
        .map(|t| {
            t.objectives
                .iter()
                .filter(|o| o.unit == "us")
                .map(|o| (o.expr.clone(), o.threshold / 1e3))
                .collect()
        })
        .unwrap_or_default();
    for (expr, ms) in objectives {
        chart
            .draw_series(LineSeries::new(
                vec![(0.0, ms), (x_max(s), ms)],
                RED.stroke_width(1),
            ))?
            .label(format!("objective {expr}"))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED.stroke_width(1)));
    }
    if let Some(rate) = s.max_rate {
        chart
            .draw_series(LineSeries::new(
                vec![(rate, lo), (rate, hi)],
                BLACK.stroke_width(2),
            ))?
            .label(format!("max rate {} req/s", format::rate_short(rate)))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.stroke_width(2)));
    }
    let invalid: Vec<(f64, f64)> = s
        .trials
        .iter()
        .filter(|t| t.outcome == TrialOutcome::Invalid)
        .filter_map(|t| Some((t.rate, (t.p99_us? as f64 / 1e3).clamp(lo, hi))))
        .collect();
    chart.draw_series(invalid.iter().map(|&p| Cross::new(p, 5, NOT_VALID)))?;
    legend(&mut chart)
}

fn rate_panel(area: &Area<'_>, s: &Summary) -> anyhow::Result<()> {
    let top = x_max(s);
    let mut chart = ChartBuilder::on(area)
        .caption("Achieved against offered rate", (FONT, 18))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..top, 0.0..top)?;
    chart
        .configure_mesh()
        .x_desc("offered rate (req/s)")
        .y_desc("achieved rate (req/s)")
        .axis_desc_style((FONT, 14))
        .label_style((FONT, 12))
        .draw()?;
    chart
        .draw_series(LineSeries::new(
            vec![(0.0, 0.0), (top, top)],
            BLACK.mix(0.4),
        ))?
        .label("achieved = offered")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.mix(0.4)));
    for (outcome, c, name) in [
        (TrialOutcome::Pass, color(4), "pass"),
        (TrialOutcome::Fail, color(2), "fail"),
        (TrialOutcome::Invalid, NOT_VALID, "not valid"),
    ] {
        let points: Vec<(f64, f64)> = s
            .trials
            .iter()
            .filter(|t| t.outcome == outcome)
            .map(|t| (t.rate, t.achieved_rate))
            .collect();
        chart
            .draw_series(points.iter().map(|&p| Circle::new(p, 4, c.filled())))?
            .label(name)
            .legend(move |(x, y)| Circle::new((x + 10, y), 4, c.filled()));
    }
    legend(&mut chart)
}

/// Both panels' legend: upper left, framed, over a translucent ground.
fn legend<'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, CT>,
) -> anyhow::Result<()> {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .label_font((FONT, 12))
        .draw()?;
    Ok(())
}
