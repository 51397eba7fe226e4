//! [`Predictor`]: a model package made ready to answer — verified, built on
//! its device, smoke-tested — answering Arrow batches with Arrow batches.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use arrow_array::{ArrayRef, RecordBatch, UInt32Array};
use arrow_schema::SchemaRef;
use mlops_core::{
    EXPECTED_OUTPUT_FILE, Error, FieldSpec, INPUT_EXAMPLE_FILE, ModelPackage, PredictionEvent, Result, Signature,
    TRANSFORMS_FILE, WEIGHTS_FILE,
};
use mlops_data::FittedPipeline;

use crate::clean_path::CleanPath;
use crate::device::ServeDevice;
use crate::door::admit;
use crate::example_rows::{compare, rows_to_batch};
use crate::head::Head;
use crate::model::{Model, ModelSpec, Weights};
use crate::pieces::{PieceRunner, Split, run_shared};
use crate::predict::{Predict, Prediction};
use crate::predictor_config::PredictorConfig;

/// A model ready to answer: the package's model on its device, its fitted
/// transforms, its signatures and the door's policies.
///
/// Built by [`from_package`](Self::from_package), which verifies the package
/// (digests; the signature when trusted keys are configured), builds the model
/// and runs the package's input example through the whole path, refusing the
/// package when the answer differs from the recorded one.
///
/// A request goes: door (columns by name, lossless casts, row rules) →
/// transforms → feature columns → model → answer columns → answer checks. A
/// large batch is cut into pieces spread over threads, each running the model
/// single-threaded, so memory is bounded by the pieces in flight.
///
/// A row's answer does not depend on the other rows, but its last bits may
/// depend on how many rows are computed together: fewer than four rows take
/// a one-row kernel path whose sums round differently (observed: 1 ulp).
#[derive(Debug)]
pub struct Predictor {
    name: String,
    spec: ModelSpec,
    /// The model and transforms, shared with the threads that help answer a large batch.
    runner: Arc<PieceRunner>,
    input_signature: Signature,
    output_signature: Signature,
    head: Head,
    input_schema: SchemaRef,
    /// What the door admits batches as (see `door::admitted_schema`).
    admitted_schema: SchemaRef,
    /// The door's short way for clean small batches (see `clean_path.rs`),
    /// when the model reads float inputs directly.
    clean_path: Option<CleanPath>,
    config: PredictorConfig,
    device: ServeDevice,
    requests: AtomicU64,
    at_door: String,
    at_answer: String,
}

impl Predictor {
    /// Builds a predictor from a package and runs its smoke test.
    ///
    /// Errors: a model config that is not a valid [`ModelSpec`]; weights that
    /// are missing, of the wrong shape or not safetensors; transforms that do
    /// not parse; an untrusted signature (when keys are configured); an
    /// example whose answer differs ([`Error::SmokeTestFailed`] saying by how much).
    pub fn from_package(package: &dyn ModelPackage, config: PredictorConfig) -> Result<Predictor> {
        if !config.trusted_keys.is_empty() {
            let signature = package.package_signature().ok_or_else(|| Error::SignatureRejected {
                reason: format!(
                    "package `{}` is not signed and trusted keys are configured",
                    package.name()
                ),
            })?;
            config.trusted_keys.verify(&package.digest(), signature)?;
        }
        let spec = ModelSpec::from_json_value(&package.manifest().model_config)?;
        let weights_bytes = package.read_file(WEIGHTS_FILE)?;
        let architecture = spec.architecture.architecture();
        let weights = Weights::from_safetensors(&weights_bytes, &architecture.tensors(), &spec)?;
        let transforms = if package.file_names().iter().any(|f| f == TRANSFORMS_FILE) {
            let bytes = package.read_file(TRANSFORMS_FILE)?;
            let json = std::str::from_utf8(&bytes).map_err(|e| Error::corrupt(TRANSFORMS_FILE, e.to_string()))?;
            Some(FittedPipeline::from_json(json)?)
        } else {
            None
        };
        let predictor = Self::from_parts(
            package.name(),
            spec,
            &weights,
            transforms,
            package.input_signature().clone(),
            package.output_signature().clone(),
            config,
        )?;
        predictor.smoke_test(package)?;
        Ok(predictor)
    }

