//! Statistics of numeric and time columns.

use serde::{Deserialize, Serialize};

use super::moments::{Moments, Summary};
use crate::config::ProfileConfig;
use crate::sketch::hll::HllWire;
use crate::sketch::kll::KllWire;
use crate::sketch::{HyperLogLog, KllSketch};
use crate::{Error, Result};

/// Counts, exact extrema, stable moments and sketches of a numeric column.
///
/// NaN and ±infinity are counted and otherwise ignored: they never enter the
/// moments, the extrema, the quantiles or the distinct count.
#[derive(Clone, Debug)]
pub struct NumericStats {
    pub(crate) count: u64,
    pub(crate) null_count: u64,
    pub(crate) nan_count: u64,
    pub(crate) pos_inf_count: u64,
    pub(crate) neg_inf_count: u64,
    pub(crate) zero_count: u64,
    pub(crate) sum: f64,
    pub(crate) min: f64,
    pub(crate) max: f64,
    pub(crate) moments: Moments,
    pub(crate) quantiles: KllSketch,
    pub(crate) distinct: HyperLogLog,
    scratch: Scratch,
}

/// Per-batch buffers kept between batches so the hot path does not allocate.
#[derive(Debug, Default)]
struct Scratch {
    values: Vec<f64>,
    hashes: Vec<u64>,
}

impl Clone for Scratch {
    fn clone(&self) -> Self {
        Scratch::default()
    }
}

impl NumericStats {
    pub(crate) fn new(config: &ProfileConfig) -> Result<Self> {
        Ok(NumericStats {
            count: 0,
            null_count: 0,
            nan_count: 0,
            pos_inf_count: 0,
            neg_inf_count: 0,
            zero_count: 0,
            sum: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            moments: Moments::default(),
            quantiles: KllSketch::new(config.kll_k)?,
            distinct: HyperLogLog::new(config.hll_precision)?,
            scratch: Scratch::default(),
        })
    }

    /// Adds one batch's array of a numeric, decimal or temporal type.
    pub(crate) fn update_array(&mut self, array: &dyn arrow_array::Array, column: &str) -> Result<()> {
        let mut values = std::mem::take(&mut self.scratch.values);
        let nulls = super::ingest::numeric_values(array, column, &mut values);
        if let Ok(nulls) = nulls {
            self.update(&mut values, nulls);
        }
        self.scratch.values = values;
        nulls.map(|_| ())
    }

    /// Adds non-null values (already widened to `f64`); `values` is used as scratch.
    pub(crate) fn update(&mut self, values: &mut Vec<f64>, nulls: u64) {
        self.null_count += nulls;
        self.count += values.len() as u64;
        let mut summary = Summary::of(values);
        // NaN or an infinity makes the sum non-finite, so only such a batch
        // (or one whose sum overflows) pays for a second, filtering pass.
        if !summary.sum.is_finite() {
            self.drop_non_finite(values);
            summary = Summary::of(values);
        }
        let finite = values.as_slice();
        if finite.is_empty() {
            return;
        }
        self.min = self.min.min(summary.min);
        self.max = self.max.max(summary.max);
        self.zero_count += summary.zeros;
        self.sum += summary.sum;
        self.moments.merge(&Moments::of_slice_with_sum(finite, summary.sum));
        self.distinct.insert_f64s(finite, &mut self.scratch.hashes);
        self.quantiles.update_batch(finite);
    }

    /// Counts NaN and infinities and compacts the finite values to the front.
    fn drop_non_finite(&mut self, values: &mut Vec<f64>) {
        let mut kept = 0usize;
        for i in 0..values.len() {
            let v = values[i];
            if v.is_finite() {
                values[kept] = v;
                kept += 1;
            } else if v.is_nan() {
                self.nan_count += 1;
            } else if v > 0.0 {
                self.pos_inf_count += 1;
            } else {
                self.neg_inf_count += 1;
            }
        }
        values.truncate(kept);
    }

    pub(crate) fn merge(&mut self, other: &NumericStats) -> Result<()> {
        self.count += other.count;
        self.null_count += other.null_count;
        self.nan_count += other.nan_count;
        self.pos_inf_count += other.pos_inf_count;
        self.neg_inf_count += other.neg_inf_count;
        self.zero_count += other.zero_count;
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.moments.merge(&other.moments);
        self.quantiles.merge(&other.quantiles);
        self.distinct.merge(&other.distinct)
    }

    /// Finite values seen.
    pub fn finite_count(&self) -> u64 {
        self.moments.n
    }

    /// Smallest finite value (exact).
    pub fn min(&self) -> Option<f64> {
        (self.moments.n > 0).then_some(self.min)
    }

    /// Largest finite value (exact).
    pub fn max(&self) -> Option<f64> {
        (self.moments.n > 0).then_some(self.max)
    }

    /// Mean of the finite values.
    pub fn mean(&self) -> Option<f64> {
        (self.moments.n > 0).then_some(self.moments.mean)
    }

    /// Sum of the finite values.
    pub fn sum(&self) -> f64 {
        self.sum
    }

    /// Sample variance (ddof = 1).
    pub fn variance(&self) -> Option<f64> {
        self.moments.sample_variance()
    }

