//! A self-contained HTML page for a [`DriftReport`]: summary verdict, a table
//! of columns (method, score, threshold, verdict) and, per column, reference
//! versus current shares as inline SVG. No script, no external resource: it
//! renders offline and can be attached to an alert or stored with a model.

use std::fmt::Write as _;

use super::axis::AxisScale;
use super::column::{ColumnDrift, ColumnStatus, SharePlot};
use super::data::ColumnKind;
use super::methods::DriftMethod;
use super::report::DriftReport;

use crate::html_text::escape;

fn number(v: Option<f64>) -> String {
    match v {
        Some(x) if x != 0.0 && (x.abs() < 1e-3 || x.abs() >= 1e5) => format!("{x:.3e}"),
        Some(x) => format!("{x:.4}"),
        None => "–".into(),
    }
}

const WIDTH: f64 = 420.0;
const HEIGHT: f64 = 120.0;
/// Width kept at the right of each plot for the missing-value bars.
const MISSING_SLOT: f64 = 56.0;

fn percent(share: f64) -> String {
    if share > 0.0 && share < 0.001 {
        "<0.1%".to_owned()
    } else {
        format!("{:.1}%", share * 100.0)
    }
}

/// A category label, or a number read at the axis' scale when the "category"
/// is one of a few distinct numbers (dates included).
fn category_label(plot: &SharePlot, label: &str, span: f64) -> String {
    match (plot.axis, label.parse::<f64>()) {
        (AxisScale::Number, _) | (_, Err(_)) => label.to_owned(),
        (axis, Ok(v)) => axis.label(v, span),
    }
}

/// Two overlaid bar series, reference (grey) and current (blue), as shares of
/// the usable values; at the right, the share of rows that were missing
/// (null, NaN, ±inf) on each side, on the same vertical scale.
fn svg(plot: &SharePlot, c: &ColumnDrift) -> String {
    let n = plot.reference.len().max(1);
    let (missing_r, missing_c) = (c.reference_missing_share, c.current_missing_share);
    let max = plot
        .reference
        .iter()
        .chain(&plot.current)
        .chain([&missing_r, &missing_c])
        .copied()
        .fold(0.0f64, f64::max)
        .max(1e-12);
    let bars_width = WIDTH - MISSING_SLOT;
    let slot = bars_width / n as f64;
    let span = match (plot.edges.first(), plot.edges.last()) {
        (Some(lo), Some(hi)) => hi - lo,
        _ => {
            // Few distinct numbers: the span of the values themselves.
            let values: Vec<f64> = plot.labels.iter().filter_map(|l| l.parse().ok()).collect();
            values.iter().copied().fold(f64::NEG_INFINITY, f64::max)
                - values.iter().copied().fold(f64::INFINITY, f64::min)
        }
    };
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{}\" role=\"img\" aria-label=\"{}\">",
        HEIGHT + 34.0,
        escape(&c.name)
    );
    let bar = |s: &mut String, x: f64, width: f64, share: f64, fill: &str| {
        let h = share / max * HEIGHT;
        let _ = write!(
            s,
            "<rect x=\"{x:.2}\" y=\"{:.2}\" width=\"{width:.2}\" height=\"{h:.2}\" {fill}/>",
            HEIGHT - h
        );
    };
    for (i, (r, cur)) in plot.reference.iter().zip(&plot.current).enumerate() {
        let x = i as f64 * slot;
        let label = match plot.labels.get(i) {
            Some(l) => category_label(plot, l, span),
            None => match (plot.edges.get(i), plot.edges.get(i + 1)) {
                (Some(a), Some(b)) => format!("{} – {}", plot.axis.label(*a, span), plot.axis.label(*b, span)),
                _ => String::new(),
            },
        };
        let _ = write!(
            s,
            "<g><title>{}: reference {}, current {}</title>",
            escape(&label),
            percent(*r),
            percent(*cur)
        );
        bar(&mut s, x + slot * 0.05, slot * 0.45, *r, "fill=\"#9aa0a6\"");
        bar(
            &mut s,
            x + slot * 0.5,
            slot * 0.45,
            *cur,
            "fill=\"#1a73e8\" fill-opacity=\"0.7\"",
        );
        s.push_str("</g>");
    }
    // Missing values: hatched in red tones, apart from the distribution.
    let mx = bars_width + 8.0;
    let _ = write!(
        s,
        "<g class=\"missing\"><title>missing (null, NaN, ±inf): reference {}, current {}</title>",
        percent(missing_r),
        percent(missing_c)
    );
    bar(&mut s, mx, 20.0, missing_r, "fill=\"#f4b4ae\"");
    bar(
        &mut s,
        mx + 22.0,
        20.0,
        missing_c,
        "fill=\"#c5221f\" fill-opacity=\"0.8\"",
    );
    let _ = write!(
        s,
        "</g><line x1=\"{mx:.2}\" y1=\"0\" x2=\"{mx:.2}\" y2=\"{HEIGHT}\" stroke=\"#ddd\"/>\
         <text x=\"{:.2}\" y=\"{}\" font-size=\"10\" fill=\"#c5221f\" text-anchor=\"middle\">missing</text>",
        mx + 21.0,
        HEIGHT + 12.0
    );
    let _ = write!(
        s,
        "<line x1=\"0\" y1=\"{HEIGHT}\" x2=\"{bars_width:.2}\" y2=\"{HEIGHT}\" stroke=\"#444\"/>"
    );
    // Axis labels: each category when there are few, else the range of the bins.
    if !plot.labels.is_empty() && plot.labels.len() <= 12 {
        for (i, label) in plot.labels.iter().enumerate() {
            let short: String = category_label(plot, label, span).chars().take(10).collect();
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
            "<text x=\"0\" y=\"{y}\" font-size=\"10\" fill=\"#444\">{}</text>\
             <text x=\"{bars_width:.2}\" y=\"{y}\" font-size=\"10\" fill=\"#444\" text-anchor=\"end\">{}</text>",
            escape(&plot.axis.label(*lo, span)),
            escape(&plot.axis.label(*hi, span)),
            y = HEIGHT + 12.0
        );
    }
    let _ = write!(
        s,
        "<text x=\"0\" y=\"{}\" font-size=\"11\" fill=\"#444\">■ reference <tspan fill=\"#1a73e8\">■ current</tspan> \
         <tspan fill=\"#c5221f\">missing: ref {} / cur {}</tspan></text></svg>",
        HEIGHT + 30.0,
        percent(missing_r),
        percent(missing_c)
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
                svg(plot, c)
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
