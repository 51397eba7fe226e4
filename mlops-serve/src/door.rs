//! Validation at the door: a request batch is matched to the model's input
//! signature by column name, brought to the declared types without loss, and
//! checked row by row; what breaks a rule is refused or flagged by policy.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type};
use arrow_array::{Array, ArrayRef, BooleanArray, RecordBatch};
use arrow_schema::{DataType, Schema, SchemaRef};
use mlops_core::{Error, FieldSpec, Result, RowViolation, RuleKind, Signature, TypeFamily};

use crate::cast::conform;
use crate::validate_config::{MissingValuePolicy, RulePolicy, ValidationConfig};

/// A batch let in: the signature's columns in signature order, at their
/// declared types, with what the checks found.
#[derive(Debug)]
pub(crate) struct Admitted {
    /// The rows not refused, in their order.
    pub(crate) batch: RecordBatch,
    /// Refused rows, ascending and distinct.
    pub(crate) rejected_rows: Vec<usize>,
    pub(crate) rejected: Vec<RowViolation>,
    pub(crate) flagged: Vec<RowViolation>,
}

/// What to do with one broken rule.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Action {
    Ignore,
    Flag,
    RejectRows,
    RejectBatch,
}

impl From<RulePolicy> for Action {
    fn from(p: RulePolicy) -> Self {
        match p {
            RulePolicy::Ignore => Action::Ignore,
            RulePolicy::Flag => Action::Flag,
            RulePolicy::RejectRows => Action::RejectRows,
            RulePolicy::RejectBatch => Action::RejectBatch,
        }
    }
}

impl From<MissingValuePolicy> for Action {
    fn from(p: MissingValuePolicy) -> Self {
        match p {
            MissingValuePolicy::RejectBatch => Action::RejectBatch,
            MissingValuePolicy::RejectRows => Action::RejectRows,
            MissingValuePolicy::Impute => Action::Ignore,
        }
    }
}

/// Collects broken rules and the rows to refuse.
struct Findings {
    rows: usize,
    max_rows: usize,
    refuse: Option<Vec<bool>>,
    batch_errors: Vec<RowViolation>,
    rejected: Vec<RowViolation>,
    flagged: Vec<RowViolation>,
}

impl Findings {
    fn add(&mut self, violation: Option<RowViolation>, action: Action, rows: &[usize]) {
        let Some(v) = violation else { return };
        match action {
            Action::Ignore => {}
            Action::Flag => self.flagged.push(v),
            Action::RejectBatch => self.batch_errors.push(v),
            Action::RejectRows => {
                let mask = self.refuse.get_or_insert_with(|| vec![false; self.rows]);
                rows.iter().for_each(|&r| mask[r] = true);
                self.rejected.push(v);
            }
        }
    }
}

/// One rule's offending rows: the violation (first rows, one example) and,
/// when rows may be refused, every offending row.
struct RuleHits {
    violation: Option<RowViolation>,
    all_rows: Vec<usize>,
    keep_all: bool,
}

impl RuleHits {
    fn new(keep_all: bool) -> Self {
        RuleHits {
            violation: None,
            all_rows: Vec::new(),
            keep_all,
        }
    }

    fn hit(
        &mut self,
        field: &str,
        rule: RuleKind,
        expected: &dyn Fn() -> String,
        row: usize,
        value: impl FnOnce() -> String,
        max_rows: usize,
    ) {
        self.violation
            .get_or_insert_with(|| RowViolation::new(field, rule, expected()))
            .record(row, value, max_rows);
        if self.keep_all {
            self.all_rows.push(row);
        }
    }
}

