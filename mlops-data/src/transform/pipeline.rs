//! Ordered transform steps over named columns: fitted together on training
//! batches, applied together at serving time, persisted as one JSON document.

use std::collections::HashSet;
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, RecordBatch, RecordBatchOptions};
use arrow_schema::{FieldRef, Schema};
use serde::{Deserialize, Serialize};

use super::spec::{FittedTransform, TransformSpec};
use crate::{Error, Result};

/// The pipeline format version this build writes and the newest it reads.
pub const TRANSFORM_FORMAT_VERSION: u32 = 1;
const FORMAT_NAME: &str = "mlops-transform-pipeline";
const LOCATION: &str = "transform pipeline JSON";

/// One unfitted step: a transform to learn on a column.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TransformStep {
    /// The input column, as named when the step runs (after earlier steps).
    pub column: String,
    /// What to learn.
    pub transform: TransformSpec,
}

/// An ordered list of transform steps, not yet fitted.
///
/// ```
/// use std::sync::Arc;
/// use arrow_array::{Float64Array, RecordBatch, StringArray};
/// use mlops_data::{FittedPipeline, ImputeStrategy, OrdinalConfig, TransformPipeline, TransformSpec, UnseenCode};
///
/// let train = RecordBatch::try_from_iter([
///     ("x", Arc::new(Float64Array::from(vec![Some(1.0), None, Some(3.0)])) as _),
///     ("grade", Arc::new(StringArray::from(vec!["b", "a", "b"])) as _),
/// ])?;
/// let fitted = TransformPipeline::new()
///     .step("x", TransformSpec::impute(ImputeStrategy::Mean)) // null → 2.0
///     .step("x", TransformSpec::min_max())
///     .step("grade", TransformSpec::ordinal(OrdinalConfig::default().with_unseen(UnseenCode::Code(-1))))
///     .fit_batch(&train)?;
/// let restored = FittedPipeline::from_json(&fitted.to_json()?)?;
/// assert_eq!(restored.transform(&train)?, fitted.transform(&train)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Steps run in order, each on the output of the ones before (as a
/// scikit-learn `Pipeline`): impute `city` then one-hot `city` learns the
/// fill value as a category. A step **replaces** its column in place — one
/// column, or the one-hot columns `city=…` where `city` was — so a later step
/// can name a one-hot output but no longer the encoded column. Several steps
/// may use the same column (impute, then standardize).
///
/// Columns no step touches are kept, in place, when
/// [`passthrough`](Self::passthrough) is on (the default) and dropped when it
/// is off.
///
/// Categories are in lexical order by default, which is scikit-learn's, so
/// encoders fitted on the same data give the same columns and codes as
/// `OneHotEncoder` and `OrdinalEncoder` ([`CategoryOrder::Frequency`] orders
/// by count instead); [`Standardize`] divides by the population standard
/// deviation by default, as `StandardScaler`.
///
/// # Missing values: null, NaN, ±∞
///
/// | input | fit | transform |
/// |---|---|---|
/// | null (numeric) | ignored by every statistic | stays null — unless an [`Impute`] step ran first, which fills it |
/// | NaN | ignored by every statistic | stays NaN through standardize and min–max; **missing** for [`Impute`], which fills it |
/// | ±∞ | ignored by every statistic | stays ±∞ (0 or 1 under a clipping [`MinMax`]); a value, not missing, for [`Impute`] |
/// | null (string) | never a category, never the most frequent value | filled by [`Impute`]; an **all-zero row** for [`OneHot`] whatever its unseen policy; null for [`Ordinal`] |
///
/// A fit with nothing left to learn from (no rows; all null, NaN or ±∞) is
/// [`Error::NotEnoughData`]; a constant [`Impute`] needs no data. A constant
/// column standardizes to `0.0` and min–max scales to `0.0` (the divisor
/// becomes `1.0`, as in scikit-learn).
///
/// # Errors, never panics
///
/// - a step's column missing: [`Error::SchemaMismatch`] naming the step and
///   the columns present;
/// - a type a transform cannot read (strings into [`Standardize`], temporal
///   types anywhere; see [`TransformSpec`]): [`Error::TypeMismatch`];
/// - an unseen category under an `error` policy: [`Error::InvalidInput`]
///   naming the column, row and value;
/// - JSON that is malformed, from a newer version, or not a pipeline:
///   [`Error::Serialization`], [`Error::UnsupportedVersion`], [`Error::Corrupt`].
///
/// [`CategoryOrder::Frequency`]: super::CategoryOrder::Frequency
/// [`Impute`]: super::Impute
/// [`MinMax`]: super::MinMax
/// [`OneHot`]: super::OneHot
/// [`Ordinal`]: super::Ordinal
/// [`Standardize`]: super::Standardize
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransformPipeline {
    steps: Vec<TransformStep>,
    #[serde(default = "keep")]
    passthrough: bool,
}

