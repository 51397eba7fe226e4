//! Sample sizes for a chosen power (two independent arms of equal size).

use statrs::distribution::ContinuousCDF;

use super::std_normal;
use crate::{Error, Result};

/// Cohen's h, the effect size of two proportions: `2·asin(√p_a) − 2·asin(√p_b)`
/// (statsmodels `proportion_effectsize`).
pub fn cohens_h(p_a: f64, p_b: f64) -> f64 {
    2.0 * p_a.sqrt().asin() - 2.0 * p_b.sqrt().asin()
}

/// Observations per arm for a two-sided z-test at `alpha` to detect a
/// standardised `effect_size` (Cohen's d for means, [`cohens_h`] for rates)
/// with probability `power`, as statsmodels
/// `NormalIndPower().solve_power(effect_size, alpha=alpha, power=power, ratio=1)`
/// computes it (both tails counted), not rounded.
///
/// Errors: a zero or non-finite effect, `alpha` or `power` outside (0, 1),
/// or a power not above `alpha`.
pub fn sample_size_per_arm(effect_size: f64, alpha: f64, power: f64) -> Result<f64> {
    let bad = |name: &str, value: f64, expected: &str| {
        Err(Error::invalid_input(
            "sample size",
            name.to_owned(),
            value.to_string(),
            expected.to_owned(),
        ))
    };
    if !effect_size.is_finite() || effect_size == 0.0 {
        return bad("effect_size", effect_size, "a finite effect other than 0");
    }
    if !(alpha > 0.0 && alpha < 1.0) {
        return bad("alpha", alpha, "a level in (0, 1)");
    }
    if !(power > alpha && power < 1.0) {
        return bad("power", power, "a power in (alpha, 1)");
    }
    let normal = std_normal();
    let crit = normal.inverse_cdf(1.0 - alpha / 2.0);
    let d = effect_size.abs();
    // Power with n per arm: the difference's standard error is √(2/n).
    let power_at = |n: f64| {
        let shift = d * (n / 2.0).sqrt();
        normal.sf(crit - shift) + normal.cdf(-crit - shift)
    };
    // Power grows with n: bracket, then bisect to a relative width of 1e-12.
    let (mut lo, mut hi) = (1e-9, 1.0);
    while power_at(hi) < power {
        lo = hi;
        hi *= 2.0;
        if hi > 1e15 {
            return bad(
                "effect_size",
                effect_size,
                "an effect large enough to detect with fewer than 10^15 samples",
            );
        }
    }
    while hi - lo > 1e-12 * hi {
        let mid = 0.5 * (lo + hi);
        if power_at(mid) < power { lo = mid } else { hi = mid }
    }
    Ok(hi)
}
