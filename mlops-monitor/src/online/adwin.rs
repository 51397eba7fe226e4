//! ADWIN (ADaptive WINdowing), Bifet & Gavaldà (2007), river's variant.

use serde::{Deserialize, Serialize};

use super::envelope::{Core, Envelope, online_detector};
use super::{config_error, is_valid_real, state_error};

const NAME: &str = "adwin";

/// Rows reserved up front: 32 rows of `max_buckets` buckets of up to 2^31
/// values each, far more than any real window.
const RESERVED_ROWS: usize = 32;

/// Configuration of [`Adwin`]. `Default` gives river's defaults.
///
/// Field names match river's constructor arguments; missing fields take the
/// defaults when deserialising.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "AdwinConfigRepr")]
pub struct AdwinConfig {
    /// Significance value, in `(0, 1)`. Default 0.002.
    pub delta: f64,
    /// Check for a change every `clock` values (≥ 1). Default 32.
    pub clock: u32,
    /// Buckets of each size kept before two are merged (≥ 1). Default 5.
    pub max_buckets: u32,
    /// Minimum length of each sub-window of a cut (≥ 1). Default 5.
    pub min_window_length: u32,
    /// No change is checked until the window holds more than this many values.
    /// Default 10.
    pub grace_period: u32,
}

impl Default for AdwinConfig {
    fn default() -> Self {
        Self {
            delta: 0.002,
            clock: 32,
            max_buckets: 5,
            min_window_length: 5,
            grace_period: 10,
        }
    }
}

impl AdwinConfig {
    /// Checks every field's domain.
    ///
    /// # Errors
    /// [`mlops_core::Error::InvalidInput`] naming the first offending field.
    pub fn validate(&self) -> mlops_core::Result<()> {
        if !(self.delta > 0.0 && self.delta < 1.0) {
            return Err(config_error(
                NAME,
                "delta",
                format!("delta is {}", self.delta),
                "a number in (0, 1)",
            ));
        }
        for (field, value) in [
            ("clock", self.clock),
            ("max_buckets", self.max_buckets),
            ("min_window_length", self.min_window_length),
        ] {
            if value == 0 {
                return Err(config_error(NAME, field, format!("{field} is 0"), "an integer ≥ 1"));
            }
        }
        Ok(())
    }
}

/// Deserialisation mirror of [`AdwinConfig`], validated on conversion.
#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
struct AdwinConfigRepr {
    delta: f64,
    clock: u32,
    max_buckets: u32,
    min_window_length: u32,
    grace_period: u32,
}

impl Default for AdwinConfigRepr {
    fn default() -> Self {
        let d = AdwinConfig::default();
        Self {
            delta: d.delta,
            clock: d.clock,
            max_buckets: d.max_buckets,
            min_window_length: d.min_window_length,
            grace_period: d.grace_period,
        }
    }
}

impl TryFrom<AdwinConfigRepr> for AdwinConfig {
    type Error = mlops_core::Error;

    fn try_from(r: AdwinConfigRepr) -> mlops_core::Result<Self> {
        let config = Self {
            delta: r.delta,
            clock: r.clock,
            max_buckets: r.max_buckets,
            min_window_length: r.min_window_length,
            grace_period: r.grace_period,
        };
        config.validate()?;
        Ok(config)
    }
}

/// ADWIN drift detector for real-valued streams, bit-compatible with river's
/// `drift.ADWIN` (0.26).
///
/// The window is summarised by an exponential histogram: row `i` holds up to
/// `max_buckets` buckets of `2^i` values (oldest first), each bucket storing
/// the sum of its values and their sum of squared deviations. Every `clock`
/// values, once the window is longer than `grace_period`, every boundary between
/// two buckets (oldest to newest) is tried as a cut `W0 | W1`; when the means
/// of the two sides differ by more than the Hoeffding/Bernstein bound
/// `ε = sqrt(2·m·σ²·δ') + 2/3·δ'·m` (with `δ' = ln(2·ln(n)/δ)` and
/// `m = 1/(n0 − L + 1) + 1/(n1 − L + 1)`, `L` the minimum window length), the
/// oldest bucket is dropped and the scan restarts. A drift is reported when at
/// least one bucket was dropped; as in river, the next value then starts a
/// fresh window.
///
/// Like river 0.26 (whose ADWIN is implemented in Rust), the last bucket of
/// every row is a candidate cut except the newest bucket of the window; the
/// older Cython implementation (river ≤ 0.23) skipped the last bucket of every
/// row.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Adwin(Envelope<AdwinCore>);

