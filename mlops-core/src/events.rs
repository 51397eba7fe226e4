//! Prediction events: how serving reports what it did, without depending on monitoring.

use std::collections::BTreeMap;

use arrow_array::RecordBatch;

/// What the model answered for one request (or one batch of requests).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct PredictionEvent {
    /// Model name.
    pub model: String,
    /// Model version that answered.
    pub version: u64,
    /// Caller's id of the request, used to join labels that arrive later.
    pub request_id: String,
    /// When, in milliseconds since the epoch.
    pub at_ms: i64,
    /// Time spent answering, in microseconds.
    pub latency_us: u64,
    /// Whether the request succeeded.
    pub ok: bool,
    /// The input rows, when the caller wants them monitored for drift (cheap to clone: Arrow buffers are shared).
    pub features: Option<RecordBatch>,
    /// Positive-class score of a binary classifier, or the prediction of a regressor.
    pub score: Option<f64>,
    /// Predicted class of a binary classifier.
    pub predicted: Option<bool>,
    /// Segment labels for breakdowns (e.g. `country → fr`).
    pub segments: BTreeMap<String, String>,
}

impl PredictionEvent {
    /// A successful event with no payload; fill the rest with the `with_*` setters.
    pub fn new(model: impl Into<String>, version: u64, request_id: impl Into<String>, at_ms: i64) -> Self {
        PredictionEvent {
            model: model.into(),
            version,
            request_id: request_id.into(),
            at_ms,
            latency_us: 0,
            ok: true,
            features: None,
            score: None,
            predicted: None,
            segments: BTreeMap::new(),
        }
    }

    /// Sets the latency.
    pub fn with_latency_us(mut self, us: u64) -> Self {
        self.latency_us = us;
        self
    }

    /// Marks the request as failed.
    pub fn failed(mut self) -> Self {
        self.ok = false;
        self
    }

    /// Attaches the input rows.
    pub fn with_features(mut self, batch: RecordBatch) -> Self {
        self.features = Some(batch);
        self
    }

    /// Sets a binary classifier's score and predicted class.
    pub fn with_binary(mut self, score: f64, predicted: bool) -> Self {
        self.score = Some(score);
        self.predicted = Some(predicted);
        self
    }

    /// Sets a regressor's prediction.
    pub fn with_value(mut self, value: f64) -> Self {
        self.score = Some(value);
        self
    }

    /// Adds a segment label.
    pub fn with_segment(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.segments.insert(key.into(), value.into());
        self
    }
}

/// A ground-truth label that arrives after the prediction it belongs to.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum LabelValue {
    /// The true class of a binary classification.
    Binary(bool),
    /// The true value of a regression.
    Value(f64),
}

/// Receives prediction events and labels.
///
/// Contract: `record` and `record_label` never block and never fail the
/// request path — an implementation that cannot keep up drops events and
/// counts them. Serving holds an `Arc<dyn PredictionSink>`; monitoring
/// implements it.
pub trait PredictionSink: Send + Sync + std::fmt::Debug {
    /// Reports one prediction.
    fn record(&self, event: PredictionEvent);

    /// Reports the label of an earlier prediction.
    fn record_label(&self, model: &str, request_id: &str, at_ms: i64, label: LabelValue);
}
