//! The card as one self-contained HTML page: inline CSS, no script, nothing fetched.

use std::fmt::Write as _;

use super::ModelCard;
use crate::html_text::escape;

fn num(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_owned(), |v| format!("{v:.4}"))
}

fn table(out: &mut String, head: &[&str], rows: impl Iterator<Item = Vec<String>>) {
    out.push_str("<table><thead><tr>");
    for h in head {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{}</td>", escape(&cell));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
}

const STYLE: &str = "body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:60rem;color:#1b1f24;padding:0 1rem}\
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #d0d7de}\
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #d0d7de;padding:.25rem .6rem;text-align:left}\
th{background:#f6f8fa}code{font-size:.85em;word-break:break-all}\
.bar{display:inline-block;height:.8rem;background:#2f81f7;vertical-align:middle;margin-right:.4rem}\
.gap{font-weight:600}";

pub(super) fn render(card: &ModelCard) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Model card: {0}</title><style>{STYLE}</style></head><body><h1 id=\"title\">Model card: {0}</h1>",
        escape(&card.name)
    );
    let _ = write!(
        h,
        "<h2>Intended use</h2><p id=\"intended-use\">{}</p>",
        escape(card.intended_use.as_deref().unwrap_or("Not stated."))
    );
    h.push_str("<h2>Identity</h2><ul>");
    let identity = [
        ("package digest", format!("<code>{}</code>", escape(&card.digest))),
        (
            "content digest",
            format!("<code>{}</code>", escape(&card.content_digest)),
        ),
        (
            "built",
            format!(
                "{} by {}",
                escape(&card.created),
                escape(card.creator.as_deref().unwrap_or("unknown"))
            ),
        ),
        (
            "code version",
            escape(card.code_version.as_deref().unwrap_or("unknown")),
        ),
        ("derived from", escape(card.parent.as_deref().unwrap_or("—"))),
        (
            "signature",
            card.signed_by.as_deref().map_or("unsigned".to_owned(), |k| {
                format!("Ed25519 key <code>{}</code>", escape(k))
            }),
        ),
    ];
    for (k, v) in identity {
        let _ = write!(h, "<li>{k}: {v}</li>");
    }
    h.push_str("</ul>");
    for (title, fields) in [("Inputs", &card.inputs), ("Outputs", &card.outputs)] {
        let _ = write!(h, "<h2>{title}</h2>");
        if fields.is_empty() {
            h.push_str("<p>Not declared.</p>");
        } else {
            table(
                &mut h,
                &["column", "type", "nulls", "constraints"],
                fields.iter().map(|f| {
                    vec![
                        f.name.clone(),
                        f.data_type.clone(),
                        if f.nullable { "allowed" } else { "refused" }.to_owned(),
                        f.constraints.clone(),
                    ]
                }),
            );
        }
    }
    h.push_str("<h2>Training data</h2>");
    for (uri, fingerprint, rows) in &card.datasets {
        let _ = write!(
            h,
            "<p><code>{}</code>: {rows} rows, fingerprint <code>{}</code></p>",
            escape(uri),
            escape(fingerprint)
        );
    }
    match card.training_rows {
        Some(rows) => {
            let _ = write!(h, "<p>{rows} rows profiled.</p>");
            table(
                &mut h,
                &["column", "values", "nulls", "mean", "min", "max", "most frequent"],
                card.training_columns.iter().map(|c| {
                    vec![
                        c.name.clone(),
                        c.count.to_string(),
                        c.nulls.to_string(),
                        num(c.mean),
                        num(c.min),
                        num(c.max),
                        c.top.join(", "),
                    ]
                }),
            );
        }
        None => h.push_str("<p>No training profile in the package.</p>"),
    }
    h.push_str("<h2>Evaluation</h2>");
    if card.metrics.is_empty() {
        h.push_str("<p>No metrics recorded.</p>");
    } else {
        table(
            &mut h,
            &["metric", "value"],
            card.metrics.iter().map(|(k, v)| vec![k.clone(), format!("{v:.4}")]),
        );
    }
    if let Some(s) = &card.segments {
        let _ = write!(h, "<h3>By <code>{}</code></h3>", escape(&s.attribute));
        table(
            &mut h,
            &["segment", "rows", "accuracy", "selection rate", "true positive rate"],
            s.rows.iter().map(|r| {
                vec![
                    r.segment.clone(),
                    r.count.to_string(),
                    format!("{:.4}", r.accuracy),
                    format!("{:.4}", r.selection_rate),
                    num(r.true_positive_rate),
                ]
            }),
        );
        let _ = write!(
            h,
            "<p id=\"fairness\">Demographic parity difference: <span class=\"gap\">{}</span>. Equal opportunity difference: <span class=\"gap\">{}</span>.</p>",
            num(s.gaps.demographic_parity_difference),
            num(s.gaps.equal_opportunity_difference)
        );
    }
    if !card.importance.is_empty() {
        h.push_str("<h2>What drives it</h2><table id=\"importance\"><thead><tr><th>feature</th><th>importance</th></tr></thead><tbody>");
        let top = card.importance.iter().map(|(_, v)| v.abs()).fold(0.0f64, f64::max);
        for (f, v) in &card.importance {
            let width = if top > 0.0 {
                (v.abs() / top * 12.0).max(0.1)
            } else {
                0.1
            };
            let _ = write!(
                h,
                "<tr><td>{}</td><td><span class=\"bar\" style=\"width:{width:.2}rem\"></span>{v:.4}</td></tr>",
                escape(f)
            );
        }
        h.push_str("</tbody></table>");
    }
    if !card.params.is_empty() {
        h.push_str("<h2>Training parameters</h2>");
        table(
            &mut h,
            &["parameter", "value"],
            card.params.iter().map(|(k, v)| vec![k.clone(), v.to_string()]),
        );
    }
    h.push_str("</body></html>\n");
    h
}