/// The statistics of [`Adwin`]: its window as an exponential histogram.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "AdwinRepr")]
struct AdwinCore {
    config: AdwinConfig,
    /// Number of values in the window.
    width: f64,
    /// Sum of the values in the window.
    total: f64,
    /// Sum of squared deviations from the window's mean.
    variance: f64,
    /// Accepted values since the last (automatic or manual) reset.
    tick: u64,
    /// Number of buckets in each row; always at least one row.
    row_len: Vec<usize>,
    /// Bucket sums, `max_buckets + 1` slots per row (the extra slot holds an
    /// overflowing bucket until it is merged).
    totals: Vec<f64>,
    /// Bucket sums of squared deviations, same layout as `totals`.
    variances: Vec<f64>,
}

impl Default for Adwin {
    fn default() -> Self {
        Self::with_valid_config(AdwinConfig::default())
    }
}

impl Adwin {
    /// A detector with the given configuration.
    ///
    /// # Errors
    /// [`mlops_core::Error::InvalidInput`] if a field is out of its domain.
    pub fn new(config: AdwinConfig) -> mlops_core::Result<Self> {
        config.validate()?;
        Ok(Self::with_valid_config(config))
    }

    fn with_valid_config(config: AdwinConfig) -> Self {
        Adwin(Envelope::new(AdwinCore::with_valid_config(config)))
    }

    /// The configuration.
    pub fn config(&self) -> &AdwinConfig {
        &self.0.core.config
    }

    /// Number of values in the current window.
    pub fn width(&self) -> u64 {
        // The width is an exact integer held in an f64 (as in river).
        self.0.core.width as u64
    }

    /// Sum of the values in the current window.
    pub fn total(&self) -> f64 {
        self.0.core.total
    }

    /// Sum of squared deviations from the mean within the window (river's
    /// `variance`; divide by the width for the population variance).
    pub fn variance(&self) -> f64 {
        self.0.core.variance
    }

    /// Mean of the current window, 0 when it is empty.
    pub fn estimation(&self) -> f64 {
        let core = &self.0.core;
        if core.width == 0.0 {
            0.0
        } else {
            core.total / core.width
        }
    }
}

impl AdwinCore {
    fn with_valid_config(config: AdwinConfig) -> Self {
        let stride = config.max_buckets as usize + 1;
        let mut totals = Vec::with_capacity(stride * RESERVED_ROWS);
        let mut variances = Vec::with_capacity(stride * RESERVED_ROWS);
        totals.resize(stride, 0.0);
        variances.resize(stride, 0.0);
        let mut row_len = Vec::with_capacity(RESERVED_ROWS);
        row_len.push(0);
        Self {
            config,
            width: 0.0,
            total: 0.0,
            variance: 0.0,
            tick: 0,
            row_len,
            totals,
            variances,
        }
    }

    #[inline]
    fn stride(&self) -> usize {
        self.config.max_buckets as usize + 1
    }

    /// Empties the window (river re-creates its helper after a drift).
    fn clear_window(&mut self) {
        let stride = self.stride();
        self.width = 0.0;
        self.total = 0.0;
        self.variance = 0.0;
        self.tick = 0;
        self.row_len.clear();
        self.row_len.push(0);
        self.totals.clear();
        self.variances.clear();
        self.totals.resize(stride, 0.0);
        self.variances.resize(stride, 0.0);
    }

    fn insert(&mut self, value: f64) {
        let slot = self.row_len[0];
        self.totals[slot] = value;
        self.variances[slot] = 0.0;
        self.row_len[0] = slot + 1;

        self.width += 1.0;
        if self.width > 1.0 {
            let d = value - self.total / (self.width - 1.0);
            self.variance += (self.width - 1.0) * d * d / self.width;
        }
        self.total += value;

        self.compress();
    }