/// Checks `batch` against `signature` under `config`.
pub(crate) fn admit(
    signature: &Signature,
    declared_schema: &SchemaRef,
    batch: &RecordBatch,
    config: &ValidationConfig,
    location: &str,
) -> Result<Admitted> {
    let rows = batch.num_rows();
    let max_rows = config.max_reported_rows;
    let mut findings = Findings {
        rows,
        max_rows,
        refuse: None,
        batch_errors: Vec::new(),
        rejected: Vec::new(),
        flagged: Vec::new(),
    };
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(signature.fields.len());
    let finder = crate::columns::ColumnFinder::new(batch.schema_ref());
    for (position, field) in signature.fields.iter().enumerate() {
        let Some(found) = finder.find(&field.name, position).map(|i| batch.column(i)) else {
            let mut v = RowViolation::new(
                &field.name,
                RuleKind::MissingColumn,
                format!("a column `{}` of type {}", field.name, field.data_type),
            );
            v.count = rows;
            findings.batch_errors.push(v);
            continue;
        };
        let array = match conform(field, found, max_rows) {
            Ok(a) => a,
            Err(v) => {
                findings.batch_errors.push(v);
                continue;
            }
        };
        check_column(field, &array, config, &mut findings);
        columns.push(array);
    }
    if !findings.batch_errors.is_empty() {
        let mut violations = findings.batch_errors;
        violations.extend(findings.rejected);
        return Err(Error::Rejected {
            location: location.to_owned(),
            violations,
        });
    }
    // The signature's own schema (declared types, nullable) serves every batch
    // whose columns arrive at their declared types; building one per request
    // was an allocation per column name.
    let declared = declared_schema.clone();
    let schema: SchemaRef = if declared
        .fields()
        .iter()
        .zip(&columns)
        .all(|(f, a)| f.data_type() == a.data_type())
    {
        declared
    } else {
        Arc::new(Schema::new(
            signature
                .fields
                .iter()
                .zip(&columns)
                .map(|(f, a)| arrow_schema::Field::new(&f.name, a.data_type().clone(), true))
                .collect::<Vec<_>>(),
        ))
    };
    let batch = RecordBatch::try_new_with_options(
        schema,
        columns,
        &arrow_array::RecordBatchOptions::new().with_row_count(Some(rows)),
    )
    .map_err(|e| Error::Arrow {
        location: location.to_owned(),
        source: e,
    })?;
    let rejected_rows: Vec<usize> = findings
        .refuse
        .map(|mask| mask.iter().enumerate().filter_map(|(i, &r)| r.then_some(i)).collect())
        .unwrap_or_default();
    let batch = without_rows(batch, &rejected_rows, location)?;
    Ok(Admitted {
        batch,
        rejected_rows,
        rejected: findings.rejected,
        flagged: findings.flagged,
    })
}

/// `batch` without the rows listed (ascending), or `batch` itself when none are.
fn without_rows(batch: RecordBatch, rejected_rows: &[usize], location: &str) -> Result<RecordBatch> {
    if rejected_rows.is_empty() {
        return Ok(batch);
    }
    let mut keep = vec![true; batch.num_rows()];
    rejected_rows.iter().for_each(|&r| keep[r] = false);
    arrow_select::filter::filter_record_batch(&batch, &BooleanArray::from(keep)).map_err(|e| Error::Arrow {
        location: location.to_owned(),
        source: e,
    })
}

