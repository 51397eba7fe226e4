//! Page–Hinkley test (two-sided CUSUM on a fading deviation), river's variant.

use serde::{Deserialize, Serialize};

use super::envelope::{Core, Envelope, online_detector};
use super::{config_error, is_valid_real, state_error};

const NAME: &str = "page_hinkley";

/// Which changes of the mean [`PageHinkley`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PageHinkleyMode {
    /// Increases only.
    Up,
    /// Decreases only.
    Down,
    /// Both increases and decreases (river's default).
    #[default]
    Both,
}

/// Configuration of [`PageHinkley`]. `Default` gives river's defaults.
///
/// Field names match river's constructor arguments; missing fields take the
/// defaults when deserialising.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "PageHinkleyConfigRepr")]
pub struct PageHinkleyConfig {
    /// Values seen before a change can be reported. Default 30.
    pub min_instances: u64,
    /// Magnitude of change tolerated per value (finite, ≥ 0). Default 0.005.
    pub delta: f64,
    /// Detection threshold λ (finite, ≥ 0). Default 50.
    pub threshold: f64,
    /// Forgetting factor of the cumulative sums, in `(0, 1]`. Default 1 − 1e-4.
    pub alpha: f64,
    /// Direction(s) of change reported. Default [`PageHinkleyMode::Both`].
    pub mode: PageHinkleyMode,
}

impl Default for PageHinkleyConfig {
    fn default() -> Self {
        Self {
            min_instances: 30,
            delta: 0.005,
            threshold: 50.0,
            alpha: 1.0 - 0.0001,
            mode: PageHinkleyMode::Both,
        }
    }
}

impl PageHinkleyConfig {
    /// Checks every field's domain.
    ///
    /// # Errors
    /// [`mlops_core::Error::InvalidInput`] naming the first offending field.
    pub fn validate(&self) -> mlops_core::Result<()> {
        for (field, value) in [("delta", self.delta), ("threshold", self.threshold)] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(config_error(
                    NAME,
                    field,
                    format!("{field} is {value}"),
                    "a finite number ≥ 0",
                ));
            }
        }
        if !(self.alpha > 0.0 && self.alpha <= 1.0) {
            return Err(config_error(
                NAME,
                "alpha",
                format!("alpha is {}", self.alpha),
                "a number in (0, 1]",
            ));
        }
        Ok(())
    }
}

/// Deserialisation mirror of [`PageHinkleyConfig`], validated on conversion.
#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
struct PageHinkleyConfigRepr {
    min_instances: u64,
    delta: f64,
    threshold: f64,
    alpha: f64,
    mode: PageHinkleyMode,
}

impl Default for PageHinkleyConfigRepr {
    fn default() -> Self {
        let d = PageHinkleyConfig::default();
        Self {
            min_instances: d.min_instances,
            delta: d.delta,
            threshold: d.threshold,
            alpha: d.alpha,
            mode: d.mode,
        }
    }
}

impl TryFrom<PageHinkleyConfigRepr> for PageHinkleyConfig {
    type Error = mlops_core::Error;

    fn try_from(r: PageHinkleyConfigRepr) -> mlops_core::Result<Self> {
        let config = Self {
            min_instances: r.min_instances,
            delta: r.delta,
            threshold: r.threshold,
            alpha: r.alpha,
            mode: r.mode,
        };
        config.validate()?;
        Ok(config)
    }
}

/// Page–Hinkley drift detector, bit-compatible with river's
/// `drift.PageHinkley` (0.26).
///
/// With `x̄ₜ` the running mean (including `xₜ`), it tracks the fading sums
/// `Uₜ = α·Uₜ₋₁ + (xₜ − x̄ₜ) − δ` and `Lₜ = α·Lₜ₋₁ + (xₜ − x̄ₜ) + δ`, the
/// minimum of `U` and the maximum of `L` (which starts at −1, as in river).
/// Once `min_instances` values were seen, an increase is reported when
/// `Uₜ − min U > λ` and a decrease when `max L − Lₜ > λ`. After a drift the
/// next value starts a fresh run. There is no warning zone.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PageHinkley(Envelope<PageHinkleyCore>);

