//! A queued request's rows, as the worker receives them.
//!
//! A one-row request of 64 columns is 64 Arrow arrays, each its own heap
//! objects with its own reference count. When the worker merged such
//! requests itself, it touched every array of every request (reading values
//! and dropping references last written by the caller's core): measured at
//! 32 callers, dropping the requests' columns alone was a sixth of the
//! worker's time, and merging 64 columns one allocation each another sixth.
//! So a request whose model inputs are all `Float32` (or all `Float64`)
//! without nulls is copied on the caller's thread, at submit, into one
//! column-major buffer; the worker merges such requests with one copy per
//! column and request into one buffer that every merged column shares, and
//! a request taken alone is answered from its own buffer, not copied again.
//! Anything else travels as the projected `RecordBatch`.

use std::sync::Arc;

use arrow_array::types::{Float32Type, Float64Type};
use arrow_array::{Array, ArrayRef, ArrowPrimitiveType, PrimitiveArray, RecordBatch, RecordBatchOptions};
use arrow_buffer::ScalarBuffer;
use arrow_schema::{ArrowError, DataType, SchemaRef};

use super::merge::merge_batches;

/// The rows of one request: the model's input columns, in its order.
pub(crate) enum Payload {
    /// Every column one float type without nulls, copied into one buffer.
    Packed(Packed),
    /// Anything else: the request's columns, projected.
    Batch(RecordBatch),
}

/// Column-major values of a request whose columns share one float type.
pub(crate) struct Packed {
    schema: SchemaRef,
    rows: usize,
    values: PackedValues,
}

impl Packed {
    /// A batch of this request's schema whose columns are slices of `values`.
    fn batch_of(&self, values: PackedValues) -> Result<RecordBatch, ArrowError> {
        let columns = self.schema.fields().len();
        let arrays = match values {
            PackedValues::F32(values) => slices_of::<Float32Type>(&ScalarBuffer::from(values), columns, self.rows),
            PackedValues::F64(values) => slices_of::<Float64Type>(&ScalarBuffer::from(values), columns, self.rows),
        }
        .ok_or_else(|| {
            ArrowError::InvalidArgumentError("internal: a packed request does not match its own shape".into())
        })?;
        RecordBatch::try_new_with_options(
            Arc::clone(&self.schema),
            arrays,
            &RecordBatchOptions::new().with_row_count(Some(self.rows)),
        )
    }
}

/// The values, `columns × rows`, column after column. A `Vec`, not an
/// Arrow buffer: a buffer is one more allocation per request, freed on the
/// worker's thread (measured at 32 tokio callers: 0.90× the requests/s);
/// a request taken alone hands its `Vec` over instead.
enum PackedValues {
    F32(Vec<f32>),
    F64(Vec<f64>),
}

/// The float types a request is packed in.
trait PackedFloat: ArrowPrimitiveType {
    /// The values of `packed` when they are of this type.
    fn values(packed: &PackedValues) -> Option<&[Self::Native]>;
}

impl PackedFloat for Float32Type {
    fn values(packed: &PackedValues) -> Option<&[f32]> {
        match packed {
            PackedValues::F32(v) => Some(v),
            PackedValues::F64(_) => None,
        }
    }
}

impl PackedFloat for Float64Type {
    fn values(packed: &PackedValues) -> Option<&[f64]> {
        match packed {
            PackedValues::F64(v) => Some(v),
            PackedValues::F32(_) => None,
        }
    }
}

impl Payload {
    /// Packs columns `indices` of `batch` under `schema` (the projection's
    /// schema, whose fields are those columns) when they are all `Float32` or
    /// all `Float64` without nulls; `None` otherwise.
    pub(crate) fn pack(batch: &RecordBatch, indices: &[usize], schema: &SchemaRef) -> Option<Payload> {
        let rows = batch.num_rows();
        let first = batch.column(*indices.first()?);
        let values = match first.data_type() {
            DataType::Float32 => PackedValues::F32(pack_values::<Float32Type>(batch, indices, rows)?),
            DataType::Float64 => PackedValues::F64(pack_values::<Float64Type>(batch, indices, rows)?),
            _ => return None,
        };
        Some(Payload::Packed(Packed {
            schema: Arc::clone(schema),
            rows,
            values,
        }))
    }

