//! Batch scoring: a Parquet file (local or in an object store) in, a Parquet file out.

use std::fmt;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{Field, Schema, SchemaRef};
use mlops_data::{ParquetReader, ParquetSource, RowGroupBatches, Scan};
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;

use crate::batcher::predict_guarded;
use crate::{Error, Predict, Result};

/// Which input columns a scoring run copies into its output, before the predictions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Carry {
    /// Every input column, in file order (the default).
    #[default]
    All,
    /// None: the output holds only the predictions.
    None,
    /// These columns, in this order (each must exist in the input).
    Columns(Vec<String>),
}

impl Carry {
    /// The named columns, in this order.
    pub fn columns<S: Into<String>>(columns: impl IntoIterator<Item = S>) -> Self {
        Carry::Columns(columns.into_iter().map(Into::into).collect())
    }
}

/// How far a scoring run has got; passed to the progress callback after each
/// row group is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ScoreProgress {
    /// Rows written.
    pub rows_done: u64,
    /// Rows in the input.
    pub rows_total: u64,
    /// Row groups written.
    pub row_groups_done: usize,
    /// Row groups in the input.
    pub row_groups_total: usize,
}

type ProgressFn = Arc<dyn Fn(ScoreProgress) + Send + Sync>;

/// Settings of [`score_parquet`].
#[derive(Clone)]
#[non_exhaustive]
pub struct ScoreConfig {
    /// Row groups decoded and predicted at once (≥ 1; default: the rayon pool
    /// size). Memory holds at most this many row groups' rows.
    pub max_in_flight: usize,
    /// Input columns copied into the output (default: all).
    pub carry: Carry,
    /// Rows per predictor call (≥ 1; default 8192).
    pub batch_rows: usize,
    /// Called on the calling thread after each row group is written.
    pub progress: Option<ProgressFn>,
    /// The output's Parquet settings (default: parquet's defaults).
    pub writer_properties: Option<WriterProperties>,
}

impl Default for ScoreConfig {
    fn default() -> Self {
        ScoreConfig {
            max_in_flight: rayon::current_num_threads().max(1),
            carry: Carry::All,
            batch_rows: 8192,
            progress: None,
            writer_properties: None,
        }
    }
}

impl fmt::Debug for ScoreConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScoreConfig")
            .field("max_in_flight", &self.max_in_flight)
            .field("carry", &self.carry)
            .field("batch_rows", &self.batch_rows)
            .field("progress", &self.progress.is_some())
            .field("writer_properties", &self.writer_properties.is_some())
            .finish()
    }
}

impl ScoreConfig {
    /// The defaults (see the fields).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`max_in_flight`](Self::max_in_flight) (0 counts as 1).
    pub fn with_max_in_flight(mut self, row_groups: usize) -> Self {
        self.max_in_flight = row_groups.max(1);
        self
    }

    /// Sets [`carry`](Self::carry).
    pub fn with_carry(mut self, carry: Carry) -> Self {
        self.carry = carry;
        self
    }

    /// Copies these input columns, in this order ([`Carry::Columns`]).
    pub fn carry<S: Into<String>>(self, columns: impl IntoIterator<Item = S>) -> Self {
        self.with_carry(Carry::columns(columns))
    }

    /// Sets [`batch_rows`](Self::batch_rows) (0 counts as 1).
    pub fn with_batch_rows(mut self, rows: usize) -> Self {
        self.batch_rows = rows.max(1);
        self
    }

    /// Sets the progress callback.
    pub fn with_progress(mut self, progress: impl Fn(ScoreProgress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(progress));
        self
    }

    /// Sets [`writer_properties`](Self::writer_properties).
    pub fn with_writer_properties(mut self, properties: WriterProperties) -> Self {
        self.writer_properties = Some(properties);
        self
    }
}

