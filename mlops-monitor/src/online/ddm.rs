//! DDM (Drift Detection Method), Gama et al. (2004), river's variant.

use serde::{Deserialize, Serialize};

use super::envelope::{Core, Envelope, online_detector};
use super::{config_error, state_error};

const NAME: &str = "ddm";

/// Configuration of [`Ddm`]. `Default` gives river's defaults.
///
/// Field names match river's constructor arguments; missing fields take the
/// defaults when deserialising.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "DdmConfigRepr")]
pub struct DdmConfig {
    /// Values seen before warnings or drifts can be reported (detection starts
    /// at value `warm_start + 1`). Default 30.
    pub warm_start: u64,
    /// Warning zone at `p + s > p_min + warning_threshold · s_min` (finite,
    /// > 0). Default 2.
    pub warning_threshold: f64,
    /// Drift at `p + s > p_min + drift_threshold · s_min` (finite, ≥
    /// `warning_threshold`). Default 3.
    pub drift_threshold: f64,
}

impl Default for DdmConfig {
    fn default() -> Self {
        Self {
            warm_start: 30,
            warning_threshold: 2.0,
            drift_threshold: 3.0,
        }
    }
}

impl DdmConfig {
    /// Checks every field's domain.
    ///
    /// # Errors
    /// [`mlops_core::Error::InvalidInput`] naming the first offending field.
    pub fn validate(&self) -> mlops_core::Result<()> {
        let w = self.warning_threshold;
        if !(w.is_finite() && w > 0.0) {
            return Err(config_error(
                NAME,
                "warning_threshold",
                format!("warning_threshold is {w}"),
                "a finite number > 0",
            ));
        }
        let d = self.drift_threshold;
        if !(d.is_finite() && d >= w) {
            return Err(config_error(
                NAME,
                "drift_threshold",
                format!("drift_threshold is {d} (warning_threshold is {w})"),
                "a finite number ≥ warning_threshold",
            ));
        }
        Ok(())
    }
}

/// Deserialisation mirror of [`DdmConfig`], validated on conversion.
#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
struct DdmConfigRepr {
    warm_start: u64,
    warning_threshold: f64,
    drift_threshold: f64,
}

impl Default for DdmConfigRepr {
    fn default() -> Self {
        let d = DdmConfig::default();
        Self {
            warm_start: d.warm_start,
            warning_threshold: d.warning_threshold,
            drift_threshold: d.drift_threshold,
        }
    }
}

impl TryFrom<DdmConfigRepr> for DdmConfig {
    type Error = mlops_core::Error;

    fn try_from(r: DdmConfigRepr) -> mlops_core::Result<Self> {
        let config = Self {
            warm_start: r.warm_start,
            warning_threshold: r.warning_threshold,
            drift_threshold: r.drift_threshold,
        };
        config.validate()?;
        Ok(config)
    }
}

/// The point of the run where `p + s` was smallest.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Minimum {
    p: f64,
    s: f64,
    /// `p + s`, kept as river keeps it (rounded once).
    ps: f64,
}

/// DDM drift detector for error streams, bit-compatible with river's
/// `drift.binary.DDM` (0.26).
///
/// Input is an error indicator: 1 for an error (a wrong prediction), 0 for a
/// correct one. Fractions in `[0, 1]` are accepted too (river takes them as
/// they are); anything else (including NaN and ±∞) is ignored and counted.
///
/// With `p` the running error rate after `n` values and `s = sqrt(p(1−p)/n)`,
/// once `n > warm_start` the detector remembers `p_min`, `s_min` where `p + s`
/// was smallest; it is in the warning zone while
/// `p + s > p_min + warning_threshold · s_min` and reports a drift when
/// `p + s > p_min + drift_threshold · s_min` (the warning flag is then
/// cleared). After a drift the next value starts a fresh run.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Ddm(Envelope<DdmCore>);

/// The statistics of [`Ddm`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "DdmRepr")]
struct DdmCore {
    config: DdmConfig,
    /// Accepted values since the last (automatic or manual) reset.
    n: u64,
    /// Running error rate.
    p: f64,
    /// `None` until the warm start is over (river's `None` / +∞).
    min: Option<Minimum>,
    warning: bool,
}

impl Default for Ddm {
    fn default() -> Self {
        Self::with_valid_config(DdmConfig::default())
    }
}

impl Ddm {
    /// A detector with the given configuration.
    ///
    /// # Errors
    /// [`mlops_core::Error::InvalidInput`] if a field is out of its domain.
    pub fn new(config: DdmConfig) -> mlops_core::Result<Self> {
        config.validate()?;
        Ok(Self::with_valid_config(config))
    }

    fn with_valid_config(config: DdmConfig) -> Self {
        Ddm(Envelope::new(DdmCore {
            config,
            n: 0,
            p: 0.0,
            min: None,
            warning: false,
        }))
    }

    /// The configuration.
    pub fn config(&self) -> &DdmConfig {
        &self.0.core.config
    }

    /// Running error rate since the last reset.
    pub fn error_rate(&self) -> f64 {
        self.0.core.p
    }

    /// Values accepted since the last (automatic or manual) reset.
    pub fn n_seen(&self) -> u64 {
        self.0.core.n
    }
}

impl Core for DdmCore {
    const NAME: &'static str = NAME;

    fn accepts(&self, x: f64) -> bool {
        (0.0..=1.0).contains(&x)
    }

    fn clear_after_drift(&mut self) {
        self.n = 0;
        self.p = 0.0;
        self.min = None;
        self.warning = false;
    }

    fn warning(&self) -> bool {
        self.warning
    }

