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
        }
    }
}

/// A batch drift test between a reference column and a current column.
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
