//! The [`DriftDetector`] contract: does the current data differ from the reference?

use arrow_array::Array;
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// The outcome of one drift test on one column.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DriftResult {
    /// Method name (`"ks"`, `"psi"`, `"wasserstein"`...).
    pub method: String,
    /// The test statistic or distance.
    pub statistic: f64,
    /// The p-value, for methods that are hypothesis tests.
    pub p_value: Option<f64>,
    /// The number compared with the threshold: the p-value for tests, the distance otherwise.
    pub score: f64,
    /// The threshold the score was compared with.
    pub threshold: f64,
    /// The verdict.
    pub drifted: bool,
    /// How far `statistic` can be from the exact value, for detectors that
    /// estimate it (from sketches, samples); `None` when it is exact.
    #[serde(default)]
    pub error_bound: Option<f64>,
}

impl DriftResult {
    /// A result; `drifted` is decided by the caller because the comparison's
    /// direction depends on the method (p ≤ α for tests, distance ≥ t otherwise).
    pub fn new(
        method: impl Into<String>,
        statistic: f64,
        p_value: Option<f64>,
        score: f64,
        threshold: f64,
        drifted: bool,
    ) -> Self {
        DriftResult {
            method: method.into(),
            statistic,
            p_value,
            score,
            threshold,
            drifted,
            error_bound: None,
        }
    }

    /// The same result, with the bound on the statistic's error.
    pub fn with_error_bound(mut self, bound: f64) -> Self {
        self.error_bound = Some(bound);
        self
    }
}

/// A batch drift test between a reference column and a current column.
///
/// `mlops-monitor` implements it for each built-in method
/// (`mlops_monitor::drift::MethodDetector`), and its `DataDrift` runs a user's
/// own implementation on a column plugged in with
/// `DriftConfig::with_detector`: the report then names the detector and keeps
/// its verdict.
///
/// Contract: NaN, nulls and ±infinity are dropped before testing; a column with
/// too little data yields [`Error::NotEnoughData`](crate::Error::NotEnoughData) and never panics;
/// implementations are `Send + Sync` so columns can be tested in parallel.
pub trait DriftDetector: Send + Sync + std::fmt::Debug {
    /// Method name as reported in results.
    fn method(&self) -> &str;

    /// Tests `current` against `reference`.
    fn detect(&self, reference: &dyn Array, current: &dyn Array) -> Result<DriftResult>;
}
