//! Two-sample statistical tests whose statistics **and** p-values reproduce
//! SciPy's (`scipy.stats`, checked against SciPy 1.17.1), for drift reports
//! that must agree with Evidently / SciPy-based tooling.
//!
//! | Rust | SciPy | p-value method |
//! |------|-------|----------------|
//! | [`ks_2samp`] | `ks_2samp(a, b)` | exact when `max(n1, n2) <= 10_000`, else `kstwo.sf` |
//! | [`anderson_ksamp`] | `anderson_ksamp(samples)` (midrank) | table interpolation, clipped to `[0.001, 0.25]` |
//! | [`cramervonmises_2samp`] | `cramervonmises_2samp(a, b)` | exact when `max(n, m) <= 20`, else asymptotic |
//! | [`kstwo_sf`] | `kstwo.sf(d, n)` | Simard & L'Ecuyer (2011) selection |
//! | [`smirnov_sf`] | `special.smirnov(n, d)` | double-double Birnbaum–Tingey sum |
//! | [`mmd_test`] | alibi-detect `MMDDrift` (RBF, median heuristic) | permutations, `(k + 1) / (B + 1)` |
//!
//! Inputs are finite `f64` slices (drop NaN, infinities and nulls before
//! calling); order does not matter and ties are handled as SciPy handles them.
//! Bad input is reported as [`mlops_core::Error`], never as a panic or NaN.
//! `tests/stats_reference.rs` checks every function against a SciPy-generated
//! fixture (`tests/fixtures/stats_make_reference.py`).
//!
//! ```
//! use mlops_monitor::stats::{anderson_ksamp, cramervonmises_2samp, ks_2samp};
//!
//! let reference = [0.12, 0.31, 0.47, 0.52, 0.66, 0.73, 0.81, 0.95];
//! let current = [0.58, 0.69, 0.77, 0.88, 0.91, 1.04, 1.12, 1.30];
//!
//! // Exact p-values, as scipy.stats.ks_2samp / cramervonmises_2samp give them.
//! let ks = ks_2samp(&reference, &current)?;
//! assert_eq!(ks.statistic, 0.5);
//! assert!((ks.p_value - 0.282_672_882_672_882_6).abs() < 1e-15);
//!
//! let cvm = cramervonmises_2samp(&reference, &current)?;
//! assert!((cvm.statistic - 0.515_625).abs() < 1e-15);
//! assert!((cvm.p_value - 0.038_850_038_850_038_85).abs() < 1e-15);
//!
//! // Interpolated from Scholz & Stephens' table (SciPy: 2.5917541027239652, 0.028195142488177217).
//! let ad = anderson_ksamp(&[&reference, &current])?;
//! assert!((ad.statistic - 2.591_754_102_723_965_2).abs() < 1e-12);
//! assert!((ad.significance_level - 0.028_195_142_488_177_217).abs() < 1e-12);
//!
//! // Too little data is an error, not a panic.
//! assert!(ks_2samp(&[], &current).is_err());
//! # Ok::<(), mlops_core::Error>(())
//! ```

use mlops_core::{Error, Result};
use serde::{Deserialize, Serialize};

mod anderson;
mod cramer_von_mises;
mod dd;
mod kolmogorov;
mod ks;
mod mmd;
pub(crate) mod numeric;

pub use anderson::{ANDERSON_SIGNIFICANCE_LEVELS, AndersonResult, PValueBound, anderson_ksamp};
pub use cramer_von_mises::{CVM_EXACT_MAX_N, cramervonmises_2samp};
pub use kolmogorov::{kstwo_sf, smirnov_sf};
pub use ks::{KS_EXACT_MAX_N, ks_2samp};
pub use mmd::{MmdConfig, MmdResult, mmd_test};

/// Statistic and p-value of a two-sample test.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TestResult {
    /// The test statistic, as SciPy reports it.
    pub statistic: f64,
    /// The p-value, in `[0, 1]`.
    pub p_value: f64,
}

/// Rejects samples that are too small or contain non-finite values.
fn check_sample(x: &[f64], location: &str, min_len: usize) -> Result<()> {
    if x.len() < min_len {
        return Err(Error::NotEnoughData {
            location: location.to_owned(),
            message: format!("{} observation(s); the test needs at least {min_len}", x.len()),
        });
    }
    if let Some((i, v)) = x.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(Error::invalid_input(
            "observation",
            location,
            format!("value {v} at index {i} is not finite"),
            "finite values (drop NaN, infinities and nulls before testing)",
        ));
    }
    Ok(())
}

/// A sorted copy, with `-0.0` folded into `0.0` so that they tie as in NumPy.
fn sorted_copy(x: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = x.iter().map(|&t| if t == 0.0 { 0.0 } else { t }).collect();
    v.sort_by(f64::total_cmp);
    v
}
