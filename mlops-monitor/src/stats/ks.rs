//! Two-sample Kolmogorov–Smirnov test, matching `scipy.stats.ks_2samp(a, b)`
//! (two-sided, `method='auto'`).
//!
//! Reproduces `scipy/stats/_stats_py.py` (`ks_2samp`, `_attempt_exact_2kssamp`,
//! `_compute_prob_outside_square`) and `scipy/stats/_stats_pythran.py`
//! (`_compute_outer_prob_inside_method`):
//!
//! * `D = max |F_a - F_b|` over the pooled sample (ties handled by evaluating
//!   both ECDFs at every pooled value, as `searchsorted(side='right')` does);
//! * `max(n1, n2) <= 10_000` (SciPy's `MAX_AUTO_N`): exact. `D` is rounded to
//!   the lattice `h / lcm(n1, n2)` (`h = round(D * lcm)`, half to even); for
//!   `n1 == n2` the exact tail is the alternating sum evaluated Horner-style,
//!   otherwise Hodges' "inside" lattice-path recursion in Viehmann's (2021)
//!   form that yields `1 - p` without cancellation. If the exact value is not
//!   a probability (SciPy's `0 <= p <= 1` check, which does fail in corner
//!   cases such as `n1 == n2 == 5, D = 0.2` where it returns `1 + 2^-52`),
//!   SciPy falls back to the asymptotic branch with the rounded `D`; so do we.
//! * otherwise: asymptotic, `kstwo.sf(D, round(n1 n2 / (n1 + n2)))` with the
//!   exact finite-`n` Kolmogorov distribution ([`kstwo_sf`]).

use super::kolmogorov::kstwo_sf;
use super::{TestResult, check_sample, sorted_copy};
use mlops_core::Result;

/// `method='auto'` computes the exact p-value when both samples have at most
/// this many observations (SciPy's `MAX_AUTO_N`).
pub const KS_EXACT_MAX_N: usize = 10_000;

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// `P(D_{n,n} >= h/n)`: SciPy's `_compute_prob_outside_square(n, h)`.
fn prob_outside_square(n: u64, h: u64) -> f64 {
    // 2 * (binom(2n, n-h) - binom(2n, n-2h) + ...) / binom(2n, n), written as
    // 2 * A0 * (1 - A1 * (1 - A2 * (...))) and evaluated from the inside out.
    let (n, h) = (n as f64, h as f64);
    let mut p = 0.0;
    let mut k = (n / h).floor();
    while k >= 0.0 {
        let mut p1 = 1.0;
        let mut j = 0.0;
        while j < h {
            p1 = (n - k * h - j) * p1 / (n + k * h + j + 1.0);
            j += 1.0;
        }
        p = p1 * (1.0 - p);
        k -= 1.0;
    }
    2.0 * p
}

/// `P(D_{m,n} >= h / lcm(m, n))` for `m != n`: SciPy's pythran
/// `_compute_outer_prob_inside_method(m, n, g, h)`. Returns NaN where SciPy's
/// array indexing would fail (not expected for valid input).
fn outer_prob_inside(m: u64, n: u64, g: u64, h: u64) -> f64 {
    let (m, n) = if m < n { (n, m) } else { (m, n) };
    let (Ok(m), Ok(n), Ok(g), Ok(h)) = (i64::try_from(m), i64::try_from(n), i64::try_from(g), i64::try_from(h)) else {
        return f64::NAN;
    };
    let mg = m / g;
    let ng = n / g;
    let (mgf, hf) = (mg as f64, h as f64);
    // Count lattice paths from (0,0) to (m,n) with |n x / g - m y / g| < h, as
    // the complement probability; keep only a sliding window of one column.
    let mut minj: i64 = 0;
    let mut maxj: i64 = ((hf / mgf).ceil() as i64).min(n + 1);
    let mut curlen = maxj - minj;
    let len_a = (2 * maxj + 2).min(n + 1);
    let Ok(len_a_us) = usize::try_from(len_a) else {
        return f64::NAN;
    };
    let mut a = vec![1.0f64; len_a_us];
    for v in a.iter_mut().take(maxj as usize) {
        *v = 0.0;
    }
    for i in 1..=m {
        let (lastminj, lastlen) = (minj, curlen);
        let ngi = (ng * i) as f64;
        minj = (((ngi - hf) / mgf).floor() as i64 + 1).max(0).min(n);
        maxj = (((ngi + hf) / mgf).ceil() as i64).min(n + 1);
        if maxj <= minj {
            return 1.0;
        }
        let fi = i as f64;
        let mut val = if minj == 0 { 0.0 } else { 1.0 };
        // The window moves right: entry jj of the new column is computed from
        // entry jj + shift of the previous one (shift >= 0).
        let (Ok(len), Ok(shift)) = (usize::try_from(maxj - minj), usize::try_from(minj - lastminj)) else {
            return f64::NAN;
        };
        if len + shift > a.len() {
            return f64::NAN;
        }
        a.copy_within(shift..shift + len, 0);
        let mut j = minj as f64;
        for entry in &mut a[..len] {
            val = (*entry * fi + val * j) / (fi + j);
            *entry = val;
            j += 1.0;
        }
        curlen = maxj - minj;
        if lastlen > curlen {
            // Carried-over entries become 1 (NumPy slicing clips at the end).
            let from = (maxj - minj) as usize;
            let to = ((maxj - minj + (lastlen - curlen)) as usize).min(len_a_us);
            for v in a.iter_mut().take(to).skip(from) {
                *v = 1.0;
            }
        }
    }
    usize::try_from(maxj - minj - 1)
        .ok()
        .and_then(|idx| a.get(idx).copied())
        .unwrap_or(f64::NAN)
}

