//! Maximum mean discrepancy (Gretton et al., "A Kernel Two-Sample Test", JMLR
//! 2012) with a Gaussian RBF kernel and a permutation test, the multivariate
//! drift test of alibi-detect's `MMDDrift`.
//!
//! - Kernel `k(x, y) = exp(−‖x − y‖² / (2σ²))`; σ by alibi-detect's median
//!   heuristic: `2σ²` is the lower median of the squared distances between
//!   reference and current rows.
//! - Statistic: the unbiased MMD² estimate (diagonal terms excluded).
//! - p-value: `(k + 1) / (B + 1)` where `k` of `B` random re-splits of the
//!   pooled sample reach the observed statistic: never 0, and valid at any B.
//!
//! Cost is quadratic in the pooled size, so each sample is capped at
//! `max_rows` rows (a seeded, deterministic random subsample; default 1 000).

use mlops_core::{Error, Result};
use serde::{Deserialize, Serialize};

use super::TestResult;

/// MMD test settings.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MmdConfig {
    /// Random permutations for the p-value (≥ 1).
    pub permutations: usize,
    /// Rows kept per sample (a deterministic random subsample above it).
    pub max_rows: usize,
    /// Seed of the subsampling and permutations.
    pub seed: u64,
}

impl Default for MmdConfig {
    fn default() -> Self {
        MmdConfig {
            permutations: 100,
            max_rows: 1000,
            seed: 0x6d6d_6421,
        }
    }
}

impl MmdConfig {
    /// Sets the number of permutations.
    pub fn with_permutations(mut self, b: usize) -> Self {
        self.permutations = b;
        self
    }

    /// Sets the per-sample row cap.
    pub fn with_max_rows(mut self, rows: usize) -> Self {
        self.max_rows = rows;
        self
    }

    /// Sets the seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
}

/// The MMD statistic, its p-value and the kernel width used.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MmdResult {
    /// Unbiased MMD² estimate and permutation p-value.
    pub test: TestResult,
    /// The kernel bandwidth σ.
    pub sigma: f64,
}

struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

fn check(rows: &[Vec<f64>], which: &str, dims: usize) -> Result<()> {
    if rows.len() < 2 {
        return Err(Error::NotEnoughData {
            location: format!("MMD {which} sample"),
            message: "fewer than 2 rows".into(),
        });
    }
    for (i, r) in rows.iter().enumerate() {
        if r.len() != dims || r.iter().any(|v| !v.is_finite()) {
            return Err(Error::invalid_input(
                "MMD row",
                format!("{which} row {i}"),
                format!("{} values, finite: {}", r.len(), r.iter().all(|v| v.is_finite())),
                format!("{dims} finite values"),
            ));
        }
    }
    Ok(())
}

