//! Drift between two Parquet files, read column by column.
//!
//! Reading both files whole and then comparing holds every column in memory at
//! once and leaves the cores idle while the last row group decodes. Here each
//! column is read (its row groups in parallel) when its turn comes and dropped
//! once compared, so reading and comparing overlap across columns and memory
//! holds only the columns in flight. String columns are read as dictionaries:
//! categories are counted per dictionary entry, not per row.

use std::sync::Arc;

use arrow_array::ArrayRef;
use arrow_schema::{DataType, Field, Schema};
use mlops_data::{ParquetReader, ParquetSource, Scan};
use parquet::arrow::arrow_reader::ArrowReaderOptions;
use rayon::prelude::*;

use super::column::ColumnDrift;
use super::report::{DataDrift, DriftReport, require_unique_names};
use mlops_core::{Error, Result};

/// Rows per decoded batch: large enough that per-batch overhead vanishes.
const BATCH_ROWS: usize = 64 * 1024;

/// One Parquet file opened for column-wise reads.
struct ColumnFile {
    reader: ParquetReader,
}

/// Top-level strings become dictionaries (the reader keeps Parquet's own dictionary pages).
fn dictionary_strings(schema: &Schema) -> Option<Schema> {
    let mut changed = false;
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Utf8 | DataType::LargeUtf8 => {
                changed = true;
                f.as_ref().clone().with_data_type(DataType::Dictionary(
                    Box::new(DataType::Int32),
                    Box::new(f.data_type().clone()),
                ))
            }
            _ => f.as_ref().clone(),
        })
        .collect();
    changed.then(|| Schema::new_with_metadata(fields, schema.metadata().clone()))
}

impl ColumnFile {
    fn open(source: ParquetSource) -> Result<Self> {
        let reader = ParquetReader::open(source)?;
        let reader = match dictionary_strings(reader.schema()) {
            Some(hinted) => reader.with_arrow_options(ArrowReaderOptions::new().with_schema(Arc::new(hinted)))?,
            None => reader,
        };
        Ok(ColumnFile { reader })
    }

    fn location(&self) -> &str {
        self.reader.location()
    }

    fn schema(&self) -> &Schema {
        self.reader.schema()
    }

    fn rows(&self) -> usize {
        usize::try_from(self.reader.num_rows()).unwrap_or(usize::MAX)
    }

    /// Column `index` of the Arrow schema, all row groups (decoded in parallel, kept in order).
    fn read_column(&self, index: usize) -> Result<Vec<ArrayRef>> {
        let scan = Scan::all().columns([index]).batch_size(BATCH_ROWS);
        let arrays = self.reader.map_reduce(
            &scan,
            |_rg, batches| {
                batches
                    .map(|b| Ok(Arc::clone(b?.column(0))))
                    .collect::<Result<Vec<_>>>()
            },
            |mut a, b| {
                a.extend(b);
                Ok(a)
            },
        )?;
        Ok(arrays.unwrap_or_default())
    }
}

impl DataDrift {
    /// Compares two Parquet files, as [`compare`](Self::compare) does their
    /// batches, reading one column at a time (row groups in parallel) so memory
    /// holds only the columns being compared.
    ///
    /// Each side is a local path or a URL (`file://`, and `s3://`, `gs://`,
    /// `az://` with the `aws`, `gcp`, `azure` features; see
    /// [`ParquetSource`]). Object-store reads block on a private runtime:
    /// from async code, call this inside `spawn_blocking`.
    ///
    /// A column of the reference missing from the current file, or a column
    /// name that appears twice in either file, is an error naming it; a truncated or corrupt file is [`Error::Corrupt`] naming the
    /// file and row group.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{ArrayRef, Float64Array, RecordBatch};
    /// use mlops_monitor::drift::{DataDrift, DriftConfig};
    /// use parquet::arrow::ArrowWriter;
    ///
    /// let dir = tempfile::tempdir()?;
    /// for (name, shift) in [("reference.parquet", 0.0), ("current.parquet", 30.0)] {
    ///     let x = Float64Array::from_iter_values((0..5000).map(|i| (i % 100) as f64 + shift));
    ///     let batch = RecordBatch::try_from_iter([("x", Arc::new(x) as ArrayRef)])?;
    ///     let mut writer = ArrowWriter::try_new(std::fs::File::create(dir.path().join(name))?, batch.schema(), None)?;
    ///     writer.write(&batch)?;
    ///     writer.close()?;
    /// }
    /// let report = DataDrift::new(DriftConfig::default())
    ///     .compare_parquet(dir.path().join("reference.parquet"), dir.path().join("current.parquet"))?;
    /// let x = report.column("x").unwrap();
    /// assert_eq!(x.method, Some(mlops_monitor::drift::DriftMethod::Wasserstein)); // more than 1000 values, many unique
    /// assert!(x.drifted && report.dataset_drift);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn compare_parquet(
        &self,
        reference: impl Into<ParquetSource>,
        current: impl Into<ParquetSource>,
    ) -> Result<DriftReport> {
        self.validate()?;
        let reference = ColumnFile::open(reference.into())?;
        let current = ColumnFile::open(current.into())?;
        require_unique_names(
            reference.schema(),
            &format!("reference data ({})", reference.location()),
        )?;
        require_unique_names(current.schema(), &format!("current data ({})", current.location()))?;
        let columns: Vec<ColumnDrift> = reference
            .schema()
            .fields()
            .iter()
            .enumerate()
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|(index, field)| {
                let name = field.name();
                let (current_index, _) =
                    current
                        .schema()
                        .column_with_name(name)
                        .ok_or_else(|| Error::SchemaMismatch {
                            location: format!("current data ({})", current.location()),
                            message: format!("column `{name}` is missing"),
                        })?;
                let data_type = field.data_type();
                let current_type = current.schema().field(current_index).data_type();
                let current_arrays = if super::data::kind_of(data_type).is_some() {
                    current.read_column(current_index)?
                } else {
                    Vec::new()
                };
                self.column(
                    name,
                    data_type,
                    || reference.read_column(index),
                    current_type,
                    current_arrays,
                )
            })
            .collect::<Result<_>>()?;
        Ok(self.report(columns, reference.rows(), current.rows()))
    }
}
