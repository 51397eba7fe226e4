//! Small numeric kernels shared by the tests: NumPy's summation order, a
//! least-squares polynomial fit, and the modified Bessel function `K_nu`.

/// Sums `a` in exactly the order `numpy.sum` uses for a contiguous `float64`
/// array (pairwise summation with an 8-way unrolled base case of up to 128
/// elements), so that sums match NumPy bit for bit.
pub(crate) fn numpy_sum(a: &[f64]) -> f64 {
    const BLOCK: usize = 128;
    let n = a.len();
    if n < 8 {
        let mut res = 0.0;
        for &v in a {
            res += v;
        }
        res
    } else if n <= BLOCK {
        let mut r = [0.0f64; 8];
        r.copy_from_slice(&a[..8]);
        let mut i = 8;
        while i < n - n % 8 {
            for (j, acc) in r.iter_mut().enumerate() {
                *acc += a[i + j];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &v in &a[i..] {
            res += v;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        numpy_sum(&a[..n2]) + numpy_sum(&a[n2..])
    }
}

/// Least-squares polynomial fit of degree `DEG`, coefficients highest power
/// first (as `numpy.polyfit`). Like NumPy, the Vandermonde columns are scaled
/// to unit norm before solving; the solve uses Householder QR. Returns `None`
/// for rank-deficient input.
pub(crate) fn polyfit<const DEG: usize>(x: &[f64], y: &[f64]) -> Option<Vec<f64>> {
    let cols = DEG + 1;
    let rows = x.len();
    if rows < cols || y.len() != rows {
        return None;
    }
    // Column j holds x^(DEG - j).
    let mut a: Vec<Vec<f64>> = (0..cols)
        .map(|j| x.iter().map(|&xi| xi.powi((DEG - j) as i32)).collect())
        .collect();
    let scale: Vec<f64> = a
        .iter()
        .map(|col| col.iter().map(|v| v * v).sum::<f64>().sqrt())
        .collect();
    for (col, &s) in a.iter_mut().zip(&scale) {
        if s == 0.0 || !s.is_finite() {
            return None;
        }
        for v in col.iter_mut() {
            *v /= s;
        }
    }
    let mut b = y.to_vec();
    // Householder QR, applied to b as we go.
    for k in 0..cols {
        let norm = a[k][k..].iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm == 0.0 {
            return None;
        }
        let alpha = if a[k][k] > 0.0 { -norm } else { norm };
        let mut v: Vec<f64> = a[k][k..].to_vec();
        v[0] -= alpha;
        let vnorm2: f64 = v.iter().map(|t| t * t).sum();
        if vnorm2 == 0.0 {
            continue;
        }
        for col in a.iter_mut().skip(k) {
            let dot: f64 = v.iter().zip(&col[k..]).map(|(p, q)| p * q).sum();
            let f = 2.0 * dot / vnorm2;
            for (c, vi) in col[k..].iter_mut().zip(&v) {
                *c -= f * vi;
            }
        }
        let dot: f64 = v.iter().zip(&b[k..]).map(|(p, q)| p * q).sum();
        let f = 2.0 * dot / vnorm2;
        for (c, vi) in b[k..].iter_mut().zip(&v) {
            *c -= f * vi;
        }
    }
    // Back substitution on the upper-triangular R (a[j][i] is R[i][j]).
    let mut coef = vec![0.0; cols];
    for i in (0..cols).rev() {
        let mut s = b[i];
        for j in (i + 1)..cols {
            s -= a[j][i] * coef[j];
        }
        let d = a[i][i];
        if d == 0.0 {
            return None;
        }
        coef[i] = s / d;
    }
    for (c, s) in coef.iter_mut().zip(&scale) {
        *c /= s;
    }
    Some(coef)
}

/// Evaluates a polynomial (highest power first) by Horner's rule, as `numpy.polyval`.
pub(crate) fn polyval(coef: &[f64], x: f64) -> f64 {
    let mut y = 0.0;
    for &c in coef {
        y = y * x + c;
    }
    y
}

/// The exponentially scaled modified Bessel function of the second kind,
/// `exp(x) * K_nu(x)`, for real `nu` and `x > 0`.
///
/// Uses `K_nu(x) = ∫_0^∞ exp(-x cosh t) cosh(nu t) dt` and the trapezoidal rule,
/// which converges geometrically for this entire, rapidly decaying integrand:
/// with a strip of half-width `pi/4` the relative error is about
/// `exp(0.293 x - 4.93 / step)`, so `step = 4.93 / (0.293 x + 45)` (capped at
/// 0.1) gives full double precision. Returns NaN for `x <= 0` or NaN input.
pub(crate) fn bessel_k_scaled(nu: f64, x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 || nu.is_nan() {
        return f64::NAN;
    }
    if x.is_infinite() {
        return 0.0;
    }
    let step = (4.93 / (0.293 * x + 45.0)).min(0.1);
    // Integrand scaled by exp(x): exp(-x (cosh t - 1)) cosh(nu t).
    let f = |t: f64| {
        // cosh t - 1 = 2 sinh^2(t/2), without cancellation near 0.
        let s = (0.5 * t).sinh();
        (-x * 2.0 * s * s).exp() * (nu * t).cosh()
    };
    let mut sum = 0.5 * f(0.0);
    let mut k = 1.0;
    loop {
        let t = k * step;
        let term = f(t);
        sum += term;
        let s = (0.5 * t).sinh();
        // Stop once the Gaussian-like factor is negligible and keeps shrinking.
        if x * 2.0 * s * s > 50.0 + nu.abs() * t && term <= 1e-20 * sum {
            break;
        }
        k += 1.0;
        if k > 1e6 {
            break;
        }
    }
    sum * step
}

/// `Gamma(k + 1/2) / Gamma(k + 1)` for a non-negative integer `k`.
pub(crate) fn gamma_half_ratio(k: u32) -> f64 {
    let mut r = std::f64::consts::PI.sqrt();
    for i in 1..=k {
        let i = f64::from(i);
        r *= (i - 0.5) / i;
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(a: f64, b: f64) -> f64 {
        ((a - b) / b).abs()
    }

    #[test]
    fn numpy_sum_orders() {
        assert_eq!(numpy_sum(&[]), 0.0);
        assert_eq!(numpy_sum(&[1.0, 2.0, 3.0]), 6.0);
        let v: Vec<f64> = (0..1000).map(|i| f64::from(i) * 0.5).collect();
        assert_eq!(numpy_sum(&v), 249_750.0);
    }

    #[test]
    fn polyfit_recovers_a_quadratic() {
        let x = [0.5, 1.0, 2.0, 3.0, 4.5];
        let y: Vec<f64> = x.iter().map(|&t| 2.0 * t * t - 3.0 * t + 0.25).collect();
        let c = polyfit::<2>(&x, &y).unwrap();
        assert!((c[0] - 2.0).abs() < 1e-12 && (c[1] + 3.0).abs() < 1e-12);
        assert!((c[2] - 0.25).abs() < 1e-12);
        assert!((polyval(&c, 1.5) - (4.5 - 4.5 + 0.25)).abs() < 1e-12);
        assert!(polyfit::<2>(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]).is_none());
    }

    #[test]
    fn bessel_k_quarter_is_accurate() {
        // exp(x) K_{1/4}(x) from mpmath at 40 digits. (SciPy's AMOS-based
        // `kve(0.25, x)` is itself off by up to 7e-14 relative near x = 2.)
        let cases = [
            (1e-4, 21.354_051_162_747_698),
            (0.001, 11.768_238_628_404_431),
            (0.0625, 3.497_889_410_717_915),
            (0.5, 1.583_293_951_515_776_2),
            (1.0, 1.170_872_101_678_137_8),
            (2.0, 0.852_536_560_175_041_6),
            (5.0, 0.550_954_576_005_971_3),
            (20.8, 0.273_599_748_207_130_34),
            (100.0, 0.125_214_551_571_936_78),
            (1000.0, 0.039_629_559_386_605_64),
        ];
        for (x, want) in cases {
            let got = bessel_k_scaled(0.25, x);
            assert!(rel(got, want) < 2e-15, "kve(0.25, {x}) = {got}, exact {want}");
        }
        assert!(bessel_k_scaled(0.25, 0.0).is_nan());
        assert_eq!(bessel_k_scaled(0.25, f64::INFINITY), 0.0);
    }

    #[test]
    fn gamma_ratio() {
        assert!(rel(gamma_half_ratio(0), 1.772_453_850_905_516) < 1e-15);
        // Gamma(3.5) / Gamma(4) = 3.323350970447843 / 6
        assert!(rel(gamma_half_ratio(3), 3.323_350_970_447_843 / 6.0) < 1e-15);
    }
}
