//! Tests on category counts: chi-square goodness of fit and the two-proportion Z-test.

use statrs::distribution::{ChiSquared, ContinuousCDF, Normal};

/// `scipy.stats.chisquare(observed, expected)` with `ddof = 0`: statistic and
/// p-value on `k − 1` degrees of freedom. An expected count of zero with a
/// non-zero observation gives an infinite statistic and p-value 0.
pub fn chi_square(observed: &[f64], expected: &[f64]) -> (f64, f64) {
    let mut stat = 0.0;
    for (&o, &e) in observed.iter().zip(expected) {
        if e == 0.0 {
            if o != 0.0 {
                stat = f64::INFINITY;
            }
            continue;
        }
        stat += (o - e) * (o - e) / e;
    }
    let df = observed.len().saturating_sub(1) as f64;
    if !stat.is_finite() {
        return (stat, 0.0);
    }
    let p = match ChiSquared::new(df) {
        Ok(d) if df > 0.0 => d.sf(stat),
        _ => f64::NAN,
    };
    (stat, p)
}

/// Two-sided two-proportion Z-test (pooled variance), as Evidently's
/// `proportions_diff_z_test`: `x1` of `n1` against `x2` of `n2`.
pub fn two_proportion_z(x1: f64, n1: f64, x2: f64, n2: f64) -> (f64, f64) {
    let (p1, p2) = (x1 / n1, x2 / n2);
    let pooled = (x1 + x2) / (n1 + n2);
    let se = (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)).sqrt();
    if se == 0.0 {
        // Both samples hold one and the same value: no evidence of a difference.
        return (0.0, 1.0);
    }
    let z = (p1 - p2) / se;
    // 2·(1 − Φ(|z|)) rather than 2·sf(|z|): Evidently's form, which reaches exactly 0 for |z| ≳ 8.3.
    let p = match Normal::new(0.0, 1.0) {
        Ok(n) => 2.0 * (1.0 - n.cdf(z.abs())),
        Err(_) => f64::NAN,
    };
    (z, p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scipy_reference_values() {
        // scipy.stats.chisquare([16, 18, 16, 14, 12, 12], [16, 16, 16, 16, 16, 8])
        // → statistic 3.5, pvalue 0.6233876277495822
        let (s, p) = chi_square(
            &[16.0, 18.0, 16.0, 14.0, 12.0, 12.0],
            &[16.0, 16.0, 16.0, 16.0, 16.0, 8.0],
        );
        assert!((s - 3.5).abs() < 1e-12);
        assert!((p - 0.623_387_627_749_582_2).abs() < 1e-12, "{p}");
        assert_eq!(chi_square(&[1.0, 1.0], &[2.0, 0.0]).1, 0.0);
        // 2 * (1 - norm.cdf(|z|)) with z = (0.5 - 0.3)/sqrt(0.4*0.6*(1/100+1/100)) = 2.886751345948129
        // → 0.003892417122778645
        let (z, p) = two_proportion_z(50.0, 100.0, 30.0, 100.0);
        assert!((z - 2.886_751_345_948_129).abs() < 1e-12);
        assert!((p - 0.003_892_417_122_778_645).abs() < 1e-12, "{p}");
    }
}
