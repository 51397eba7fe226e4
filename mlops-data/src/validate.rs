//! Validation rules inferred from a profile, checked against batches or profiles.
//!
//! [`infer_signature`] turns a profile into a [`Signature`] in the spirit of
//! TFDV's `infer_schema` and deequ's constraint suggestions: types, whether
//! nulls may appear and how many, numeric ranges widened by a tolerance (never
//! below zero for a column never seen negative; none for time columns),
//! whether NaN/inf may appear, and the closed set of categories of
//! low-cardinality string columns. [`validate_batch`] and [`validate_profile`]
//! return every violated rule with counts and example values.

use std::collections::{BTreeMap, BTreeSet};

use arrow_array::{Array, RecordBatch};
pub use mlops_core::RuleKind;
use mlops_core::{DataProfile, FieldConstraints, FieldSpec, NumericRange, SemanticKind, Signature};
use serde::{Deserialize, Serialize};

use crate::column::ColumnStats;
use crate::column::ingest::{StatsKind, numeric_values, string_counts};
use crate::profile::Profile;
use crate::{Error, Result};

/// How strict inferred rules are.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InferConfig {
    /// Numeric ranges are widened on each side by this share of the observed span
    /// (of `|value|` for a constant column). Default 0.1.
    pub range_tolerance: f64,
    /// Added to the observed null share to get the largest accepted one. Default 0.05.
    pub null_tolerance: f64,
    /// String columns with at most this many distinct values (all counted
    /// exactly) get an allowed-values rule. Default 50.
    pub max_categories: usize,
}

impl Default for InferConfig {
    fn default() -> Self {
        InferConfig {
            range_tolerance: 0.1,
            null_tolerance: 0.05,
            max_categories: 50,
        }
    }
}

impl InferConfig {
    /// Sets the range tolerance.
    pub fn with_range_tolerance(mut self, t: f64) -> Self {
        self.range_tolerance = t;
        self
    }

    /// Sets the null tolerance.
    pub fn with_null_tolerance(mut self, t: f64) -> Self {
        self.null_tolerance = t;
        self
    }

    /// Sets the largest category count that yields an allowed-values rule.
    pub fn with_max_categories(mut self, n: usize) -> Self {
        self.max_categories = n;
        self
    }
}

/// Infers a signature with value constraints from a profile.
pub fn infer_signature(profile: &Profile, options: &InferConfig) -> Result<Signature> {
    if !(options.range_tolerance >= 0.0 && options.null_tolerance >= 0.0) {
        return Err(Error::invalid_input(
            "inference options",
            "infer_signature",
            format!(
                "range_tolerance {}, null_tolerance {}",
                options.range_tolerance, options.null_tolerance
            ),
            "non-negative tolerances",
        ));
    }
    let fields = profile
        .columns()
        .iter()
        .map(|c| {
            let summary = c.summary();
            let nullable = summary.null_count > 0;
            let null_limit = if nullable {
                (summary.null_fraction() + options.null_tolerance).min(1.0)
            } else {
                0.0
            };
            let mut constraints = FieldConstraints::none().with_max_null_fraction(null_limit);
            match c.stats() {
                ColumnStats::Numeric(n) => {
                    constraints = constraints.with_non_finite(summary.finite_count() < summary.count);
                    // Time moves on: a range learnt from training timestamps would
                    // reject all future traffic, so time columns get no range rule.
                    let ranged = summary.kind == SemanticKind::Numeric;
                    if let (true, Some(lo), Some(hi)) = (ranged, n.min(), n.max()) {
                        let span = hi - lo;
                        let pad = if span > 0.0 { span } else { lo.abs().max(hi.abs()) } * options.range_tolerance;
                        // A column never seen negative stays non-negative (deequ's `isNonNegative`).
                        let floor = if lo >= 0.0 { (lo - pad).max(0.0) } else { lo - pad };
                        if let Ok(range) = NumericRange::new(floor, hi + pad) {
                            constraints = constraints.with_range(range);
                        }
                    }
                }
                ColumnStats::String(s) => {
                    let items = s.frequent_items();
                    if c.kind() == SemanticKind::Categorical
                        && items.is_exact()
                        && s.distinct_sketch().is_exact()
                        && (s.distinct_sketch().estimate() as usize) <= options.max_categories
                    {
                        constraints = constraints.with_allowed_values(items.items().into_iter().map(|i| i.value));
                    }
                }
                _ => {}
            }
            FieldSpec::new(c.name(), c.data_type().clone(), nullable).with_constraints(constraints)
        })
        .collect();
    Signature::new(fields)
}

