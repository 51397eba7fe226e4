//! Welch's t-test (unequal variances), with its confidence interval.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

use super::Alternative;
use crate::{Error, Result};

/// A Welch comparison of two means.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WelchTest {
    /// Mean of `a`.
    pub mean_a: f64,
    /// Mean of `b`.
    pub mean_b: f64,
    /// t.
    pub statistic: f64,
    /// Welch–Satterthwaite degrees of freedom.
    pub df: f64,
    /// The p-value under the chosen alternative.
    pub p_value: f64,
    /// `mean_a − mean_b`.
    pub difference: f64,
    /// The interval of the difference at the level asked (one-sided
    /// alternatives give a half-infinite interval, as SciPy does).
    pub confidence_interval: (f64, f64),
}

/// Compares the means of `a` and `b` as `scipy.stats.ttest_ind(a, b,
/// equal_var=False, alternative=…)` does, with
/// `.confidence_interval(level)`.
///
/// Errors: fewer than two values in a sample, a non-finite value, both
/// samples constant (no variance to test against), a level outside (0, 1).
pub fn welch_t(a: &[f64], b: &[f64], alternative: Alternative, level: f64) -> Result<WelchTest> {
    if a.len() < 2 || b.len() < 2 {
        return Err(Error::NotEnoughData {
            location: "Welch t-test".to_owned(),
            message: format!("samples of {} and {} values; each needs at least two", a.len(), b.len()),
        });
    }
    if a.iter().chain(b).any(|v| !v.is_finite()) {
        return Err(Error::invalid_input(
            "Welch t-test",
            "samples",
            "a NaN or infinite value",
            "finite numbers",
        ));
    }
    if !(level > 0.0 && level < 1.0) {
        return Err(Error::invalid_input(
            "Welch t-test",
            "level",
            level.to_string(),
            "a level in (0, 1)",
        ));
    }
    let (ma, va, na) = mean_var(a);
    let (mb, vb, nb) = mean_var(b);
    let (sa, sb) = (va / na, vb / nb);
    let se = (sa + sb).sqrt();
    if se.is_nan() || se <= 0.0 {
        return Err(Error::invalid_input(
            "Welch t-test",
            "samples",
            "both samples constant",
            "some variance in at least one sample",
        ));
    }
    let df = (sa + sb).powi(2) / (sa * sa / (na - 1.0) + sb * sb / (nb - 1.0));
    let t_dist = StudentsT::new(0.0, 1.0, df).map_err(|e| Error::inference("Welch t-test", e.to_string()))?;
    let difference = ma - mb;
    let t = difference / se;
    let p_value = match alternative {
        Alternative::Greater => t_dist.sf(t),
        Alternative::Less => t_dist.cdf(t),
        Alternative::TwoSided => (2.0 * t_dist.sf(t.abs())).min(1.0),
    };
    let confidence_interval = match alternative {
        Alternative::TwoSided => {
            let half = t_dist.inverse_cdf(0.5 + level / 2.0) * se;
            (difference - half, difference + half)
        }
        Alternative::Greater => (difference - t_dist.inverse_cdf(level) * se, f64::INFINITY),
        Alternative::Less => (f64::NEG_INFINITY, difference + t_dist.inverse_cdf(level) * se),
    };
    Ok(WelchTest {
        mean_a: ma,
        mean_b: mb,
        statistic: t,
        df,
        p_value,
        difference,
        confidence_interval,
    })
}

/// Mean, unbiased variance and count (two-pass, for accuracy).
fn mean_var(x: &[f64]) -> (f64, f64, f64) {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var, n)
}