    /// Merges the two oldest buckets of every overflowing row into the next.
    fn compress(&mut self) {
        let stride = self.stride();
        let max = self.config.max_buckets as usize;
        let mut row = 0;
        while self.row_len[row] == max + 1 {
            let base = row * stride;
            let size = row_size(row);
            let (t0, t1) = (self.totals[base], self.totals[base + 1]);
            let (v0, v1) = (self.variances[base], self.variances[base + 1]);
            let (mu0, mu1) = (t0 / size, t1 / size);
            // n·n/(n+n) = n/2 for two buckets of n values.
            let merged_var = v0 + v1 + size * 0.5 * (mu0 - mu1) * (mu0 - mu1);
            let merged_total = t0 + t1;

            if row + 1 == self.row_len.len() {
                self.row_len.push(0);
                self.totals.resize(self.totals.len() + stride, 0.0);
                self.variances.resize(self.variances.len() + stride, 0.0);
            }
            let next = (row + 1) * stride;
            let slot = self.row_len[row + 1];
            self.totals[next + slot] = merged_total;
            self.variances[next + slot] = merged_var;
            self.row_len[row + 1] = slot + 1;

            remove_front(&mut self.totals[base..base + stride], self.row_len[row], 2);
            remove_front(&mut self.variances[base..base + stride], self.row_len[row], 2);
            self.row_len[row] -= 2;

            if self.row_len[row + 1] <= max {
                break;
            }
            row += 1;
        }
    }

    /// Drops the oldest bucket of the window.
    fn delete_oldest(&mut self) {
        let stride = self.stride();
        let last = self.row_len.len() - 1;
        let base = last * stride;
        let n = row_size(last);
        let u = self.totals[base];
        let v = self.variances[base];
        let mu = u / n;

        self.width -= n;
        self.total -= u;
        let mu_window = self.total / self.width;
        self.variance -= v + n * self.width * (mu - mu_window) * (mu - mu_window) / (n + self.width);

        remove_front(&mut self.totals[base..base + stride], self.row_len[last], 1);
        remove_front(&mut self.variances[base..base + stride], self.row_len[last], 1);
        self.row_len[last] -= 1;
        if self.row_len[last] == 0 && last > 0 {
            self.row_len.pop();
            self.totals.truncate(base);
            self.variances.truncate(base);
        }
    }

    /// Scans the cuts of the window, dropping old buckets while a cut is
    /// significant. Returns whether anything was dropped.
    fn detect_change(&mut self) -> bool {
        self.tick += 1;
        if !self.tick.is_multiple_of(u64::from(self.config.clock)) || self.width <= f64::from(self.config.grace_period)
        {
            return false;
        }
        let stride = self.stride();
        let min_len = f64::from(self.config.min_window_length);
        let mut change = false;
        let mut rescan = true;
        while rescan {
            rescan = false;
            // Terms of the bound that only depend on the window as a whole.
            let delta_prime = (2.0 * self.width.ln() / self.config.delta).ln();
            let two_thirds_dp = 2.0 / 3.0 * delta_prime;
            let var_in_window = self.variance / self.width;

            let mut n0 = 0.0_f64;
            let mut n1 = self.width;
            let mut u0 = 0.0_f64;
            let mut u1 = self.total;
            'scan: for row in (0..self.row_len.len()).rev() {
                let size = row_size(row);
                let len = self.row_len[row];
                for k in 0..len {
                    n0 += size;
                    n1 -= size;
                    let t = self.totals[row * stride + k];
                    u0 += t;
                    u1 -= t;
                    if row == 0 && k + 1 == len {
                        break 'scan;
                    }
                    let delta_mean = u0 / n0 - u1 / n1;
                    if n1 >= min_len && n0 >= min_len {
                        let m_recip = 1.0 / (n0 - min_len + 1.0) + 1.0 / (n1 - min_len + 1.0);
                        let epsilon = (2.0 * m_recip * var_in_window * delta_prime).sqrt() + two_thirds_dp * m_recip;
                        if delta_mean.abs() > epsilon {
                            rescan = true;
                            change = true;
                            if self.width > 0.0 {
                                self.delete_oldest();
                                break 'scan;
                            }
                        }
                    }
                }
            }
        }
        change
    }
}

/// Number of values in a bucket of `row`.
#[inline]
fn row_size(row: usize) -> f64 {
    // Exact: a power of two. Rows never approach 2^31.
    2.0_f64.powi(row as i32)
}

/// Removes the first `n` of the `len` used slots of a row, zeroing the freed
/// slots.
#[inline]
fn remove_front(row: &mut [f64], len: usize, n: usize) {
    row.copy_within(n..len, 0);
    row[len - n..len].fill(0.0);
}

impl Core for AdwinCore {
    const NAME: &'static str = NAME;