fn keep() -> bool {
    true
}

impl Default for TransformPipeline {
    fn default() -> Self {
        TransformPipeline::new()
    }
}

/// A column on its way through the steps.
struct Column {
    field: FieldRef,
    array: ArrayRef,
    /// Whether a step wrote it (kept without passthrough).
    produced: bool,
}

fn columns_of(batch: &RecordBatch) -> Vec<Column> {
    batch
        .schema()
        .fields()
        .iter()
        .zip(batch.columns())
        .map(|(field, array)| Column {
            field: Arc::clone(field),
            array: Arc::clone(array),
            produced: false,
        })
        .collect()
}

fn missing_column<'a>(
    step: usize,
    kind: &str,
    column: &str,
    batch: Option<usize>,
    names: impl Iterator<Item = &'a str>,
) -> Error {
    let batch = batch.map(|b| format!(", batch {b}")).unwrap_or_default();
    let names = names.map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ");
    Error::SchemaMismatch {
        location: format!("transform step {step} ({kind} on `{column}`){batch}"),
        message: format!("column `{column}` is missing; the columns at this step are [{names}]"),
    }
}

fn check_unique<'a>(names: impl Iterator<Item = &'a str>) -> Result<()> {
    let mut seen = HashSet::new();
    for name in names {
        if !seen.insert(name) {
            return Err(Error::SchemaMismatch {
                location: "transform pipeline output".into(),
                message: format!(
                    "two output columns are named `{name}` (a one-hot column clashing with another column?)"
                ),
            });
        }
    }
    Ok(())
}

impl TransformPipeline {
    /// An empty pipeline that passes other columns through.
    pub fn new() -> Self {
        TransformPipeline {
            steps: Vec::new(),
            passthrough: true,
        }
    }

    /// Appends a step learning `transform` on `column`.
    pub fn step(mut self, column: impl Into<String>, transform: TransformSpec) -> Self {
        self.steps.push(TransformStep {
            column: column.into(),
            transform,
        });
        self
    }

    /// Keeps (`true`, the default) or drops the columns no step writes.
    pub fn passthrough(mut self, keep: bool) -> Self {
        self.passthrough = keep;
        self
    }

    /// The steps, in order.
    pub fn steps(&self) -> &[TransformStep] {
        &self.steps
    }

    /// Fits on one batch; see [`fit`](Self::fit).
    pub fn fit_batch(&self, batch: &RecordBatch) -> Result<FittedPipeline> {
        self.fit(std::slice::from_ref(batch))
    }

    /// Fits every step, in order, on the concatenation of `batches` (which
    /// may differ in string flavour or integer width, not in column names).
    /// Statistics are exact over all rows, whatever the batching.
    ///
    /// Errors: no batches is [`Error::NotEnoughData`]; a step's column missing
    /// from a batch is [`Error::SchemaMismatch`] naming the step, batch and
    /// columns present; then each transform's own errors (wrong type, nothing
    /// to fit on, bad options); two output columns with one name is
    /// [`Error::SchemaMismatch`].
    pub fn fit(&self, batches: &[RecordBatch]) -> Result<FittedPipeline> {
        if batches.is_empty() {
            return Err(Error::NotEnoughData {
                location: "transform pipeline fit".into(),
                message: "no batches to fit on".into(),
            });
        }
        let mut work: Vec<Vec<Column>> = batches.iter().map(columns_of).collect();
        let mut fitted = Vec::with_capacity(self.steps.len());
        for (i, step) in self.steps.iter().enumerate() {
            let arrays = work
                .iter()
                .enumerate()
                .map(|(b, cols)| {
                    cols.iter()
                        .find(|c| c.field.name() == &step.column)
                        .map(|c| c.array.as_ref())
                        .ok_or_else(|| {
                            missing_column(
                                i,
                                step.transform.kind(),
                                &step.column,
                                Some(b),
                                cols.iter().map(|c| c.field.name().as_str()),
                            )
                        })
                })
                .collect::<Result<Vec<&dyn Array>>>()?;
            let step = FittedStep {
                column: step.column.clone(),
                transform: step.transform.fit(&step.column, &arrays)?,
            };
            if i + 1 < self.steps.len() {
                for cols in &mut work {
                    apply(cols, i, &step)?;
                }
            }
            fitted.push(step);
        }
        let pipeline = FittedPipeline {
            steps: fitted,
            passthrough: self.passthrough,
        };
        pipeline.output_names(&batches[0].schema())?;
        Ok(pipeline)
    }
}

