//! Dataset fingerprints: a digest of a data set's schema and values.
//!
//! The fingerprint identifies the **multiset of rows**: every row is hashed
//! (XXH3 over per-column value hashes, 128 bits) and the row hashes are added
//! modulo 2^128; the digest is SHA-256 over a format tag, the canonical schema,
//! the row count and that sum. Because addition is commutative the result does
//! not depend on how rows are split into batches, row groups or files, nor on
//! their order, and partitions can be fingerprinted in parallel and combined
//! with [`Fingerprinter::merge`].
//!
//! Values are hashed by logical value, not by encoding: a dictionary column
//! and a plain string column with the same strings agree, as do `Utf8`,
//! `LargeUtf8` and `Utf8View`, and integers of any width with the same value.
//! The canonical schema lists column names and logical types (dictionaries
//! by their value type, large/view strings as `Utf8`); nullability flags are
//! left out because writers disagree on them for the same data.
//!
//! It is an identity for lineage, not a signature against adversaries: the
//! additive combination of 128-bit row hashes is not collision resistant
//! against someone who crafts rows on purpose.

use std::path::Path;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrowPrimitiveType, RecordBatch};
use arrow_schema::{DataType, Schema};
use mlops_core::{DatasetRef, Digest, Hasher};
use xxhash_rust::xxh3::{xxh3_64_with_seed, xxh3_128};

use crate::parquet_location::ParquetSource;
use crate::parquet_reader::ParquetReader;
use crate::parquet_scan::{RowGroupBatches, Scan};
use crate::sketch::hash::mix64;
use crate::{Error, Result};

const FORMAT_TAG: &[u8] = b"mlops-fingerprint/1\n";
const NULL_HASH: u64 = 0x6e75_6c6c_6e75_6c6c;

/// Streaming, mergeable dataset fingerprint.
///
/// ```
/// use std::sync::Arc;
/// use arrow_array::{Int64Array, RecordBatch};
/// use mlops_data::Fingerprinter;
///
/// let batch = |v: Vec<i64>| RecordBatch::try_from_iter([("id", Arc::new(Int64Array::from(v)) as _)]);
/// let mut one = Fingerprinter::new();
/// one.update(&batch(vec![1, 2, 3, 4])?)?;
/// let mut two = Fingerprinter::new();
/// two.update(&batch(vec![1, 2])?)?;
/// two.update(&batch(vec![3, 4])?)?;
/// assert_eq!(one.finish()?, two.finish()?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Fingerprinter {
    schema: Option<String>,
    sum: u128,
    rows: u64,
}

fn canonical_type(t: &DataType) -> String {
    match t {
        DataType::Dictionary(_, value) => canonical_type(value),
        DataType::LargeUtf8 | DataType::Utf8View => "Utf8".into(),
        DataType::LargeBinary | DataType::BinaryView => "Binary".into(),
        other => other.to_string(),
    }
}

fn canonical_schema(schema: &Schema) -> String {
    let mut s = String::new();
    for f in schema.fields() {
        s.push_str(&format!(
            "{}:{};",
            f.name().escape_default(),
            canonical_type(f.data_type())
        ));
    }
    s
}

fn hash_bytes(bytes: &[u8], seed: u64) -> u64 {
    xxh3_64_with_seed(bytes, seed)
}

fn fill_primitive<T: ArrowPrimitiveType>(array: &dyn Array, out: &mut [u64], f: impl Fn(T::Native) -> u64) {
    let a = array.as_primitive::<T>();
    for (i, (slot, &v)) in out.iter_mut().zip(a.values().iter()).enumerate() {
        if a.is_valid(i) {
            *slot = f(v);
        }
    }
}

fn int_hash(v: i128, seed: u64) -> u64 {
    hash_bytes(&v.to_le_bytes(), seed ^ 0x696e_7400)
}

fn float_hash(v: f64, seed: u64) -> u64 {
    let bits = if v.is_nan() { f64::NAN.to_bits() } else { v.to_bits() };
    hash_bytes(&bits.to_le_bytes(), seed ^ 0x666c_7400)
}

fn str_hash(s: &[u8], seed: u64) -> u64 {
    hash_bytes(s, seed ^ 0x7374_7200)
}