    fn accepts(&self, x: f64) -> bool {
        is_valid_real(x)
    }

    fn clear_after_drift(&mut self) {
        self.clear_window();
    }

    fn step(&mut self, x: f64) -> bool {
        self.insert(x);
        self.detect_change()
    }
}

online_detector!(Adwin, AdwinCore);

/// Deserialisation mirror of the statistics, checked before use.
#[derive(Deserialize)]
struct AdwinRepr {
    config: AdwinConfig,
    width: f64,
    total: f64,
    variance: f64,
    tick: u64,
    row_len: Vec<usize>,
    totals: Vec<f64>,
    variances: Vec<f64>,
}

impl TryFrom<AdwinRepr> for AdwinCore {
    type Error = mlops_core::Error;

    fn try_from(r: AdwinRepr) -> mlops_core::Result<Self> {
        let stride = r.config.max_buckets as usize + 1;
        let rows = r.row_len.len();
        if rows == 0 || rows > 64 {
            return Err(state_error(NAME, format!("{rows} bucket rows; expected 1 to 64")));
        }
        if r.totals.len() != rows * stride || r.variances.len() != rows * stride {
            return Err(state_error(
                NAME,
                format!(
                    "{} totals and {} variances for {rows} rows of {stride} slots",
                    r.totals.len(),
                    r.variances.len()
                ),
            ));
        }
        if let Some(row) = r.row_len.iter().position(|&l| l > stride - 1) {
            return Err(state_error(
                NAME,
                format!("row {row} holds {} buckets; at most {} fit", r.row_len[row], stride - 1),
            ));
        }
        let width: f64 = r.row_len.iter().enumerate().map(|(i, &l)| l as f64 * row_size(i)).sum();
        if width != r.width {
            return Err(state_error(
                NAME,
                format!("width {} disagrees with the buckets' {width} values", r.width),
            ));
        }
        let all_finite = [r.total, r.variance]
            .iter()
            .chain(&r.totals)
            .chain(&r.variances)
            .all(|v| v.is_finite());
        if !all_finite {
            return Err(state_error(NAME, "non-finite sums"));
        }
        let mut adwin = Self::with_valid_config(r.config);
        adwin.width = r.width;
        adwin.total = r.total;
        adwin.variance = r.variance;
        adwin.tick = r.tick;
        adwin.row_len.clear();
        adwin.row_len.extend_from_slice(&r.row_len);
        adwin.totals.clear();
        adwin.totals.extend_from_slice(&r.totals);
        adwin.variances.clear();
        adwin.variances.extend_from_slice(&r.variances);
        Ok(adwin)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::online::OnlineDetector;

    fn lcg_stream(n: usize, seed: u64, shift_at: usize, shift: f64) -> Vec<f64> {
        let mut s = seed;
        (0..n)
            .map(|i| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let u = (s >> 11) as f64 / (1u64 << 53) as f64;
                u + if i >= shift_at { shift } else { 0.0 }
            })
            .collect()
    }

    fn detections(d: &mut Adwin, xs: &[f64]) -> Vec<usize> {
        let mut out = Vec::new();
        for (i, &x) in xs.iter().enumerate() {
            d.update(x);
            if d.drift_detected() {
                out.push(i);
            }
        }
        out
    }

    #[test]
    fn defaults_match_river() {
        let c = AdwinConfig::default();
        assert_eq!(
            (c.delta, c.clock, c.max_buckets, c.min_window_length, c.grace_period),
            (0.002, 32, 5, 5, 10)
        );
    }

