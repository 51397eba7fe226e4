//! The card as Markdown.

use std::fmt::Write as _;

use super::ModelCard;

fn num(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_owned(), |v| format!("{v:.4}"))
}

/// Table cells must not break the table.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

pub(super) fn render(card: &ModelCard) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# Model card: {}\n", cell(&card.name));
    let _ = writeln!(
        md,
        "## Intended use\n\n{}\n",
        card.intended_use.as_deref().unwrap_or("Not stated.")
    );
    let _ = writeln!(md, "## Identity\n");
    let _ = writeln!(md, "- package digest: `{}`", card.digest);
    let _ = writeln!(md, "- content digest: `{}`", card.content_digest);
    let _ = writeln!(
        md,
        "- built: {} by {}",
        card.created,
        card.creator.as_deref().unwrap_or("unknown")
    );
    let _ = writeln!(
        md,
        "- code version: {}",
        card.code_version.as_deref().unwrap_or("unknown")
    );
    if let Some(parent) = &card.parent {
        let _ = writeln!(md, "- derived from: {parent}");
    }
    let _ = writeln!(
        md,
        "- signature: {}\n",
        card.signed_by
            .as_deref()
            .map_or("unsigned".to_owned(), |k| format!("Ed25519 key `{k}`"))
    );
    for (title, fields) in [("Inputs", &card.inputs), ("Outputs", &card.outputs)] {
        let _ = writeln!(md, "## {title}\n");
        if fields.is_empty() {
            let _ = writeln!(md, "Not declared.\n");
            continue;
        }
        let _ = writeln!(md, "| column | type | nulls | constraints |\n|---|---|---|---|");
        for f in fields {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} |",
                cell(&f.name),
                cell(&f.data_type),
                if f.nullable { "allowed" } else { "refused" },
                cell(&f.constraints)
            );
        }
        md.push('\n');
    }
    let _ = writeln!(md, "## Training data\n");
    for (uri, fingerprint, rows) in &card.datasets {
        let _ = writeln!(md, "- `{}`: {rows} rows, fingerprint `{fingerprint}`", cell(uri));
    }
    match card.training_rows {
        Some(rows) => {
            let _ = writeln!(
                md,
                "\n{rows} rows profiled.\n\n| column | values | nulls | mean | min | max | most frequent |\n|---|---:|---:|---:|---:|---:|---|"
            );
            for c in &card.training_columns {
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} | {} | {} | {} |",
                    cell(&c.name),
                    c.count,
                    c.nulls,
                    num(c.mean),
                    num(c.min),
                    num(c.max),
                    cell(&c.top.join(", "))
                );
            }
            md.push('\n');
        }
        None => {
            let _ = writeln!(md, "No training profile in the package.\n");
        }
    }
    let _ = writeln!(md, "## Evaluation\n");
    if card.metrics.is_empty() {
        let _ = writeln!(md, "No metrics recorded.\n");
    } else {
        let _ = writeln!(md, "| metric | value |\n|---|---:|");
        for (k, v) in &card.metrics {
            let _ = writeln!(md, "| {} | {v:.4} |", cell(k));
        }
        md.push('\n');
    }
    if let Some(s) = &card.segments {
        let _ = writeln!(
            md,
            "### By `{}`\n\n| segment | rows | accuracy | selection rate | true positive rate |\n|---|---:|---:|---:|---:|",
            cell(&s.attribute)
        );
        for r in &s.rows {
            let _ = writeln!(
                md,
                "| {} | {} | {:.4} | {:.4} | {} |",
                cell(&r.segment),
                r.count,
                r.accuracy,
                r.selection_rate,
                num(r.true_positive_rate)
            );
        }
        let _ = writeln!(
            md,
            "\nDemographic parity difference: {}. Equal opportunity difference: {}.\n",
            num(s.gaps.demographic_parity_difference),
            num(s.gaps.equal_opportunity_difference)
        );
    }
    if !card.importance.is_empty() {
        let _ = writeln!(md, "## What drives it\n\n| feature | importance |\n|---|---:|");
        for (f, v) in &card.importance {
            let _ = writeln!(md, "| {} | {v:.4} |", cell(f));
        }
        md.push('\n');
    }
    if !card.params.is_empty() {
        let _ = writeln!(md, "## Training parameters\n\n| parameter | value |\n|---|---|");
        for (k, v) in &card.params {
            let _ = writeln!(md, "| {} | {} |", cell(k), cell(&v.to_string()));
        }
        md.push('\n');
    }
    md
}
