//! Profiling configuration: sketch sizes and reading parameters.

use serde::{Deserialize, Serialize};

use crate::sketch::{HyperLogLog, KllSketch};
use crate::{Error, Result};

/// How precise the sketches are and how data is read.
///
/// The defaults meet the SDK's published bounds: quantile rank error ≤ 1 %
/// (KLL `k = 400`, 0.86 %), distinct counts within 2 % (HyperLogLog `p = 14`,
/// 0.81 % standard error, exact below 2 048 distinct values), and exact
/// frequent-item counts for columns with at most 128 distinct values.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ProfileConfig {
    /// KLL accuracy parameter (8..=65535).
    pub kll_k: u16,
    /// HyperLogLog precision (4..=18).
    pub hll_precision: u8,
    /// Frequent-item counters kept per string column (≥ 1).
    pub frequent_items: usize,
    /// Rows per batch when reading Parquet.
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
}

fn default_batch_size() -> usize {
    8192
}

impl Default for ProfileConfig {
    fn default() -> Self {
        ProfileConfig {
            kll_k: 400,
            hll_precision: 14,
            frequent_items: 128,
            batch_size: default_batch_size(),
        }
    }
}

impl ProfileConfig {
    /// Sets the KLL `k`.
    pub fn with_kll_k(mut self, k: u16) -> Self {
        self.kll_k = k;
        self
    }

    /// Sets the HyperLogLog precision.
    pub fn with_hll_precision(mut self, p: u8) -> Self {
        self.hll_precision = p;
        self
    }

    /// Sets the number of frequent-item counters.
    pub fn with_frequent_items(mut self, n: usize) -> Self {
        self.frequent_items = n;
        self
    }

    /// Sets the Parquet read batch size.
    pub fn with_batch_size(mut self, rows: usize) -> Self {
        self.batch_size = rows;
        self
    }

    /// Normalised rank error bound of the quantile sketch.
    pub fn rank_error(&self) -> f64 {
        KllSketch::rank_error_for(self.kll_k)
    }

    /// Checks every parameter's range.
    pub fn validate(&self) -> Result<()> {
        KllSketch::new(self.kll_k)?;
        HyperLogLog::new(self.hll_precision)?;
        if self.frequent_items == 0 || self.batch_size == 0 {
            return Err(Error::invalid_input(
                "profile configuration",
                "ProfileConfig",
                format!(
                    "frequent_items = {}, batch_size = {}",
                    self.frequent_items, self.batch_size
                ),
                "both at least 1",
            ));
        }
        Ok(())
    }
}
