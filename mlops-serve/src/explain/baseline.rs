//! The reference input attributions are measured against.

use std::sync::Arc;

use arrow_array::{
    ArrayRef, BooleanArray, Float32Array, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray,
};
use arrow_schema::DataType;
use mlops_core::{DataProfile, Error, Result, Signature};

/// Where the baseline comes from.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Baseline {
    /// The "average input" of the training data: each numeric input column's
    /// mean and each text column's most frequent value, from the package's
    /// training profile, passed through the package's transforms (the default).
    ProfileMeans,
    /// Zero in every model feature.
    Zeros,
    /// These values, one per model feature (after transforms), in the model's feature order.
    Features(Vec<f32>),
}

/// One row holding the profile's "average" value of every input column, typed
/// as the signature declares it (integers rounded, booleans by majority).
pub(crate) fn average_row(signature: &Signature, profile: &dyn DataProfile) -> Result<RecordBatch> {
    let mut columns: Vec<(String, ArrayRef)> = Vec::with_capacity(signature.fields.len());
    for field in &signature.fields {
        let name = field.name.as_str();
        let summary = profile.summary(name);
        let missing = || Error::NotEnoughData {
            location: format!("training profile, column `{name}`"),
            message: "no values to take a baseline from (choose Baseline::Zeros or Baseline::Features)".into(),
        };
        let mean = || {
            summary
                .as_ref()
                .and_then(|s| s.mean)
                .filter(|m| m.is_finite())
                .ok_or_else(missing)
        };
        let array: ArrayRef = match &field.data_type {
            DataType::Float64 => Arc::new(Float64Array::from(vec![mean()?])),
            DataType::Float32 => Arc::new(Float32Array::from(vec![mean()? as f32])),
            DataType::Int64 => Arc::new(Int64Array::from(vec![mean()?.round() as i64])),
            DataType::Int32 | DataType::Int16 | DataType::Int8 => {
                Arc::new(Int32Array::from(vec![mean()?.round() as i32]))
            }
            DataType::Boolean => {
                let s = summary.as_ref().ok_or_else(missing)?;
                Arc::new(BooleanArray::from(vec![
                    s.true_count.unwrap_or(0) >= s.false_count.unwrap_or(0),
                ]))
            }
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Dictionary(..) => {
                let top = profile
                    .frequent_items(name)
                    .and_then(|items| items.into_iter().next())
                    .ok_or_else(missing)?;
                Arc::new(StringArray::from(vec![top.value]))
            }
            other => {
                return Err(Error::TypeMismatch {
                    column: name.to_owned(),
                    expected: "a numeric, boolean or text input column for a profile baseline".into(),
                    found: other.to_string(),
                });
            }
        };
        columns.push((name.to_owned(), array));
    }
    RecordBatch::try_from_iter(columns).map_err(|e| Error::Arrow {
        location: "explanation baseline".into(),
        source: e,
    })
}