    #[test]
    fn rejects_bad_config() {
        for c in [
            AdwinConfig {
                delta: 0.0,
                ..Default::default()
            },
            AdwinConfig {
                delta: 1.0,
                ..Default::default()
            },
            AdwinConfig {
                delta: f64::NAN,
                ..Default::default()
            },
            AdwinConfig {
                clock: 0,
                ..Default::default()
            },
            AdwinConfig {
                max_buckets: 0,
                ..Default::default()
            },
            AdwinConfig {
                min_window_length: 0,
                ..Default::default()
            },
        ] {
            assert!(Adwin::new(c).is_err(), "{c:?}");
        }
        assert!(serde_json::from_str::<AdwinConfig>(r#"{"clock": 0}"#).is_err());
        let c: AdwinConfig = serde_json::from_str(r#"{"clock": 1}"#).unwrap();
        assert_eq!(
            c,
            AdwinConfig {
                clock: 1,
                ..Default::default()
            }
        );
    }

    #[test]
    fn window_statistics() {
        let mut d = Adwin::default();
        for v in [1.0, 2.0, 3.0, 4.0, 5.0] {
            d.update(v);
        }
        assert_eq!(d.width(), 5);
        assert_eq!(d.total(), 15.0);
        assert!((d.variance() - 10.0).abs() < 1e-12);
        assert_eq!(d.estimation(), 3.0);
        let mut d = Adwin::new(AdwinConfig {
            clock: 1_000_000,
            ..Default::default()
        })
        .unwrap();
        for i in 0..1000 {
            d.update((i % 7) as f64);
        }
        assert_eq!(d.width(), 1000);
        // Every bucket row stays within its capacity.
        assert!(d.0.core.row_len.iter().all(|&l| l <= 5));
    }

    #[test]
    fn constant_stream_never_drifts() {
        let mut d = Adwin::default();
        assert!(detections(&mut d, &[1.0; 5000]).is_empty());
        assert_eq!(d.width(), 5000);
    }

    #[test]
    fn detects_shift_and_restarts_window() {
        let xs = lcg_stream(4000, 3, 2000, 1.0);
        let mut d = Adwin::default();
        let hits = detections(&mut d, &xs);
        assert!(!hits.is_empty() && hits[0] >= 2000 && hits[0] < 2200, "{hits:?}");
        assert_eq!(d.n_detections(), hits.len() as u64);
        let mut d = Adwin::new(AdwinConfig {
            clock: 1,
            ..Default::default()
        })
        .unwrap();
        let first = detections(&mut d, &xs)[0];
        d.reset();
        for (i, &x) in xs.iter().enumerate() {
            d.update(x);
            if d.drift_detected() {
                assert_eq!(i, first);
                d.update(0.5);
                assert_eq!(d.width(), 1, "the value after a drift starts a fresh window");
                break;
            }
        }
    }

    #[test]
    fn invalid_values_are_ignored() {
        let xs = lcg_stream(6000, 9, 3000, 0.7);
        let clean = detections(&mut Adwin::default(), &xs);
        let mut d = Adwin::default();
        let mut hits = Vec::new();
        for (i, &x) in xs.iter().enumerate() {
            if i % 97 == 0 {
                for bad in [f64::NAN, f64::INFINITY, -1e300] {
                    d.update(bad);
                    assert!(!d.drift_detected());
                }
            }
            d.update(x);
            if d.drift_detected() {
                hits.push(i);
            }
        }
        assert_eq!(hits, clean);
        assert_eq!(d.n_ignored(), 3 * 6000_u64.div_ceil(97));
        assert!(d.total().is_finite() && d.variance().is_finite());
    }

    #[test]
    fn checkpoint_resumes_identically() {
        let xs = lcg_stream(12_000, 5, 4000, 0.5);
        let full = detections(&mut Adwin::default(), &xs);
        for cut in [1, 31, 32, 4013, 9000] {
            let mut d = Adwin::default();
            let mut hits = detections(&mut d, &xs[..cut]);
            let json = serde_json::to_string(&d).unwrap();
            let mut restored: Adwin = serde_json::from_str(&json).unwrap();
            hits.extend(detections(&mut restored, &xs[cut..]).into_iter().map(|i| i + cut));
            assert_eq!(hits, full, "cut at {cut}");
        }
    }

    #[test]
    fn corrupt_checkpoint_is_an_error() {
        let mut d = Adwin::default();
        for x in lcg_stream(500, 1, 1000, 0.0) {
            d.update(x);
        }
        let good: serde_json::Value = serde_json::to_value(&d).unwrap();
        let mut bad = good.clone();
        bad["width"] = serde_json::json!(499.0);
        assert!(serde_json::from_value::<Adwin>(bad).is_err());
        let mut bad = good.clone();
        bad["row_len"][0] = serde_json::json!(9);
        assert!(serde_json::from_value::<Adwin>(bad).is_err());
        let mut bad = good.clone();
        bad["totals"].as_array_mut().unwrap().pop();
        assert!(serde_json::from_value::<Adwin>(bad).is_err());
        let mut bad = good;
        bad["config"]["delta"] = serde_json::json!(2.0);
        assert!(serde_json::from_value::<Adwin>(bad).is_err());
    }
}