/// Per-row hashes of one column's values (nulls included) into `out`.
fn column_hashes(array: &dyn Array, seed: u64, out: &mut [u64]) -> Result<()> {
    let null = mix64(NULL_HASH ^ seed);
    out.fill(null);
    match array.data_type() {
        DataType::Int8 => fill_primitive::<Int8Type>(array, out, |v| int_hash(v.into(), seed)),
        DataType::Int16 => fill_primitive::<Int16Type>(array, out, |v| int_hash(v.into(), seed)),
        DataType::Int32 => fill_primitive::<Int32Type>(array, out, |v| int_hash(v.into(), seed)),
        DataType::Int64 => fill_primitive::<Int64Type>(array, out, |v| int_hash(v.into(), seed)),
        DataType::UInt8 => fill_primitive::<UInt8Type>(array, out, |v| int_hash(v.into(), seed)),
        DataType::UInt16 => fill_primitive::<UInt16Type>(array, out, |v| int_hash(v.into(), seed)),
        DataType::UInt32 => fill_primitive::<UInt32Type>(array, out, |v| int_hash(v.into(), seed)),
        DataType::UInt64 => fill_primitive::<UInt64Type>(array, out, |v| int_hash(v.into(), seed)),
        DataType::Float16 => fill_primitive::<Float16Type>(array, out, |v| float_hash(v.to_f64(), seed)),
        DataType::Float32 => fill_primitive::<Float32Type>(array, out, |v| float_hash(v.into(), seed)),
        DataType::Float64 => fill_primitive::<Float64Type>(array, out, |v| float_hash(v, seed)),
        DataType::Decimal128(_, _) => fill_primitive::<Decimal128Type>(array, out, |v| int_hash(v, seed)),
        DataType::Decimal64(_, _) => fill_primitive::<Decimal64Type>(array, out, |v| int_hash(v.into(), seed)),
        DataType::Decimal32(_, _) => fill_primitive::<Decimal32Type>(array, out, |v| int_hash(v.into(), seed)),
        DataType::Date32 => fill_primitive::<Date32Type>(array, out, |v| int_hash(v.into(), seed)),
        DataType::Date64 => fill_primitive::<Date64Type>(array, out, |v| int_hash(v.into(), seed)),
        DataType::Timestamp(..) | DataType::Time64(_) => {
            // Physical i64 values; the unit is part of the canonical schema.
            let data = array.to_data();
            let values = data.buffer::<i64>(0);
            for (i, slot) in out.iter_mut().enumerate() {
                if array.is_valid(i) {
                    *slot = values.get(i).map_or(null, |&v| int_hash(v.into(), seed));
                }
            }
        }
        DataType::Time32(_) => {
            let data = array.to_data();
            let values = data.buffer::<i32>(0);
            for (i, slot) in out.iter_mut().enumerate() {
                if array.is_valid(i) {
                    *slot = values.get(i).map_or(null, |&v| int_hash(v.into(), seed));
                }
            }
        }
        DataType::Boolean => {
            let a = array.as_boolean();
            for (i, slot) in out.iter_mut().enumerate() {
                if a.is_valid(i) {
                    *slot = mix64(seed ^ if a.value(i) { 0xb001_0001 } else { 0xb001_0000 });
                }
            }
        }
        DataType::Utf8 => fill_strings(array.as_string::<i32>().iter().map(|v| v.map(str::as_bytes)), seed, out),
        DataType::LargeUtf8 => fill_strings(array.as_string::<i64>().iter().map(|v| v.map(str::as_bytes)), seed, out),
        DataType::Utf8View => fill_strings(array.as_string_view().iter().map(|v| v.map(str::as_bytes)), seed, out),
        DataType::Binary => fill_strings(array.as_binary::<i32>().iter(), seed, out),
        DataType::LargeBinary => fill_strings(array.as_binary::<i64>().iter(), seed, out),
        DataType::BinaryView => fill_strings(array.as_binary_view().iter(), seed, out),
        DataType::Dictionary(_, _) => {
            let dict = array.as_any_dictionary();
            let mut value_hashes = vec![0u64; dict.values().len()];
            column_hashes(dict.values().as_ref(), seed, &mut value_hashes)?;
            let keys = dict.normalized_keys();
            for (i, (slot, &k)) in out.iter_mut().zip(keys.iter()).enumerate() {
                if array.is_valid(i) {
                    *slot = value_hashes.get(k).copied().unwrap_or(null);
                }
            }
        }
        _ => {
            // Nested and rare types: hash the canonical text rendering of each value.
            let options = arrow_cast::display::FormatOptions::default();
            let formatter =
                arrow_cast::display::ArrayFormatter::try_new(array, &options).map_err(|source| Error::Arrow {
                    location: "fingerprint".into(),
                    source,
                })?;
            let mut text = String::new();
            for (i, slot) in out.iter_mut().enumerate() {
                if array.is_valid(i) {
                    text.clear();
                    use std::fmt::Write as _;
                    let _ = write!(text, "{}", formatter.value(i));
                    *slot = str_hash(text.as_bytes(), seed ^ 0x6f74_6800);
                }
            }
        }
    }
    Ok(())
}

fn fill_strings<'a>(iter: impl Iterator<Item = Option<&'a [u8]>>, seed: u64, out: &mut [u64]) {
    for (slot, v) in out.iter_mut().zip(iter) {
        if let Some(bytes) = v {
            *slot = str_hash(bytes, seed);
        }
    }
}

