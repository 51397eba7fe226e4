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
    #[cfg(test)]
    pub(crate) fn of_slice(values: &[f64]) -> Moments {
        Moments::of_slice_with_sum(values, Summary::of(values).sum)
    }

    /// As `of_slice`, for a caller that already has the pairwise sum of `values`.
    pub(crate) fn of_slice_with_sum(values: &[f64], sum: f64) -> Moments {
        if values.is_empty() {
            return Moments::default();
        }
        let mean = sum / values.len() as f64;
        Moments {
            n: values.len() as u64,
            mean,
            m2: squared_deviations(values, mean),
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

/// Values a pairwise-summation leaf adds up before halving stops.
const BLOCK: usize = 128;
/// Independent accumulators per leaf: they break the add chain's latency and
/// let the compiler use vector registers without reassociating any sum.
const LANES: usize = 8;

/// Order statistics and pairwise sum of a batch, gathered in one pass.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Summary {
    /// Pairwise sum: its error grows with log(n), not n. Not finite when a
    /// value is not finite (or when the sum overflows).
    pub(crate) sum: f64,
    /// Smallest value (NaN is skipped).
    pub(crate) min: f64,
    /// Largest value (NaN is skipped).
    pub(crate) max: f64,
    /// Values equal to zero.
    pub(crate) zeros: u64,
}

impl Summary {
    /// One pass over `values`.
    pub(crate) fn of(values: &[f64]) -> Summary {
        if values.len() <= BLOCK {
            return Summary::leaf(values);
        }
        let (a, b) = values.split_at(values.len() / 2);
        let (a, b) = (Summary::of(a), Summary::of(b));
        Summary {
            sum: a.sum + b.sum,
            min: if b.min < a.min { b.min } else { a.min },
            max: if b.max > a.max { b.max } else { a.max },
            zeros: a.zeros + b.zeros,
        }
    }

    fn leaf(values: &[f64]) -> Summary {
        let mut sum = [0.0f64; LANES];
        let mut lo = [f64::INFINITY; LANES];
        let mut hi = [f64::NEG_INFINITY; LANES];
        let mut zeros = [0u64; LANES];
        let chunks = values.chunks_exact(LANES);
        let rest = chunks.remainder();
        for c in chunks {
            for j in 0..LANES {
                let x = c[j];
                sum[j] += x;
                lo[j] = if x < lo[j] { x } else { lo[j] };
                hi[j] = if x > hi[j] { x } else { hi[j] };
                zeros[j] += u64::from(x == 0.0);
            }
        }
        let mut s = Summary {
            sum: tree_sum(&sum),
            min: lo.iter().copied().fold(f64::INFINITY, |a, b| if b < a { b } else { a }),
            max: hi
                .iter()
                .copied()
                .fold(f64::NEG_INFINITY, |a, b| if b > a { b } else { a }),
            zeros: zeros.iter().sum(),
        };
        for &x in rest {
            s.sum += x;
            s.min = if x < s.min { x } else { s.min };
            s.max = if x > s.max { x } else { s.max };
            s.zeros += u64::from(x == 0.0);
        }
        s
    }
}

/// Adds the lanes in a balanced tree, as pairwise summation would.
fn tree_sum(lanes: &[f64; LANES]) -> f64 {
    ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]))
}

/// Pairwise `Σ (x − mean)²`.
fn squared_deviations(values: &[f64], mean: f64) -> f64 {
    if values.len() > BLOCK {
        let (a, b) = values.split_at(values.len() / 2);
        return squared_deviations(a, mean) + squared_deviations(b, mean);
    }
    let mut acc = [0.0f64; LANES];
    let chunks = values.chunks_exact(LANES);
    let rest = chunks.remainder();
    for c in chunks {
        for j in 0..LANES {
            let d = c[j] - mean;
            acc[j] += d * d;
        }
    }
    let mut s = tree_sum(&acc);
    for &x in rest {
        s += (x - mean) * (x - mean);
    }
    s
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

    #[test]
    fn summary_matches_a_plain_loop() {
        for n in [0usize, 1, 7, 8, 9, 127, 128, 129, 1000, 8192] {
            let values: Vec<f64> = (0..n)
                .map(|i| match i % 11 {
                    0 => 0.0,
                    1 => -0.0,
                    _ => ((i * 7919) % 1013) as f64 - 500.5,
                })
                .collect();
            let s = Summary::of(&values);
            let exact: f64 = values.iter().sum();
            assert_eq!(s.sum, exact, "n {n}: these sums are exact in f64");
            assert_eq!(s.zeros, values.iter().filter(|&&x| x == 0.0).count() as u64);
            let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            assert_eq!((s.min, s.max), (lo, hi), "n {n}");
        }
        assert!(!Summary::of(&[1.0, f64::NAN, 2.0]).sum.is_finite());
        assert!(!Summary::of(&[1.0, f64::INFINITY, f64::NEG_INFINITY]).sum.is_finite());
    }
}
