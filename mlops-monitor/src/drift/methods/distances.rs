//! Distances between binned distributions (shares per bin or category).

/// Jensen–Shannon distance with natural logarithms, as
/// `scipy.spatial.distance.jensenshannon(p, q)`: both vectors are normalised
/// to sum 1 first; the result is the square root of the divergence.
pub fn jensen_shannon(p: &[f64], q: &[f64]) -> f64 {
    let (sp, sq) = (p.iter().sum::<f64>(), q.iter().sum::<f64>());
    let mut divergence = 0.0;
    for (&a, &b) in p.iter().zip(q) {
        let (a, b) = (a / sp, b / sq);
        let m = (a + b) / 2.0;
        if a > 0.0 {
            divergence += a * (a / m).ln();
        }
        if b > 0.0 {
            divergence += b * (b / m).ln();
        }
    }
    (divergence / 2.0).max(0.0).sqrt()
}

/// Population stability index: `Σ (ref − cur) · ln(ref / cur)` over bins
/// whose shares are never zero (empty bins were filled beforehand).
pub fn psi(reference: &[f64], current: &[f64]) -> f64 {
    reference
        .iter()
        .zip(current)
        .map(|(&r, &c)| (r - c) * (r / c).ln())
        .sum()
}

/// Hellinger distance `sqrt(Σ (√p − √q)²) / √2`, in [0, 1].
pub fn hellinger(p: &[f64], q: &[f64]) -> f64 {
    let s: f64 = p.iter().zip(q).map(|(&a, &b)| (a.sqrt() - b.sqrt()).powi(2)).sum();
    (s / 2.0).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_values() {
        // scipy.spatial.distance.jensenshannon([1, 0, 0], [0, 1, 0]) = sqrt(ln 2) = 0.8325546111576977
        assert!((jensen_shannon(&[1.0, 0.0, 0.0], &[0.0, 1.0, 0.0]) - 0.832_554_611_157_697_7).abs() < 1e-15);
        // jensenshannon([1.0, 0.0], [0.5, 0.5]) = 0.46450140402245893
        assert!((jensen_shannon(&[1.0, 0.0], &[0.5, 0.5]) - 0.464_501_404_022_458_93).abs() < 1e-15);
        assert_eq!(jensen_shannon(&[0.2, 0.8], &[0.2, 0.8]), 0.0);
        assert_eq!(psi(&[0.5, 0.5], &[0.5, 0.5]), 0.0);
        // (0.6-0.4)ln(1.5) + (0.4-0.6)ln(2/3) = 0.4 ln 1.5
        assert!((psi(&[0.6, 0.4], &[0.4, 0.6]) - 0.4 * 1.5f64.ln()).abs() < 1e-15);
        assert!((hellinger(&[1.0, 0.0], &[0.0, 1.0]) - 1.0).abs() < 1e-15);
    }
}
