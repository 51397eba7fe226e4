//! KSWIN (Raab, Heusinger, Schleif, "Reactive Soft Prototype Computing for
//! Concept Drift Streams", 2020) with river's defaults: a sliding window of
//! `window_size` values; once full, the newest `stat_size` values are compared
//! by a two-sample KS test with `stat_size` values drawn at random from the
//! rest of the window; drift when `p ≤ alpha` and the statistic exceeds 0.1,
//! after which the window restarts from the newest `stat_size` values.
//!
//! The KS p-value is SciPy's exact one ([`crate::stats::ks_2samp`]). The random
//! draw uses our own seeded generator, so detections match river's in
//! behaviour but not index by index (river draws with Python's `random`).

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use super::envelope::{Core, Envelope, online_detector};
use super::{config_error, is_valid_real};
use crate::stats::ks_2samp;
use mlops_core::Result;

/// KSWIN settings; `Default` is river's.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KswinConfig {
    /// Significance level (0.005).
    pub alpha: f64,
    /// Sliding window length (100).
    pub window_size: usize,
    /// Size of the compared samples (30).
    pub stat_size: usize,
    /// Seed of the random draw.
    pub seed: u64,
}

impl Default for KswinConfig {
    fn default() -> Self {
        KswinConfig {
            alpha: 0.005,
            window_size: 100,
            stat_size: 30,
            seed: 42,
        }
    }
}

/// The KSWIN detector.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Kswin(Envelope<KswinCore>);

/// The statistics of [`Kswin`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "KswinRepr")]
struct KswinCore {
    config: KswinConfig,
    window: VecDeque<f64>,
    rng: u64,
    p_value: f64,
}

impl Default for Kswin {
    fn default() -> Self {
        Kswin(Envelope::new(KswinCore::from_config(KswinConfig::default())))
    }
}

impl Kswin {
    /// A detector; fails unless 0 < alpha < 1 and 0 < stat_size < window_size / 2.
    pub fn new(config: KswinConfig) -> Result<Self> {
        validate(&config)?;
        Ok(Kswin(Envelope::new(KswinCore::from_config(config))))
    }

    /// The configuration.
    pub fn config(&self) -> &KswinConfig {
        &self.0.core.config
    }

    /// The p-value of the last test (1 before the window first fills).
    pub fn p_value(&self) -> f64 {
        self.0.core.p_value
    }
}

impl KswinCore {
    fn from_config(config: KswinConfig) -> Self {
        KswinCore {
            config,
            window: VecDeque::with_capacity(config.window_size),
            rng: config.seed,
            p_value: 1.0,
        }
    }

    fn next(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// Checks the configuration's domains (also for a checkpoint: a window no
/// larger than the statistic would underflow the draw).
fn validate(config: &KswinConfig) -> Result<()> {
    if !(config.alpha > 0.0 && config.alpha < 1.0) {
        return Err(config_error(
            "kswin",
            "alpha",
            config.alpha.to_string(),
            "0 < alpha < 1",
        ));
    }
    // Checked: a checkpoint can hold any usize.
    if config.stat_size == 0 || config.stat_size.checked_mul(2).is_none_or(|d| d >= config.window_size) {
        return Err(config_error(
            "kswin",
            "stat_size",
            format!("{} with window {}", config.stat_size, config.window_size),
            "0 < stat_size < window_size / 2",
        ));
    }
    Ok(())
}

/// Deserialisation mirror of the statistics, checked before use.
#[derive(Deserialize)]
struct KswinRepr {
    config: KswinConfig,
    window: VecDeque<f64>,
    rng: u64,
    p_value: f64,
}

impl TryFrom<KswinRepr> for KswinCore {
    type Error = mlops_core::Error;

    fn try_from(r: KswinRepr) -> Result<Self> {
        validate(&r.config)?;
        if r.window.len() > r.config.window_size || !r.window.iter().all(|v| v.is_finite()) {
            return Err(super::state_error(
                "kswin",
                format!(
                    "{} window values (finite, at most {} expected)",
                    r.window.len(),
                    r.config.window_size
                ),
            ));
        }
        Ok(KswinCore {
            config: r.config,
            window: r.window,
            rng: r.rng,
            p_value: r.p_value,
        })
    }
}

impl Core for KswinCore {
    const NAME: &'static str = "kswin";

    fn accepts(&self, x: f64) -> bool {
        is_valid_real(x)
    }

    /// The window already restarted from the newest values when the drift was found.
    fn clear_after_drift(&mut self) {}

    fn reset(&mut self) {
        *self = Self::from_config(self.config);
    }

    fn step(&mut self, x: f64) -> bool {
        if self.window.len() == self.config.window_size {
            self.window.pop_front();
        }
        self.window.push_back(x);
        if self.window.len() < self.config.window_size {
            return false;
        }
        let (w, s) = (self.config.window_size, self.config.stat_size);
        // Draw `s` distinct positions from the older part of the window (partial Fisher–Yates).
        let mut positions: Vec<usize> = (0..w - s).collect();
        for i in 0..s {
            let j = i + (self.next() % (w - s - i) as u64) as usize;
            positions.swap(i, j);
        }
        let sample: Vec<f64> = positions[..s]
            .iter()
            .filter_map(|&i| self.window.get(i).copied())
            .collect();
        let recent: Vec<f64> = self.window.iter().skip(w - s).copied().collect();
        let Ok(t) = ks_2samp(&sample, &recent) else {
            return false;
        };
        self.p_value = t.p_value;
        let drift = t.p_value <= self.config.alpha && t.statistic > 0.1;
        if drift {
            self.window = recent.into_iter().collect();
        }
        drift
    }
}

online_detector!(Kswin, KswinCore);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::online::OnlineDetector;

    fn noise(i: u64) -> f64 {
        let mut z = i.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 31)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        (z >> 11) as f64 / (1u64 << 53) as f64
    }