/// The two-sample KS statistic `D = max_x |F_a(x) - F_b(x)|` over sorted samples,
/// computed as SciPy does: `max(max(cdf1 - cdf2), clip(-min(cdf1 - cdf2), 0, 1))`
/// with `cdf_i = (count <= x) / n_i` in floating point.
fn ks_statistic(a: &[f64], b: &[f64]) -> f64 {
    let (n1, n2) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j) = (0usize, 0usize);
    let mut max_s = f64::NEG_INFINITY;
    let mut min_s = f64::INFINITY;
    while i < a.len() || j < b.len() {
        // Next pooled value; advance both samples past every copy of it.
        let x = match (a.get(i), b.get(j)) {
            (Some(&u), Some(&v)) => u.min(v),
            (Some(&u), None) => u,
            (None, Some(&v)) => v,
            (None, None) => break,
        };
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
        let diff = i as f64 / n1 - j as f64 / n2;
        max_s = max_s.max(diff);
        min_s = min_s.min(diff);
    }
    let min_s = (-min_s).clamp(0.0, 1.0);
    if min_s > max_s { min_s } else { max_s }
}

/// Two-sided two-sample Kolmogorov–Smirnov test, matching
/// `scipy.stats.ks_2samp(a, b)` (default `alternative='two-sided'`,
/// `method='auto'`): statistic and p-value.
///
/// When the exact method is used (both sizes `<=` [`KS_EXACT_MAX_N`]) the
/// statistic is reported on the lattice `h / lcm(n1, n2)`, as SciPy does.
///
/// # Errors
///
/// [`mlops_core::Error::NotEnoughData`] if either sample is empty;
/// [`mlops_core::Error::InvalidInput`] if a value is NaN or infinite.
///
/// ```
/// use mlops_monitor::stats::ks_2samp;
/// let a = [0.1, 0.4, 0.7, 1.3, 2.2];
/// let b = [1.9, 2.4, 3.3, 3.7, 4.1];
/// let r = ks_2samp(&a, &b)?;
/// assert_eq!(r.statistic, 0.8);
/// assert!((r.p_value - 5.0 / 63.0).abs() < 1e-15);
/// # Ok::<(), mlops_core::Error>(())
/// ```
pub fn ks_2samp(a: &[f64], b: &[f64]) -> Result<TestResult> {
    check_sample(a, "ks_2samp: sample a", 1)?;
    check_sample(b, "ks_2samp: sample b", 1)?;
    let a = sorted_copy(a);
    let b = sorted_copy(b);
    let (n1, n2) = (a.len() as u64, b.len() as u64);
    let mut d = ks_statistic(&a, &b);

    let mut prob = f64::NAN;
    let mut exact_ok = false;
    if a.len().max(b.len()) <= KS_EXACT_MAX_N {
        let g = gcd(n1, n2);
        let lcm = (n1 / g) * n2;
        let h = (d * lcm as f64).round_ties_even();
        d = h / lcm as f64;
        if h == 0.0 {
            prob = 1.0;
        } else {
            // 0 < h <= lcm <= 10^8: exact in u64.
            let h = h as u64;
            prob = if n1 == n2 {
                prob_outside_square(n1, h)
            } else {
                outer_prob_inside(n1, n2, g, h)
            };
        }
        // SciPy's check: anything that is not a probability (NaN included)
        // counts as a failed exact computation.
        exact_ok = (0.0..=1.0).contains(&prob);
    }
    if !exact_ok {
        let (m, n) = if n1 >= n2 {
            (n1 as f64, n2 as f64)
        } else {
            (n2 as f64, n1 as f64)
        };
        let en = m * n / (m + n);
        // en >= 1/2; it is exactly 1/2 only for n1 == n2 == 1, which the exact
        // branch always handles, but never pass n = 0.
        let n_eff = en.round_ties_even().max(1.0) as u64;
        prob = kstwo_sf(d, n_eff);
    }
    Ok(TestResult {
        statistic: d,
        p_value: prob.clamp(0.0, 1.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_helpers_match_known_values() {
        // P(D_{5,5} >= 1) = 2 / binom(10, 5)
        assert!((prob_outside_square(5, 5) - 2.0 / 252.0).abs() < 1e-17);
        // SciPy returns 1.0000000000000002 here and falls back to asymp.
        assert_eq!(prob_outside_square(5, 1), 1.000_000_000_000_000_2);
        // m=2, n=1, h = lcm = 2 (D = 1): of the paths RRU, RUR, URR, the
        // first and last reach |x/2 - y| = 1.
        let p = outer_prob_inside(2, 1, 1, 2);
        assert!((p - 2.0 / 3.0).abs() < 1e-15, "{p}");
    }

    #[test]
    fn fallback_to_asymptotic() {
        let r = ks_2samp(&[1.0, 3.0, 5.0, 7.0, 9.0], &[2.0, 4.0, 6.0, 8.0, 10.0]).unwrap();
        assert_eq!(r.statistic, 0.2);
        assert_eq!(r.p_value, 1.0);
    }
}
