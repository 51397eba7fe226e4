//! Model cards: what a package is for, what it takes and returns, what it was
//! trained on, how well it does (overall and per segment, with fairness
//! gaps), what drives it, and where it came from — as Markdown and as a
//! self-contained HTML page.
//!
//! ```
//! use mlops_core::{ModelPackage, PackageBuilder};
//! use mlops_monitor::card::ModelCard;
//!
//! let package = PackageBuilder::new("churn")
//!     .weights(mlops_core::testing::safetensors_f32(&[("w", &[2], &[0.5, -1.0])]))
//!     .description("Flags accounts likely to churn next month; not for credit decisions.")
//!     .metric("auc", 0.91)
//!     .build()?;
//! let card = ModelCard::from_package(&package)?
//!     .with_importance(vec![("tenure".into(), 0.4), ("plan".into(), 0.1)]);
//! assert!(card.to_markdown().contains("Flags accounts likely to churn"));
//! assert!(card.to_html().starts_with("<!DOCTYPE html>"));
//! # Ok::<(), mlops_core::Error>(())
//! ```

mod html;
mod markdown;
mod segments;

pub use segments::{SegmentMetrics, SegmentRow};

use std::collections::BTreeMap;

use mlops_core::{DataProfile, Error, ModelPackage, Result, Signature, TRAINING_PROFILE_FILE, time};
use serde::Serialize;

/// One input or output field.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FieldRow {
    /// Column name.
    pub name: String,
    /// Arrow type.
    pub data_type: String,
    /// Whether nulls are allowed.
    pub nullable: bool,
    /// Declared constraints (range, allowed values), as text.
    pub constraints: String,
}

/// A column of the training data, summarised.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DataRow {
    /// Column name.
    pub name: String,
    /// Non-null values.
    pub count: u64,
    /// Nulls.
    pub nulls: u64,
    /// Mean (numeric columns).
    pub mean: Option<f64>,
    /// Minimum (numeric columns).
    pub min: Option<f64>,
    /// Maximum (numeric columns).
    pub max: Option<f64>,
    /// Most frequent values (text columns), most frequent first.
    pub top: Vec<String>,
}

/// A model card.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ModelCard {
    /// Model name.
    pub name: String,
    /// Intended use: the package's description.
    pub intended_use: Option<String>,
    /// Package digest.
    pub digest: String,
    /// Content digest (same for two builds of the same content).
    pub content_digest: String,
    /// When the package was built (RFC 3339).
    pub created: String,
    /// Who built it.
    pub creator: Option<String>,
    /// Code version.
    pub code_version: Option<String>,
    /// The version it derives from.
    pub parent: Option<String>,
    /// Input columns.
    pub inputs: Vec<FieldRow>,
    /// Output columns.
    pub outputs: Vec<FieldRow>,
    /// Training data: rows in all, and per column.
    pub training_rows: Option<u64>,
    /// Training data per column.
    pub training_columns: Vec<DataRow>,
    /// Data sets in the lineage: `(uri, fingerprint, rows)`.
    pub datasets: Vec<(String, String, u64)>,
    /// Training parameters.
    pub params: BTreeMap<String, serde_json::Value>,
    /// Metrics on the holdout (the package's metrics).
    pub metrics: BTreeMap<String, f64>,
    /// Per-segment metrics and fairness gaps, when computed.
    pub segments: Option<SegmentMetrics>,
    /// Global feature importance (e.g. mean absolute attribution), largest first.
    pub importance: Vec<(String, f64)>,
    /// Whether the package is signed, and by which key.
    pub signed_by: Option<String>,
}

impl ModelCard {
    /// The card of `package`: everything the package itself says.
    pub fn from_package(package: &dyn ModelPackage) -> Result<ModelCard> {
        let m = package.manifest();
        let (training_rows, training_columns) = if package.file_names().iter().any(|f| f == TRAINING_PROFILE_FILE) {
            let bytes = package.read_file(TRAINING_PROFILE_FILE)?;
            let text = std::str::from_utf8(&bytes).map_err(|e| Error::corrupt(TRAINING_PROFILE_FILE, e.to_string()))?;
            let profile = mlops_data::Profile::from_json(text)?;
            (Some(profile.num_rows()), data_rows(&profile))
        } else {
            (None, Vec::new())
        };
        Ok(ModelCard {
            name: m.name.clone(),
            intended_use: m.description.clone(),
            digest: package.digest().to_string(),
            content_digest: package.content_digest()?.to_string(),
            created: time::format_rfc3339(m.created_at_ms),
            creator: m.creator.clone(),
            code_version: m.code_version.clone(),
            parent: m.parent.as_ref().map(|p| format!("{} version {}", p.name, p.version)),
            inputs: field_rows(&m.input_signature),
            outputs: field_rows(&m.output_signature),
            training_rows,
            training_columns,
            datasets: m
                .datasets
                .iter()
                .map(|d| (d.uri.clone(), d.fingerprint.to_string(), d.num_rows))
                .collect(),
            params: m.params.clone(),
            metrics: m.metrics.clone(),
            segments: None,
            importance: Vec::new(),
            signed_by: package.package_signature().map(|s| s.key_id.clone()),
        })
    }

    /// Adds per-segment metrics and fairness gaps.
    pub fn with_segments(mut self, segments: SegmentMetrics) -> Self {
        self.segments = Some(segments);
        self
    }

    /// Adds global importance, sorted largest first.
    pub fn with_importance(mut self, mut importance: Vec<(String, f64)>) -> Self {
        importance.sort_by(|a, b| b.1.total_cmp(&a.1));
        self.importance = importance;
        self
    }

    /// The card as Markdown.
    pub fn to_markdown(&self) -> String {
        markdown::render(self)
    }

    /// The card as one self-contained HTML page (no script, nothing fetched).
    pub fn to_html(&self) -> String {
        html::render(self)
    }

    /// The card as JSON.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| Error::serialization("model card", e))
    }
}

fn field_rows(signature: &Signature) -> Vec<FieldRow> {
    signature
        .fields
        .iter()
        .map(|f| FieldRow {
            name: f.name.clone(),
            data_type: f.data_type.to_string(),
            nullable: f.nullable,
            constraints: constraints_text(&f.constraints),
        })
        .collect()
}

/// Declared constraints as `key = value` pairs (`allow_non_finite = false; range = …`).
fn constraints_text(constraints: &mlops_core::FieldConstraints) -> String {
    match serde_json::to_value(constraints) {
        Ok(serde_json::Value::Object(map)) => map
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| format!("{k} = {v}"))
            .collect::<Vec<_>>()
            .join("; "),
        _ => String::new(),
    }
}

fn data_rows(profile: &dyn DataProfile) -> Vec<DataRow> {
    profile
        .column_names()
        .into_iter()
        .filter_map(|name| {
            let s = profile.summary(&name)?;
            let top = profile
                .frequent_items(&name)
                .map(|items| items.into_iter().take(3).map(|i| i.value).collect())
                .unwrap_or_default();
            Some(DataRow {
                count: s.count,
                nulls: s.null_count,
                mean: s.mean,
                min: s.min,
                max: s.max,
                top,
                name,
            })
        })
        .collect()
}
