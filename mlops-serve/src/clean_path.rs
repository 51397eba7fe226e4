//! The door's short way for a small batch that breaks no rule.
//!
//! The full door (`door.rs`) conforms each column, checks it, builds the
//! admitted batch, and the model's features are then copied out of that
//! batch; each step asks every column its type, length and nulls through
//! `dyn Array` again. For one row of 64 columns those calls cost about as much
//! as the forward pass. A model without transforms whose inputs are all
//! declared `Float32` or `Float64` can take a shorter way: each column is
//! downcast once to its declared type (or `Float32` for a `Float64` input,
//! which the door would widen exactly), checked (no nulls, finite, inside
//! its declared range) and its values copied straight into the feature matrix.
//!
//! The short way only answers batches on which the full door would find
//! nothing, so the answer is the same: any column that is missing, of another
//! type, with a null, a non-finite value or a value out of its range sends
//! the batch down the full door, which reports it under the configured policy.

use arrow_array::types::{Float32Type, Float64Type};
use arrow_array::{Array, PrimitiveArray, RecordBatch};
use arrow_schema::DataType;
use mlops_core::{NumericRange, Signature};

use crate::columns::ColumnFinder;
use crate::door::values_clean;
use crate::validate_config::{RulePolicy, ValidationConfig};

/// One input column as the short way checks it.
#[derive(Clone, Debug)]
struct CleanField {
    name: String,
    float32: bool,
    /// The declared range, when its policy is not to ignore it.
    range: Option<NumericRange>,
}

/// The input columns, and which of them each model feature reads.
#[derive(Clone, Debug)]
pub(crate) struct CleanPath {
    fields: Vec<CleanField>,
    /// Feature `k` reads input column `feature_fields[k]`.
    feature_fields: Vec<usize>,
}

/// A column's values, at its declared type.
enum Values<'a> {
    F32(&'a [f32]),
    F64(&'a [f64]),
}

impl CleanPath {
    /// The short way for `signature` and the model's `features`, when every
    /// input is a float column and the model reads the inputs directly (no
    /// transforms); `None` otherwise.
    pub(crate) fn new(signature: &Signature, features: &[String], config: &ValidationConfig) -> Option<CleanPath> {
        let fields = signature
            .fields
            .iter()
            .map(|f| {
                let float32 = match f.data_type {
                    DataType::Float32 => true,
                    DataType::Float64 => false,
                    _ => return None,
                };
                let range = f
                    .constraints
                    .range
                    .filter(|_| config.out_of_range != RulePolicy::Ignore);
                Some(CleanField {
                    name: f.name.clone(),
                    float32,
                    range,
                })
            })
            .collect::<Option<Vec<_>>>()?;
        let feature_fields = features
            .iter()
            .map(|name| fields.iter().position(|f| &f.name == name))
            .collect::<Option<Vec<_>>>()?;
        Some(CleanPath { fields, feature_fields })
    }

    /// Fills `matrix` (feature-major, `features × rows`) from `batch` when
    /// every input column is present at its declared type and breaks no
    /// rule; `false` (with `matrix` in any state) when the full door must
    /// look at the batch.
    pub(crate) fn fill(&self, batch: &RecordBatch, matrix: &mut [f32]) -> bool {
        let rows = batch.num_rows();
        if Some(matrix.len()) != rows.checked_mul(self.feature_fields.len()) {
            return false;
        }
        let finder = ColumnFinder::new(batch.schema_ref());
        let mut columns: Vec<Values<'_>> = Vec::with_capacity(self.fields.len());
        for (position, field) in self.fields.iter().enumerate() {
            let Some(column) = finder.find(&field.name, position).map(|i| batch.column(i).as_ref()) else {
                return false;
            };
            let values = if field.float32 {
                match column.as_any().downcast_ref::<PrimitiveArray<Float32Type>>() {
                    Some(a) if a.null_count() == 0 && values_clean(a.values(), f64::from, true, field.range) => {
                        Values::F32(a.values())
                    }
                    _ => return false,
                }
            } else if let Some(a) = column.as_any().downcast_ref::<PrimitiveArray<Float64Type>>() {
                if a.null_count() > 0 || !values_clean(a.values(), |v| v, true, field.range) {
                    return false;
                }
                Values::F64(a.values())
            } else {
                // `Float32` sent for a `Float64` input: the door would widen it
                // (exactly) and the model reads `f32`, so the values go in as they are.
                match column.as_any().downcast_ref::<PrimitiveArray<Float32Type>>() {
                    Some(a) if a.null_count() == 0 && values_clean(a.values(), f64::from, true, field.range) => {
                        Values::F32(a.values())
                    }
                    _ => return false,
                }
            };
            columns.push(values);
        }
        for (&field, out) in self.feature_fields.iter().zip(matrix.chunks_exact_mut(rows.max(1))) {
            match columns.get(field) {
                Some(Values::F32(v)) if v.len() == out.len() => out.copy_from_slice(v),
                Some(Values::F64(v)) if v.len() == out.len() => {
                    out.iter_mut().zip(v.iter()).for_each(|(o, &x)| *o = x as f32);
                }
                _ => return false,
            }
        }
        true
    }
}
