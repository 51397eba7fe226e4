//! Two-proportion z-test (pooled), with a Wald interval for the difference.

use serde::{Deserialize, Serialize};
use statrs::distribution::ContinuousCDF;

use super::{Alternative, normal_p_value, std_normal};
use crate::{Error, Result};

/// A two-proportion comparison: the test and the effect.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ProportionsTest {
    /// `x_a / n_a`.
    pub rate_a: f64,
    /// `x_b / n_b`.
    pub rate_b: f64,
    /// z under the pooled null variance.
    pub statistic: f64,
    /// The p-value under the chosen alternative.
    pub p_value: f64,
    /// `rate_a − rate_b`.
    pub difference: f64,
    /// The Wald interval of the difference (unpooled variance), at the level asked.
    pub confidence_interval: (f64, f64),
}

/// Tests whether the rate `x_a / n_a` differs from `x_b / n_b` (statsmodels
/// `proportions_ztest([x_a, x_b], [n_a, n_b], alternative=…)`), and gives the
/// difference with a `level` (e.g. 0.95) Wald interval.
///
/// Both rates 0 or both 1 give z = 0 and p = 1 (no evidence of a difference).
/// Errors: an empty arm, a count above its total, a level outside (0, 1).
pub fn two_proportion_z(
    x_a: u64,
    n_a: u64,
    x_b: u64,
    n_b: u64,
    alternative: Alternative,
    level: f64,
) -> Result<ProportionsTest> {
    if n_a == 0 || n_b == 0 || x_a > n_a || x_b > n_b {
        return Err(Error::invalid_input(
            "two-proportion test",
            "counts",
            format!("{x_a}/{n_a} against {x_b}/{n_b}"),
            "two non-empty arms, each count at most its total",
        ));
    }
    if !(level > 0.0 && level < 1.0) {
        return Err(Error::invalid_input(
            "two-proportion test",
            "level",
            level.to_string(),
            "a level in (0, 1)",
        ));
    }
    let (na, nb) = (n_a as f64, n_b as f64);
    let (pa, pb) = (x_a as f64 / na, x_b as f64 / nb);
    let pooled = (x_a + x_b) as f64 / (na + nb);
    let se = (pooled * (1.0 - pooled) * (1.0 / na + 1.0 / nb)).sqrt();
    let difference = pa - pb;
    let (statistic, p_value) = if se > 0.0 {
        let z = difference / se;
        (z, normal_p_value(z, alternative))
    } else {
        (0.0, 1.0)
    };
    let half = std_normal().inverse_cdf(0.5 + level / 2.0) * (pa * (1.0 - pa) / na + pb * (1.0 - pb) / nb).sqrt();
    Ok(ProportionsTest {
        rate_a: pa,
        rate_b: pb,
        statistic,
        p_value,
        difference,
        confidence_interval: (difference - half, difference + half),
    })
}