/// One fitted step: a column and what was learnt from it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FittedStep {
    column: String,
    transform: FittedTransform,
}

impl FittedStep {
    /// A step from its parts (e.g. a transform fitted on its own).
    pub fn new(column: impl Into<String>, transform: FittedTransform) -> Self {
        FittedStep {
            column: column.into(),
            transform,
        }
    }

    /// The input column.
    pub fn column(&self) -> &str {
        &self.column
    }

    /// The fitted transform.
    pub fn transform(&self) -> &FittedTransform {
        &self.transform
    }
}

/// Runs step `index` on the working columns, replacing its column in place.
fn apply(cols: &mut Vec<Column>, index: usize, step: &FittedStep) -> Result<()> {
    let Some(pos) = cols.iter().position(|c| c.field.name() == &step.column) else {
        return Err(missing_column(
            index,
            step.transform.kind(),
            &step.column,
            None,
            cols.iter().map(|c| c.field.name().as_str()),
        ));
    };
    let out = step.transform.transform(&cols[pos].field, cols[pos].array.as_ref())?;
    cols.splice(
        pos..=pos,
        out.into_iter().map(|(field, array)| Column {
            field: Arc::new(field),
            array,
            produced: true,
        }),
    );
    Ok(())
}

/// A fitted pipeline: applies its steps to serving batches and persists as JSON.
///
/// # Serving
///
/// [`transform`](Self::transform) runs each step in order on the batch's
/// columns (matched by name; other types than in training are fine as long
/// as the step accepts them) and returns a new batch with the same rows.
/// A fitted pipeline and its JSON round trip produce **bit-identical** output:
/// every parameter is an `f64` written with round-trip precision.
///
/// # JSON (`format_version` 1)
///
/// ```text
/// { "format": "mlops-transform-pipeline", "format_version": 1, "passthrough": true,
///   "steps": [
///     { "column": "age",  "transform": { "kind": "standardize", "mean": 38.03, "scale": 13.53,
///                                        "std_dev": "population", "count": 8 } },
///     { "column": "age",  "transform": { "kind": "min_max", "min": 19.0, "max": 62.0, "clip": false } },
///     { "column": "age",  "transform": { "kind": "impute", "strategy": "median", "fill": { "number": 35.25 } } },
///     { "column": "city", "transform": { "kind": "one_hot", "categories": ["oslo", "rome"],
///                                        "counts": [3, 4], "unseen": "infrequent" } },
///     { "column": "city", "transform": { "kind": "ordinal", "categories": ["lima", "oslo"],
///                                        "unseen": { "code": -1 } } } ] }
/// ```
///
/// [`from_json`](Self::from_json) rejects a newer `format_version` with
/// [`Error::UnsupportedVersion`], malformed JSON or parameters that could not
/// have been fitted (a zero scale, a repeated category) with
/// [`Error::Serialization`], and a wrong `format` with [`Error::Corrupt`].
/// The serde implementations use the same document and checks, so a
/// `FittedPipeline` can be embedded in a larger (model package) document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "PipelineDoc", into = "PipelineDoc")]
pub struct FittedPipeline {
    steps: Vec<FittedStep>,
    passthrough: bool,
}

#[derive(Serialize, Deserialize)]
struct PipelineDoc {
    format: String,
    format_version: u32,
    passthrough: bool,
    steps: Vec<FittedStep>,
}

#[derive(Deserialize)]
struct VersionProbe {
    format: Option<String>,
    format_version: Option<u32>,
}

