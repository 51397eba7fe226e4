//! k-sample Anderson–Darling test, matching `scipy.stats.anderson_ksamp(samples)`
//! with its default midrank variant.
//!
//! Reproduces `scipy/stats/_morestats.py` (`anderson_ksamp`,
//! `_anderson_ksamp_midrank`): the statistic is `A2akN` of Scholz & Stephens
//! (1987, eq. 7, midrank ECDF, valid with ties), standardised as
//! `(A2akN - (k - 1)) / sigma_N`. Critical values come from their Table 2
//! interpolation `b0 + b1 / sqrt(m) + b2 / m` (`m = k - 1`); the p-value is
//! `exp` of a quadratic least-squares fit of `log(significance)` against the
//! critical values, floored at 0.001 and capped at 0.25 outside the table
//! (SciPy warns there; we report it in [`AndersonResult::p_value_bound`]).

use super::numeric::{numpy_sum, polyfit, polyval};
use super::{check_sample, sorted_copy};
use mlops_core::{Error, Result};
use serde::{Deserialize, Serialize};

/// Significance levels matching [`AndersonResult::critical_values`]:
/// 25%, 10%, 5%, 2.5%, 1%, 0.5%, 0.1%.
pub const ANDERSON_SIGNIFICANCE_LEVELS: [f64; 7] = [0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001];

/// Whether the Anderson–Darling p-value was interpolated or hit the table's ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PValueBound {
    /// The statistic lies within the tabulated critical values; the p-value is interpolated.
    Interpolated,
    /// The statistic is below the 25% critical value: the true p-value is larger
    /// than the reported 0.25.
    Capped,
    /// The statistic is above the 0.1% critical value: the true p-value is
    /// smaller than the reported 0.001.
    Floored,
}

/// Result of [`anderson_ksamp`], mirroring SciPy's `Anderson_ksampResult`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AndersonResult {
    /// Normalised k-sample Anderson–Darling statistic (can be negative).
    pub statistic: f64,
    /// Critical values at [`ANDERSON_SIGNIFICANCE_LEVELS`].
    pub critical_values: [f64; 7],
    /// Approximate p-value (SciPy's `pvalue` / `significance_level`): 0.25 or 0.001
    /// outside the table; inside it, SciPy's least-squares fit, which can reach
    /// slightly past those ends (0.000999 for three samples), exactly as SciPy.
    pub significance_level: f64,
    /// Whether `significance_level` was interpolated, capped at 0.25 or floored at 0.001.
    pub p_value_bound: PValueBound,
}

/// Count of values `< x` and `<= x` in a sorted slice.
fn rank_bounds(sorted: &[f64], x: f64) -> (usize, usize) {
    (sorted.partition_point(|&v| v < x), sorted.partition_point(|&v| v <= x))
}

