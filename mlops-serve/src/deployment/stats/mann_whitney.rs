//! Mann–Whitney U, normal approximation with tie and continuity corrections.

use super::{Alternative, TestOutcome, normal_p_value};
use crate::{Error, Result};

/// Tests whether values of `a` tend to be greater (or less, or either) than
/// values of `b`, as `scipy.stats.mannwhitneyu(a, b, alternative=…,
/// method="asymptotic", use_continuity=True)` does: the statistic is U of
/// `a`, the p-value from the normal approximation with the tie correction.
///
/// NaN values are refused; ±∞ are ranked like any other value.
/// Errors: an empty sample, a NaN.
pub fn mann_whitney_u(a: &[f64], b: &[f64], alternative: Alternative) -> Result<TestOutcome> {
    if a.is_empty() || b.is_empty() {
        return Err(Error::NotEnoughData {
            location: "Mann–Whitney U test".to_owned(),
            message: format!("samples of {} and {} values; each needs at least one", a.len(), b.len()),
        });
    }
    if a.iter().chain(b).any(|v| v.is_nan()) {
        return Err(Error::invalid_input(
            "Mann–Whitney U test",
            "samples",
            "a NaN value",
            "numbers (drop NaN before testing)",
        ));
    }
    let (n1, n2) = (a.len() as f64, b.len() as f64);
    let mut all: Vec<(f64, bool)> = a
        .iter()
        .map(|&v| (v, true))
        .chain(b.iter().map(|&v| (v, false)))
        .collect();
    all.sort_by(|x, y| x.0.total_cmp(&y.0));
    // Mid-ranks, the rank sum of `a`, and Σ(t³ − t) over tie groups.
    let (mut rank_sum_a, mut ties) = (0.0, 0.0);
    let mut i = 0;
    while i < all.len() {
        let mut j = i + 1;
        while j < all.len() && all[j].0 == all[i].0 {
            j += 1;
        }
        let mid = (i + 1 + j) as f64 / 2.0;
        let in_a = all[i..j].iter().filter(|(_, from_a)| *from_a).count();
        rank_sum_a += mid * in_a as f64;
        let t = (j - i) as f64;
        ties += t * t * t - t;
        i = j;
    }
    let u1 = rank_sum_a - n1 * (n1 + 1.0) / 2.0;
    let n = n1 + n2;
    let mean = n1 * n2 / 2.0;
    let sd = (n1 * n2 / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)))).sqrt();
    if sd.is_nan() || sd <= 0.0 {
        // Every value tied: no evidence either way.
        return Ok(TestOutcome {
            statistic: u1,
            p_value: 1.0,
        });
    }
    // SciPy's continuity correction moves U half a step towards the mean, in
    // the direction of the alternative (two-sided: from the larger U).
    let p_value = match alternative {
        Alternative::Greater => normal_p_value((u1 - mean - 0.5) / sd, Alternative::Greater),
        Alternative::Less => normal_p_value((n1 * n2 - u1 - mean - 0.5) / sd, Alternative::Greater),
        Alternative::TwoSided => {
            let u = u1.max(n1 * n2 - u1);
            (2.0 * normal_p_value((u - mean - 0.5) / sd, Alternative::Greater)).min(1.0)
        }
    };
    Ok(TestOutcome { statistic: u1, p_value })
}