impl Fingerprinter {
    /// A fingerprinter that has seen no rows.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a batch; every batch must have the same canonical schema.
    pub fn update(&mut self, batch: &RecordBatch) -> Result<()> {
        let schema = canonical_schema(&batch.schema());
        match &self.schema {
            Some(s) if *s != schema => {
                return Err(Error::SchemaMismatch {
                    location: format!("fingerprint, after {} rows", self.rows),
                    message: format!("batch schema `{schema}` differs from `{s}`"),
                });
            }
            Some(_) => {}
            None => self.schema = Some(schema),
        }
        let rows = batch.num_rows();
        let columns = batch.num_columns();
        let mut hashes = vec![0u64; rows * columns];
        for (c, array) in batch.columns().iter().enumerate() {
            column_hashes(array.as_ref(), c as u64, &mut hashes[c * rows..(c + 1) * rows])?;
        }
        let mut row = vec![0u8; columns * 8];
        for r in 0..rows {
            for c in 0..columns {
                row[c * 8..c * 8 + 8].copy_from_slice(&hashes[c * rows + r].to_le_bytes());
            }
            self.sum = self.sum.wrapping_add(xxh3_128(&row));
        }
        self.rows += rows as u64;
        Ok(())
    }

    /// Adds another partition's fingerprint state.
    pub fn merge(&mut self, other: &Fingerprinter) -> Result<()> {
        match (&self.schema, &other.schema) {
            (Some(a), Some(b)) if a != b => {
                return Err(Error::SchemaMismatch {
                    location: "Fingerprinter::merge".into(),
                    message: format!("schema `{b}` differs from `{a}`"),
                });
            }
            (None, Some(b)) => self.schema = Some(b.clone()),
            _ => {}
        }
        self.sum = self.sum.wrapping_add(other.sum);
        self.rows += other.rows;
        Ok(())
    }

    /// Rows seen.
    pub fn num_rows(&self) -> u64 {
        self.rows
    }

    /// The digest. Fails when no batch (not even an empty one) fixed a schema.
    pub fn finish(&self) -> Result<Digest> {
        let schema = self.schema.as_deref().ok_or_else(|| Error::NotEnoughData {
            location: "fingerprint".into(),
            message: "no batch was given, so there is no schema to fingerprint".into(),
        })?;
        let mut h = Hasher::new();
        h.update(FORMAT_TAG);
        h.update(schema.as_bytes());
        h.update(b"\n");
        h.update(&self.rows.to_le_bytes());
        h.update(&self.sum.to_le_bytes());
        Ok(h.finish())
    }

    /// Starts from a schema, so that a data set with no rows still has a fingerprint.
    pub fn with_schema(schema: &Schema) -> Self {
        Fingerprinter {
            schema: Some(canonical_schema(schema)),
            sum: 0,
            rows: 0,
        }
    }
}

/// Fingerprints a sequence of batches.
pub fn fingerprint_batches<'a>(batches: impl IntoIterator<Item = &'a RecordBatch>) -> Result<Digest> {
    let mut f = Fingerprinter::new();
    for b in batches {
        f.update(b)?;
    }
    f.finish()
}

/// Fingerprints a Parquet file (a local path, a URL such as `s3://bucket/key`,
/// or an object in a store), row groups in parallel, and returns a
/// [`DatasetRef`] naming it: `file://` and the absolute path for local files,
/// the URL as given otherwise. Blocks; from async code use
/// [`fingerprint_parquet_async`].
pub fn fingerprint_parquet(source: impl Into<ParquetSource>) -> Result<DatasetRef> {
    let source = source.into();
    let uri = dataset_uri(&source);
    dataset_ref(uri, ParquetReader::open(source)?, |reader| {
        reader.map_reduce(&Scan::all(), partial(reader), merge)
    })
}

/// [`fingerprint_parquet`] without blocking the caller's executor.
pub async fn fingerprint_parquet_async(source: impl Into<ParquetSource>) -> Result<DatasetRef> {
    let source = source.into();
    let uri = dataset_uri(&source);
    let reader = ParquetReader::open_async(source).await?;
    let total = reader.map_reduce_async(&Scan::all(), partial(&reader), merge).await?;
    dataset_ref(uri, reader, |_| Ok(total))
}

/// Fingerprints a local Parquet file ([`fingerprint_parquet`] of a path).
pub fn fingerprint_parquet_file(path: impl AsRef<Path>) -> Result<DatasetRef> {
    fingerprint_parquet(path.as_ref())
}

fn dataset_uri(source: &ParquetSource) -> String {
    match source {
        ParquetSource::Path(path) => {
            let absolute = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
            format!("file://{}", absolute.display())
        }
        other => other.location(),
    }
}

fn partial(reader: &ParquetReader) -> impl Fn(usize, RowGroupBatches<'_>) -> Result<Fingerprinter> + use<> {
    let schema = Arc::clone(reader.schema());
    move |_rg, batches| {
        let mut f = Fingerprinter::with_schema(&schema);
        for batch in batches {
            f.update(&batch?)?;
        }
        Ok(f)
    }
}

fn merge(mut a: Fingerprinter, b: Fingerprinter) -> Result<Fingerprinter> {
    a.merge(&b)?;
    Ok(a)
}

fn dataset_ref(
    uri: String,
    reader: ParquetReader,
    run: impl FnOnce(&ParquetReader) -> Result<Option<Fingerprinter>>,
) -> Result<DatasetRef> {
    let total = run(&reader)?.unwrap_or_else(|| Fingerprinter::with_schema(reader.schema()));
    Ok(DatasetRef {
        uri,
        fingerprint: total.finish()?,
        schema: reader.schema().as_ref().clone(),
        num_rows: total.num_rows(),
    })
}