/// The statistics of [`PageHinkley`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "PageHinkleyRepr")]
struct PageHinkleyCore {
    config: PageHinkleyConfig,
    /// Accepted values since the last (automatic or manual) reset.
    n: u64,
    mean: f64,
    sum_increase: f64,
    sum_decrease: f64,
    /// Minimum of `sum_increase`; `None` before the first value (river's +∞).
    min_increase: Option<f64>,
    max_decrease: f64,
}

impl Default for PageHinkley {
    fn default() -> Self {
        Self::with_valid_config(PageHinkleyConfig::default())
    }
}

impl PageHinkley {
    /// A detector with the given configuration.
    ///
    /// # Errors
    /// [`mlops_core::Error::InvalidInput`] if a field is out of its domain.
    pub fn new(config: PageHinkleyConfig) -> mlops_core::Result<Self> {
        config.validate()?;
        Ok(Self::with_valid_config(config))
    }

    fn with_valid_config(config: PageHinkleyConfig) -> Self {
        PageHinkley(Envelope::new(PageHinkleyCore {
            config,
            n: 0,
            mean: 0.0,
            sum_increase: 0.0,
            sum_decrease: 0.0,
            min_increase: None,
            max_decrease: -1.0,
        }))
    }

    /// The configuration.
    pub fn config(&self) -> &PageHinkleyConfig {
        &self.0.core.config
    }

    /// Running mean of the values since the last reset.
    pub fn mean(&self) -> f64 {
        self.0.core.mean
    }

    /// Values accepted since the last (automatic or manual) reset.
    pub fn n_seen(&self) -> u64 {
        self.0.core.n
    }
}

impl Core for PageHinkleyCore {
    const NAME: &'static str = NAME;

    fn accepts(&self, x: f64) -> bool {
        is_valid_real(x)
    }

    fn clear_after_drift(&mut self) {
        self.n = 0;
        self.mean = 0.0;
        self.sum_increase = 0.0;
        self.sum_decrease = 0.0;
        self.min_increase = None;
        self.max_decrease = -1.0;
    }

    #[inline]
    fn step(&mut self, x: f64) -> bool {
        self.n += 1;
        self.mean += (1.0 / self.n as f64) * (x - self.mean);
        let dev = x - self.mean;
        let c = &self.config;
        self.sum_increase = c.alpha * self.sum_increase + dev - c.delta;
        self.sum_decrease = c.alpha * self.sum_decrease + dev + c.delta;
        let min_increase = match self.min_increase {
            Some(m) if m <= self.sum_increase => m,
            _ => self.sum_increase,
        };
        self.min_increase = Some(min_increase);
        if self.sum_decrease > self.max_decrease {
            self.max_decrease = self.sum_decrease;
        }
        if self.n < c.min_instances {
            return false;
        }
        let up = self.sum_increase - min_increase > c.threshold;
        let down = self.max_decrease - self.sum_decrease > c.threshold;
        match c.mode {
            PageHinkleyMode::Up => up,
            PageHinkleyMode::Down => down,
            PageHinkleyMode::Both => up || down,
        }
    }
}

online_detector!(PageHinkley, PageHinkleyCore);

/// Deserialisation mirror of the statistics, checked before use.
#[derive(Deserialize)]
struct PageHinkleyRepr {
    config: PageHinkleyConfig,
    n: u64,
    mean: f64,
    sum_increase: f64,
    sum_decrease: f64,
    min_increase: Option<f64>,
    max_decrease: f64,
}

impl TryFrom<PageHinkleyRepr> for PageHinkleyCore {
    type Error = mlops_core::Error;

