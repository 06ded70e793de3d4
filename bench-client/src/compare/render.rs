//! Text renderings of a [`Comparison`]: an aligned terminal table and a
//! Markdown table for CI comments. (JSON is the struct itself, via serde.)

use super::{Comparison, Method, MetricComparison, Verdict};
use crate::metric::Metric;
use crate::report::format;

/// One line on how significance was decided, always printed: a reader must
/// know whether a verdict rests on a test or on a bare threshold.
pub fn method_line(c: &Comparison) -> String {
    match c.method {
        Method::Bootstrap {
            confidence,
            resamples,
        } => format!(
            "{} baseline runs vs {} candidate runs; significance: percentile bootstrap {:.0}% confidence interval of the change of means ({} resamples), significant when it excludes 0",
            c.baseline_runs,
            c.candidate_runs,
            confidence * 100.0,
            resamples
        ),
        Method::NoiseThreshold { threshold_pct } => format!(
            "{} baseline run(s) vs {} candidate run(s); one run on a side, so no statistical test: a change counts only beyond the noise threshold of {}% ({} pp for error_rate); repeat runs for a real test",
            c.baseline_runs,
            c.candidate_runs,
            format::number(threshold_pct),
            format::number(threshold_pct)
        ),
    }
}

/// A side's mean; `-` when some run of it has no data.
fn value(m: Metric, v: Option<f64>) -> String {
    let Some(v) = v else {
        return "-".into();
    };
    match m {
        Metric::Rps => format::rate_short(v),
        Metric::ErrorRate => format!("{v:.3}%"),
        _ => format!("{v:.3} ms"),
    }
}

fn signed(v: f64, unit: &str) -> String {
    if v.is_infinite() {
        return if v > 0.0 {
            "+inf".into()
        } else {
            "-inf".into()
        };
    }
    format!("{v:+.1}{unit}")
}

fn ci(mc: &MetricComparison) -> String {
    match mc.ci {
        Some((lo, hi)) => format!(
            "[{}, {}]",
            signed(lo, mc.change_unit),
            signed(hi, mc.change_unit)
        ),
        None => "-".into(),
    }
}

fn verdict(v: Verdict) -> &'static str {
    match v {
        Verdict::NoChange => "no change",
        Verdict::Better => "better",
        Verdict::Worse => "worse (within limit)",
        Verdict::Regression => "REGRESSION",
        Verdict::NoData => "no data (a run completed no request)",
    }
}

fn rows(c: &Comparison) -> Vec<[String; 7]> {
    c.metrics
        .iter()
        .map(|mc| {
            let name = format!(
                "{} ({})",
                mc.metric.name(),
                if mc.higher_is_better {
                    "higher is better"
                } else {
                    "lower is better"
                }
            );
            [
                name,
                value(mc.metric, mc.baseline_mean),
                value(mc.metric, mc.candidate_mean),
                if mc.verdict == Verdict::NoData {
                    "-".into()
                } else {
                    signed(mc.change, mc.change_unit)
                },
                ci(mc),
                format!("{}{}", format::number(mc.limit), mc.change_unit),
                verdict(mc.verdict).to_string(),
            ]
        })
        .collect()
}

const HEADER: [&str; 7] = [
    "metric",
    "baseline",
    "candidate",
    "change",
    "95% CI",
    "limit",
    "verdict",
];

fn result_line(c: &Comparison) -> String {
    if c.pass {
        "PASS: no significant regression beyond its limit".to_string()
    } else {
        format!(
            "FAIL: significant regression beyond its limit in {}",
            c.regressions.join(", ")
        )
    }
}

pub fn terminal(c: &Comparison) -> String {
    let rows = rows(c);
    let mut widths = HEADER.map(str::len);
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            // Numbers right-aligned, names and verdicts left-aligned.
            if i == 0 || i == cells.len() - 1 {
                s += &format!("{cell:<w$}  ");
            } else {
                s += &format!("{cell:>w$}  ");
            }
        }
        s.trim_end().to_string() + "\n"
    };
    let mut out = method_line(c) + "\n\n";
    out += &line(&HEADER.map(String::from));
    for r in &rows {
        out += &line(r);
    }
    out + &targets_text(c) + "\n" + &result_line(c) + "\n"
}

/// The per-target lines (the 20 with the highest baseline p99), or why
/// there are none.
fn targets_text(c: &Comparison) -> String {
    if let Some(note) = &c.targets_note {
        return format!("\nTargets: {note}\n");
    }
    if c.targets.is_empty() {
        return String::new();
    }
    let mut rows: Vec<&super::TargetComparison> = c.targets.iter().collect();
    rows.sort_by(|a, b| b.baseline_p99_ms.total_cmp(&a.baseline_p99_ms));
    let width = rows.iter().map(|t| t.key.len()).max().unwrap_or(0);
    let mut out = format!(
        "\nTargets (p50 / p99 ms, errors %; shown, not gated)\n  {:<width$}  {:>21}  {:>21}  {:>8}\n",
        "target", "baseline", "candidate", "p99"
    );
    for t in rows.iter().take(20) {
        out += &format!(
            "  {:<width$}  {:>21}  {:>21}  {:>8}\n",
            t.key,
            format!(
                "{:.3} / {:.3}, {:.1}%",
                t.baseline_p50_ms, t.baseline_p99_ms, t.baseline_error_pct
            ),
            format!(
                "{:.3} / {:.3}, {:.1}%",
                t.candidate_p50_ms, t.candidate_p99_ms, t.candidate_error_pct
            ),
            signed(t.p99_change_pct, "%")
        );
    }
    if rows.len() > 20 {
        out += &format!(
            "  ... and {} more (all in --format json)\n",
            rows.len() - 20
        );
    }
    out
}

pub fn markdown(c: &Comparison) -> String {
    let mut out = format!("### bench-client compare: {}\n\n", result_line(c));
    out += &format!("{}\n\n", method_line(c));
    out += &format!("| {} |\n", HEADER.join(" | "));
    out += "|:--|--:|--:|--:|--:|--:|:--|\n";
    for r in rows(c) {
        let mut r = r;
        if r[6] == "REGRESSION" {
            r[6] = "**REGRESSION**".into();
        }
        out += &format!("| {} |\n", r.join(" | "));
    }
    out
}
