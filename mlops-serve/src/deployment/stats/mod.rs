//! The hypothesis tests behind relative gates and A/B analysis.
//!
//! Each matches SciPy or statsmodels (checked in `tests/it/stats_reference.rs`
//! against values their own functions computed, in `tests/fixtures/`):
//! - [`two_proportion_z`]: statsmodels `proportions_ztest` (pooled variance);
//! - [`mann_whitney_u`]: SciPy's `mannwhitneyu` (asymptotic method), with the
//!   tie and continuity corrections;
//! - [`welch_t`]: SciPy's `ttest_ind` with `equal_var=False`, and its confidence interval;
//! - [`sample_size_per_arm`]: statsmodels `NormalIndPower().solve_power`.

mod mann_whitney;
mod power;
mod proportions;
mod welch;

pub use mann_whitney::mann_whitney_u;
pub use power::{cohens_h, sample_size_per_arm};
pub use proportions::{ProportionsTest, two_proportion_z};
pub use welch::{WelchTest, welch_t};

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

/// Which difference a test looks for, with samples (or arms) `a` and `b` in call order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Alternative {
    /// `a` differs from `b` in either direction.
    TwoSided,
    /// `a` is greater than `b`.
    Greater,
    /// `a` is less than `b`.
    Less,
}

/// A test statistic and its p-value.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TestOutcome {
    /// The statistic (z, U or t, by test).
    pub statistic: f64,
    /// The p-value under the chosen alternative.
    pub p_value: f64,
}

/// The standard normal distribution.
pub(crate) fn std_normal() -> Normal {
    // Parameters are constants in range: `Normal::standard` cannot fail.
    Normal::standard()
}

/// The p-value of a statistic that is standard normal under the null.
pub(crate) fn normal_p_value(z: f64, alternative: Alternative) -> f64 {
    let n = std_normal();
    match alternative {
        Alternative::Greater => n.sf(z),
        Alternative::Less => n.cdf(z),
        Alternative::TwoSided => (2.0 * n.sf(z.abs())).min(1.0),
    }
}
