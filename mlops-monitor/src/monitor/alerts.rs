//! Alert policies: conditions on what the monitor measured, and the callbacks they call.

use std::sync::Arc;

use serde::Serialize;

use crate::drift::DriftReport;

/// A metric a policy can watch, from each closed performance window.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WatchedMetric {
    /// Binary classification accuracy.
    Accuracy,
    /// Binary classification F1.
    F1,
    /// Binary classification ROC AUC.
    RocAuc,
    /// Regression R².
    R2,
}

/// When to raise an alert.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertPolicy {
    /// The share of drifted columns in a drift evaluation is at least this.
    DriftShareAtLeast(f64),
    /// The metric is below `threshold` in `windows` consecutive performance windows.
    MetricBelow {
        /// The metric.
        metric: WatchedMetric,
        /// The floor.
        threshold: f64,
        /// Consecutive windows below the floor before alerting.
        windows: usize,
    },
    /// An online detector (Page–Hinkley on the model's scores) signalled drift.
    ScoreStreamDrift,
    /// Events were dropped because the monitor could not keep up.
    EventsDropped,
}

impl AlertPolicy {
    /// The policy's snake-case name, as serialized and as the `policy` label of
    /// [`ALERTS_METRIC`](crate::export::ALERTS_METRIC).
    pub fn name(&self) -> &'static str {
        match self {
            AlertPolicy::DriftShareAtLeast(_) => "drift_share_at_least",
            AlertPolicy::MetricBelow { .. } => "metric_below",
            AlertPolicy::ScoreStreamDrift => "score_stream_drift",
            AlertPolicy::EventsDropped => "events_dropped",
        }
    }
}

/// A raised alert, passed to every callback.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Alert {
    /// The policy that fired.
    pub policy: AlertPolicy,
    /// Model name.
    pub model: String,
    /// What was measured (share, metric value, dropped count…).
    pub value: f64,
    /// Human-readable explanation.
    pub message: String,
    /// The drift report behind a [`AlertPolicy::DriftShareAtLeast`] alert:
    /// the evidence a callback writes out (as JSON or
    /// [`html::render`](crate::drift::html::render)) or retrains on.
    pub drift: Option<Box<DriftReport>>,
}

/// A user callback: the hook for paging, retraining, rolling back.
pub type AlertCallback = Arc<dyn Fn(&Alert) + Send + Sync>;
