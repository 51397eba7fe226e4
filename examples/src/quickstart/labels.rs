//! Labels: what a predictor answered for labelled rows, holdout metrics, and
//! labels that arrive after the prediction, per version, for a rollout's gate.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use arrow_array::RecordBatch;
use arrow_array::cast::AsArray;
use arrow_array::types::Float32Type;
use mlops_monitor::performance::BinaryMetrics;
use mlops_monitor::performance::metrics::binary_metrics;
use mlops_serve::deployment::{Clock, LabelledMetric, MetricReading};
use mlops_serve::{Predict, Predictor};

use super::BoxError;

/// The label column: whether the loan defaulted.
pub(crate) const LABEL: &str = "defaulted";

/// What a predictor answered for labelled rows, rows it refused left out;
/// with a segment column, each row's segment too.
#[derive(Default)]
pub(crate) struct Labelled {
    /// The true labels.
    pub truth: Vec<bool>,
    /// The predicted probability of a default.
    pub score: Vec<f64>,
    /// The predicted labels.
    pub predicted: Vec<bool>,
    /// Each row's segment, when one was asked for.
    pub segments: Vec<String>,
}

/// Runs `predictor` over labelled `batches`.
pub(crate) fn labelled_answers(
    predictor: &Predictor,
    batches: &[RecordBatch],
    segment: Option<&str>,
) -> Result<Labelled, BoxError> {
    let mut out = Labelled::default();
    for batch in batches {
        let answer = predictor.predict(batch)?;
        let labels = answer
            .column_by_name("label")
            .ok_or("no label column")?
            .as_string::<i32>()
            .clone();
        let proba = answer
            .column_by_name("proba_defaulted")
            .ok_or("no proba_defaulted column")?
            .as_primitive::<Float32Type>()
            .clone();
        let truth = batch
            .column_by_name(LABEL)
            .ok_or("no label column")?
            .as_boolean()
            .clone();
        let groups = match segment {
            Some(name) => {
                let column = batch.column_by_name(name).ok_or("no segment column")?;
                Some(arrow_cast::cast(column, &arrow_schema::DataType::Utf8)?)
            }
            None => None,
        };
        let groups = groups.as_ref().map(|g| g.as_string::<i32>());
        for row in 0..batch.num_rows() {
            let segment_known = groups.is_none_or(|g| arrow_array::Array::is_valid(g, row));
            if arrow_array::Array::is_valid(&labels, row) && segment_known {
                out.truth.push(truth.value(row));
                out.score.push(f64::from(proba.value(row)));
                out.predicted.push(labels.value(row) == "defaulted");
                if let Some(g) = groups {
                    out.segments.push(g.value(row).to_owned());
                }
            }
        }
    }
    Ok(out)
}

/// Accuracy, AUC and log loss of `predictor` on the holdout.
pub(crate) fn holdout_metrics(predictor: &Predictor, holdout: &[RecordBatch]) -> Result<BinaryMetrics, BoxError> {
    let a = labelled_answers(predictor, holdout, None)?;
    Ok(binary_metrics(&a.truth, &a.score, &a.predicted)?)
}

/// The cross-entropy of one answer, clipped as scikit-learn's `log_loss` clips.
pub(crate) fn row_log_loss(truth: bool, score: f64) -> f64 {
    let p = if truth { score } else { 1.0 - score };
    -p.clamp(f64::EPSILON, 1.0 - f64::EPSILON).ln()
}

/// Log loss per version over labels that arrive `delay` after the answer (a
/// loan's outcome is known later than its score). What a rollout's
/// [`MetricVsBaseline`](mlops_serve::deployment::MetricVsBaseline) gate reads:
/// only labels that have arrived by the deployment's clock count.
#[derive(Debug)]
pub(crate) struct DelayedLabels {
    clock: Arc<dyn Clock>,
    delay: Duration,
    state: Mutex<LabelState>,
}

#[derive(Debug, Default)]
struct LabelState {
    /// Answers waiting for their label: when it arrives, the version, the loss.
    pending: VecDeque<(Duration, u64, f64)>,
    /// Per version: summed loss and count of the labels that arrived.
    arrived: HashMap<u64, (f64, u64)>,
}

impl DelayedLabels {
    /// Labels arrive `delay` after each answer, on `clock`.
    pub(crate) fn new(clock: Arc<dyn Clock>, delay: Duration) -> Self {
        DelayedLabels {
            clock,
            delay,
            state: Mutex::new(LabelState::default()),
        }
    }

    /// Records an answer of `version` whose label will be `truth`.
    pub(crate) fn answered(&self, version: u64, score: f64, truth: bool) {
        let due = self.clock.elapsed() + self.delay;
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.pending.push_back((due, version, row_log_loss(truth, score)));
    }
}

impl LabelledMetric for DelayedLabels {
    fn name(&self) -> &str {
        "log_loss"
    }

    fn read(&self, version: u64) -> Option<MetricReading> {
        let now = self.clock.elapsed();
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        // Answers are recorded in clock order, so the due ones are at the front.
        while state.pending.front().is_some_and(|(due, _, _)| *due <= now) {
            if let Some((_, v, loss)) = state.pending.pop_front() {
                let entry = state.arrived.entry(v).or_default();
                entry.0 += loss;
                entry.1 += 1;
            }
        }
        state.arrived.get(&version).map(|&(sum, n)| MetricReading {
            value: sum / n as f64,
            samples: n,
        })
    }
}