/// What a scoring run did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ScoreReport {
    /// Rows scored (and written).
    pub rows: u64,
    /// Rows refused by a row-level policy: written with null predictions.
    pub rejected_rows: u64,
    /// Row groups read (and written).
    pub row_groups: usize,
    /// Wall time of the whole run.
    pub elapsed: Duration,
}

/// One input row group, scored.
struct Scored {
    batches: Vec<RecordBatch>,
    rows: u64,
    rejected: u64,
}

/// Scores every row of a Parquet file with `predictor` and writes the
/// carried input columns and the predictions to a new Parquet file at `output`.
///
/// The input is read through `mlops-data`'s [`ParquetReader`], so it may be a
/// local path, a `file://`, `s3://`, `gs://` or `az://` URL (cloud schemes need
/// this crate's feature of the same name), or an object in a store.
///
/// Row groups are the unit of work and of memory: a window of
/// [`ScoreConfig::max_in_flight`] row groups is decoded and predicted in
/// parallel on the rayon pool, then written in input order; only that window's
/// rows are held, whatever the file size. Each input row group becomes one
/// output row group, and output rows follow input rows.
///
/// Rows refused by a row-level policy get the predictor's null outputs and are
/// counted in [`ScoreReport::rejected_rows`]; a batch-level refusal or any
/// read or write failure stops the run with that error. The output is written
/// to a temporary file next to it and renamed into place at the end, so a
/// failed run leaves no output file, and an existing one is replaced only on
/// success.
///
/// Blocks the calling thread (call it from `spawn_blocking` in async code).
///
/// Errors: [`Error::SchemaMismatch`] when the input lacks a column the model
/// needs; [`Error::InvalidInput`] for an unknown carry column or a carried
/// column named like a prediction; [`Error::Corrupt`] or [`Error::Storage`]
/// for an unreadable input; the predictor's own errors.
///
/// ```
/// # use std::sync::Arc;
/// # use arrow_array::{cast::AsArray, types::Float64Type, Float64Array, Int64Array, RecordBatch};
/// # use arrow_schema::{DataType, Field, Schema, SchemaRef};
/// # use mlops_serve::{Predict, Prediction};
/// # /// y = 2x + 1 over column `x`.
/// # #[derive(Debug)]
/// # struct Affine;
/// # impl Predict for Affine {
/// #     fn model_name(&self) -> &str { "affine" }
/// #     fn input_schema(&self) -> SchemaRef { Arc::new(Schema::new(vec![Field::new("x", DataType::Float64, true)])) }
/// #     fn output_schema(&self) -> SchemaRef { Arc::new(Schema::new(vec![Field::new("y", DataType::Float64, true)])) }
/// #     fn predict_detailed(&self, batch: &RecordBatch) -> mlops_serve::Result<Prediction> {
/// #         let x = batch.column_by_name("x").and_then(|c| c.as_primitive_opt::<Float64Type>()).ok_or_else(|| {
/// #             mlops_serve::Error::invalid_input("batch", "x", "missing or not Float64", "a Float64 column `x`")
/// #         })?;
/// #         let y = x.unary::<_, Float64Type>(|v| 2.0 * v + 1.0);
/// #         Ok(Prediction::clean(RecordBatch::try_new(self.output_schema(), vec![Arc::new(y)]).map_err(
/// #             |source| mlops_serve::Error::Arrow { location: "affine".into(), source })?))
/// #     }
/// # }
/// use mlops_serve::{score_parquet, ScoreConfig};
/// use parquet::arrow::ArrowWriter;
/// use parquet::file::properties::WriterProperties;
///
/// // An input file: 1000 rows in row groups of 100.
/// let dir = tempfile::tempdir()?;
/// let input = dir.path().join("in.parquet");
/// let table = RecordBatch::try_from_iter([
///     ("id", Arc::new(Int64Array::from_iter_values(0..1000)) as _),
///     ("x", Arc::new(Float64Array::from_iter_values((0..1000).map(f64::from))) as _),
/// ])?;
/// let props = WriterProperties::builder().set_max_row_group_row_count(Some(100)).build();
/// let mut writer = ArrowWriter::try_new(std::fs::File::create(&input)?, table.schema(), Some(props))?;
/// writer.write(&table)?;
/// writer.close()?;
///
/// // `Affine` implements `Predict`: y = 2x + 1. Keep `id`, add `y`.
/// let output = dir.path().join("scored.parquet");
/// let config = ScoreConfig::default()
///     .carry(["id"])
///     .with_progress(|p| eprintln!("{}/{} rows", p.rows_done, p.rows_total));
/// let report = score_parquet(&Affine, &input, &output, config)?;
/// assert_eq!((report.rows, report.row_groups, report.rejected_rows), (1000, 10, 0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn score_parquet(
    predictor: &dyn Predict,
    input: impl Into<ParquetSource>,
    output: &Path,
    config: ScoreConfig,
) -> Result<ScoreReport> {
    let started = Instant::now();
    let reader = ParquetReader::open(input)?.with_max_in_flight(config.max_in_flight);
    let plan = Plan::new(predictor, &reader, &config)?;
    let out_location = output.display().to_string();
    let write_error = |e: parquet::errors::ParquetError| Error::storage(&out_location, e);
    let io_error = |source| Error::Io {
        location: out_location.clone(),
        source,
    };

    // A temporary file next to the output (same file system, so the final rename is atomic);
    // dropped, and so deleted, on every early return.
    let dir = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(io_error)?;
    let file: File = temp.as_file().try_clone().map_err(io_error)?;
    let mut writer =
        ArrowWriter::try_new(file, Arc::clone(&plan.output), config.writer_properties.clone()).map_err(write_error)?;

    let row_groups_total = reader.num_row_groups();
    let rows_total = reader.num_rows();
    let mut report = ScoreReport {
        rows: 0,
        rejected_rows: 0,
        row_groups: 0,
        elapsed: Duration::ZERO,
    };
    let groups: Vec<usize> = (0..row_groups_total).collect();
    let base = plan.scan.clone().batch_size(config.batch_rows);
    for window in groups.chunks(config.max_in_flight) {
        let scan = base.clone().row_groups(window.iter().copied());
        let scored = reader
            .map_reduce(
                &scan,
                |_, batches| plan.score_group(predictor, batches).map(|s| vec![s]),
                |mut a, b| {
                    a.extend(b);
                    Ok(a)
                },
            )?
            .unwrap_or_default();
        for group in scored {
            for batch in &group.batches {
                writer.write(batch).map_err(write_error)?;
            }
            // One output row group per input row group: the writer buffers no more than that.
            writer.flush().map_err(write_error)?;
            report.rows += group.rows;
            report.rejected_rows += group.rejected;
            report.row_groups += 1;
            if let Some(progress) = &config.progress {
                progress(ScoreProgress {
                    rows_done: report.rows,
                    rows_total,
                    row_groups_done: report.row_groups,
                    row_groups_total,
                });
            }
        }
    }
    writer.close().map_err(write_error)?;
    temp.as_file().sync_all().map_err(io_error)?;
    temp.persist(output).map_err(|e| io_error(e.error))?;
    report.elapsed = started.elapsed();
    tracing::debug!(
        model = predictor.model_name(),
        input = reader.location(),
        output = %out_location,
        rows = report.rows,
        rejected = report.rejected_rows,
        "scored"
    );
    Ok(report)
}

