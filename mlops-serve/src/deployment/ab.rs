//! A/B analysis: per-variant metrics and a significance test against the control.

use serde::{Deserialize, Serialize};

use super::live::Deployment;
use super::stats::{Alternative, cohens_h, mann_whitney_u, sample_size_per_arm, two_proportion_z, welch_t};
use crate::{Error, Result};

/// The test for a continuous metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContinuousTest {
    /// Welch's t-test on the means.
    Welch,
    /// Mann–Whitney U (distribution-free; robust to latency's long tails).
    MannWhitney,
}

/// Which metric an A/B report compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AbMetric {
    /// Failed or invalid answers per request (a rate: two-proportion z-test).
    ErrorRate,
    /// Request latency, µs (continuous).
    Latency(ContinuousTest),
    /// The output score (continuous).
    Score(ContinuousTest),
}

/// One variant against the control.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AbComparison {
    /// The variant's version (or label).
    pub variant: u64,
    /// The control's version.
    pub control: u64,
    /// The metric in the variant (a rate, or a mean).
    pub variant_value: f64,
    /// The metric in the control.
    pub control_value: f64,
    /// `variant_value − control_value`.
    pub difference: f64,
    /// The interval of the difference (Wald for rates, Welch for means) at `1 − alpha`.
    pub confidence_interval: (f64, f64),
    /// Standardised effect: Cohen's h for rates, Cohen's d for means.
    pub effect_size: f64,
    /// The two-sided p-value of the chosen test.
    pub p_value: f64,
    /// The test that gave it (`two_proportion_z`, `welch_t`, `mann_whitney_u`).
    pub test: String,
    /// Whether `p_value < alpha`.
    pub significant: bool,
    /// Samples in the variant and the control.
    pub samples: (u64, u64),
    /// Samples per arm needed to detect the observed effect with the chosen
    /// power at `alpha` (`None` when the observed effect is zero).
    pub needed_per_arm: Option<f64>,
    /// How many more per arm that is than the smaller arm has now (0 when enough).
    pub still_needed_per_arm: Option<u64>,
}

/// Compares two rates (`x` successes of `n` trials each) as an A/B test:
/// conversions, clicks, anything the application counts per variant.
///
/// ```
/// use mlops_serve::deployment::compare_rates;
///
/// // 5.5 % against 5.0 % conversions, 4,000 users each.
/// let c = compare_rates((220, 4_000), (200, 4_000), 0.05, 0.8)?;
/// assert!(!c.significant);
/// assert!(c.confidence_interval.0 < 0.0 && c.confidence_interval.1 > 0.0);
/// // Detecting a 0.5-point lift with 80 % power takes 31,218 users per arm
/// // (statsmodels' NormalIndPower agrees): 27,218 more than each arm has.
/// assert!((c.needed_per_arm.unwrap() - 31_217.42).abs() < 0.01);
/// assert_eq!(c.still_needed_per_arm, Some(27_218));
/// # Ok::<(), mlops_serve::Error>(())
/// ```
pub fn compare_rates(variant: (u64, u64), control: (u64, u64), alpha: f64, power: f64) -> Result<AbComparison> {
    let t = two_proportion_z(
        variant.0,
        variant.1,
        control.0,
        control.1,
        Alternative::TwoSided,
        1.0 - alpha,
    )?;
    let h = cohens_h(t.rate_a, t.rate_b);
    let needed = needed(h, alpha, power)?;
    Ok(AbComparison {
        variant: 0,
        control: 0,
        variant_value: t.rate_a,
        control_value: t.rate_b,
        difference: t.difference,
        confidence_interval: t.confidence_interval,
        effect_size: h,
        p_value: t.p_value,
        test: "two_proportion_z".to_owned(),
        significant: t.p_value < alpha,
        samples: (variant.1, control.1),
        still_needed_per_arm: still_needed(needed, variant.1.min(control.1)),
        needed_per_arm: needed,
    })
}

/// Compares two samples of a continuous metric as an A/B test.
pub fn compare_values(
    variant: &[f64],
    control: &[f64],
    test: ContinuousTest,
    alpha: f64,
    power: f64,
) -> Result<AbComparison> {
    let w = welch_t(variant, control, Alternative::TwoSided, 1.0 - alpha)?;
    let (va, vb) = (variance(variant, w.mean_a), variance(control, w.mean_b));
    let (na, nb) = (variant.len() as f64, control.len() as f64);
    let pooled = (((na - 1.0) * va + (nb - 1.0) * vb) / (na + nb - 2.0)).sqrt();
    let d = if pooled > 0.0 { w.difference / pooled } else { 0.0 };
    let (p_value, name) = match test {
        ContinuousTest::Welch => (w.p_value, "welch_t"),
        ContinuousTest::MannWhitney => (
            mann_whitney_u(variant, control, Alternative::TwoSided)?.p_value,
            "mann_whitney_u",
        ),
    };
    let needed = needed(d, alpha, power)?;
    let smaller = variant.len().min(control.len()) as u64;
    Ok(AbComparison {
        variant: 0,
        control: 0,
        variant_value: w.mean_a,
        control_value: w.mean_b,
        difference: w.difference,
        confidence_interval: w.confidence_interval,
        effect_size: d,
        p_value,
        test: name.to_owned(),
        significant: p_value < alpha,
        samples: (variant.len() as u64, control.len() as u64),
        still_needed_per_arm: still_needed(needed, smaller),
        needed_per_arm: needed,
    })
}

fn needed(effect: f64, alpha: f64, power: f64) -> Result<Option<f64>> {
    if effect == 0.0 || !effect.is_finite() {
        return Ok(None);
    }
    sample_size_per_arm(effect, alpha, power).map(Some)
}

fn still_needed(needed: Option<f64>, have: u64) -> Option<u64> {
    needed.map(|n| (n.ceil() as u64).saturating_sub(have))
}

fn variance(x: &[f64], mean: f64) -> f64 {
    x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (x.len() as f64 - 1.0)
}

impl Deployment {
    /// Compares each of `variants` with `control` on `metric` over their
    /// current windows (open them together with
    /// [`open_windows`](Self::open_windows) when the test starts), at
    /// significance `alpha` and for sample sizes at `power`.
    pub fn ab_report(
        &self,
        control: u64,
        variants: &[u64],
        metric: AbMetric,
        alpha: f64,
        power: f64,
    ) -> Result<Vec<AbComparison>> {
        let window = |v: u64| {
            self.window(v).ok_or_else(|| Error::NotFound {
                what: format!("version {v} in deployment `{}`", self.name()),
            })
        };
        let c = window(control)?;
        variants
            .iter()
            .map(|&v| {
                let w = window(v)?;
                let mut comparison = match metric {
                    AbMetric::ErrorRate => {
                        compare_rates((w.errors(), w.requests), (c.errors(), c.requests), alpha, power)?
                    }
                    AbMetric::Latency(test) => compare_values(&w.latencies_us, &c.latencies_us, test, alpha, power)?,
                    AbMetric::Score(test) => compare_values(&w.scores, &c.scores, test, alpha, power)?,
                };
                comparison.variant = v;
                comparison.control = control;
                Ok(comparison)
            })
            .collect()
    }
}