    pub(crate) fn num_rows(&self) -> usize {
        match self {
            Payload::Packed(p) => p.rows,
            Payload::Batch(b) => b.num_rows(),
        }
    }

    pub(crate) fn schema(&self) -> &SchemaRef {
        match self {
            Payload::Packed(p) => &p.schema,
            Payload::Batch(b) => b.schema_ref(),
        }
    }

    /// Whether requests `self` and `other` can be merged into one batch.
    pub(crate) fn same_schema(&self, other: &Payload) -> bool {
        Arc::ptr_eq(self.schema(), other.schema()) || self.schema() == other.schema()
    }

    /// This request's rows as a batch (a packed request's values copied).
    fn to_batch(&self) -> Result<RecordBatch, ArrowError> {
        match self {
            Payload::Batch(b) => Ok(b.clone()),
            Payload::Packed(p) => p.batch_of(match &p.values {
                PackedValues::F32(values) => PackedValues::F32(values.clone()),
                PackedValues::F64(values) => PackedValues::F64(values.clone()),
            }),
        }
    }

    /// This request's rows as a batch, for a request computed alone: a
    /// packed request's values are handed over, not copied, and the payload
    /// keeps only its row count (enough to answer it; a request alone is
    /// never merged or retried).
    pub(crate) fn take_batch(&mut self) -> Result<RecordBatch, ArrowError> {
        match self {
            Payload::Batch(b) => Ok(b.clone()),
            Payload::Packed(p) => {
                let empty = match &p.values {
                    PackedValues::F32(_) => PackedValues::F32(Vec::new()),
                    PackedValues::F64(_) => PackedValues::F64(Vec::new()),
                };
                let values = std::mem::replace(&mut p.values, empty);
                p.batch_of(values)
            }
        }
    }

    /// Column `c`'s values when this request holds them as `T` without
    /// nulls (packed, or a projected batch that could have been).
    fn float_column<T: PackedFloat>(&self, c: usize) -> Option<&[T::Native]> {
        match self {
            Payload::Packed(p) => {
                let start = c.checked_mul(p.rows)?;
                T::values(&p.values)?.get(start..start.checked_add(p.rows)?)
            }
            Payload::Batch(b) => {
                let array = b.columns().get(c)?.as_any().downcast_ref::<PrimitiveArray<T>>()?;
                (array.null_count() == 0 && array.data_type() == &T::DATA_TYPE).then(|| &array.values()[..])
            }
        }
    }
}

/// The rows of `payloads`, in order, as one batch; they must share one
/// schema (the worker groups them so).
pub(crate) fn merge_payloads(payloads: &[&Payload]) -> Result<RecordBatch, ArrowError> {
    match payloads {
        [] => Err(ArrowError::InvalidArgumentError("no requests to merge".into())),
        [one] => one.to_batch(),
        _ => {
            if let Some(merged) =
                merge_floats::<Float32Type>(payloads).or_else(|| merge_floats::<Float64Type>(payloads))
            {
                return merged;
            }
            let batches = payloads.iter().map(|p| p.to_batch()).collect::<Result<Vec<_>, _>>()?;
            merge_batches(&batches.iter().collect::<Vec<_>>())
        }
    }
}

/// Requests whose every column is `T` without nulls (packed on the caller,
/// or sent unpacked because a worker was idle then) merged into one batch
/// whose columns share one buffer, each value copied once; `None` as soon as
/// one column of one request is not, before anything is copied.
fn merge_floats<T: PackedFloat>(payloads: &[&Payload]) -> Option<Result<RecordBatch, ArrowError>> {
    let first = payloads.first()?;
    let schema = first.schema();
    let columns = schema.fields().len();
    // Requests of another schema are refused by the general path, never relabelled here.
    if !payloads.iter().all(|p| p.same_schema(first)) {
        return None;
    }
    // Where each request's values are, found once per request: the copy
    // below runs per column and request (64 × ~14 one-value copies per batch
    // at 32 callers), so it must not match and check types each time.
    let sources = payloads
        .iter()
        .map(|p| FloatSource::<T>::of(p, columns))
        .collect::<Option<Vec<_>>>()?;
    let rows: usize = payloads.iter().map(|p| p.num_rows()).sum();
    let mut merged: Vec<T::Native> = Vec::with_capacity(columns * rows);
    for c in 0..columns {
        for source in &sources {
            merged.extend_from_slice(source.column(c)?);
        }
    }
    let arrays = slices_of::<T>(&ScalarBuffer::from(merged), columns, rows)?;
    Some(RecordBatch::try_new_with_options(
        Arc::clone(schema),
        arrays,
        &RecordBatchOptions::new().with_row_count(Some(rows)),
    ))
}

