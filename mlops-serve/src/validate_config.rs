//! Policies for validation at the door: what happens to rows that break a rule.

use mlops_core::{Error, Result};
use serde::{Deserialize, Serialize};

/// What happens to nulls the signature does not accept, and to NaN or ±∞ in
/// columns whose signature does not allow them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MissingValuePolicy {
    /// The whole batch is refused ([`Error::Rejected`]).
    RejectBatch,
    /// Those rows are refused (null outputs, listed in the answer); the others are answered.
    #[default]
    RejectRows,
    /// The values go on to the package's transforms, which impute them. A
    /// value no transform imputes is refused when it reaches the model.
    Impute,
}

/// What happens to values outside a rule inferred from the training profile
/// (a numeric range, the set of known categories).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RulePolicy {
    /// Not checked.
    Ignore,
    /// Answered, and listed in [`Prediction::flagged`](crate::Prediction::flagged).
    #[default]
    Flag,
    /// Those rows are refused; the others are answered.
    RejectRows,
    /// The whole batch is refused.
    RejectBatch,
}

/// How strict the door is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ValidationConfig {
    /// Nulls, NaN and ±∞ the signature does not accept. Default: reject those rows.
    pub missing_values: MissingValuePolicy,
    /// Numeric values outside the signature's range. Default: flag.
    pub out_of_range: RulePolicy,
    /// Strings outside the signature's categories. Default: flag.
    pub unseen_category: RulePolicy,
    /// Row indices recorded per broken rule. Default 10.
    pub max_reported_rows: usize,
    /// How far from 1 a row's class probabilities may sum. Default 1e-4.
    pub probability_tolerance: f64,
}

impl Default for ValidationConfig {
    fn default() -> Self {
        ValidationConfig {
            missing_values: MissingValuePolicy::default(),
            out_of_range: RulePolicy::default(),
            unseen_category: RulePolicy::default(),
            max_reported_rows: 10,
            probability_tolerance: 1e-4,
        }
    }
}

impl ValidationConfig {
    /// Sets the missing-value policy.
    pub fn with_missing_values(mut self, policy: MissingValuePolicy) -> Self {
        self.missing_values = policy;
        self
    }

    /// Sets the out-of-range policy.
    pub fn with_out_of_range(mut self, policy: RulePolicy) -> Self {
        self.out_of_range = policy;
        self
    }

    /// Sets the unseen-category policy.
    pub fn with_unseen_category(mut self, policy: RulePolicy) -> Self {
        self.unseen_category = policy;
        self
    }

    /// Sets how many row indices each broken rule records.
    pub fn with_max_reported_rows(mut self, rows: usize) -> Self {
        self.max_reported_rows = rows;
        self
    }

    /// Sets the tolerance on probability sums.
    pub fn with_probability_tolerance(mut self, tolerance: f64) -> Self {
        self.probability_tolerance = tolerance;
        self
    }

    /// Checks the settings.
    pub fn validate(&self) -> Result<()> {
        if !(self.probability_tolerance.is_finite() && self.probability_tolerance >= 0.0) {
            return Err(Error::invalid_input(
                "validation config",
                "probability_tolerance",
                self.probability_tolerance.to_string(),
                "a finite, non-negative tolerance",
            ));
        }
        Ok(())
    }
}
