//! Arrow to model and back, with one copy each way at most: feature columns
//! are copied (and cast to `f32`) column by column into one feature-major
//! buffer, which the first layer reads in place through its strides; output
//! columns are slices of the model's output-major buffer, wrapped as Arrow
//! buffers without a copy.

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef, Float32Array, RecordBatch};
use arrow_buffer::{Buffer, ScalarBuffer};
use arrow_schema::DataType;
use mlops_core::{Error, Result, RowViolation, RuleKind};

/// Finds columns by name: first at the position the caller expects (requests
/// usually carry the signature's columns in its order, so that is one string
/// comparison), else through a name index built once per batch. Looking every
/// name up with `column_by_name` was a linear scan per column, and with 64
/// features it cost more than a one-row forward pass.
pub(crate) struct ColumnFinder<'a> {
    schema: &'a arrow_schema::Schema,
    index: std::cell::OnceCell<std::collections::HashMap<&'a str, usize>>,
}

impl<'a> ColumnFinder<'a> {
    pub(crate) fn new(schema: &'a arrow_schema::Schema) -> Self {
        ColumnFinder {
            schema,
            index: std::cell::OnceCell::new(),
        }
    }

    /// The position of column `name`, trying `expected` first.
    pub(crate) fn find(&self, name: &str, expected: usize) -> Option<usize> {
        if self.schema.fields().get(expected).is_some_and(|f| f.name() == name) {
            return Some(expected);
        }
        self.index
            .get_or_init(|| {
                let mut index = std::collections::HashMap::with_capacity(self.schema.fields().len());
                for (i, f) in self.schema.fields().iter().enumerate() {
                    // The first of two equal names wins, as `column_by_name` does.
                    index.entry(f.name().as_str()).or_insert(i);
                }
                index
            })
            .get(name)
            .copied()
    }
}

/// Copies `features` (by name) of `batch` into a new feature-major buffer
/// (as [`fill_feature_matrix`]; the predictor fills a reused one).
#[cfg(test)]
pub(crate) fn feature_matrix(
    batch: &RecordBatch,
    features: &[String],
    location: &str,
    max_rows: usize,
) -> Result<Vec<f32>> {
    let mut out = vec![0.0f32; batch.num_rows() * features.len()];
    fill_feature_matrix(batch, features, location, max_rows, &mut out)?;
    Ok(out)
}

/// Copies `features` (by name) of `batch` into `out`, feature-major: `out`
/// must hold `features.len() × rows` values (else [`Error::InvalidInput`]),
/// and every value is written on success.
///
/// A feature column that is absent after the transforms is
/// [`Error::SchemaMismatch`] naming it and the columns present; a null in a
/// feature column (one no transform imputed) is [`Error::Rejected`] naming
/// the column and its first rows; a column that is not numeric or boolean is
/// [`Error::TypeMismatch`].
pub(crate) fn fill_feature_matrix(
    batch: &RecordBatch,
    features: &[String],
    location: &str,
    max_rows: usize,
    out: &mut [f32],
) -> Result<()> {
    let finder = ColumnFinder::new(batch.schema_ref());
    fill_columns(batch, features, |j, name| finder.find(name, j), location, max_rows, out)
}

/// As [`fill_feature_matrix`], with feature `j` at column `positions[j]` of
/// `batch` (positions found once for a schema the batch is known to have).
pub(crate) fn fill_by_position(
    batch: &RecordBatch,
    features: &[String],
    positions: &[usize],
    location: &str,
    max_rows: usize,
    out: &mut [f32],
) -> Result<()> {
    let columns = batch.num_columns();
    fill_columns(
        batch,
        features,
        |j, _| positions.get(j).copied().filter(|&p| p < columns),
        location,
        max_rows,
        out,
    )
}

fn fill_columns(
    batch: &RecordBatch,
    features: &[String],
    locate: impl Fn(usize, &str) -> Option<usize>,
    location: &str,
    max_rows: usize,
    out: &mut [f32],
) -> Result<()> {
    let rows = batch.num_rows();
    if Some(out.len()) != rows.checked_mul(features.len()) {
        return Err(Error::invalid_input(
            "feature matrix",
            location,
            format!(
                "a buffer of {} values for {rows} rows of {} features",
                out.len(),
                features.len()
            ),
            "features × rows values",
        ));
    }
    for (j, name) in features.iter().enumerate() {
        let Some(column) = locate(j, name).map(|i| batch.column(i)) else {
            let present: Vec<&str> = batch.schema_ref().fields().iter().map(|f| f.name().as_str()).collect();
            return Err(Error::SchemaMismatch {
                location: location.to_owned(),
                message: format!(
                    "the model reads feature `{name}`, which the transforms do not produce (columns: {present:?})"
                ),
            });
        };
        if column.null_count() > 0 {
            let mut v = RowViolation::new(
                name,
                RuleKind::Nullability,
                "a value in every row (impute it in the package's transforms, or reject such rows at the door)",
            );
            for row in (0..rows).filter(|&r| column.is_null(r)) {
                v.record(row, || "null".to_owned(), max_rows);
            }
            return Err(Error::Rejected {
                location: location.to_owned(),
                violations: vec![v],
            });
        }
        copy_as_f32(column, &mut out[j * rows..(j + 1) * rows], name)?;
    }
    Ok(())
}

