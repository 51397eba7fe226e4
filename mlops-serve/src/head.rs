//! The answer's columns: what a classifier or a regressor returns, and the
//! checks every answer passes before it leaves (finite values, probabilities
//! in [0, 1] that sum to 1, the output signature's declared ranges).

use std::sync::Arc;

use arrow_array::{ArrayRef, Float32Array, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use mlops_core::{Error, Result, RowViolation, RuleKind, Signature};

use crate::columns::output_columns;
use crate::model::{ModelSpec, OutputKind};

/// The column holding a classifier's predicted class.
pub const LABEL_COLUMN: &str = "label";
/// The prefix of a classifier's probability columns (`proba_<class>`).
pub const PROBA_PREFIX: &str = "proba_";
/// The column holding a single-output regressor's prediction (`prediction_<i>` for several).
pub const PREDICTION_COLUMN: &str = "prediction";

/// How model outputs become answer columns.
#[derive(Clone, Debug)]
pub(crate) struct Head {
    kind: OutputKind,
    classes: Option<Vec<String>>,
    outputs: usize,
    schema: SchemaRef,
}

impl Head {
    pub(crate) fn new(spec: &ModelSpec, outputs: usize) -> Head {
        let classes = spec.class_names();
        let mut fields = Vec::new();
        match (&classes, spec.output) {
            (Some(classes), _) => {
                fields.push(Field::new(LABEL_COLUMN, DataType::Utf8, true));
                fields.extend(
                    classes
                        .iter()
                        .map(|c| Field::new(format!("{PROBA_PREFIX}{c}"), DataType::Float32, true)),
                );
            }
            (None, _) if outputs == 1 => fields.push(Field::new(PREDICTION_COLUMN, DataType::Float32, true)),
            (None, _) => fields
                .extend((0..outputs).map(|i| Field::new(format!("{PREDICTION_COLUMN}_{i}"), DataType::Float32, true))),
        }
        Head {
            kind: spec.output,
            classes,
            outputs,
            schema: Arc::new(Schema::new(fields)),
        }
    }

    pub(crate) fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Checks output-major `values` of `rows` rows; a broken rule is [`Error::Rejected`].
    pub(crate) fn check(
        &self,
        values: &[f32],
        rows: usize,
        declared: &Signature,
        tolerance: f64,
        max_rows: usize,
        location: &str,
    ) -> Result<()> {
        let mut violations = Vec::new();
        for (k, column) in values.chunks_exact(rows.max(1)).enumerate().take(self.outputs) {
            let name = self.column_of_output(k);
            let mut non_finite: Option<RowViolation> = None;
            let mut outside: Option<RowViolation> = None;
            let range = declared.field(&name).and_then(|f| f.constraints.range);
            for (row, &v) in column.iter().enumerate() {
                if !v.is_finite() {
                    non_finite
                        .get_or_insert_with(|| RowViolation::new(&name, RuleKind::NonFinite, "finite outputs"))
                        .record(row, || v.to_string(), max_rows);
                } else if self.kind != OutputKind::Identity && !(0.0..=1.0).contains(&v) {
                    outside
                        .get_or_insert_with(|| {
                            RowViolation::new(&name, RuleKind::Probability, "probabilities in [0, 1]")
                        })
                        .record(row, || v.to_string(), max_rows);
                } else if let Some(r) = range.filter(|r| !r.contains(f64::from(v))) {
                    outside
                        .get_or_insert_with(|| {
                            RowViolation::new(
                                &name,
                                RuleKind::Range,
                                format!("values in [{}, {}] (output signature)", r.min, r.max),
                            )
                        })
                        .record(row, || v.to_string(), max_rows);
                }
            }
            violations.extend(non_finite);
            violations.extend(outside);
        }
        if self.kind == OutputKind::Softmax && rows > 0 {
            let mut sums = vec![0.0f64; rows];
            for column in values.chunks_exact(rows) {
                sums.iter_mut().zip(column).for_each(|(s, &v)| *s += f64::from(v));
            }
            let mut bad: Option<RowViolation> = None;
            for (row, s) in sums.iter().enumerate().filter(|(_, s)| (**s - 1.0).abs() > tolerance) {
                bad.get_or_insert_with(|| {
                    RowViolation::new(
                        PROBA_PREFIX.trim_end_matches('_'),
                        RuleKind::Probability,
                        format!("class probabilities summing to 1 within {tolerance}"),
                    )
                })
                .record(row, || format!("sum {s}"), max_rows);
            }
            violations.extend(bad);
        }
        if violations.is_empty() {
            Ok(())
        } else {
            Err(Error::Rejected {
                location: location.to_owned(),
                violations,
            })
        }
    }

    fn column_of_output(&self, k: usize) -> String {
        match (&self.classes, self.kind) {
            (Some(classes), OutputKind::Sigmoid) => {
                format!("{PROBA_PREFIX}{}", classes.get(1).map_or("1", String::as_str))
            }
            (Some(classes), _) => format!("{PROBA_PREFIX}{}", classes.get(k).map_or("?", String::as_str)),
            (None, _) if self.outputs == 1 => PREDICTION_COLUMN.to_owned(),
            (None, _) => format!("{PREDICTION_COLUMN}_{k}"),
        }
    }

    /// The answer's columns from output-major values.
    pub(crate) fn answer(&self, values: Vec<f32>, rows: usize) -> Vec<ArrayRef> {
        match (&self.classes, self.kind) {
            (Some(classes), OutputKind::Sigmoid) => {
                let negative: Vec<f32> = values.iter().map(|p| 1.0 - p).collect();
                let label = StringArray::from_iter_values(values.iter().map(|&p| &classes[usize::from(p >= 0.5)]));
                let positive = output_columns(values, rows, 1);
                let mut cols: Vec<ArrayRef> = vec![Arc::new(label), Arc::new(Float32Array::from(negative))];
                cols.extend(positive.into_iter().map(|c| Arc::new(c) as ArrayRef));
                cols
            }
            (Some(classes), _) => {
                let mut best = vec![0usize; rows];
                let mut best_p = vec![f32::NEG_INFINITY; rows];
                for (k, column) in values.chunks_exact(rows.max(1)).enumerate() {
                    for ((b, bp), &p) in best.iter_mut().zip(best_p.iter_mut()).zip(column) {
                        if p > *bp {
                            *b = k;
                            *bp = p;
                        }
                    }
                }
                let label = StringArray::from_iter_values(best.iter().map(|&k| &classes[k]));
                let mut cols: Vec<ArrayRef> = vec![Arc::new(label)];
                cols.extend(
                    output_columns(values, rows, self.outputs)
                        .into_iter()
                        .map(|c| Arc::new(c) as ArrayRef),
                );
                cols
            }
            (None, _) => output_columns(values, rows, self.outputs)
                .into_iter()
                .map(|c| Arc::new(c) as ArrayRef)
                .collect(),
        }
    }
}
