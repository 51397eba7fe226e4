//! Wasserstein-1 distance (as `scipy.stats.wasserstein_distance`), normed by the
//! reference's population standard deviation (floor 0.001) as Evidently does.

/// ∫|F_ref − F_cur|: the area between the two empirical CDFs.
pub fn wasserstein_distance(reference: &[f64], current: &[f64]) -> f64 {
    let mut a = reference.to_vec();
    let mut b = current.to_vec();
    a.sort_unstable_by(f64::total_cmp);
    b.sort_unstable_by(f64::total_cmp);
    let mut all: Vec<f64> = a.iter().chain(&b).copied().collect();
    all.sort_unstable_by(f64::total_cmp);
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j, mut total) = (0usize, 0usize, 0.0);
    for w in all.windows(2) {
        while i < a.len() && a[i] <= w[0] {
            i += 1;
        }
        while j < b.len() && b[j] <= w[0] {
            j += 1;
        }
        total += (i as f64 / na - j as f64 / nb).abs() * (w[1] - w[0]);
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
