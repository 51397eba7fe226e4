//! Per-row attributions for a served model, as Arrow columns.

use std::sync::Arc;

use arrow_array::{ArrayRef, Float32Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use mlops_core::{Error, ModelPackage, Result, TRAINING_PROFILE_FILE};

use super::baseline::{Baseline, average_row};
use super::gradient_model::GradientModel;
use super::integrated_gradients::integrated_gradients;
use crate::model::{CandleDense, Model, OutputKind, Weights};
use crate::{Predictor, PredictorConfig};

/// Prefix of the attribution columns: `attr_<feature>`.
pub const ATTRIBUTION_PREFIX: &str = "attr_";
/// The column naming the output each row's attributions explain.
pub const EXPLAINED_COLUMN: &str = "explained_output";

/// How explanations are computed.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ExplainConfig {
    /// Midpoint-rule points along the path from the baseline (default 32).
    pub steps: usize,
    /// The reference input (default: the training profile's averages).
    pub baseline: Baseline,
}

impl Default for ExplainConfig {
    fn default() -> Self {
        ExplainConfig {
            steps: 32,
            baseline: Baseline::ProfileMeans,
        }
    }
}

impl ExplainConfig {
    /// Sets the number of steps.
    pub fn with_steps(mut self, steps: usize) -> Self {
        self.steps = steps;
        self
    }

    /// Sets the baseline.
    pub fn with_baseline(mut self, baseline: Baseline) -> Self {
        self.baseline = baseline;
        self
    }
}

/// Attributions for a batch: one `attr_<feature>` column per model feature
/// and [`EXPLAINED_COLUMN`], row for row with the input (refused rows null).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Explanation {
    /// The attribution columns.
    pub batch: RecordBatch,
    /// Rows the door refused (their attributions are null).
    pub rejected_rows: Vec<usize>,
}

/// Explains a package's model by Integrated Gradients, through Candle's autodiff.
///
/// For a classifier each row's attributions explain the predicted class's
/// probability; for a regressor, the prediction (the first output). Features
/// are the model's, after the package's transforms, so attributions add up
/// to `F(x) − F(baseline)` in the model's own terms.
#[derive(Debug)]
pub struct Explainer {
    predictor: Predictor,
    /// The forward pass (baseline output, predicted classes).
    model: CandleDense,
    /// The same weights, differentiable in the input.
    gradients: GradientModel,
    baseline: Vec<f32>,
    steps: usize,
    baseline_output: Vec<f32>,
}

impl Explainer {
    /// An explainer for `package` (verified and smoke-tested as a [`Predictor`] is).
    pub fn from_package(package: &dyn ModelPackage, config: ExplainConfig) -> Result<Explainer> {
        let predictor = Predictor::from_package(package, PredictorConfig::default())?;
        let spec = predictor.spec().clone();
        let bytes = package.read_file(mlops_core::WEIGHTS_FILE)?;
        let weights = Weights::from_safetensors(&bytes, &spec.architecture.architecture().tensors(), &spec)?;
        let baseline = match &config.baseline {
            Baseline::ProfileMeans => {
                if !package.file_names().iter().any(|f| f == TRAINING_PROFILE_FILE) {
                    return Err(Error::NotFound {
                        what: format!(
                            "{TRAINING_PROFILE_FILE} in package `{}` (needed for a profile baseline; or choose Baseline::Zeros / Baseline::Features)",
                            package.name()
                        ),
                    });
                }
                let json = package.read_file(TRAINING_PROFILE_FILE)?;
                let text =
                    std::str::from_utf8(&json).map_err(|e| Error::corrupt(TRAINING_PROFILE_FILE, e.to_string()))?;
                let profile = mlops_data::Profile::from_json(text)?;
                let row = average_row(package.input_signature(), &profile)?;
                let (features, rows, _) = predictor.model_features(&row)?;
                if rows != 1 {
                    return Err(Error::invalid_input(
                        "explanation baseline",
                        "the training profile's average row",
                        "refused at the model's door",
                        "an average row the model accepts (or Baseline::Features)",
                    ));
                }
                features
            }
            other => other_baseline(other, predictor.spec().features.len())?,
        };
        Self::from_parts(predictor, &weights, baseline, config.steps)
    }

    /// An explainer from a predictor, its weights and a baseline in feature space.
    pub fn from_parts(predictor: Predictor, weights: &Weights, baseline: Vec<f32>, steps: usize) -> Result<Explainer> {
        let spec = predictor.spec();
        let stack = spec.architecture.dense_stack(spec.output);
        let model = CandleDense::new(&stack, weights, &candle_core::Device::Cpu)?;
        let gradients = GradientModel::new(&stack, weights)?;
        if baseline.len() != model.input_width() || steps == 0 {
            return Err(Error::invalid_input(
                "explainer",
                "baseline and steps",
                format!("{} baseline values and {steps} steps", baseline.len()),
                format!(
                    "{} values (one per model feature) and at least one step",
                    model.input_width()
                ),
            ));
        }
        let baseline_output = model.forward_columns(&baseline, 1)?;
        Ok(Explainer {
            predictor,
            model,
            gradients,
            baseline,
            steps,
            baseline_output,
        })
    }