    /// Builds a predictor from parts already in memory (a model just trained,
    /// a test). An empty input signature means: the spec's features, as
    /// non-null `Float64` columns (only without transforms).
    pub fn from_parts(
        name: &str,
        spec: ModelSpec,
        weights: &Weights,
        transforms: Option<FittedPipeline>,
        input_signature: Signature,
        output_signature: Signature,
        config: PredictorConfig,
    ) -> Result<Predictor> {
        spec.validate()?;
        config.validation.validate()?;
        let input_signature = if input_signature.fields.is_empty() {
            if transforms.is_some() {
                return Err(Error::invalid_input(
                    "package",
                    format!("model `{name}`"),
                    "transforms but no input signature",
                    "an input signature naming the columns the transforms read",
                ));
            }
            Signature::new(
                spec.features
                    .iter()
                    .map(|f| FieldSpec::new(f, arrow_schema::DataType::Float64, false))
                    .collect(),
            )?
        } else {
            input_signature
        };
        let device = ServeDevice::select(config.device);
        let model = spec.architecture.architecture().build(weights, spec.output, &device)?;
        let head = Head::new(&spec, model.output_width());
        let admitted_schema = crate::door::admitted_schema(&input_signature);
        // Without transforms the model reads the admitted columns: where each
        // feature sits there is known now, not looked up per request.
        let admitted_positions = if transforms.is_none() {
            spec.features
                .iter()
                .map(|f| admitted_schema.index_of(f).ok())
                .collect::<Option<Vec<usize>>>()
                .map(|positions| (admitted_schema.clone(), positions))
        } else {
            None
        };
        let clean_path = if transforms.is_none() {
            CleanPath::new(&input_signature, &spec.features, &config.validation)
        } else {
            None
        };
        Ok(Predictor {
            name: name.to_owned(),
            clean_path,
            input_schema: Arc::new(input_signature.to_arrow_schema()),
            admitted_schema,
            at_door: format!("model `{name}` input"),
            at_answer: format!("model `{name}` output"),
            runner: Arc::new(PieceRunner {
                model,
                transforms,
                features: spec.features.clone(),
                at_door: format!("model `{name}` input"),
                at_answer: format!("model `{name}` output"),
                max_reported_rows: config.validation.max_reported_rows,
                admitted: admitted_positions,
            }),
            spec,
            input_signature,
            output_signature,
            head,
            config,
            device,
            requests: AtomicU64::new(0),
        })
    }

    fn smoke_test(&self, package: &dyn ModelPackage) -> Result<()> {
        let files = package.file_names();
        let has = |f: &str| files.iter().any(|n| n == f);
        if !(has(INPUT_EXAMPLE_FILE) && has(EXPECTED_OUTPUT_FILE)) {
            if self.config.require_example {
                return Err(Error::NotFound {
                    what: format!(
                        "input example and expected output of package `{}` (required by the predictor config)",
                        self.name
                    ),
                });
            }
            tracing::warn!(model = %self.name, "package has no input example: loaded without a smoke test");
            return Ok(());
        }
        let parse = |file: &str| -> Result<Vec<serde_json::Value>> {
            let bytes = package.read_file(file)?;
            serde_json::from_slice(&bytes).map_err(|e| Error::serialization(file, e))
        };
        let input = rows_to_batch(&parse(INPUT_EXAMPLE_FILE)?, &self.input_signature, INPUT_EXAMPLE_FILE)?;
        let answer = self.predict_inner(&input, false)?.batch;
        compare(
            &answer,
            &parse(EXPECTED_OUTPUT_FILE)?,
            self.config.smoke_tolerance,
            &format!("package `{}`", self.name),
        )
    }

    /// The model description.
    pub fn spec(&self) -> &ModelSpec {
        &self.spec
    }

    /// The input signature requests are checked against.
    pub fn input_signature(&self) -> &Signature {
        &self.input_signature
    }

    /// The device the model runs on.
    pub fn device(&self) -> &ServeDevice {
        &self.device
    }

    /// The model itself (for benchmarks against the bare forward pass).
    pub fn model(&self) -> &dyn Model {
        self.runner.model.as_ref()
    }

    fn predict_inner(&self, batch: &RecordBatch, report: bool) -> Result<Prediction> {
        let started = Instant::now();
        let result = self.answer(batch);
        if report {
            self.report(batch, &result, started);
        }
        result
    }

    /// Validation at the door: the rows the model will see (refused rows
    /// removed), and what the door found.
    fn admit(&self, batch: &RecordBatch) -> Result<crate::door::Admitted> {
        admit(
            &self.input_signature,
            &self.admitted_schema,
            batch,
            &self.config.validation,
            &self.at_door,
        )
    }

    /// The model's feature matrix (feature-major) for the rows of `batch` the
    /// door accepts, after the package's transforms: exactly what the model
    /// would be given. Also the indices of the refused rows, ascending.
    pub(crate) fn model_features(&self, batch: &RecordBatch) -> Result<(Vec<f32>, usize, Vec<usize>)> {
        let admitted = self.admit(batch)?;
        let matrix = self.runner.transformed_features(&admitted.batch)?;
        Ok((matrix, admitted.batch.num_rows(), admitted.rejected_rows))
    }

    fn answer(&self, batch: &RecordBatch) -> Result<Prediction> {
        if let Some(answer) = self.answer_clean(batch)? {
            return Ok(answer);
        }
        let rows = batch.num_rows();
        let admitted = self.admit(batch)?;
        let values = self.run_pieces(&admitted.batch)?;
        let answered = admitted.batch.num_rows();
        let batch = self.answer_batch(values, answered, rows, &admitted.rejected_rows)?;
        Ok(Prediction {
            batch,
            rejected_rows: admitted.rejected_rows,
            rejected: admitted.rejected,
            flagged: admitted.flagged,
        })
    }