/// One violated rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Violation {
    /// The column.
    pub column: String,
    /// The rule.
    pub rule: RuleKind,
    /// How many values break it (for profiles, estimated where the message says so).
    pub count: u64,
    /// Up to five offending values, as text.
    pub examples: Vec<String>,
    /// What was expected and what was found.
    pub message: String,
}

/// The outcome of a validation.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ValidationReport {
    /// Rows checked.
    pub rows_checked: u64,
    /// Every violated rule, in signature order.
    pub violations: Vec<Violation>,
    /// Columns present in the data but not in the signature (not a violation).
    pub unexpected_columns: Vec<String>,
}

impl ValidationReport {
    /// Whether no rule was violated.
    pub fn is_valid(&self) -> bool {
        self.violations.is_empty()
    }
}

const MAX_EXAMPLES: usize = 5;

fn push(
    report: &mut ValidationReport,
    column: &str,
    rule: RuleKind,
    count: u64,
    examples: Vec<String>,
    message: String,
) {
    report.violations.push(Violation {
        column: column.to_owned(),
        rule,
        count,
        examples,
        message,
    });
}

fn fmt_num(v: f64) -> String {
    format!("{v}")
}

/// Checks a batch against a signature. Structural problems (missing columns,
/// wrong types) are violations too, so a malformed batch yields a report, not an error.
pub fn validate_batch(signature: &Signature, batch: &RecordBatch) -> ValidationReport {
    let schema = batch.schema();
    let rows = batch.num_rows() as u64;
    let mut report = ValidationReport {
        rows_checked: rows,
        unexpected_columns: schema
            .fields()
            .iter()
            .filter(|f| signature.field(f.name()).is_none())
            .map(|f| f.name().clone())
            .collect(),
        ..Default::default()
    };
    for field in &signature.fields {
        let name = field.name.as_str();
        let Some(array) = batch.column_by_name(name) else {
            push(
                &mut report,
                name,
                RuleKind::MissingColumn,
                rows,
                vec![],
                format!("column `{name}` is missing"),
            );
            continue;
        };
        if !field.accepts_type(array.data_type()) {
            push(
                &mut report,
                name,
                RuleKind::Type,
                rows,
                vec![],
                format!(
                    "type {} where {} (or its family) was declared",
                    array.data_type(),
                    field.data_type
                ),
            );
            continue;
        }
        check_nulls(&mut report, field, array.logical_null_count() as u64, rows);
        check_values(&mut report, field, array.as_ref());
    }
    report
}

fn check_nulls(report: &mut ValidationReport, field: &FieldSpec, nulls: u64, rows: u64) {
    if nulls == 0 || rows == 0 {
        return;
    }
    let name = field.name.as_str();
    if !field.nullable {
        push(
            report,
            name,
            RuleKind::Nullability,
            nulls,
            vec![],
            format!("{nulls} nulls in a column that declares none"),
        );
    } else if let Some(limit) = field.constraints.max_null_fraction {
        let share = nulls as f64 / rows as f64;
        if share > limit {
            push(
                report,
                name,
                RuleKind::NullFraction,
                nulls,
                vec![],
                format!("null share {share:.4} exceeds the largest accepted {limit:.4}"),
            );
        }
    }
}

fn check_values(report: &mut ValidationReport, field: &FieldSpec, array: &dyn Array) {
    let name = field.name.as_str();
    let c = &field.constraints;
    match StatsKind::of(array.data_type()) {
        StatsKind::Numeric => {
            let mut values = Vec::new();
            if numeric_values(array, name, &mut values).is_err() {
                return;
            }
            if !c.allow_non_finite {
                let bad: Vec<f64> = values.iter().copied().filter(|v| !v.is_finite()).collect();
                if !bad.is_empty() {
                    let examples: BTreeSet<String> = bad.iter().map(|&v| fmt_num(v)).collect();
                    push(
                        report,
                        name,
                        RuleKind::NonFinite,
                        bad.len() as u64,
                        examples.into_iter().take(MAX_EXAMPLES).collect(),
                        "NaN or infinite values where only finite values are accepted".into(),
                    );
                }
            }
            if let Some(range) = c.range {
                let out: Vec<f64> = values
                    .iter()
                    .copied()
                    .filter(|v| v.is_finite() && !range.contains(*v))
                    .collect();
                if !out.is_empty() {
                    push(
                        report,
                        name,
                        RuleKind::Range,
                        out.len() as u64,
                        out.iter().take(MAX_EXAMPLES).map(|&v| fmt_num(v)).collect(),
                        format!("{} values outside [{}, {}]", out.len(), range.min, range.max),
                    );
                }
            }
        }
        StatsKind::String => {
            let Some(allowed) = &c.allowed_values else { return };
            let mut counts = crate::column::string_counts_map();
            if string_counts(array, name, &mut counts).is_err() {
                return;
            }
            let unknown: BTreeMap<&str, u64> = counts
                .iter()
                .filter(|(v, _)| !allowed.contains(**v))
                .map(|(v, c)| (*v, *c))
                .collect();
            if !unknown.is_empty() {
                let total: u64 = unknown.values().sum();
                let mut by_count: Vec<(&str, u64)> = unknown.into_iter().collect();
                by_count.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
                push(
                    report,
                    name,
                    RuleKind::Category,
                    total,
                    by_count
                        .iter()
                        .take(MAX_EXAMPLES)
                        .map(|(v, _)| (*v).to_owned())
                        .collect(),
                    format!("{total} values outside the {} allowed categories", allowed.len()),
                );
            }
        }
        StatsKind::Boolean | StatsKind::Unsupported => {}
    }
}