    #[test]
    fn detects_an_abrupt_shift_soon_after_it_happens() {
        let mut d = Kswin::default();
        let mut first = None;
        for i in 0..2000u64 {
            d.update(noise(i) + if i >= 1000 { 1.0 } else { 0.0 });
            if d.drift_detected() && i >= 1000 && first.is_none() {
                first = Some(i);
            }
        }
        let at = first.unwrap();
        assert!((1000..1060).contains(&at), "detected at {at}");
    }

    #[test]
    fn rarely_fires_on_stationary_noise_and_round_trips() {
        let mut d = Kswin::default();
        for i in 0..5000u64 {
            d.update(noise(i));
        }
        // ~4 900 tests at alpha 0.005 (a test per value once the window is full): at most ~25 expected.
        assert!(
            d.n_detections() <= 30,
            "{} false alarms in 5000 values at alpha 0.005",
            d.n_detections()
        );
        let json = serde_json::to_string(&d).unwrap();
        let mut back: Kswin = serde_json::from_str(&json).unwrap();
        for i in 5000..5500u64 {
            d.update(noise(i) * 3.0);
            back.update(noise(i) * 3.0);
            assert_eq!(d.drift_detected(), back.drift_detected());
        }
        d.update(f64::NAN);
        assert_eq!(d.n_ignored(), 1);
        assert!(
            Kswin::new(KswinConfig {
                stat_size: 60,
                ..KswinConfig::default()
            })
            .is_err()
        );
        assert!(
            Kswin::new(KswinConfig {
                alpha: 0.0,
                ..KswinConfig::default()
            })
            .is_err()
        );
    }

    #[test]
    fn a_checkpoint_that_would_underflow_the_draw_is_rejected() {
        #![allow(clippy::unwrap_used)]
        let good = serde_json::to_value(Kswin::default()).unwrap();
        // Each of these used to deserialize, and the next update panicked (w − s underflow) or misbehaved.
        let cases = [
            ("/config/stat_size", serde_json::json!(80)),
            ("/config/stat_size", serde_json::json!(u64::MAX)),
            ("/config/window_size", serde_json::json!(0)),
            ("/config/alpha", serde_json::json!(2.0)),
            ("/window", serde_json::json!(vec![0.5; 101])),
        ];
        for (field, value) in cases {
            let mut bad = good.clone();
            *bad.pointer_mut(field).unwrap() = value;
            let err = serde_json::from_value::<Kswin>(bad).unwrap_err().to_string();
            assert!(err.contains("kswin"), "{field}: {err}");
        }
        let mut back: Kswin = serde_json::from_value(good).unwrap();
        back.update(0.5);
        assert_eq!(back.n_ignored(), 0);
    }

    #[test]
    fn older_checkpoints_still_load_and_an_ignored_value_ends_a_detection() {
        #![allow(clippy::unwrap_used)]
        // The layout before the shared envelope: counters named `ignored` and `detections`.
        let old = r#"{"config":{"alpha":0.005,"window_size":100,"stat_size":30,"seed":42},"window":[0.5],"rng":42,"drift":false,"p_value":1.0,"ignored":3,"detections":1}"#;
        let back: Kswin = serde_json::from_str(old).unwrap();
        assert_eq!((back.n_ignored(), back.n_detections()), (3, 1));
        // As every detector documents: an ignored value ends a pending detection.
        let mut d = Kswin::default();
        let mut i = 0u64;
        while !d.drift_detected() {
            d.update(if i < 200 { noise(i) } else { noise(i) + 5.0 });
            i += 1;
        }
        d.update(f64::NAN);
        assert!(!d.drift_detected() && d.n_ignored() == 1);
    }
}