    /// Sample standard deviation (ddof = 1).
    pub fn std(&self) -> Option<f64> {
        self.variance().map(f64::sqrt)
    }

    /// Zeros among the finite values.
    pub fn zero_count(&self) -> u64 {
        self.zero_count
    }

    /// The quantile sketch of the finite values.
    pub fn quantile_sketch(&self) -> &KllSketch {
        &self.quantiles
    }

    /// The distinct-count sketch of the finite values.
    pub fn distinct_sketch(&self) -> &HyperLogLog {
        &self.distinct
    }

    /// Estimated `q`-quantile, clamped to the exact extrema (so 0 and 1 give min and max).
    pub fn quantile(&self, q: f64) -> Option<f64> {
        self.quantiles_at(&[q]).and_then(|v| v.first().copied())
    }

    /// Several quantiles from one sorted view of the sketch.
    pub fn quantiles_at(&self, qs: &[f64]) -> Option<Vec<f64>> {
        if self.moments.n == 0 || qs.iter().any(|q| !(0.0..=1.0).contains(q)) {
            return None;
        }
        let view = self.quantiles.sorted_view();
        qs.iter()
            .map(|&q| match q {
                0.0 => Some(self.min),
                1.0 => Some(self.max),
                _ => view.quantile(q).map(|v| v.clamp(self.min, self.max)),
            })
            .collect()
    }

    /// A histogram over `bins` equal-width bins spanning `[min, max]`, with
    /// counts estimated from the quantile sketch (each bin's count is off by at
    /// most twice the sketch's rank error times the finite count).
    pub fn histogram(&self, bins: usize) -> Option<Histogram> {
        if self.moments.n == 0 || bins == 0 {
            return None;
        }
        let (lo, hi) = (self.min, self.max);
        let width = (hi - lo) / bins as f64;
        let edges: Vec<f64> = (0..=bins)
            .map(|i| if i == bins { hi } else { lo + width * i as f64 })
            .collect();
        Some(Histogram::from_sketch(&self.quantiles, edges))
    }

    pub(crate) fn to_wire(&self) -> NumericWire {
        NumericWire {
            nan_count: self.nan_count,
            pos_inf_count: self.pos_inf_count,
            neg_inf_count: self.neg_inf_count,
            zero_count: self.zero_count,
            sum: self.sum,
            min: self.min(),
            max: self.max(),
            moments: self.moments,
            kll: self.quantiles.to_wire(),
            hll: self.distinct.to_wire(),
        }
    }

    pub(crate) fn from_wire(w: NumericWire, count: u64, null_count: u64, location: &str) -> Result<Self> {
        let quantiles = KllSketch::from_wire(w.kll, location)?;
        let distinct = HyperLogLog::from_wire(w.hll, location)?;
        let non_finite = w.nan_count + w.pos_inf_count + w.neg_inf_count;
        let consistent = w.moments.n + non_finite == count
            && quantiles.count() == w.moments.n
            && w.zero_count <= w.moments.n
            && w.moments.mean.is_finite()
            && w.moments.m2.is_finite()
            && w.moments.m2 >= 0.0
            && w.sum.is_finite()
            && match (w.min, w.max) {
                (Some(lo), Some(hi)) => w.moments.n > 0 && lo.is_finite() && hi.is_finite() && lo <= hi,
                (None, None) => w.moments.n == 0,
                _ => false,
            };
        if !consistent {
            return Err(Error::corrupt(
                location,
                "numeric statistics are inconsistent with the column's counts",
            ));
        }
        Ok(NumericStats {
            count,
            null_count,
            nan_count: w.nan_count,
            pos_inf_count: w.pos_inf_count,
            neg_inf_count: w.neg_inf_count,
            zero_count: w.zero_count,
            sum: w.sum,
            min: w.min.unwrap_or(f64::INFINITY),
            max: w.max.unwrap_or(f64::NEG_INFINITY),
            moments: w.moments,
            quantiles,
            distinct,
            scratch: Scratch::default(),
        })
    }
}

/// Bin edges and estimated counts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// `bins + 1` ascending edges; bin `i` is `(edges[i], edges[i+1]]`, the first bin also holds `edges[0]`.
    pub edges: Vec<f64>,
    /// Estimated count per bin.
    pub counts: Vec<f64>,
}

impl Histogram {
    /// Estimates counts between consecutive edges from a quantile sketch.
    pub fn from_sketch(sketch: &KllSketch, edges: Vec<f64>) -> Histogram {
        let view = sketch.sorted_view();
        let n = sketch.count() as f64;
        let ranks: Vec<f64> = edges
            .iter()
            .enumerate()
            .map(|(i, &e)| {
                if i == 0 {
                    view.rank(e) - view.rank(e)
                } else {
                    view.rank(e)
                }
            })
            .collect();
        let counts = ranks.windows(2).map(|w| ((w[1] - w[0]) * n).max(0.0)).collect();
        Histogram { edges, counts }
    }
}

/// Serialised numeric state.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NumericWire {
    nan_count: u64,
    pos_inf_count: u64,
    neg_inf_count: u64,
    zero_count: u64,
    sum: f64,
    min: Option<f64>,
    max: Option<f64>,
    moments: Moments,
    kll: KllWire,
    hll: HllWire,
}
