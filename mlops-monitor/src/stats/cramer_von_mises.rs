//! Two-sample Cramér–von Mises test, matching
//! `scipy.stats.cramervonmises_2samp(a, b)` (`method='auto'`).
//!
//! Reproduces `scipy/stats/_hypotests.py` (`cramervonmises_2samp`,
//! `_pval_cvm_2samp_exact`, `_pval_cvm_2samp_asymptotic`, `_cdf_cvm_inf`):
//!
//! * statistic `T = U / (nm (n+m)) - (4nm - 1) / (6 (n+m))` with
//!   `U = n Σ (r_i - i)^2 + m Σ (s_j - j)^2` over pooled midranks (Anderson 1962);
//! * `max(n, m) <= 20`: exact p-value from the full null distribution of `U`,
//!   built with the lattice-path frequency recursion of Xiao, Gordon &
//!   Yakovlev (2006) in exact integer counts;
//! * otherwise: Anderson's normalisation of `T` mapped onto the limiting
//!   one-sample distribution, whose CDF is the Csörgő–Faraway (1996) series
//!   in `K_{1/4}` (summed, as SciPy does, until a term drops below `1e-7`).

use super::numeric::{bessel_k_scaled, gamma_half_ratio, numpy_sum};
use super::{TestResult, check_sample, sorted_copy};
use mlops_core::Result;

/// `method='auto'` computes the exact p-value when both samples have at most
/// this many observations.
pub const CVM_EXACT_MAX_N: usize = 20;

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// `floor(a / b)` the way NumPy's (and Python's) float floor division does it.
fn float_floor_div(a: f64, b: f64) -> f64 {
    let mut m = a % b;
    let mut div = (a - m) / b;
    if m != 0.0 {
        if (b < 0.0) != (m < 0.0) {
            m += b;
            div -= 1.0;
        }
    } else {
        m = 0.0f64.copysign(b);
    }
    let _ = m;
    if div != 0.0 {
        let mut floordiv = div.floor();
        if div - floordiv > 0.5 {
            floordiv += 1.0;
        }
        floordiv
    } else {
        0.0f64.copysign(a / b)
    }
}

/// Binomial coefficient in u64 (exact for the sizes used here, n + m <= 40).
fn binomial(n: u64, k: u64) -> u64 {
    let k = k.min(n - k);
    let mut c: u64 = 1;
    for i in 0..k {
        // c * (n - i) is divisible by (i + 1) after the multiplication.
        c = c * (n - i) / (i + 1);
    }
    c
}

/// Merges two frequency tables sorted by value, adding counts of equal values.
fn merge_tables(x: &[(u64, u64)], y: &[(u64, u64)]) -> Vec<(u64, u64)> {
    let mut out = Vec::with_capacity(x.len() + y.len());
    let (mut i, mut j) = (0, 0);
    while i < x.len() && j < y.len() {
        let (vx, cx) = x[i];
        let (vy, cy) = y[j];
        if vx < vy {
            out.push((vx, cx));
            i += 1;
        } else if vy < vx {
            out.push((vy, cy));
            j += 1;
        } else {
            out.push((vx, cx + cy));
            i += 1;
            j += 1;
        }
    }
    out.extend_from_slice(&x[i..]);
    out.extend_from_slice(&y[j..]);
    out
}

/// Exact p-value `P(U >= u)` under the null: SciPy's `_pval_cvm_2samp_exact(u, m, n)`.
///
/// Following Xiao et al. (2006), `U` is expressed through
/// `zeta = Σ (a v - b u)^2` along a lattice path from `(0,0)` to `(n,m)`, with
/// `a = lcm/m`, `b = lcm/n`; the frequency table of `zeta` is accumulated
/// node by node (`g(u,v) = shift(g(u-1,v) ⊕ g(u,v-1))`).
fn pval_exact(u_stat: f64, m: u64, n: u64) -> f64 {
    let lcm = m / gcd(m, n) * n;
    let a = lcm / m;
    let b = lcm / n;
    let mn = m * n;
    // zeta = lcm^2 (m+n) (6 s - mn (4 mn - 1)) // (6 mn^2), in floating point as SciPy.
    let zeta = float_floor_div(
        (lcm * lcm * (m + n)) as f64 * (6.0 * u_stat - (mn * (4 * mn - 1)) as f64),
        (6 * mn * mn) as f64,
    );
    let combinations = binomial(m + n, m);

    // gs[v]: frequency table (value, count) of the current row u.
    let mut gs: Vec<Vec<(u64, u64)>> = vec![Vec::new(); (m + 1) as usize];
    gs[0] = vec![(0, 1)];
    for u in 0..=n {
        let mut tmp: Vec<(u64, u64)> = Vec::new();
        for (v, g) in gs.iter_mut().enumerate() {
            tmp = merge_tables(&tmp, g);
            let res = (a * v as u64).abs_diff(b * u);
            let res = res * res;
            for entry in tmp.iter_mut() {
                entry.0 += res;
            }
            g.clone_from(&tmp);
        }
    }
    let count: u64 = gs[m as usize]
        .iter()
        .filter(|&&(value, _)| value as f64 >= zeta)
        .map(|&(_, c)| c)
        .sum();
    count as f64 / combinations as f64
}

