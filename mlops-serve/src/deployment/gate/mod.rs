//! Gates: checks with three outcomes that decide when a rollout moves.
//!
//! A gate reads what the candidate did (and, for relative gates, what the
//! stable arm did over the same window) and says [`Verdict::Pass`],
//! [`Verdict::Fail`] or [`Verdict::NeedMoreData`]. Below its `min_samples` it
//! always says `NeedMoreData`, and a rollout never counts that as a failure:
//! a quiet hour is not a bad canary.

mod absolute;
mod relative;

pub use absolute::{ErrorRate, LatencyQuantile, OutputInvalidRate, RejectedShare};
pub use relative::{
    ErrorRateVsBaseline, LabelledMetric, LatencyVsBaseline, MetricReading, MetricVsBaseline, ScoreDrift,
};

use std::fmt::Debug;

use serde::{Deserialize, Serialize};

use super::window::WindowSnapshot;

/// A gate's outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The candidate meets the condition.
    Pass,
    /// The candidate breaks it.
    Fail,
    /// Too few samples to judge; never a failure.
    NeedMoreData,
}

/// What a gate saw and decided.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GateReading {
    /// The gate's name (e.g. `error_rate`).
    pub gate: String,
    /// The outcome.
    pub verdict: Verdict,
    /// The measured value (a rate, µs, a p-value…), when there was one.
    pub value: Option<f64>,
    /// What the value was compared with, when the gate has a fixed threshold.
    pub threshold: Option<f64>,
    /// Samples from the candidate.
    pub candidate_samples: u64,
    /// Samples from the baseline (relative gates).
    pub baseline_samples: Option<u64>,
    /// One line a person can act on.
    pub detail: String,
}

impl GateReading {
    /// A reading with no value yet: `NeedMoreData`.
    pub fn need_more_data(gate: &str, threshold: f64, candidate: u64, baseline: Option<u64>, detail: String) -> Self {
        GateReading {
            gate: gate.to_owned(),
            verdict: Verdict::NeedMoreData,
            value: None,
            threshold: threshold.is_finite().then_some(threshold),
            candidate_samples: candidate,
            baseline_samples: baseline,
            detail,
        }
    }

    /// A reading that passed when `pass` holds, else failed.
    pub fn judged(
        gate: &str,
        pass: bool,
        value: f64,
        threshold: f64,
        candidate: u64,
        baseline: Option<u64>,
        detail: String,
    ) -> Self {
        GateReading {
            gate: gate.to_owned(),
            verdict: if pass { Verdict::Pass } else { Verdict::Fail },
            value: Some(value),
            threshold: threshold.is_finite().then_some(threshold),
            candidate_samples: candidate,
            baseline_samples: baseline,
            detail,
        }
    }
}

/// What a gate judges: the candidate's window and the baseline's over the same time.
#[derive(Clone, Copy, Debug)]
pub struct GateInput<'a> {
    /// The version being rolled out.
    pub candidate: &'a WindowSnapshot,
    /// The version it would replace, over the same window.
    pub baseline: &'a WindowSnapshot,
}

/// A check on a rollout. Implement it for checks of your own (a business
/// metric, an external probe); built-in gates are in this module.
pub trait Gate: Send + Sync + Debug {
    /// A short name for the history (`error_rate`, `latency_p99`…).
    fn name(&self) -> String;

    /// Judges the candidate.
    fn evaluate(&self, input: &GateInput<'_>) -> GateReading;
}