fn copy_as_f32(column: &ArrayRef, dst: &mut [f32], name: &str) -> Result<()> {
    macro_rules! copy {
        ($t:ty) => {
            dst.iter_mut()
                .zip(column.as_primitive::<$t>().values().iter())
                .for_each(|(d, &v)| *d = v as f32)
        };
    }
    match column.data_type() {
        DataType::Float32 => dst.copy_from_slice(column.as_primitive::<Float32Type>().values()),
        DataType::Float64 => copy!(Float64Type),
        DataType::Int8 => copy!(Int8Type),
        DataType::Int16 => copy!(Int16Type),
        DataType::Int32 => copy!(Int32Type),
        DataType::Int64 => copy!(Int64Type),
        DataType::UInt8 => copy!(UInt8Type),
        DataType::UInt16 => copy!(UInt16Type),
        DataType::UInt32 => copy!(UInt32Type),
        DataType::UInt64 => copy!(UInt64Type),
        DataType::Boolean => {
            let b = column.as_boolean();
            dst.iter_mut()
                .enumerate()
                .for_each(|(i, d)| *d = f32::from(u8::from(b.value(i))));
        }
        other => {
            return Err(Error::TypeMismatch {
                column: name.to_owned(),
                expected: "a numeric or boolean feature (encode strings in the package's transforms)".into(),
                found: other.to_string(),
            });
        }
    }
    Ok(())
}

/// Output-major values as one Arrow column per output, sharing one buffer.
pub(crate) fn output_columns(values: Vec<f32>, rows: usize, outputs: usize) -> Vec<Float32Array> {
    let buffer = Buffer::from_vec(values);
    (0..outputs)
        .map(|k| Float32Array::new(ScalarBuffer::new(buffer.clone(), k * rows, rows), None))
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::Arc;

    use arrow_array::{BooleanArray, Float64Array, Int64Array, StringArray};

    use super::*;

    #[test]
    fn known_positions_copy_the_same_values_and_a_bad_one_is_an_error() {
        let batch = RecordBatch::try_from_iter([
            ("b", Arc::new(Int64Array::from(vec![3, 4])) as ArrayRef),
            ("a", Arc::new(Float64Array::from(vec![0.5, 1.5])) as ArrayRef),
        ])
        .unwrap();
        let names: Vec<String> = vec!["a".into(), "b".into()];
        let mut by_position = vec![0.0f32; 4];
        fill_by_position(&batch, &names, &[1, 0], "t", 5, &mut by_position).unwrap();
        assert_eq!(by_position, feature_matrix(&batch, &names, "t", 5).unwrap());
        let mut out = vec![0.0f32; 4];
        assert!(matches!(
            fill_by_position(&batch, &names, &[1, 7], "t", 5, &mut out),
            Err(Error::SchemaMismatch { .. })
        ));
        assert!(matches!(
            fill_by_position(&batch, &names, &[1, 0], "t", 5, &mut [0.0; 3]),
            Err(Error::InvalidInput { .. })
        ));
    }

    #[test]
    fn features_are_copied_column_by_column_in_model_order() {
        let batch = RecordBatch::try_from_iter([
            ("b", Arc::new(Int64Array::from(vec![3, 4])) as ArrayRef),
            ("a", Arc::new(Float64Array::from(vec![0.5, 1.5])) as ArrayRef),
            ("c", Arc::new(BooleanArray::from(vec![true, false])) as ArrayRef),
        ])
        .unwrap();
        let names = ["a".to_owned(), "b".to_owned(), "c".to_owned()];
        let m = feature_matrix(&batch, &names, "t", 5).unwrap();
        assert_eq!(m, [0.5, 1.5, 3.0, 4.0, 1.0, 0.0]);
    }

    #[test]
    fn absent_null_and_string_features_are_typed_errors() {
        let batch = RecordBatch::try_from_iter([
            ("x", Arc::new(Float64Array::from(vec![Some(1.0), None])) as ArrayRef),
            ("s", Arc::new(StringArray::from(vec!["a", "b"])) as ArrayRef),
        ])
        .unwrap();
        assert!(matches!(
            feature_matrix(&batch, &["y".into()], "t", 5),
            Err(Error::SchemaMismatch { .. })
        ));
        match feature_matrix(&batch, &["x".into()], "t", 5) {
            Err(Error::Rejected { violations, .. }) => assert_eq!(violations[0].rows, [1]),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            feature_matrix(&batch, &["s".into()], "t", 5),
            Err(Error::TypeMismatch { .. })
        ));
    }

    #[test]
    fn output_columns_share_the_model_buffer() {
        let cols = output_columns(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 3, 2);
        assert_eq!(cols[1].values().to_vec(), [4.0, 5.0, 6.0]);
        // Column 1 starts three floats after column 0 in the same allocation: no copy.
        assert_eq!(
            cols[1].values().as_ptr() as usize - cols[0].values().as_ptr() as usize,
            3 * 4
        );
    }
}