/// Two-sample MMD test on rows of equal dimension (standardise features first
/// when their scales differ: the kernel uses plain Euclidean distance).
pub fn mmd_test(reference: &[Vec<f64>], current: &[Vec<f64>], config: &MmdConfig) -> Result<MmdResult> {
    let dims = reference.first().map_or(0, Vec::len);
    check(reference, "reference", dims)?;
    check(current, "current", dims)?;
    if config.permutations == 0 || config.max_rows < 2 {
        return Err(Error::invalid_input(
            "MMD configuration",
            "MmdConfig",
            format!("{config:?}"),
            "permutations ≥ 1 and max_rows ≥ 2",
        ));
    }
    let mut rng = SplitMix(config.seed);
    let pick = |rows: &[Vec<f64>], rng: &mut SplitMix| -> Vec<Vec<f64>> {
        if rows.len() <= config.max_rows {
            return rows.to_vec();
        }
        let mut idx: Vec<usize> = (0..rows.len()).collect();
        rng.shuffle(&mut idx);
        idx.truncate(config.max_rows);
        idx.sort_unstable();
        idx.into_iter().map(|i| rows[i].clone()).collect()
    };
    let x = pick(reference, &mut rng);
    let y = pick(current, &mut rng);
    let pooled: Vec<&[f64]> = x.iter().chain(&y).map(Vec::as_slice).collect();
    let n = pooled.len();
    // Pairwise squared distances, once; the kernel matrix follows from them.
    let mut d2 = vec![0.0f64; n * n];
    let m = x.len();
    let mut cross = Vec::with_capacity(m * (n - m));
    for i in 0..n {
        for j in (i + 1)..n {
            let d: f64 = pooled[i].iter().zip(pooled[j]).map(|(a, b)| (a - b) * (a - b)).sum();
            d2[i * n + j] = d;
            d2[j * n + i] = d;
            if i < m && j >= m {
                cross.push(d);
            }
        }
    }
    cross.sort_unstable_by(f64::total_cmp);
    let median = cross.get((cross.len() / 2).saturating_sub(1)).copied().unwrap_or(0.0);
    // All points identical: any positive width gives the same (zero) statistic.
    let two_sigma2 = if median > 0.0 { median } else { 1.0 };
    let kernel: Vec<f64> = d2.iter().map(|&d| (-d / two_sigma2).exp()).collect();
    let statistic = |labels: &[usize]| -> f64 {
        // labels[..m] are the "reference" indices of this split, the rest "current".
        let (a, b) = labels.split_at(m);
        let mean_within = |s: &[usize]| -> f64 {
            let mut total = 0.0;
            for (p, &i) in s.iter().enumerate() {
                for &j in &s[p + 1..] {
                    total += kernel[i * n + j];
                }
            }
            2.0 * total / (s.len() * (s.len() - 1)) as f64
        };
        let mut cross = 0.0;
        for &i in a {
            for &j in b {
                cross += kernel[i * n + j];
            }
        }
        mean_within(a) + mean_within(b) - 2.0 * cross / (a.len() * b.len()) as f64
    };
    let mut labels: Vec<usize> = (0..n).collect();
    let observed = statistic(&labels);
    let mut at_least = 0usize;
    for _ in 0..config.permutations {
        rng.shuffle(&mut labels);
        if statistic(&labels) >= observed {
            at_least += 1;
        }
    }
    let p_value = (at_least + 1) as f64 / (config.permutations + 1) as f64;
    Ok(MmdResult {
        test: TestResult {
            statistic: observed,
            p_value,
        },
        sigma: (two_sigma2 / 2.0).sqrt(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gaussian(n: usize, dims: usize, shift: f64, seed: u64) -> Vec<Vec<f64>> {
        let mut r = SplitMix(seed);
        let mut u = move || (r.next() >> 11) as f64 / (1u64 << 53) as f64;
        (0..n)
            .map(|_| {
                (0..dims)
                    .map(|_| (-2.0 * u().max(1e-300).ln()).sqrt() * (std::f64::consts::TAU * u()).cos() + shift)
                    .collect()
            })
            .collect()
    }

    #[test]
    fn known_small_case() {
        // x = {0, 1}, y = {3, 4} in 1-D; cross squared distances 9, 16, 4, 9 → lower median 9.
        let x = vec![vec![0.0], vec![1.0]];
        let y = vec![vec![3.0], vec![4.0]];
        let r = mmd_test(&x, &y, &MmdConfig::default().with_permutations(20)).unwrap();
        let k = |d: f64| (-d / 9.0f64).exp();
        let expected = k(1.0) + k(1.0) - 2.0 * (k(9.0) + k(16.0) + k(4.0) + k(9.0)) / 4.0;
        assert!((r.test.statistic - expected).abs() < 1e-15);
        assert!((r.sigma - (9.0f64 / 2.0).sqrt()).abs() < 1e-15);
        assert!(r.test.p_value > 0.0 && r.test.p_value <= 1.0);
    }

    #[test]
    fn detects_shift_and_not_noise() {
        let cfg = MmdConfig::default().with_permutations(100);
        let shifted = mmd_test(&gaussian(150, 3, 0.0, 1), &gaussian(150, 3, 0.8, 2), &cfg).unwrap();
        assert!((shifted.test.p_value - 1.0 / 101.0).abs() < 1e-15, "{shifted:?}");
        let mut small = 0;
        for seed in 0..10 {
            let same = mmd_test(
                &gaussian(80, 3, 0.0, 100 + seed),
                &gaussian(80, 3, 0.0, 200 + seed),
                &cfg,
            )
            .unwrap();
            small += usize::from(same.test.p_value <= 0.05);
        }
        assert!(small <= 3, "{small} of 10 null runs rejected at 5 %");
    }

    #[test]
    fn bad_input_is_an_error() {
        let ok = vec![vec![0.0, 1.0], vec![1.0, 0.0]];
        assert!(mmd_test(&ok, &[vec![0.0, 1.0]], &MmdConfig::default()).is_err());
        assert!(mmd_test(&ok, &[vec![0.0], vec![1.0]], &MmdConfig::default()).is_err());
        assert!(mmd_test(&ok, &[vec![f64::NAN, 1.0], vec![1.0, 0.0]], &MmdConfig::default()).is_err());
        assert!(mmd_test(&ok, &ok, &MmdConfig::default().with_permutations(0)).is_err());
        let same = mmd_test(
            &vec![vec![1.0, 1.0]; 5],
            &vec![vec![1.0, 1.0]; 5],
            &MmdConfig::default(),
        )
        .unwrap();
        assert_eq!((same.test.statistic, same.test.p_value), (0.0, 1.0));
    }
}
