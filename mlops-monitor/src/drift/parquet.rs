//! Drift between two Parquet files, read column by column.
//!
//! Reading both files whole and then comparing holds every column in memory at
//! once and leaves the cores idle while the last row group decodes. Here each
//! column is read (its row groups in parallel) when its turn comes and dropped
//! once compared, so reading and comparing overlap across columns and memory
//! holds only the columns in flight. String columns are read as dictionaries:
//! categories are counted per dictionary entry, not per row.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow_array::ArrayRef;
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder};
use parquet::errors::ParquetError;
use rayon::prelude::*;

use super::column::ColumnDrift;
use super::report::{DataDrift, DriftReport, require_unique_names};
use mlops_core::{Error, Result};

/// Rows per decoded batch: large enough that per-batch overhead vanishes.
const BATCH_ROWS: usize = 64 * 1024;

/// One Parquet file opened for column-wise reads.
struct ColumnFile<'a> {
    path: &'a Path,
    location: String,
    metadata: ArrowReaderMetadata,
}

fn parquet_error(location: &str, e: ParquetError) -> Error {
    match e {
        ParquetError::External(source) => Error::Storage {
            location: location.to_owned(),
            source,
        },
        other => Error::corrupt(location, other.to_string()),
    }
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

impl<'a> ColumnFile<'a> {
    fn open(path: &'a Path) -> Result<Self> {
        let location = path.display().to_string();
        let file = File::open(path).map_err(|source| Error::Io {
            location: location.clone(),
            source,
        })?;
        let plain =
            ArrowReaderMetadata::load(&file, ArrowReaderOptions::new()).map_err(|e| parquet_error(&location, e))?;
        let metadata = match dictionary_strings(plain.schema()) {
            Some(hinted) => ArrowReaderMetadata::try_new(
                Arc::clone(plain.metadata()),
                ArrowReaderOptions::new().with_schema(Arc::new(hinted)),
            )
            .map_err(|e| parquet_error(&location, e))?,
            None => plain,
        };
        Ok(ColumnFile {
            path,
            location,
            metadata,
        })
    }

    fn schema(&self) -> &Schema {
        self.metadata.schema()
    }

    fn rows(&self) -> usize {
        self.metadata.metadata().file_metadata().num_rows().max(0) as usize
    }

    /// Column `index` of the Arrow schema, all row groups (decoded in parallel, kept in order).
    fn read_column(&self, index: usize) -> Result<Vec<ArrayRef>> {
        let row_groups = self.metadata.metadata().num_row_groups();
        let parts: Vec<Vec<ArrayRef>> = (0..row_groups)
            .into_par_iter()
            .map(|rg| -> Result<Vec<ArrayRef>> {
                // One handle per task: parquet's reader seeks, so handles are not shared.
                let file = File::open(self.path).map_err(|source| Error::Io {
                    location: self.location.clone(),
                    source,
                })?;
                let mask = ProjectionMask::roots(self.metadata.parquet_schema(), [index]);
                let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(file, self.metadata.clone())
                    .with_projection(mask)
                    .with_row_groups(vec![rg])
                    .with_batch_size(BATCH_ROWS)
                    .build()
                    .map_err(|e| parquet_error(&self.location, e))?;
                reader
                    .map(|batch| {
                        batch
                            .map(|b| Arc::clone(b.column(0)))
                            .map_err(|e| Error::corrupt(format!("{}, row group {rg}", self.location), e.to_string()))
                    })
                    .collect()
            })
            .collect::<Result<_>>()?;
        Ok(parts.into_iter().flatten().collect())
    }
}

impl DataDrift {
    /// Compares two Parquet files, as [`compare`](Self::compare) does their
    /// batches, reading one column at a time (row groups in parallel) so memory
    /// holds only the columns being compared.
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
    pub fn compare_parquet(&self, reference: impl AsRef<Path>, current: impl AsRef<Path>) -> Result<DriftReport> {
        self.validate()?;
        let reference = ColumnFile::open(reference.as_ref())?;
        let current = ColumnFile::open(current.as_ref())?;
        require_unique_names(reference.schema(), &format!("reference data ({})", reference.location))?;
        require_unique_names(current.schema(), &format!("current data ({})", current.location))?;
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
                            location: format!("current data ({})", current.location),
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