/// Checks another profile (e.g. of today's traffic) against a signature,
/// without the raw data. Range violations are counted from the quantile
/// sketch (estimates, said so in the message); category violations from
/// frequent items (exact while the column's counts are exact, lower bounds otherwise).
pub fn validate_profile(signature: &Signature, profile: &Profile) -> ValidationReport {
    let mut report = ValidationReport {
        rows_checked: profile.num_rows(),
        unexpected_columns: profile
            .columns()
            .iter()
            .filter(|c| signature.field(c.name()).is_none())
            .map(|c| c.name().to_owned())
            .collect(),
        ..Default::default()
    };
    for field in &signature.fields {
        let name = field.name.as_str();
        let Some(column) = profile.column(name) else {
            push(
                &mut report,
                name,
                RuleKind::MissingColumn,
                profile.num_rows(),
                vec![],
                format!("column `{name}` is missing"),
            );
            continue;
        };
        if !field.accepts_type(column.data_type()) {
            push(
                &mut report,
                name,
                RuleKind::Type,
                profile.num_rows(),
                vec![],
                format!(
                    "type {} where {} (or its family) was declared",
                    column.data_type(),
                    field.data_type
                ),
            );
            continue;
        }
        let s = column.summary();
        check_nulls(&mut report, field, s.null_count, s.count + s.null_count);
        let c = &field.constraints;
        match column.stats() {
            ColumnStats::Numeric(n) => {
                let non_finite = s.nan_count + s.pos_inf_count + s.neg_inf_count;
                if !c.allow_non_finite && non_finite > 0 {
                    let mut ex = Vec::new();
                    if s.nan_count > 0 {
                        ex.push("NaN".to_owned());
                    }
                    if s.pos_inf_count > 0 {
                        ex.push("inf".to_owned());
                    }
                    if s.neg_inf_count > 0 {
                        ex.push("-inf".to_owned());
                    }
                    push(
                        &mut report,
                        name,
                        RuleKind::NonFinite,
                        non_finite,
                        ex,
                        "NaN or infinite values".into(),
                    );
                }
                if let (Some(range), Some(lo), Some(hi)) = (c.range, n.min(), n.max())
                    && (lo < range.min || hi > range.max)
                {
                    {
                        let finite = n.finite_count() as f64;
                        let below = profile.rank(name, range.min.next_down()).unwrap_or(0.0);
                        let above = 1.0 - profile.rank(name, range.max).unwrap_or(1.0);
                        let count = ((below + above) * finite).round().max(1.0) as u64;
                        let mut ex = Vec::new();
                        if lo < range.min {
                            ex.push(fmt_num(lo));
                        }
                        if hi > range.max {
                            ex.push(fmt_num(hi));
                        }
                        push(
                            &mut report,
                            name,
                            RuleKind::Range,
                            count,
                            ex,
                            format!(
                                "about {count} values outside [{}, {}] (estimated from the quantile sketch)",
                                range.min, range.max
                            ),
                        );
                    }
                }
            }
            ColumnStats::String(st) => {
                if let Some(allowed) = &c.allowed_values {
                    let unknown: Vec<_> = st
                        .frequent_items()
                        .items()
                        .into_iter()
                        .filter(|i| !allowed.contains(&i.value))
                        .collect();
                    let exact = st.frequent_items().is_exact();
                    if !unknown.is_empty() || !exact {
                        let total: u64 = unknown.iter().map(|i| i.lower).sum();
                        if total > 0 {
                            push(
                                &mut report,
                                name,
                                RuleKind::Category,
                                total,
                                unknown.iter().take(MAX_EXAMPLES).map(|i| i.value.clone()).collect(),
                                format!(
                                    "{}{total} values outside the {} allowed categories",
                                    if exact { "" } else { "at least " },
                                    allowed.len()
                                ),
                            );
                        }
                    }
                }
            }
            _ => {}
        }
    }
    report
}