    /// The baseline, one value per model feature.
    pub fn baseline(&self) -> &[f32] {
        &self.baseline
    }

    /// The model's outputs at the baseline.
    pub fn baseline_output(&self) -> &[f32] {
        &self.baseline_output
    }

    /// The model features attributions are given for.
    pub fn features(&self) -> &[String] {
        &self.predictor.spec().features
    }

    /// Attributions for every row of `batch` (validated at the door as a prediction is).
    pub fn explain(&self, batch: &RecordBatch) -> Result<Explanation> {
        let (feature_major, rows, rejected_rows) = self.predictor.model_features(batch)?;
        let width = self.baseline.len();
        // Feature-major from the door; the gradient path wants rows.
        let mut x = vec![0.0f32; rows * width];
        for (j, column) in feature_major.chunks_exact(rows.max(1)).enumerate().take(width) {
            for (r, &v) in column.iter().enumerate() {
                x[r * width + j] = v;
            }
        }
        let outputs = self.model.output_width();
        let values = if rows == 0 {
            Vec::new()
        } else {
            self.model.forward_columns(&feature_major, rows)?
        };
        let spec = self.predictor.spec();
        let targets: Vec<usize> = (0..rows)
            .map(|r| match spec.output {
                OutputKind::Softmax => (0..outputs)
                    .max_by(|&a, &b| values[a * rows + r].total_cmp(&values[b * rows + r]))
                    .unwrap_or(0),
                _ => 0,
            })
            .collect();
        let attributions = if rows == 0 {
            Vec::new()
        } else {
            integrated_gradients(&self.gradients, &x, rows, &self.baseline, &targets, self.steps)?
        };
        let explained: Vec<String> = targets
            .iter()
            .map(|&t| match (&spec.classes, spec.output) {
                (Some(classes), OutputKind::Softmax) => format!("proba_{}", classes.get(t).map_or("?", String::as_str)),
                (Some(classes), OutputKind::Sigmoid) => format!("proba_{}", classes.get(1).map_or("1", String::as_str)),
                _ if outputs == 1 => "prediction".to_owned(),
                _ => format!("prediction_{t}"),
            })
            .collect();
        self.assemble(batch.num_rows(), &rejected_rows, &attributions, &explained)
    }

    /// Columns for all input rows: answered rows in order, nulls where refused.
    fn assemble(
        &self,
        total: usize,
        rejected: &[usize],
        attributions: &[f32],
        explained: &[String],
    ) -> Result<Explanation> {
        let width = self.baseline.len();
        let mut answered = 0usize;
        let mut refused = rejected.iter().peekable();
        let mut slots: Vec<Option<usize>> = Vec::with_capacity(total);
        for r in 0..total {
            if refused.peek() == Some(&&r) {
                refused.next();
                slots.push(None);
            } else {
                slots.push(Some(answered));
                answered += 1;
            }
        }
        let mut fields = Vec::with_capacity(width + 1);
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(width + 1);
        for (j, feature) in self.features().iter().enumerate() {
            fields.push(Field::new(
                format!("{ATTRIBUTION_PREFIX}{feature}"),
                DataType::Float32,
                true,
            ));
            let values: Float32Array = slots.iter().map(|s| s.map(|i| attributions[i * width + j])).collect();
            columns.push(Arc::new(values));
        }
        fields.push(Field::new(EXPLAINED_COLUMN, DataType::Utf8, true));
        let names: StringArray = slots.iter().map(|s| s.map(|i| explained[i].as_str())).collect();
        columns.push(Arc::new(names));
        let batch = RecordBatch::try_new_with_options(
            Arc::new(Schema::new(fields)),
            columns,
            &arrow_array::RecordBatchOptions::new().with_row_count(Some(total)),
        )
        .map_err(|e| Error::Arrow {
            location: "explanation".into(),
            source: e,
        })?;
        Ok(Explanation {
            batch,
            rejected_rows: rejected.to_vec(),
        })
    }

    /// Global importance: the mean absolute attribution of each feature over
    /// the rows of `batch`, largest first.
    pub fn global_importance(&self, batch: &RecordBatch) -> Result<Vec<(String, f64)>> {
        let e = self.explain(batch)?;
        let mut out: Vec<(String, f64)> = self
            .features()
            .iter()
            .enumerate()
            .map(|(j, f)| {
                let column = e.batch.column(j);
                let values =
                    arrow_array::cast::AsArray::as_primitive::<arrow_array::types::Float32Type>(column.as_ref());
                let (sum, n) = values
                    .iter()
                    .flatten()
                    .fold((0.0f64, 0usize), |(s, n), v| (s + f64::from(v).abs(), n + 1));
                (f.clone(), if n == 0 { 0.0 } else { sum / n as f64 })
            })
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1));
        Ok(out)
    }
}

fn other_baseline(baseline: &Baseline, width: usize) -> Result<Vec<f32>> {
    match baseline {
        Baseline::Zeros => Ok(vec![0.0; width]),
        Baseline::Features(values) => Ok(values.clone()),
        Baseline::ProfileMeans => Err(Error::invalid_input(
            "explainer",
            "baseline",
            "profile means without a package",
            "Baseline::Zeros or Baseline::Features",
        )),
    }
}