/// What to read and what to write, checked before anything is.
struct Plan {
    scan: Scan,
    /// Carried input columns, by name.
    carry: Vec<String>,
    /// The model's output columns, by name.
    predictions: Vec<String>,
    output: SchemaRef,
    location: String,
}

impl Plan {
    fn new(predictor: &dyn Predict, reader: &ParquetReader, config: &ScoreConfig) -> Result<Plan> {
        let file = reader.schema();
        let location = reader.location().to_owned();
        let names = || {
            file.fields()
                .iter()
                .map(|f| f.name().as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let model = predictor.model_name();
        let mut read = Vec::new();
        for field in predictor.input_schema().fields() {
            let Ok(index) = file.index_of(field.name()) else {
                return Err(Error::SchemaMismatch {
                    location: location.clone(),
                    message: format!(
                        "missing input column `{}` that model `{model}` needs (the file has: {})",
                        field.name(),
                        names()
                    ),
                });
            };
            read.push(index);
        }
        let carry: Vec<String> = match &config.carry {
            Carry::All => file.fields().iter().map(|f| f.name().clone()).collect(),
            Carry::None => Vec::new(),
            Carry::Columns(columns) => {
                let mut kept: Vec<String> = Vec::with_capacity(columns.len());
                for name in columns {
                    if file.index_of(name).is_err() {
                        return Err(Error::invalid_input(
                            "carry column",
                            "ScoreConfig::carry",
                            format!("`{name}` is not a column of {location}"),
                            format!("one of: {}", names()),
                        ));
                    }
                    if !kept.contains(name) {
                        kept.push(name.clone());
                    }
                }
                kept
            }
        };
        let mut fields: Vec<Field> = Vec::with_capacity(carry.len());
        for name in &carry {
            let index = file.index_of(name).map_err(|source| Error::Arrow {
                location: location.clone(),
                source,
            })?;
            read.push(index);
            fields.push(file.field(index).clone());
        }
        let outputs = predictor.output_schema();
        let predictions: Vec<String> = outputs.fields().iter().map(|f| f.name().clone()).collect();
        if let Some(clash) = carry.iter().find(|c| predictions.contains(c)) {
            return Err(Error::invalid_input(
                "carry column",
                "ScoreConfig::carry",
                format!("`{clash}` is also an output of model `{model}`"),
                format!("carried columns named unlike the outputs ({})", predictions.join(", ")),
            ));
        }
        // Rows refused by a row-level policy have null outputs, whatever the model declares.
        fields.extend(outputs.fields().iter().map(|f| f.as_ref().clone().with_nullable(true)));
        read.sort_unstable();
        read.dedup();
        Ok(Plan {
            scan: Scan::all().columns(read),
            carry,
            predictions,
            output: Arc::new(Schema::new(fields)),
            location,
        })
    }

    /// Predicts one row group's batches and assembles the output batches.
    fn score_group(&self, predictor: &dyn Predict, batches: RowGroupBatches<'_>) -> Result<Scored> {
        let mut scored = Scored {
            batches: Vec::new(),
            rows: 0,
            rejected: 0,
        };
        for batch in batches {
            let batch = batch?;
            let prediction = predict_guarded(predictor, &batch, &self.location)?;
            let mut columns: Vec<ArrayRef> = Vec::with_capacity(self.output.fields().len());
            for name in &self.carry {
                columns.push(column(&batch, name, &self.location)?);
            }
            for name in &self.predictions {
                columns.push(column(&prediction.batch, name, predictor.model_name()).map_err(|_| {
                    Error::inference(
                        predictor.model_name(),
                        format!("the answer lacks the declared output column `{name}`"),
                    )
                })?);
            }
            let out = RecordBatch::try_new(Arc::clone(&self.output), columns).map_err(|source| Error::Arrow {
                location: format!("scored rows of {}", self.location),
                source,
            })?;
            scored.rows += out.num_rows() as u64;
            scored.rejected += prediction.rejected_rows.len() as u64;
            scored.batches.push(out);
        }
        Ok(scored)
    }
}

fn column(batch: &RecordBatch, name: &str, location: &str) -> Result<ArrayRef> {
    batch
        .column_by_name(name)
        .cloned()
        .ok_or_else(|| Error::SchemaMismatch {
            location: location.to_owned(),
            message: format!("column `{name}` is missing"),
        })
}
