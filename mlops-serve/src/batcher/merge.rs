//! Merging queued requests into one batch for the predictor.
//!
//! Requests are mostly one row of many numeric columns. Arrow's
//! `concat_batches` builds each merged column through a generic builder
//! (type checks per input array, a null buffer pass, `ArrayData`
//! validation); at 64 columns of ~14 one-row requests that was a seventh of
//! the batcher worker's time. A column whose inputs are all one primitive
//! type without nulls is merged here by copying the value slices into one
//! buffer; any other column goes through Arrow's `concat`.

use std::sync::Arc;

use arrow_array::types::{
    Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef, ArrowPrimitiveType, PrimitiveArray, RecordBatch, RecordBatchOptions};
use arrow_buffer::ScalarBuffer;
use arrow_schema::{ArrowError, DataType};

/// The rows of `batches`, in order, as one batch with the first batch's
/// schema. Every batch must have that schema (the caller groups requests by
/// schema); a batch that does not is an error, not a panic.
pub(crate) fn merge_batches(batches: &[&RecordBatch]) -> Result<RecordBatch, ArrowError> {
    let Some(first) = batches.first() else {
        return Err(ArrowError::InvalidArgumentError("no batches to merge".into()));
    };
    let schema = first.schema();
    if let Some(other) = batches
        .iter()
        .find(|b| !Arc::ptr_eq(b.schema_ref(), &schema) && b.schema_ref() != &schema)
    {
        return Err(ArrowError::SchemaError(format!(
            "cannot merge a request with schema {} into a batch with schema {schema}",
            other.schema_ref()
        )));
    }
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    let mut inputs: Vec<&dyn Array> = Vec::with_capacity(batches.len());
    let columns = (0..schema.fields().len())
        .map(|c| {
            inputs.clear();
            inputs.extend(batches.iter().map(|b| b.column(c).as_ref()));
            merge_column(&inputs, rows)
        })
        .collect::<Result<Vec<_>, _>>()?;
    RecordBatch::try_new_with_options(schema, columns, &RecordBatchOptions::new().with_row_count(Some(rows)))
}

/// One column of the merged batch.
fn merge_column(inputs: &[&dyn Array], rows: usize) -> Result<ArrayRef, ArrowError> {
    macro_rules! primitive {
        ($t:ty) => {
            if let Some(merged) = merge_primitive::<$t>(inputs, rows) {
                return Ok(merged);
            }
        };
    }
    match inputs.first().map(|a| a.data_type()) {
        Some(DataType::Float32) => primitive!(Float32Type),
        Some(DataType::Float64) => primitive!(Float64Type),
        Some(DataType::Int8) => primitive!(Int8Type),
        Some(DataType::Int16) => primitive!(Int16Type),
        Some(DataType::Int32) => primitive!(Int32Type),
        Some(DataType::Int64) => primitive!(Int64Type),
        Some(DataType::UInt8) => primitive!(UInt8Type),
        Some(DataType::UInt16) => primitive!(UInt16Type),
        Some(DataType::UInt32) => primitive!(UInt32Type),
        Some(DataType::UInt64) => primitive!(UInt64Type),
        _ => {}
    }
    arrow_select::concat::concat(inputs)
}

/// The values of `inputs` in one array, when every input is a `T` array
/// without nulls (else `None`: the general path handles it).
fn merge_primitive<T: ArrowPrimitiveType>(inputs: &[&dyn Array], rows: usize) -> Option<ArrayRef> {
    let mut values: Vec<T::Native> = Vec::with_capacity(rows);
    for input in inputs {
        let array = input.as_any().downcast_ref::<PrimitiveArray<T>>()?;
        // A type with parameters (a timestamp's zone) must match exactly.
        if array.null_count() > 0 || array.data_type() != &T::DATA_TYPE {
            return None;
        }
        values.extend_from_slice(array.values());
    }
    Some(Arc::new(PrimitiveArray::<T>::new(ScalarBuffer::from(values), None)))
}

#[cfg(test)]
mod tests {
    use arrow_array::{BooleanArray, Float32Array, Float64Array, Int64Array, StringArray};
    use arrow_schema::{Field, Schema};

    use super::*;

    fn batch(schema: &Arc<Schema>, x: Vec<Option<f32>>, n: Vec<i64>, s: Vec<&str>, b: Vec<bool>) -> RecordBatch {
        RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Float32Array::from(x)),
                Arc::new(Int64Array::from(n)),
                Arc::new(StringArray::from(s)),
                Arc::new(BooleanArray::from(b)),
            ],
        )
        .unwrap_or_else(|e| panic!("test batch: {e}"))
    }

    #[test]
    fn merges_like_arrow_concat_with_and_without_nulls() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("x", DataType::Float32, true),
            Field::new("n", DataType::Int64, true),
            Field::new("s", DataType::Utf8, true),
            Field::new("b", DataType::Boolean, true),
        ]));
        let parts = [
            batch(&schema, vec![Some(1.0)], vec![1], vec!["a"], vec![true]),
            batch(
                &schema,
                vec![Some(2.0), Some(3.0)],
                vec![2, 3],
                vec!["b", "c"],
                vec![false, true],
            ),
            batch(&schema, vec![], vec![], vec![], vec![]),
            batch(&schema, vec![None], vec![4], vec!["d"], vec![false]),
        ];
        for take in [1, 2, 3, 4] {
            let refs: Vec<&RecordBatch> = parts[..take].iter().collect();
            let merged = merge_batches(&refs).unwrap_or_else(|e| panic!("merge: {e}"));
            let expected = arrow_select::concat::concat_batches(&schema, refs.iter().copied())
                .unwrap_or_else(|e| panic!("concat: {e}"));
            assert_eq!(merged, expected, "first {take} parts");
        }
    }

    #[test]
    fn a_request_of_another_schema_is_an_error_not_a_panic() {
        let a = RecordBatch::try_from_iter([("x", Arc::new(Float64Array::from(vec![1.0])) as ArrayRef)])
            .unwrap_or_else(|e| panic!("{e}"));
        let b = RecordBatch::try_from_iter([("x", Arc::new(Float32Array::from(vec![1.0])) as ArrayRef)])
            .unwrap_or_else(|e| panic!("{e}"));
        let err = merge_batches(&[&a, &b])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("cannot merge"), "{err}");
        assert!(merge_batches(&[]).is_err());
    }
}