    /// The door's short way (see `clean_path.rs`): the answer to a batch
    /// small enough to be one piece on which the door finds nothing; `None`
    /// when it does not apply and the full door must see the batch.
    fn answer_clean(&self, batch: &RecordBatch) -> Result<Option<Prediction>> {
        let Some(path) = &self.clean_path else {
            return Ok(None);
        };
        let rows = batch.num_rows();
        if rows == 0 || rows > self.split().piece_rows(rows) {
            return Ok(None);
        }
        let runner = &self.runner;
        let values = crate::scratch::with_buffer(rows * runner.features.len(), |matrix| {
            if path.fill(batch, matrix) {
                runner.forward(matrix, rows).map(Some)
            } else {
                Ok(None)
            }
        })?;
        match values {
            Some(values) => Ok(Some(Prediction::clean(self.answer_batch(values, rows, rows, &[])?))),
            None => Ok(None),
        }
    }

    /// The answer's batch from output-major `values` for the `answered`
    /// rows, after its checks; the `rejected` rows of the request's `rows` get nulls.
    fn answer_batch(&self, values: Vec<f32>, answered: usize, rows: usize, rejected: &[usize]) -> Result<RecordBatch> {
        self.head.check(
            &values,
            answered,
            &self.output_signature,
            self.config.validation.probability_tolerance,
            self.config.validation.max_reported_rows,
            &self.at_answer,
        )?;
        let mut columns = self.head.answer(values, answered);
        if !rejected.is_empty() {
            columns = self.with_null_rows(columns, rows, rejected)?;
        }
        RecordBatch::try_new_with_options(
            self.head.schema(),
            columns,
            &arrow_array::RecordBatchOptions::new().with_row_count(Some(rows)),
        )
        .map_err(|e| Error::Arrow {
            location: self.at_answer.clone(),
            source: e,
        })
    }

    /// Answers for all rows with nulls where rows were refused.
    fn with_null_rows(&self, columns: Vec<ArrayRef>, rows: usize, rejected: &[usize]) -> Result<Vec<ArrayRef>> {
        let mut next = 0u32;
        let mut refused = rejected.iter().peekable();
        let indices: UInt32Array = (0..rows)
            .map(|r| {
                if refused.peek() == Some(&&r) {
                    refused.next();
                    None
                } else {
                    next += 1;
                    Some(next - 1)
                }
            })
            .collect();
        columns
            .iter()
            .map(|c| {
                arrow_select::take::take(c.as_ref(), &indices, None).map_err(|e| Error::Arrow {
                    location: self.at_answer.clone(),
                    source: e,
                })
            })
            .collect()
    }

    /// Transforms and runs the model over pieces of the batch, shared by
    /// the calling thread and pool helpers when the batch is large enough;
    /// output-major values for all its rows.
    fn run_pieces(&self, batch: &RecordBatch) -> Result<Vec<f32>> {
        run_shared(&self.runner, batch, self.split())
    }

    /// How batches are cut into pieces and spread over threads.
    fn split(&self) -> Split {
        // On a GPU the device does the parallel work: pieces there only
        // bound memory, one after the other on the calling thread.
        let threads = if self.device.is_gpu() { 1 } else { self.config.threads };
        Split {
            threads: threads.max(1),
            min_rows: self.config.min_rows_per_thread,
            max_rows: self.config.max_rows_per_piece,
            spin: self.config.helper_spin,
        }
    }

    fn report(&self, batch: &RecordBatch, result: &Result<Prediction>, started: Instant) {
        let Some(sink) = &self.config.sink else { return };
        let seq = self.requests.fetch_add(1, Ordering::Relaxed);
        let mut event = PredictionEvent::new(
            &self.name,
            self.config.version.unwrap_or(0),
            format!("{}-{seq}", self.name),
            mlops_core::time::now_ms(),
        )
        .with_latency_us(u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX))
        .with_features(batch.clone());
        if result.is_err() {
            event = event.failed();
        }
        // The sink's contract is never to block or fail; a sink that panics
        // anyway must not fail the request it reports.
        if std::panic::catch_unwind(AssertUnwindSafe(|| sink.record(event))).is_err() {
            tracing::warn!(model = %self.name, "prediction sink panicked; event dropped");
        }
    }
}

impl Predict for Predictor {
    fn version(&self) -> Option<u64> {
        self.config.version
    }

    fn model_name(&self) -> &str {
        &self.name
    }

    fn input_schema(&self) -> SchemaRef {
        self.input_schema.clone()
    }

    fn output_schema(&self) -> SchemaRef {
        self.head.schema()
    }

    fn predict_detailed(&self, batch: &RecordBatch) -> Result<Prediction> {
        self.predict_inner(batch, true)
    }
}
