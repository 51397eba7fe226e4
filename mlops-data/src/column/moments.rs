//! Stable first and second moments, merged with Chan et al.'s pairwise formula.

use serde::{Deserialize, Serialize};

/// Count, mean and sum of squared deviations (`M2`) of finite values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Moments {
    pub(crate) n: u64,
    pub(crate) mean: f64,
    pub(crate) m2: f64,
}

impl Moments {
    /// Two passes over one batch: the batch mean first, then deviations from it,
    /// which avoids the cancellation of the textbook `Σx² − n·mean²`.
    pub(crate) fn of_slice(values: &[f64]) -> Moments {
        if values.is_empty() {
            return Moments::default();
        }
        let n = values.len() as f64;
        let mean = pairwise_sum(values) / n;
        let m2 = values.iter().map(|&x| (x - mean) * (x - mean)).sum();
        Moments {
            n: values.len() as u64,
            mean,
            m2,
        }
    }

    /// Chan, Golub, LeVeque (1979): combine two partitions' moments.
    pub(crate) fn merge(&mut self, other: &Moments) {
        if other.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = *other;
            return;
        }
        let (na, nb) = (self.n as f64, other.n as f64);
        let n = na + nb;
        let delta = other.mean - self.mean;
        self.mean += delta * nb / n;
        self.m2 += other.m2 + delta * delta * na * nb / n;
        self.n += other.n;
    }

    /// Sample variance (ddof = 1); `None` below two values.
    pub(crate) fn sample_variance(&self) -> Option<f64> {
        (self.n >= 2).then(|| (self.m2 / (self.n - 1) as f64).max(0.0))
    }
}

/// Pairwise summation: error grows with log(n) instead of n.
pub(crate) fn pairwise_sum(values: &[f64]) -> f64 {
    const BLOCK: usize = 128;
    if values.len() <= BLOCK {
        // Four accumulators let the compiler vectorise without reassociating.
        let mut acc = [0.0f64; 4];
        let chunks = values.chunks_exact(4);
        let rest = chunks.remainder();
        for c in chunks {
            acc[0] += c[0];
            acc[1] += c[1];
            acc[2] += c[2];
            acc[3] += c[3];
        }
        let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
        for &x in rest {
            s += x;
        }
        s
    } else {
        let mid = values.len() / 2;
        pairwise_sum(&values[..mid]) + pairwise_sum(&values[mid..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_matches_one_pass_to_1e12() {
        let data: Vec<f64> = (0..10_000).map(|i| 1e9 + (i as f64 * 0.37).sin()).collect();
        let whole = Moments::of_slice(&data);
        let mut parts = Moments::default();
        for c in data.chunks(777) {
            parts.merge(&Moments::of_slice(c));
        }
        assert_eq!(parts.n, whole.n);
        assert!((parts.mean - whole.mean).abs() <= 1e-12 * whole.mean.abs());
        assert!(
            (parts.m2 - whole.m2).abs() <= 1e-9 * whole.m2.abs(),
            "{} vs {}",
            parts.m2,
            whole.m2
        );
    }

    #[test]
    fn large_offset_does_not_cancel() {
        // Variance of {1e9+4, 1e9+7, 1e9+13, 1e9+16} is 30 exactly.
        let m = Moments::of_slice(&[1e9 + 4.0, 1e9 + 7.0, 1e9 + 13.0, 1e9 + 16.0]);
        assert_eq!(m.sample_variance(), Some(30.0));
        assert_eq!(Moments::of_slice(&[1.0]).sample_variance(), None);
    }
}
