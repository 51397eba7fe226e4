//! The one place where DataFusion's Arrow (59) meets ours (60).
//!
//! Both Arrow versions keep values in reference-counted byte buffers with
//! the same layout. An array crosses by lending its buffers: each Arrow 59
//! buffer is wrapped, without copying, as a [`bytes::Bytes`] that owns it, and
//! Arrow 60 builds a buffer over those bytes. The layout is then re-validated
//! by Arrow 60 (`ArrayData::build`): offsets in bounds, UTF-8 where the type
//! says UTF-8, so nothing unsafe is taken on trust. The cost is that
//! validation (linear in the string bytes, constant per primitive column),
//! not a copy of the values.
//!
//! When DataFusion releases on Arrow 60 this module goes away: the
//! accumulator hands its `ArrayRef`s to the profiler as they are (see the
//! crate's README section "Beyond one machine").

use std::str::FromStr;
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch};
use arrow_buffer::{BooleanBuffer, Buffer, NullBuffer};
use arrow_data::ArrayData;
use arrow_schema::{DataType, Field, Schema};
use datafusion::arrow::array::{Array as Array59, ArrayData as ArrayData59, ArrayRef as ArrayRef59};
use datafusion::arrow::buffer::Buffer as Buffer59;
use datafusion::arrow::datatypes::DataType as DataType59;

use crate::{Error, Result};

/// An Arrow 59 buffer kept alive by the bytes that lend it to Arrow 60.
struct Lent(Buffer59);

impl AsRef<[u8]> for Lent {
    fn as_ref(&self) -> &[u8] {
        self.0.as_slice()
    }
}

fn buffer(b: &Buffer59) -> Buffer {
    Buffer::from(bytes::Bytes::from_owner(Lent(b.clone())))
}

/// The same type in Arrow 60, through its text form (stable across versions
/// for every type the profiler reads; anything else is an error naming it).
pub fn data_type(dt: &DataType59) -> Result<DataType> {
    let text = dt.to_string();
    DataType::from_str(&text).map_err(|e| Error::Bridge {
        what: format!("data type {text}"),
        reason: e.to_string(),
    })
}

fn data(d: &ArrayData59) -> Result<ArrayData> {
    let nulls = d.nulls().map(|n| {
        let bits = n.inner();
        NullBuffer::new(BooleanBuffer::new(buffer(bits.inner()), bits.offset(), bits.len()))
    });
    let children = d.child_data().iter().map(data).collect::<Result<Vec<_>>>()?;
    ArrayData::builder(data_type(d.data_type())?)
        .len(d.len())
        .offset(d.offset())
        .buffers(d.buffers().iter().map(buffer).collect())
        .child_data(children)
        .nulls(nulls)
        .build()
        .map_err(|e| Error::Bridge {
            what: format!("a {} array of {} values", d.data_type(), d.len()),
            reason: e.to_string(),
        })
}

/// One DataFusion array as ours, sharing its buffers.
pub fn array(a: &ArrayRef59) -> Result<ArrayRef> {
    Ok(arrow_array::make_array(data(&a.to_data())?))
}

/// DataFusion's argument columns as one of our record batches, named `names`.
pub fn batch(columns: &[ArrayRef59], names: &[String]) -> Result<RecordBatch> {
    if columns.len() != names.len() {
        return Err(Error::Bridge {
            what: "the aggregate's arguments".into(),
            reason: format!("{} columns for {} names", columns.len(), names.len()),
        });
    }
    let arrays = columns.iter().map(array).collect::<Result<Vec<_>>>()?;
    let fields: Vec<Field> = names
        .iter()
        .zip(&arrays)
        .map(|(name, a)| Field::new(name, a.data_type().clone(), true))
        .collect();
    let rows = columns.first().map_or(0, |c| c.len());
    RecordBatch::try_new_with_options(
        Arc::new(Schema::new(fields)),
        arrays,
        &arrow_array::RecordBatchOptions::new().with_row_count(Some(rows)),
    )
    .map_err(|e| Error::Bridge {
        what: "the aggregate's argument batch".into(),
        reason: e.to_string(),
    })
}