/// One request's values of type `T`, column by column.
enum FloatSource<'a, T: ArrowPrimitiveType> {
    /// Packed: column `c` is `values[c·rows..(c+1)·rows]`.
    Packed(&'a [T::Native], usize),
    /// A batch whose columns are all `T` without nulls.
    Columns(Vec<&'a [T::Native]>),
}

impl<'a, T: PackedFloat> FloatSource<'a, T> {
    /// `payload`'s values when all its `columns` columns are `T` without nulls.
    fn of(payload: &'a Payload, columns: usize) -> Option<Self> {
        match payload {
            Payload::Packed(p) => {
                let values = T::values(&p.values)?;
                (Some(values.len()) == columns.checked_mul(p.rows)).then_some(FloatSource::Packed(values, p.rows))
            }
            Payload::Batch(_) => (0..columns)
                .map(|c| payload.float_column::<T>(c))
                .collect::<Option<Vec<_>>>()
                .map(FloatSource::Columns),
        }
    }

    fn column(&self, c: usize) -> Option<&'a [T::Native]> {
        match self {
            FloatSource::Packed(values, rows) => values.get(c * rows..(c + 1) * rows),
            FloatSource::Columns(columns) => columns.get(c).copied(),
        }
    }
}

/// `columns` arrays of `rows` values each, column after column, sharing
/// `values`; `None` when `values` is not `columns × rows` long.
fn slices_of<T: ArrowPrimitiveType>(
    values: &ScalarBuffer<T::Native>,
    columns: usize,
    rows: usize,
) -> Option<Vec<ArrayRef>> {
    if columns.checked_mul(rows)? != values.len() {
        return None;
    }
    Some(
        (0..columns)
            .map(|c| Arc::new(PrimitiveArray::<T>::new(values.slice(c * rows, rows), None)) as ArrayRef)
            .collect(),
    )
}

/// Columns `indices` of `batch`, each a `T` array without nulls, copied
/// column after column; `None` when one is not.
fn pack_values<T: ArrowPrimitiveType>(batch: &RecordBatch, indices: &[usize], rows: usize) -> Option<Vec<T::Native>> {
    let mut values = Vec::with_capacity(indices.len() * rows);
    for &i in indices {
        let array = batch.column(i).as_any().downcast_ref::<PrimitiveArray<T>>()?;
        if array.null_count() > 0 {
            return None;
        }
        values.extend_from_slice(array.values());
    }
    Some(values)
}

#[cfg(test)]
mod tests {
    use arrow_array::cast::AsArray;
    use arrow_array::{Float32Array, Float64Array, Int64Array};
    use arrow_schema::Schema;

    use super::*;