    fn try_from(r: PageHinkleyRepr) -> mlops_core::Result<Self> {
        let finite = [r.mean, r.sum_increase, r.sum_decrease, r.max_decrease]
            .into_iter()
            .chain(r.min_increase)
            .all(f64::is_finite);
        if !finite {
            return Err(state_error(NAME, "non-finite statistics"));
        }
        if (r.n == 0) != r.min_increase.is_none() {
            return Err(state_error(
                NAME,
                "minimum of the increase sum disagrees with the count",
            ));
        }
        Ok(Self {
            config: r.config,
            n: r.n,
            mean: r.mean,
            sum_increase: r.sum_increase,
            sum_decrease: r.sum_decrease,
            min_increase: r.min_increase,
            max_decrease: r.max_decrease,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::online::OnlineDetector;

    fn stream(n: usize, shift_at: usize, shift: f64) -> Vec<f64> {
        let mut s = 17_u64;
        (0..n)
            .map(|i| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (s >> 11) as f64 / (1u64 << 53) as f64 + if i >= shift_at { shift } else { 0.0 }
            })
            .collect()
    }

    fn detections(d: &mut dyn OnlineDetector, xs: &[f64]) -> Vec<usize> {
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
    fn defaults_and_validation() {
        let c = PageHinkleyConfig::default();
        assert_eq!(
            (c.min_instances, c.delta, c.threshold, c.alpha),
            (30, 0.005, 50.0, 1.0 - 1e-4)
        );
        assert_eq!(c.mode, PageHinkleyMode::Both);
        for bad in [
            PageHinkleyConfig { alpha: 0.0, ..c },
            PageHinkleyConfig { alpha: 1.5, ..c },
            PageHinkleyConfig { delta: f64::NAN, ..c },
            PageHinkleyConfig { threshold: -1.0, ..c },
        ] {
            assert!(PageHinkley::new(bad).is_err());
        }
        let c: PageHinkleyConfig = serde_json::from_str(r#"{"mode": "down", "threshold": 10}"#).unwrap();
        assert_eq!(
            c,
            PageHinkleyConfig {
                mode: PageHinkleyMode::Down,
                threshold: 10.0,
                ..Default::default()
            }
        );
        assert!(serde_json::from_str::<PageHinkleyConfig>(r#"{"mode": "sideways"}"#).is_err());
    }

    #[test]
    fn modes() {
        let up = stream(3000, 1500, 2.0);
        let down: Vec<f64> = up.iter().map(|x| -x).collect();
        let mk = |mode| {
            PageHinkley::new(PageHinkleyConfig {
                mode,
                ..Default::default()
            })
            .unwrap()
        };
        assert!(!detections(&mut mk(PageHinkleyMode::Up), &up).is_empty());
        assert!(detections(&mut mk(PageHinkleyMode::Down), &up).is_empty());
        assert!(!detections(&mut mk(PageHinkleyMode::Down), &down).is_empty());
        assert!(detections(&mut mk(PageHinkleyMode::Up), &down).is_empty());
        let both = detections(&mut mk(PageHinkleyMode::Both), &up);
        assert!(both[0] >= 1500 && both[0] < 1600, "{both:?}");
    }

    #[test]
    fn no_detection_before_min_instances() {
        let mut d = PageHinkley::new(PageHinkleyConfig {
            threshold: 0.0,
            ..Default::default()
        })
        .unwrap();
        let hits = detections(&mut d, &stream(100, 0, 0.0));
        assert!(hits.iter().all(|&i| i >= 29), "{hits:?}");
    }

    #[test]
    fn invalid_values_are_ignored_and_checkpoint_resumes() {
        let xs = stream(8000, 4000, 1.0);
        let clean = detections(&mut PageHinkley::default(), &xs);
        assert!(!clean.is_empty());
        let mut d = PageHinkley::default();
        let mut hits = Vec::new();
        for (i, &x) in xs.iter().enumerate() {
            d.update(f64::NAN);
            d.update(f64::NEG_INFINITY);
            d.update(x);
            if d.drift_detected() {
                hits.push(i);
            }
            if i == 5000 {
                let json = serde_json::to_string(&d).unwrap();
                d = serde_json::from_str(&json).unwrap();
            }
        }
        assert_eq!(hits, clean);
        assert_eq!(d.n_ignored(), 16_000);
        assert_eq!(d.n_detections(), clean.len() as u64);
        d.reset();
        assert_eq!((d.n_ignored(), d.n_detections(), d.n_seen()), (0, 0, 0));
        // A fresh detector serialises its +∞ minimum as null and restores it.
        let json = serde_json::to_string(&PageHinkley::default()).unwrap();
        let _: PageHinkley = serde_json::from_str(&json).unwrap();
    }
}
