//! A self-contained HTML page for a [`DriftReport`]: summary verdict, a table
//! of columns (method, score, threshold, verdict) and, per column, reference
//! versus current shares as inline SVG. No script, no external resource: it
//! renders offline and can be attached to an alert or stored with a model.

use std::fmt::Write as _;

use super::column::{ColumnDrift, ColumnStatus, SharePlot};
use super::data::ColumnKind;
use super::methods::DriftMethod;
use super::report::DriftReport;

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn number(v: Option<f64>) -> String {
    match v {
        Some(x) if x != 0.0 && (x.abs() < 1e-3 || x.abs() >= 1e5) => format!("{x:.3e}"),
        Some(x) => format!("{x:.4}"),
        None => "–".into(),
    }
}

const WIDTH: f64 = 360.0;
const HEIGHT: f64 = 120.0;

/// Two overlaid bar series: reference (grey) and current (blue).
fn svg(plot: &SharePlot, title: &str) -> String {
    let n = plot.reference.len().max(1);
    let max = plot
        .reference
        .iter()
        .chain(&plot.current)
        .copied()
        .fold(0.0f64, f64::max)
        .max(1e-12);
    let slot = WIDTH / n as f64;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{}\" role=\"img\" aria-label=\"{}\">",
        HEIGHT + 34.0,
        escape(title)
    );
    for (i, (r, c)) in plot.reference.iter().zip(&plot.current).enumerate() {
        let x = i as f64 * slot;
        let (hr, hc) = (r / max * HEIGHT, c / max * HEIGHT);
        let label = plot
            .labels
            .get(i)
            .cloned()
            .unwrap_or_else(|| match (plot.edges.get(i), plot.edges.get(i + 1)) {
                (Some(a), Some(b)) => format!("{a:.4} – {b:.4}"),
                _ => String::new(),
            });
        let _ = write!(
            s,
            "<g><title>{}: reference {:.4}, current {:.4}</title>\
             <rect x=\"{:.2}\" y=\"{:.2}\" width=\"{:.2}\" height=\"{:.2}\" fill=\"#9aa0a6\"/>\
             <rect x=\"{:.2}\" y=\"{:.2}\" width=\"{:.2}\" height=\"{:.2}\" fill=\"#1a73e8\" fill-opacity=\"0.7\"/></g>",
            escape(&label),
            r,
            c,
            x + slot * 0.05,
            HEIGHT - hr,
            slot * 0.45,
            hr,
            x + slot * 0.5,
            HEIGHT - hc,
            slot * 0.45,
            hc
        );
    }
    let _ = write!(
        s,
        "<line x1=\"0\" y1=\"{HEIGHT}\" x2=\"{WIDTH}\" y2=\"{HEIGHT}\" stroke=\"#444\"/>"
    );
    // Axis labels: each category when there are few, else the range of the bins.
    if !plot.labels.is_empty() && plot.labels.len() <= 12 {
        for (i, label) in plot.labels.iter().enumerate() {
            let short: String = label.chars().take(10).collect();
            let _ = write!(
                s,
                "<text x=\"{:.2}\" y=\"{}\" font-size=\"10\" fill=\"#444\" text-anchor=\"middle\">{}</text>",
                (i as f64 + 0.5) * slot,
                HEIGHT + 12.0,
                escape(&short)
            );
        }
    } else if let (Some(lo), Some(hi)) = (plot.edges.first(), plot.edges.last()) {
        let _ = write!(
            s,
            "<text x=\"0\" y=\"{y}\" font-size=\"10\" fill=\"#444\">{lo:.4}</text>\
             <text x=\"{WIDTH}\" y=\"{y}\" font-size=\"10\" fill=\"#444\" text-anchor=\"end\">{hi:.4}</text>",
            y = HEIGHT + 12.0
        );
    }
    let _ = write!(
        s,
        "<text x=\"0\" y=\"{}\" font-size=\"11\" fill=\"#444\">■ reference <tspan fill=\"#1a73e8\">■ current</tspan></text></svg>",
        HEIGHT + 30.0
    );
    s
}

fn row(c: &ColumnDrift) -> String {
    let verdict = match c.status {
        ColumnStatus::Ok if c.drifted => "<span class=\"bad\">drift</span>".to_owned(),
        ColumnStatus::Ok => "<span class=\"ok\">no drift</span>".to_owned(),
        ColumnStatus::NotEnoughData => "<span class=\"na\">not enough data</span>".to_owned(),
        ColumnStatus::Unsupported => "<span class=\"na\">unsupported</span>".to_owned(),
    };
    format!(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.2}% / {:.2}%</td></tr>",
        escape(&c.name),
        c.column_type.map_or("–", |k| match k {
            ColumnKind::Numeric => "numeric",
            ColumnKind::Categorical => "categorical",
        }),
        c.method.map_or("–", DriftMethod::name),
        number(c.score),
        number(c.threshold),
        verdict,
        c.reference_missing_share * 100.0,
        c.current_missing_share * 100.0
    )
}

/// Renders the report as one HTML document.
pub fn render(report: &DriftReport, title: &str) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title><style>\
         body{{font-family:system-ui,sans-serif;margin:2rem;color:#202124}}\
         table{{border-collapse:collapse}}td,th{{border-bottom:1px solid #ddd;padding:.35rem .7rem;text-align:left}}\
         .bad{{color:#c5221f;font-weight:600}}.ok{{color:#188038}}.na{{color:#80868b}}\
         .summary{{font-size:1.2rem;margin:1rem 0}}.plots{{display:flex;flex-wrap:wrap;gap:1.5rem}}\
         figure{{margin:0}}figcaption{{font-size:.9rem;margin-bottom:.3rem}}</style></head><body>\
         <h1>{t}</h1>",
        t = escape(title)
    );
    let _ = write!(
        h,
        "<p class=\"summary\" id=\"verdict\">{} — {} of {} columns drifted (share {:.3}, threshold {:.3}); {} reference rows, {} current rows; correction: {:?}.</p>",
        if report.dataset_drift {
            "<span class=\"bad\">Dataset drift detected</span>"
        } else {
            "<span class=\"ok\">No dataset drift</span>"
        },
        report.number_of_drifted_columns,
        report.number_of_columns,
        report.drift_share,
        report.drift_share_threshold,
        report.reference_rows,
        report.current_rows,
        report.correction
    );
    h.push_str("<table id=\"columns\"><thead><tr><th>column</th><th>type</th><th>method</th><th>score</th><th>threshold</th><th>verdict</th><th>missing (ref / cur)</th></tr></thead><tbody>");
    for c in &report.columns {
        h.push_str(&row(c));
    }
    h.push_str("</tbody></table><h2>Reference vs current</h2><div class=\"plots\">");
    for c in &report.columns {
        if let Some(plot) = &c.plot {
            let _ = write!(
                h,
                "<figure><figcaption>{} ({})</figcaption>{}</figure>",
                escape(&c.name),
                c.method.map_or("–", DriftMethod::name),
                svg(plot, &c.name)
            );
        }
    }
    h.push_str("</div></body></html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_names() {
        assert_eq!(escape("<a href='x'>&"), "&lt;a href=&#39;x&#39;&gt;&amp;");
        assert_eq!(number(None), "–");
    }
}