    #[inline]
    fn step(&mut self, x: f64) -> bool {
        self.n += 1;
        let n = self.n as f64;
        self.p += (1.0 / n) * (x - self.p);
        let p = self.p;
        let s = (p * (1.0 - p) / n).sqrt();
        if self.n <= self.config.warm_start {
            return false;
        }
        let ps = p + s;
        let min = match self.min {
            Some(m) if ps <= m.ps => Minimum { p, s, ps },
            Some(m) => m,
            // Only reachable if rounding pushed `p` past 1: never store a NaN.
            None if ps.is_nan() => return false,
            None => Minimum { p, s, ps },
        };
        self.min = Some(min);
        self.warning = ps > min.p + self.config.warning_threshold * min.s;
        let drift = ps > min.p + self.config.drift_threshold * min.s;
        if drift {
            self.warning = false;
        }
        drift
    }
}

online_detector!(Ddm, DdmCore);

/// Deserialisation mirror of the statistics, checked before use.
#[derive(Deserialize)]
struct DdmRepr {
    config: DdmConfig,
    n: u64,
    p: f64,
    min: Option<Minimum>,
    warning: bool,
}

impl TryFrom<DdmRepr> for DdmCore {
    type Error = mlops_core::Error;

    fn try_from(r: DdmRepr) -> mlops_core::Result<Self> {
        if !(0.0..=1.0).contains(&r.p) {
            return Err(state_error(NAME, format!("error rate {} outside [0, 1]", r.p)));
        }
        if let Some(m) = r.min
            && !(m.p.is_finite() && m.s.is_finite() && m.ps.is_finite())
        {
            return Err(state_error(NAME, "non-finite minimum"));
        }
        Ok(Self {
            config: r.config,
            n: r.n,
            p: r.p,
            min: r.min,
            warning: r.warning,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::online::OnlineDetector;

    /// Bernoulli errors with rate `p0`, then `p1` from `change_at`.
    fn errors(n: usize, change_at: usize, p0: f64, p1: f64) -> Vec<f64> {
        let mut s = 23_u64;
        (0..n)
            .map(|i| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let u = (s >> 11) as f64 / (1u64 << 53) as f64;
                let p = if i < change_at { p0 } else { p1 };
                if u < p { 1.0 } else { 0.0 }
            })
            .collect()
    }

    fn run(d: &mut Ddm, xs: &[f64]) -> (Vec<usize>, Vec<usize>) {
        let (mut drifts, mut warnings) = (Vec::new(), Vec::new());
        for (i, &x) in xs.iter().enumerate() {
            d.update(x);
            if d.drift_detected() {
                drifts.push(i);
            }
            if d.warning_detected() {
                warnings.push(i);
            }
        }
        (drifts, warnings)
    }

    #[test]
    fn defaults_and_validation() {
        let c = DdmConfig::default();
        assert_eq!((c.warm_start, c.warning_threshold, c.drift_threshold), (30, 2.0, 3.0));
        assert!(
            Ddm::new(DdmConfig {
                warning_threshold: 0.0,
                ..c
            })
            .is_err()
        );
        assert!(
            Ddm::new(DdmConfig {
                drift_threshold: 1.0,
                ..c
            })
            .is_err()
        );
        assert!(
            Ddm::new(DdmConfig {
                drift_threshold: f64::INFINITY,
                ..c
            })
            .is_err()
        );
        assert!(serde_json::from_str::<DdmConfig>(r#"{"warm_start": 5, "extra": 1}"#).is_err());
    }

    #[test]
    fn detects_rate_increase_with_warning_first() {
        let xs = errors(6000, 3000, 0.1, 0.4);
        let mut d = Ddm::default();
        let (drifts, warnings) = run(&mut d, &xs);
        assert!(drifts.iter().any(|&i| (3000..3300).contains(&i)), "{drifts:?}");
        let first_drift = drifts.iter().find(|&&i| i >= 3000).unwrap();
        assert!(warnings.iter().any(|&w| w >= 3000 && w < *first_drift));
        // Never a warning and a drift at the same update.
        assert!(drifts.iter().all(|i| !warnings.contains(i)));
    }

    #[test]
    fn no_detection_during_warm_start() {
        let mut xs = vec![0.0; 20];
        xs.extend([1.0; 20]);
        let mut d = Ddm::new(DdmConfig {
            warm_start: 39,
            ..Default::default()
        })
        .unwrap();
        let (drifts, warnings) = run(&mut d, &xs);
        assert!(drifts.is_empty() && warnings.is_empty());
    }

    #[test]
    fn invalid_values_are_ignored_and_checkpoint_resumes() {
        let xs = errors(8000, 4000, 0.2, 0.5);
        let clean = run(&mut Ddm::default(), &xs);
        let mut d = Ddm::default();
        let (mut drifts, mut warnings) = (Vec::new(), Vec::new());
        for (i, &x) in xs.iter().enumerate() {
            let was_warning = d.warning_detected();
            for bad in [f64::NAN, 2.0, -0.5] {
                d.update(bad);
                assert!(!d.drift_detected());
                if !clean.0.contains(&i.wrapping_sub(1)) {
                    assert_eq!(d.warning_detected(), was_warning);
                }
            }
            d.update(x);
            if d.drift_detected() {
                drifts.push(i);
            }
            if d.warning_detected() {
                warnings.push(i);
            }
            if i % 1999 == 0 {
                d = serde_json::from_str(&serde_json::to_string(&d).unwrap()).unwrap();
            }
        }
        assert_eq!((drifts, warnings), clean);
        assert_eq!(d.n_ignored(), 24_000);
        assert!(
            serde_json::from_str::<Ddm>(
                r#"{"config":{},"n":3,"p":1.5,"min":null,"warning":false,"drift":false,"n_detections":0,"n_ignored":0}"#
            )
            .is_err()
        );
    }
}
