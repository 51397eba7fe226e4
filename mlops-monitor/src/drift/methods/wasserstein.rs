//! Wasserstein-1 distance (as `scipy.stats.wasserstein_distance`), normed by the
//! reference's population standard deviation (floor 0.001) as Evidently does.

/// ∫|F_ref − F_cur|: the area between the two empirical CDFs, walking both
/// sorted samples in merge order (as scipy's `wasserstein_distance` on equal weights).
pub fn wasserstein_distance(reference: &[f64], current: &[f64]) -> f64 {
    let mut a = reference.to_vec();
    let mut b = current.to_vec();
    mlops_data::sketch::sort_f64(&mut a);
    mlops_data::sketch::sort_f64(&mut b);
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j, mut total) = (0usize, 0usize, 0.0);
    let mut previous: Option<f64> = None;
    while i < a.len() || j < b.len() {
        let x = match (a.get(i), b.get(j)) {
            (Some(&u), Some(&v)) => u.min(v),
            (Some(&u), None) => u,
            (None, Some(&v)) => v,
            (None, None) => break,
        };
        if let Some(p) = previous {
            // CDFs just before x: shares of values <= p.
            total += (i as f64 / na - j as f64 / nb).abs() * (x - p);
        }
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
        previous = Some(x);
    }
    total
}

/// Population standard deviation (`numpy.std`, ddof = 0).
pub fn population_std(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    (values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n).sqrt()
}

/// The distance divided by `max(std(reference), 0.001)`.
pub fn normed_wasserstein(reference: &[f64], current: &[f64]) -> f64 {
    wasserstein_distance(reference, current) / population_std(reference).max(0.001)
}