/// CDF of the limiting (n = ∞) one-sample Cramér–von Mises statistic —
/// SciPy's `_cdf_cvm_inf` (Csörgő & Faraway 1996, eq. 1.2).
fn cdf_cvm_inf(x: f64) -> f64 {
    let pi15 = std::f64::consts::PI.powf(1.5);
    let mut tot = 0.0;
    let mut k: u32 = 0;
    loop {
        let u = gamma_half_ratio(k) / (pi15 * x.sqrt());
        let y = f64::from(4 * k + 1);
        let q = y * y / (16.0 * x);
        // exp(-q) * K_{1/4}(q) = exp(-2q) * kve(1/4, q)
        let z = u * y.sqrt() * (-2.0 * q).exp() * bessel_k_scaled(0.25, q);
        tot += z;
        if z.abs() < 1e-7 || z.is_nan() || k > 10_000 {
            break;
        }
        k += 1;
    }
    tot
}

/// Asymptotic p-value: SciPy's `_pval_cvm_2samp_asymptotic`.
fn pval_asymptotic(t: f64, nx: u64, ny: u64) -> f64 {
    let (nx, ny) = (u128::from(nx), u128::from(ny));
    let k = nx * ny;
    let big_n = nx + ny;
    let nf = big_n as f64;
    // Expected value and variance of T (Anderson 1962, eqs. 11 and 14).
    let et = (1.0 + 1.0 / nf) / 6.0;
    let vt_num = (big_n + 1) * (4 * k * big_n - 3 * (nx * nx + ny * ny) - 2 * k);
    let vt_den = 45 * big_n * big_n * 4 * k;
    let vt = vt_num as f64 / vt_den as f64;
    let tn = 1.0 / 6.0 + (t - et) / (45.0 * vt).sqrt();
    if tn >= 0.003 {
        (1.0 - cdf_cvm_inf(tn)).max(0.0)
    } else {
        1.0
    }
}

/// Average ranks (1-based, ties get their mean rank) of `z`, like
/// `scipy.stats.rankdata(z, method='average')`.
fn average_ranks(z: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..z.len()).collect();
    order.sort_by(|&i, &j| z[i].total_cmp(&z[j]));
    let mut ranks = vec![0.0; z.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && z[order[end]] == z[order[start]] {
            end += 1;
        }
        // Ranks start+1 ..= end; their mean.
        let r = 0.5 * ((start + 1 + end) as f64);
        for &idx in &order[start..end] {
            ranks[idx] = r;
        }
        start = end;
    }
    ranks
}

/// Two-sample Cramér–von Mises test, matching
/// `scipy.stats.cramervonmises_2samp(a, b)` (`method='auto'`: exact p-value
/// when both samples have at most [`CVM_EXACT_MAX_N`] observations,
/// asymptotic otherwise). Ties are handled with midranks, as in SciPy.
///
/// # Errors
///
/// [`mlops_core::Error::NotEnoughData`] if a sample has fewer than two
/// observations (SciPy returns NaN there); [`mlops_core::Error::InvalidInput`]
/// if a value is NaN or infinite.
///
/// ```
/// use mlops_monitor::stats::cramervonmises_2samp;
/// let r = cramervonmises_2samp(&[1.0, 2.0], &[3.0, 4.0])?;
/// assert!((r.statistic - 0.375).abs() < 1e-15);
/// assert!((r.p_value - 1.0 / 3.0).abs() < 1e-15);
/// # Ok::<(), mlops_core::Error>(())
/// ```
pub fn cramervonmises_2samp(a: &[f64], b: &[f64]) -> Result<TestResult> {
    check_sample(a, "cramervonmises_2samp: sample a", 2)?;
    check_sample(b, "cramervonmises_2samp: sample b", 2)?;
    let xa = sorted_copy(a);
    let ya = sorted_copy(b);
    let (nx, ny) = (xa.len(), ya.len());
    let z: Vec<f64> = xa.iter().chain(&ya).copied().collect();
    let r = average_ranks(&z);
    let sq_x: Vec<f64> = r[..nx]
        .iter()
        .enumerate()
        .map(|(i, &ri)| {
            let d = ri - (i + 1) as f64;
            d * d
        })
        .collect();
    let sq_y: Vec<f64> = r[nx..]
        .iter()
        .enumerate()
        .map(|(j, &rj)| {
            let d = rj - (j + 1) as f64;
            d * d
        })
        .collect();
    let u = nx as f64 * numpy_sum(&sq_x) + ny as f64 * numpy_sum(&sq_y);
    let (nx64, ny64) = (nx as u64, ny as u64);
    let k = u128::from(nx64) * u128::from(ny64);
    let big_n = u128::from(nx64 + ny64);
    let t = u / (k * big_n) as f64 - (4 * k - 1) as f64 / (6 * big_n) as f64;
    let p = if nx.max(ny) <= CVM_EXACT_MAX_N {
        pval_exact(u, nx64, ny64)
    } else {
        pval_asymptotic(t, nx64, ny64)
    };
    Ok(TestResult {
        statistic: t,
        p_value: p,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floor_division_matches_python() {
        assert_eq!(float_floor_div(7.0, 2.0), 3.0);
        assert_eq!(float_floor_div(-7.0, 2.0), -4.0);
        assert_eq!(float_floor_div(-1.5, 6.0), -1.0);
        assert_eq!(float_floor_div(0.0, 6.0), 0.0);
    }

    #[test]
    fn ranks_and_binomials() {
        assert_eq!(average_ranks(&[3.0, 1.0, 3.0, 2.0]), vec![3.5, 1.0, 3.5, 2.0]);
        assert_eq!(binomial(40, 20), 137_846_528_820);
        assert_eq!(binomial(5, 0), 1);
    }
}