fn check_column(field: &FieldSpec, array: &ArrayRef, config: &ValidationConfig, findings: &mut Findings) {
    let max_rows = findings.max_rows;
    let missing_action = Action::from(config.missing_values);
    let keep = |a: Action| a == Action::RejectRows;
    let name = field.name.as_str();
    let c = &field.constraints;

    // Nulls in a column that declares none.
    let mut nulls = RuleHits::new(keep(missing_action));
    if !field.nullable && missing_action != Action::Ignore && array.null_count() > 0 {
        for row in (0..array.len()).filter(|&r| array.is_null(r)) {
            nulls.hit(
                name,
                RuleKind::Nullability,
                &|| "no nulls".to_owned(),
                row,
                || "null".to_owned(),
                max_rows,
            );
        }
    }
    findings.add(nulls.violation, missing_action, &nulls.all_rows);

    match TypeFamily::of(&field.data_type) {
        TypeFamily::Float | TypeFamily::Integer => {
            let non_finite_action = if c.allow_non_finite {
                Action::Ignore
            } else {
                missing_action
            };
            let range_action = if c.range.is_some() {
                Action::from(config.out_of_range)
            } else {
                Action::Ignore
            };
            if non_finite_action == Action::Ignore && range_action == Action::Ignore {
                return;
            }
            let range = c.range.filter(|_| range_action != Action::Ignore);
            if array.null_count() == 0 && all_clean(array, non_finite_action != Action::Ignore, range) {
                return;
            }
            // Hits of an ignored rule are dropped by `findings.add`.
            let mut non_finite = RuleHits::new(keep(non_finite_action));
            let mut out_of_range = RuleHits::new(keep(range_action));
            let range_text = || {
                c.range
                    .map_or_else(String::new, |r| format!("values in [{}, {}]", r.min, r.max))
            };
            let mut visit = |row: usize, x: f64| {
                if !x.is_finite() {
                    non_finite.hit(
                        name,
                        RuleKind::NonFinite,
                        &|| "finite values".to_owned(),
                        row,
                        || x.to_string(),
                        max_rows,
                    );
                } else if let Some(r) = c.range
                    && !r.contains(x)
                {
                    out_of_range.hit(name, RuleKind::Range, &range_text, row, || x.to_string(), max_rows);
                }
            };
            match array.data_type() {
                DataType::Float64 => for_each_valid(array.as_primitive::<Float64Type>(), &mut visit),
                DataType::Float32 => for_each_valid(array.as_primitive::<Float32Type>(), |r, v| visit(r, f64::from(v))),
                _ => {
                    // Integers (and other numerics) are finite; only their range is checked.
                    if let Ok(as_f64) = arrow_cast::cast(array, &DataType::Float64) {
                        for_each_valid(as_f64.as_primitive::<Float64Type>(), &mut visit);
                    }
                }
            }
            findings.add(non_finite.violation, non_finite_action, &non_finite.all_rows);
            findings.add(out_of_range.violation, range_action, &out_of_range.all_rows);
        }
        TypeFamily::String => {
            let action = Action::from(config.unseen_category);
            let (Some(allowed), false) = (&c.allowed_values, action == Action::Ignore) else {
                return;
            };
            let mut unseen = RuleHits::new(keep(action));
            let expected = || {
                let shown: Vec<&str> = allowed.iter().take(10).map(String::as_str).collect();
                let more = if allowed.len() > 10 { ", …" } else { "" };
                format!(
                    "one of the {} training categories ({}{more})",
                    allowed.len(),
                    shown.join(", ")
                )
            };
            let mut visit = |row: usize, s: &str| {
                if !allowed.contains(s) {
                    unseen.hit(name, RuleKind::Category, &expected, row, || format!("{s:?}"), max_rows);
                }
            };
            match array.data_type() {
                DataType::Utf8 => array
                    .as_string::<i32>()
                    .iter()
                    .enumerate()
                    .for_each(|(r, s)| s.into_iter().for_each(|s| visit(r, s))),
                DataType::LargeUtf8 => array
                    .as_string::<i64>()
                    .iter()
                    .enumerate()
                    .for_each(|(r, s)| s.into_iter().for_each(|s| visit(r, s))),
                DataType::Utf8View => array
                    .as_string_view()
                    .iter()
                    .enumerate()
                    .for_each(|(r, s)| s.into_iter().for_each(|s| visit(r, s))),
                _ => {}
            }
            findings.add(unseen.violation, action, &unseen.all_rows);
        }
        _ => {}
    }
}

/// The schema a signature admits batches into: its columns, at their
/// declared types, nullable (refused rows are filtered later).
pub(crate) fn admitted_schema(signature: &Signature) -> SchemaRef {
    Arc::new(Schema::new(
        signature
            .fields
            .iter()
            .map(|f| arrow_schema::Field::new(&f.name, f.data_type.clone(), true))
            .collect::<Vec<_>>(),
    ))
}

/// Whether no value of a float column breaks the finiteness or range rule,
/// decided in one pass that the compiler vectorises (folds without early
/// exits). Most batches break nothing; only the others are walked row by row.
fn all_clean(array: &ArrayRef, check_finite: bool, range: Option<mlops_core::NumericRange>) -> bool {
    match array.data_type() {
        DataType::Float64 => values_clean(array.as_primitive::<Float64Type>().values(), |v| v, check_finite, range),
        DataType::Float32 => values_clean(
            array.as_primitive::<Float32Type>().values(),
            f64::from,
            check_finite,
            range,
        ),
        _ => false,
    }
}

/// [`all_clean`] over values already typed.
pub(crate) fn values_clean<T: Copy>(
    values: &[T],
    wide: impl Fn(T) -> f64 + Copy,
    check_finite: bool,
    range: Option<mlops_core::NumericRange>,
) -> bool {
    if check_finite && !values.iter().fold(true, |ok, &v| ok & wide(v).is_finite()) {
        return false;
    }
    match range {
        None => true,
        Some(r) => {
            let (lo, hi) = values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(wide(v)), hi.max(wide(v)))
            });
            // NaN never reaches here unchecked: min/max skip it, and a column
            // that allows non-finite values has them exempt from the range.
            values.is_empty() || (lo >= r.min && hi <= r.max)
        }
    }
}

fn for_each_valid<T: arrow_array::ArrowPrimitiveType>(
    array: &arrow_array::PrimitiveArray<T>,
    mut f: impl FnMut(usize, T::Native),
) {
    match array.nulls() {
        None => array.values().iter().enumerate().for_each(|(r, &v)| f(r, v)),
        Some(nulls) => array
            .values()
            .iter()
            .enumerate()
            .filter(|(r, _)| nulls.is_valid(*r))
            .for_each(|(r, &v)| f(r, v)),
    }
}