fn check_header(format: Option<&str>, version: Option<u32>) -> Result<()> {
    if format != Some(FORMAT_NAME) {
        return Err(Error::corrupt(
            LOCATION,
            format!("`format` is {format:?}, expected \"{FORMAT_NAME}\""),
        ));
    }
    match version {
        Some(v) if v > TRANSFORM_FORMAT_VERSION || v == 0 => Err(Error::UnsupportedVersion {
            location: LOCATION.into(),
            found: v,
            supported: TRANSFORM_FORMAT_VERSION,
        }),
        None => Err(Error::corrupt(LOCATION, "missing `format_version`")),
        Some(_) => Ok(()),
    }
}

impl TryFrom<PipelineDoc> for FittedPipeline {
    type Error = Error;

    fn try_from(doc: PipelineDoc) -> Result<Self> {
        check_header(Some(&doc.format), Some(doc.format_version))?;
        Ok(FittedPipeline {
            steps: doc.steps,
            passthrough: doc.passthrough,
        })
    }
}

impl From<FittedPipeline> for PipelineDoc {
    fn from(p: FittedPipeline) -> Self {
        PipelineDoc {
            format: FORMAT_NAME.into(),
            format_version: TRANSFORM_FORMAT_VERSION,
            passthrough: p.passthrough,
            steps: p.steps,
        }
    }
}

impl FittedPipeline {
    /// A pipeline from fitted steps (e.g. transforms fitted on their own).
    pub fn from_steps(steps: Vec<FittedStep>, passthrough: bool) -> Self {
        FittedPipeline { steps, passthrough }
    }

    /// The fitted steps, in order.
    pub fn steps(&self) -> &[FittedStep] {
        &self.steps
    }

    /// Whether columns no step writes are kept.
    pub fn passthrough(&self) -> bool {
        self.passthrough
    }

    /// The names of the columns [`transform`](Self::transform) produces for
    /// batches of `input`'s schema, in order; errors as `transform` would for
    /// a missing column or a repeated output name.
    pub fn output_names(&self, input: &Schema) -> Result<Vec<String>> {
        let mut names: Vec<(String, bool)> = input.fields().iter().map(|f| (f.name().clone(), false)).collect();
        for (i, step) in self.steps.iter().enumerate() {
            let Some(pos) = names.iter().position(|(n, _)| n == &step.column) else {
                return Err(missing_column(
                    i,
                    step.transform.kind(),
                    &step.column,
                    None,
                    names.iter().map(|(n, _)| n.as_str()),
                ));
            };
            let out = step.transform.output_names(&step.column);
            names.splice(pos..=pos, out.into_iter().map(|n| (n, true)));
        }
        let names: Vec<String> = names
            .into_iter()
            .filter(|(_, produced)| self.passthrough || *produced)
            .map(|(n, _)| n)
            .collect();
        check_unique(names.iter().map(String::as_str))?;
        Ok(names)
    }

    /// Applies every step, in order, to `batch`.
    ///
    /// Errors: a missing column is [`Error::SchemaMismatch`] naming the step
    /// and the columns present; a type a step cannot read is
    /// [`Error::TypeMismatch`]; an unseen category under an `error` policy is
    /// [`Error::InvalidInput`] naming the column, row and value.
    pub fn transform(&self, batch: &RecordBatch) -> Result<RecordBatch> {
        let mut cols = columns_of(batch);
        for (i, step) in self.steps.iter().enumerate() {
            apply(&mut cols, i, step)?;
        }
        if !self.passthrough {
            cols.retain(|c| c.produced);
        }
        check_unique(cols.iter().map(|c| c.field.name().as_str()))?;
        let (fields, arrays): (Vec<FieldRef>, Vec<ArrayRef>) = cols.into_iter().map(|c| (c.field, c.array)).unzip();
        let schema = Schema::new_with_metadata(fields, batch.schema().metadata().clone());
        let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
        RecordBatch::try_new_with_options(Arc::new(schema), arrays, &options).map_err(|source| Error::Arrow {
            location: "transform pipeline output".into(),
            source,
        })
    }

    /// The JSON document (pretty-printed).
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| Error::serialization(LOCATION, e))
    }

    /// Reads a JSON document, checking the format and version first.
    pub fn from_json(json: &str) -> Result<FittedPipeline> {
        let probe: VersionProbe = serde_json::from_str(json).map_err(|e| Error::serialization(LOCATION, e))?;
        check_header(probe.format.as_deref(), probe.format_version)?;
        let doc: PipelineDoc = serde_json::from_str(json).map_err(|e| Error::serialization(LOCATION, e))?;
        FittedPipeline::try_from(doc)
    }
}
