//! One live version of a model inside a deployment.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type};
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;

use super::shadow::ShadowPairs;
use super::window::{Outcome, Window, WindowSnapshot};
use crate::head::{PREDICTION_COLUMN, PROBA_PREFIX};
use crate::{Error, Predict, Prediction, Result};

/// A version, its predictor, and what it did since its window opened.
pub(crate) struct Arm {
    pub(crate) version: u64,
    pub(crate) predictor: Arc<dyn Predict>,
    window: ArcSwap<Window>,
    /// Comparisons with the primary's answers, when this arm runs as a shadow.
    pub(crate) pairs: ShadowPairs,
    /// Index of the score column in the predictor's output schema.
    score_column: Option<usize>,
}

impl fmt::Debug for Arm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Arm")
            .field("version", &self.version)
            .field("model", &self.predictor.model_name())
            .finish_non_exhaustive()
    }
}

impl Arm {
    pub(crate) fn new(version: u64, predictor: Arc<dyn Predict>, now: Duration) -> Result<Arm> {
        if let Some(own) = predictor.version().filter(|&own| own != version) {
            return Err(Error::invalid_input(
                "deployment arm",
                format!("model `{}`", predictor.model_name()),
                format!("a predictor configured as version {own} loaded as version {version}"),
                "the version the predictor reports in its events (PredictorConfig::version)",
            ));
        }
        let score_column = score_column(&predictor);
        Ok(Arm {
            version,
            window: ArcSwap::from_pointee(Window::new(now, version)),
            pairs: ShadowPairs::new(version),
            predictor,
            score_column,
        })
    }

    /// Answers `batch` and counts the outcome in the current window.
    pub(crate) fn answer(&self, batch: &RecordBatch, started: std::time::Instant) -> Result<Prediction> {
        let result = self.predictor.predict_detailed(batch);
        self.count(batch.num_rows(), &result, started.elapsed());
        result
    }

    pub(crate) fn count(&self, rows: usize, result: &Result<Prediction>, latency: Duration) {
        let window = self.window.load();
        let rejected = result.as_ref().map_or(0, |p| p.rejected_rows.len());
        window.record(Outcome::of(result), rows, rejected, latency);
        if let (Ok(prediction), Some(column)) = (result, self.score_column) {
            for score in scores(&prediction.batch, column) {
                window.record_score(score);
            }
        }
    }

    pub(crate) fn window_requests(&self) -> u64 {
        self.window.load().requests()
    }

    pub(crate) fn snapshot(&self, now: Duration) -> WindowSnapshot {
        self.window.load().snapshot(self.version, now)
    }

    /// Starts a new window (the old one's counts are dropped).
    pub(crate) fn open_window(&self, now: Duration) {
        self.window
            .store(Arc::new(Window::new(now, self.version ^ now.as_nanos() as u64)));
    }

    pub(crate) fn score_column(&self) -> Option<usize> {
        self.score_column
    }
}

/// The column whose values the gates and the shadow compare as "the score":
/// the last class's probability for a classifier (the positive class of a
/// binary one), else `prediction` (or `prediction_0`).
fn score_column(predictor: &Arc<dyn Predict>) -> Option<usize> {
    let schema = predictor.output_schema();
    let floats = |name: &str| {
        schema
            .index_of(name)
            .ok()
            .filter(|&i| matches!(schema.field(i).data_type(), DataType::Float32 | DataType::Float64))
    };
    schema
        .fields()
        .iter()
        .rposition(|f| f.name().starts_with(PROBA_PREFIX))
        .or_else(|| floats(PREDICTION_COLUMN))
        .or_else(|| floats(&format!("{PREDICTION_COLUMN}_0")))
        .or_else(|| {
            schema
                .fields()
                .iter()
                .position(|f| matches!(f.data_type(), DataType::Float32 | DataType::Float64))
        })
}

/// The non-null values of float column `column` of `batch`, as f64.
pub(crate) fn scores(batch: &RecordBatch, column: usize) -> Vec<f64> {
    let Some(array) = batch.columns().get(column) else {
        return Vec::new();
    };
    if let Some(a) = array.as_primitive_opt::<Float32Type>() {
        a.iter().flatten().map(f64::from).collect()
    } else if let Some(a) = array.as_primitive_opt::<Float64Type>() {
        a.iter().flatten().collect()
    } else {
        Vec::new()
    }
}

/// Row `row` of float column `column`, when present and not null.
pub(crate) fn score_at(batch: &RecordBatch, column: usize, row: usize) -> Option<f64> {
    let array = batch.columns().get(column)?;
    if row >= array.len() || array.is_null(row) {
        return None;
    }
    if let Some(a) = array.as_primitive_opt::<Float32Type>() {
        Some(f64::from(a.value(row)))
    } else {
        array.as_primitive_opt::<Float64Type>().map(|a| a.value(row))
    }
}