    fn f32_batch(x: Vec<Option<f32>>, y: Vec<f32>) -> RecordBatch {
        RecordBatch::try_from_iter([
            ("x", Arc::new(Float32Array::from(x)) as ArrayRef),
            ("y", Arc::new(Float32Array::from(y)) as ArrayRef),
        ])
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn nullable(batch: &RecordBatch, order: &[usize]) -> SchemaRef {
        Arc::new(Schema::new(
            order
                .iter()
                .map(|&i| batch.schema().field(i).clone().with_nullable(true))
                .collect::<Vec<_>>(),
        ))
    }

    /// What the batcher did before packing: project, then concatenate.
    fn projected(batch: &RecordBatch, order: &[usize], schema: &SchemaRef) -> RecordBatch {
        RecordBatch::try_new(schema.clone(), order.iter().map(|&i| batch.column(i).clone()).collect())
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn packed_requests_merge_to_what_projecting_and_concatenating_gives() {
        let parts = [
            f32_batch(vec![Some(1.0)], vec![10.0]),
            f32_batch(vec![Some(2.0), Some(3.0)], vec![20.0, 30.0]),
            f32_batch(vec![], vec![]),
            f32_batch(vec![Some(4.0)], vec![40.0]),
        ];
        let order = [1, 0];
        let schema = nullable(&parts[0], &order);
        let payloads: Vec<Payload> = parts
            .iter()
            .map(|b| Payload::pack(b, &order, &schema).unwrap_or_else(|| panic!("not packed")))
            .collect();
        assert!(payloads.iter().all(|p| matches!(p, Payload::Packed(_))));
        for take in 1..=parts.len() {
            let refs: Vec<&Payload> = payloads[..take].iter().collect();
            let merged = merge_payloads(&refs).unwrap_or_else(|e| panic!("{e}"));
            let expected = arrow_select::concat::concat_batches(
                &schema,
                &parts[..take]
                    .iter()
                    .map(|b| projected(b, &order, &schema))
                    .collect::<Vec<_>>(),
            )
            .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(merged, expected, "first {take} requests");
        }
    }

    /// Where a column's values start in memory.
    fn values_at(batch: &RecordBatch, c: usize) -> *const f32 {
        batch.column(c).as_primitive::<Float32Type>().values().as_ptr()
    }

    #[test]
    fn a_request_taken_alone_is_not_copied_and_merged_requests_share_one_buffer() {
        let request = f32_batch(vec![Some(1.0), Some(2.0)], vec![10.0, 20.0]);
        let order = [1, 0];
        let schema = nullable(&request, &order);
        let pack = || Payload::pack(&request, &order, &schema).unwrap_or_else(|| panic!("not packed"));
        let mut packed = pack();
        let Payload::Packed(Packed {
            values: PackedValues::F32(values),
            ..
        }) = &packed
        else {
            panic!("not packed as f32")
        };
        let at = values.as_ptr();
        let alone = packed.take_batch().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(alone, projected(&request, &order, &schema));
        assert_eq!(values_at(&alone, 0), at, "column y copied");
        assert_eq!(values_at(&alone, 1), at.wrapping_add(2), "column x copied");
        assert_eq!(packed.num_rows(), 2, "the row count answers the request");
        // A packed request and one sent unpacked (a worker was idle then)
        // merge into columns that are slices of one buffer.
        let unpacked = Payload::Batch(projected(&request, &order, &schema));
        let merged = merge_payloads(&[&pack(), &unpacked]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(values_at(&merged, 1), values_at(&merged, 0).wrapping_add(4));
        // Alone through the general entry, a packed request is copied, not emptied.
        let kept = pack();
        assert_eq!(
            merge_payloads(&[&kept]).ok(),
            Some(projected(&request, &order, &schema))
        );
        assert_eq!(kept.to_batch().ok(), Some(projected(&request, &order, &schema)));
    }

    #[test]
    fn nulls_mixed_types_and_other_types_travel_as_batches_and_still_merge() {
        let with_null = f32_batch(vec![None], vec![1.0]);
        let schema = nullable(&with_null, &[0, 1]);
        assert!(Payload::pack(&with_null, &[0, 1], &schema).is_none());
        let mixed = RecordBatch::try_from_iter([
            ("x", Arc::new(Float32Array::from(vec![1.0])) as ArrayRef),
            ("y", Arc::new(Float64Array::from(vec![1.0])) as ArrayRef),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(Payload::pack(&mixed, &[0, 1], &nullable(&mixed, &[0, 1])).is_none());
        let ints = RecordBatch::try_from_iter([("n", Arc::new(Int64Array::from(vec![1])) as ArrayRef)])
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(Payload::pack(&ints, &[0], &nullable(&ints, &[0])).is_none());
        // A packed request and a plain one of the same schema merge in order.
        let clean = f32_batch(vec![Some(2.0)], vec![3.0]);
        let packed = Payload::pack(&clean, &[0, 1], &schema).unwrap_or_else(|| panic!("not packed"));
        let plain = Payload::Batch(projected(&with_null, &[0, 1], &schema));
        let merged = merge_payloads(&[&packed, &plain]).unwrap_or_else(|e| panic!("{e}"));
        let expected = arrow_select::concat::concat_batches(
            &schema,
            &[
                projected(&clean, &[0, 1], &schema),
                projected(&with_null, &[0, 1], &schema),
            ],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(merged, expected);
        // A request sent unpacked that could have been packed merges with packed ones.
        let later = f32_batch(vec![Some(5.0)], vec![6.0]);
        let unpacked = Payload::Batch(projected(&later, &[0, 1], &schema));
        let merged = merge_payloads(&[&packed, &unpacked]).unwrap_or_else(|e| panic!("{e}"));
        let expected = arrow_select::concat::concat_batches(
            &schema,
            &[projected(&clean, &[0, 1], &schema), projected(&later, &[0, 1], &schema)],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(merged, expected);
        // Requests of two float types have two schemas: the worker never merges them.
        let f64_schema = nullable(&mixed, &[1]);
        let f64_packed = Payload::pack(&mixed, &[1], &f64_schema).unwrap_or_else(|| panic!("not packed"));
        assert!(!f64_packed.same_schema(&packed));
        assert!(merge_payloads(&[]).is_err());
    }

    use proptest::prelude::*;
    use proptest::test_runner::RngSeed;

    /// One request row: `x`, `y` (`None`: null) and `n`.
    type Row = (Option<f64>, Option<f64>, i64);

    /// One request's columns: `x` and `y` of `float32` (else `Float64`), `n`
    /// (`Int64`) only when `with_int`; a `None` value is a null.
    fn request(rows: &[Row], float32: bool, with_int: bool) -> RecordBatch {
        let column = |pick: &dyn Fn(&Row) -> Option<f64>| -> ArrayRef {
            if float32 {
                Arc::new(Float32Array::from(
                    rows.iter().map(|r| pick(r).map(|v| v as f32)).collect::<Vec<_>>(),
                ))
            } else {
                Arc::new(Float64Array::from(rows.iter().map(pick).collect::<Vec<_>>()))
            }
        };
        let mut columns = vec![("x", column(&|r| r.0)), ("y", column(&|r| r.1))];
        if with_int {
            columns.push((
                "n",
                Arc::new(Int64Array::from(rows.iter().map(|r| r.2).collect::<Vec<_>>())) as ArrayRef,
            ));
        }
        RecordBatch::try_from_iter(columns).unwrap_or_else(|e| panic!("{e}"))
    }

    fn value() -> impl Strategy<Value = Option<f64>> {
        prop_oneof![9 => (-1e6f64..1e6).prop_map(Some), 1 => Just(None)]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, rng_seed: RngSeed::Fixed(0x6d65_7267), ..ProptestConfig::default() })]

        /// Whatever mix of requests a worker takes (rows 0–3 each, nulls or
        /// not, packed on the caller or not, the model's column order
        /// reversed), the merged batch is what projecting each request and
        /// concatenating them with Arrow gives.
        #[test]
        fn merging_equals_projecting_and_concatenating(
            requests in prop::collection::vec(
                (prop::collection::vec((value(), value(), any::<i64>()), 0..4), any::<bool>()),
                1..8,
            ),
            float32 in any::<bool>(),
            with_int in any::<bool>(),
        ) {
            let batches: Vec<RecordBatch> =
                requests.iter().map(|(rows, _)| request(rows, float32, with_int)).collect();
            let order: Vec<usize> = (0..batches[0].num_columns()).rev().collect();
            let schema = nullable(&batches[0], &order);
            let payloads: Vec<Payload> = batches
                .iter()
                .zip(&requests)
                .map(|(b, (_, try_pack))| {
                    let packed = if *try_pack { Payload::pack(b, &order, &schema) } else { None };
                    packed.unwrap_or_else(|| Payload::Batch(projected(b, &order, &schema)))
                })
                .collect();
            let merged = merge_payloads(&payloads.iter().collect::<Vec<_>>()).unwrap_or_else(|e| panic!("{e}"));
            let expected = arrow_select::concat::concat_batches(
                &schema,
                &batches.iter().map(|b| projected(b, &order, &schema)).collect::<Vec<_>>(),
            )
            .unwrap_or_else(|e| panic!("{e}"));
            prop_assert_eq!(merged, expected);
        }
    }
}
