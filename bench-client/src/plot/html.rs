//! The self-contained HTML report: a table of each run's key figures, then
//! the charts inline (no scripts, stylesheets or fonts fetched), one set per
//! load so that runs of different servers under one load sit together.

use super::{fmt_bytes, svg, PreparedRun};
use crate::hdr::Percentile;
use crate::report::format;

/// `&`, `<`, `>`, `"` escaped for HTML text and attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

fn ms(us: u64) -> String {
    format::ms(us as f64)
}

/// `2026-11-25T19:20:00.123Z` → `2026-11-25 19:20:00`: the table is wide
/// enough without milliseconds.
fn short_time(rfc3339: &str) -> String {
    rfc3339.get(..19).unwrap_or(rfc3339).replacen('T', " ", 1)
}

fn table(runs: &[PreparedRun]) -> String {
    let mut t = String::from(
        "<table>\n<thead><tr><th>run</th><th>req/s</th><th>p50 ms</th><th>p99 ms</th>\
         <th>p99.9 ms</th><th>max ms</th><th>errors</th><th>clients&times;conns</th>\
         <th>payload</th><th>duration s</th><th>started</th><th>host</th><th>file</th></tr></thead>\n<tbody>\n",
    );
    for r in runs {
        let run = &r.run;
        let p = |p: Percentile| ms(run.latency.percentiles.get(p.key()).copied().unwrap_or(0));
        let attempted = run.summary.requests + run.summary.errors;
        let err_pct = if attempted == 0 {
            0.0
        } else {
            run.summary.errors as f64 * 100.0 / attempted as f64
        };
        let host = if run.sources.is_empty() {
            run.host.hostname.clone()
        } else {
            format!("{} (merged from {})", run.host.hostname, run.sources.len())
        };
        t += &format!(
            "<tr><td><span class=\"swatch\" style=\"background:{}\"></span>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} ({:.2}%)</td>\
             <td>{}&times;{}</td><td>{}</td><td>{:.1}</td><td>{}</td><td>{}</td><td title=\"{}\">{}</td></tr>\n",
            svg::css_color(r.color),
            escape(&r.label),
            format::rate_short(run.summary.requests_per_sec),
            p(Percentile::P50),
            p(Percentile::P99),
            p(Percentile::P99_9),
            ms(run.latency.max),
            run.summary.errors,
            err_pct,
            run.config.max_clients,
            run.config.max_conns,
            fmt_bytes(run.config.payload_bytes),
            run.summary.duration_s,
            escape(&short_time(&run.started_at)),
            escape(&host),
            escape(&r.file.display().to_string()),
            escape(
                &r.file
                    .file_name()
                    .map_or_else(|| r.file.display().to_string(), |n| n.to_string_lossy().into_owned())
            ),
        );
    }
    t + "</tbody>\n</table>\n"
}

const STYLE: &str = "body{font-family:sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;font-size:13px;margin-bottom:2em}\
th,td{border:1px solid #ccc;padding:3px 7px;text-align:right;white-space:nowrap}\
th:first-child,td:first-child{text-align:left}\
.swatch{display:inline-block;width:12px;height:12px;margin-right:6px;vertical-align:middle}\
figure{margin:0 0 1.5em 0}";

/// The whole page. Runs keep one colour (their index) throughout.
pub fn page(runs: &[PreparedRun], title: &str) -> anyhow::Result<String> {
    let mut html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{t}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{t}</h1>\n\
         <h2>Key figures</h2>\n",
        t = escape(title)
    );
    html += &table(runs);
    // Group by load, keeping first-appearance order; colours stay those of
    // the full list so the table and every chart agree.
    let mut loads: Vec<&str> = Vec::new();
    for r in runs {
        if !loads.contains(&r.load.as_str()) {
            loads.push(&r.load);
        }
    }
    for load in loads {
        let group: Vec<PreparedRun> = runs.iter().filter(|r| r.load == load).cloned().collect();
        html += &format!("<h2>Load {}</h2>\n", escape(load));
        for chart in svg::separate(&group)? {
            html += "<figure>\n";
            html += &chart;
            html += "</figure>\n";
        }
        for run in &group {
            let lines = super::target_lines(run)?;
            if lines.is_empty() {
                continue;
            }
            html += &format!(
                "<h3>Latency by target: {}</h3>\n<figure>\n",
                escape(&run.label)
            );
            html += &svg::single((svg::WIDTH, svg::SPECTRUM_HEIGHT), |a| {
                svg::spectrum(a, &lines)
            })?;
            html += "</figure>\n";
        }
    }
    html += "</body>\n</html>\n";
    Ok(html)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(escape("a<b> & \"c\""), "a&lt;b&gt; &amp; &quot;c&quot;");
        assert_eq!(
            short_time("2026-11-25T19:20:00.123Z"),
            "2026-11-25 19:20:00"
        );
        assert_eq!(short_time("junk"), "junk");
    }
}