/// k-sample Anderson–Darling test (midrank version, valid for continuous and
/// discrete data), matching `scipy.stats.anderson_ksamp(samples)`:
/// statistic, critical values and the interpolated significance level.
///
/// # Errors
///
/// * [`Error::InvalidInput`] for fewer than two samples, or a NaN/infinite value;
/// * [`Error::NotEnoughData`] if a sample is empty, there are fewer than four
///   observations in total (the variance formula divides by `(N-1)(N-2)(N-3)`;
///   SciPy returns NaN there), or all observations are equal (SciPy raises).
///
/// ```
/// use mlops_monitor::stats::{anderson_ksamp, PValueBound};
/// let a = [0.5, 1.2, 1.9, 2.2, 3.1, 3.3];
/// let b = [4.0, 4.4, 5.2, 6.1, 7.0];
/// let r = anderson_ksamp(&[&a, &b])?;
/// // SciPy: statistic 5.215428013965254, pvalue 0.0029056370135590493
/// assert!((r.statistic - 5.215_428_013_965_254).abs() < 1e-12);
/// assert!((r.significance_level - 0.002_905_637_013_559_049).abs() < 1e-12);
/// assert_eq!(r.p_value_bound, PValueBound::Interpolated);
/// assert!((r.critical_values[0] - 0.325).abs() < 1e-15); // 25% level, two samples
///
/// let far = [10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0];
/// let r = anderson_ksamp(&[&a, &far])?;
/// assert_eq!((r.significance_level, r.p_value_bound), (0.001, PValueBound::Floored));
/// # Ok::<(), mlops_core::Error>(())
/// ```
pub fn anderson_ksamp(samples: &[&[f64]]) -> Result<AndersonResult> {
    let k = samples.len();
    if k < 2 {
        return Err(Error::invalid_input(
            "sample list",
            "anderson_ksamp: samples",
            format!("{k} sample(s) given"),
            "at least two samples",
        ));
    }
    let mut sorted = Vec::with_capacity(k);
    for (i, s) in samples.iter().enumerate() {
        check_sample(s, &format!("anderson_ksamp: samples[{i}]"), 1)?;
        sorted.push(sorted_copy(s));
    }
    let mut z: Vec<f64> = sorted.iter().flatten().copied().collect();
    z.sort_by(f64::total_cmp);
    let big_n = z.len();
    if big_n < 4 {
        return Err(Error::NotEnoughData {
            location: "anderson_ksamp: samples".into(),
            message: format!("{big_n} observations in total; the test needs at least 4"),
        });
    }
    let mut zstar = z.clone();
    zstar.dedup();
    if zstar.len() < 2 {
        return Err(Error::NotEnoughData {
            location: "anderson_ksamp: samples".into(),
            message: "all observations are equal; the test needs at least two distinct values".into(),
        });
    }

    let nf = big_n as f64;
    // Per distinct value: l_j (multiplicity in the pooled sample) and
    // B_j = #(Z < z_j) + l_j / 2.
    let mut lj = Vec::with_capacity(zstar.len());
    let mut bj = Vec::with_capacity(zstar.len());
    for &x in &zstar {
        let (left, right) = rank_bounds(&z, x);
        let l = right - left;
        lj.push(l);
        bj.push(left as f64 + l as f64 / 2.0);
    }
    let mut a2akn = 0.0;
    let mut inner = vec![0.0; zstar.len()];
    for s in &sorted {
        let ni = s.len() as f64;
        for (j, &x) in zstar.iter().enumerate() {
            let (left, right) = rank_bounds(s, x);
            let fij = (right - left) as f64;
            let mij = right as f64 - fij / 2.0;
            let l = lj[j];
            let b = bj[j];
            let t = nf * mij - b * ni;
            let num = l as f64 / nf * (t * t);
            // N * l_j is an integer product in NumPy; exact here too.
            let den = b * (nf - b) - (big_n as u128 * l as u128) as f64 / 4.0;
            inner[j] = num / den;
        }
        a2akn += numpy_sum(&inner) / ni;
    }
    a2akn *= (nf - 1.0) / nf;

    // Variance of A2akN under the null (Scholz & Stephens eq. 4).
    let inv_n: Vec<f64> = sorted.iter().map(|s| 1.0 / s.len() as f64).collect();
    let hh = numpy_sum(&inv_n);
    // hs_cs = cumsum(1 / [N-1, N-2, ..., 2]); h = hs_cs[-1] + 1;
    // g = sum(hs_cs / [2, 3, ..., N-1])
    let mut hs_cs = Vec::with_capacity(big_n - 2);
    let mut acc = 0.0;
    for d in (2..big_n).rev() {
        acc += 1.0 / d as f64;
        hs_cs.push(acc);
    }
    let h = acc + 1.0;
    let ratios: Vec<f64> = hs_cs.iter().enumerate().map(|(i, &c)| c / (i + 2) as f64).collect();
    let g = numpy_sum(&ratios);

    let kf = k as f64;
    let k2 = (k * k) as f64;
    let a = (4.0 * g - 6.0) * (kf - 1.0) + (10.0 - 6.0 * g) * hh;
    let b = (2.0 * g - 4.0) * k2 + 8.0 * h * kf + (2.0 * g - 14.0 * h - 4.0) * hh - 8.0 * h + 4.0 * g - 6.0;
    let c = (6.0 * h + 2.0 * g - 2.0) * k2 + (4.0 * h - 4.0 * g + 6.0) * kf + (2.0 * h - 6.0) * hh + 4.0 * h;
    let d = (2.0 * h + 6.0) * k2 - 4.0 * h * kf;
    // Python evaluates N**2 and N**3 as exact integers before converting.
    let n128 = big_n as u128;
    let (n2, n3) = (n128.pow(2) as f64, n128.pow(3) as f64);
    let sigmasq = (a * n3 + b * n2 + c * nf + d) / ((nf - 1.0) * (nf - 2.0) * (nf - 3.0));
    let m = (k - 1) as f64;
    let statistic = (a2akn - m) / sigmasq.sqrt();

    // Scholz & Stephens (1987), Table 2 interpolation coefficients.
    const B0: [f64; 7] = [0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085];
    const B1: [f64; 7] = [-0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615];
    const B2: [f64; 7] = [-0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154];
    let mut critical_values = [0.0; 7];
    for (i, cv) in critical_values.iter_mut().enumerate() {
        *cv = B0[i] + B1[i] / m.sqrt() + B2[i] / m;
    }
    let cmin = critical_values.iter().copied().fold(f64::INFINITY, f64::min);
    let cmax = critical_values.iter().copied().fold(f64::NEG_INFINITY, f64::max);

    let (significance_level, p_value_bound) = if statistic < cmin {
        (0.25, PValueBound::Capped)
    } else if statistic > cmax {
        (0.001, PValueBound::Floored)
    } else {
        let log_sig = ANDERSON_SIGNIFICANCE_LEVELS.map(f64::ln);
        let p = polyfit::<2>(&critical_values, &log_sig).map_or(f64::NAN, |coef| polyval(&coef, statistic).exp());
        (p, PValueBound::Interpolated)
    };
    if !statistic.is_finite() || !significance_level.is_finite() {
        return Err(Error::NotEnoughData {
            location: "anderson_ksamp: samples".into(),
            message: "the statistic is undefined for these samples".into(),
        });
    }
    Ok(AndersonResult {
        statistic,
        critical_values,
        significance_level,
        p_value_bound,
    })
}
