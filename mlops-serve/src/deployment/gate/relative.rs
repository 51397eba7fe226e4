//! Relative gates: the candidate against the stable arm's concurrent traffic.

use std::fmt::Debug;
use std::sync::Arc;

use arrow_array::Float64Array;
use mlops_core::DriftDetector;

use super::{Gate, GateInput, GateReading};
use crate::deployment::stats::{Alternative, mann_whitney_u, two_proportion_z};
use crate::deployment::window::WindowSnapshot;

/// `NeedMoreData` while either arm has fewer than `min_samples` requests.
fn wait_for_both_arms(
    gate: &str,
    threshold: f64,
    (c, b): (&WindowSnapshot, &WindowSnapshot),
    min_samples: u64,
) -> Option<GateReading> {
    (c.requests < min_samples || b.requests < min_samples).then(|| {
        GateReading::need_more_data(
            gate,
            threshold,
            c.requests,
            Some(b.requests),
            format!("{} and {} of {min_samples} requests per arm", c.requests, b.requests),
        )
    })
}

/// Fails when the candidate's error rate is higher than the baseline's with
/// significance `alpha` (one-sided two-proportion z-test, pooled variance).
#[derive(Clone, Debug, PartialEq)]
pub struct ErrorRateVsBaseline {
    /// Significance level (e.g. 0.05).
    pub alpha: f64,
    /// Requests needed in each arm before judging.
    pub min_samples: u64,
}

impl Gate for ErrorRateVsBaseline {
    fn name(&self) -> String {
        "error_rate_vs_baseline".to_owned()
    }

    fn evaluate(&self, input: &GateInput<'_>) -> GateReading {
        let (c, b) = (input.candidate, input.baseline);
        let name = self.name();
        if let Some(waiting) = wait_for_both_arms(&name, self.alpha, (c, b), self.min_samples) {
            return waiting;
        }
        match two_proportion_z(
            c.errors(),
            c.requests,
            b.errors(),
            b.requests,
            Alternative::Greater,
            0.95,
        ) {
            Ok(t) => GateReading::judged(
                &name,
                t.p_value >= self.alpha,
                t.p_value,
                self.alpha,
                c.requests,
                Some(b.requests),
                format!(
                    "candidate {:.3} % against baseline {:.3} % errors (z = {:.2}, one-sided p = {:.4}, α = {})",
                    t.rate_a * 100.0,
                    t.rate_b * 100.0,
                    t.statistic,
                    t.p_value,
                    self.alpha
                ),
            ),
            Err(e) => GateReading::need_more_data(&name, self.alpha, c.requests, Some(b.requests), e.to_string()),
        }
    }
}

/// Fails when the candidate's latencies are greater than the baseline's
/// raised by `allowed_increase` (0.1 = 10 % slower allowed), with
/// significance `alpha` (one-sided Mann–Whitney U on the windows' samples).
#[derive(Clone, Debug, PartialEq)]
pub struct LatencyVsBaseline {
    /// Allowed relative increase (≥ 0).
    pub allowed_increase: f64,
    /// Significance level.
    pub alpha: f64,
    /// Requests needed in each arm before judging.
    pub min_samples: u64,
}

impl Gate for LatencyVsBaseline {
    fn name(&self) -> String {
        "latency_vs_baseline".to_owned()
    }

    fn evaluate(&self, input: &GateInput<'_>) -> GateReading {
        let (c, b) = (input.candidate, input.baseline);
        let name = self.name();
        let (nc, nb) = (c.latencies_us.len() as u64, b.latencies_us.len() as u64);
        if let Some(waiting) = wait_for_both_arms(&name, self.alpha, (c, b), self.min_samples) {
            return waiting;
        }
        if nc == 0 || nb == 0 {
            return GateReading::need_more_data(&name, self.alpha, nc, Some(nb), "no latency samples in an arm".into());
        }
        let raised: Vec<f64> = b
            .latencies_us
            .iter()
            .map(|v| v * (1.0 + self.allowed_increase))
            .collect();
        match mann_whitney_u(&c.latencies_us, &raised, Alternative::Greater) {
            Ok(t) => GateReading::judged(
                &name,
                t.p_value >= self.alpha,
                t.p_value,
                self.alpha,
                nc,
                Some(nb),
                format!(
                    "candidate p50 {:.1} µs against baseline p50 {:.1} µs (+{:.0} % allowed; one-sided Mann–Whitney p = {:.4}, α = {})",
                    c.latency_quantile_us(0.5).unwrap_or(f64::NAN),
                    b.latency_quantile_us(0.5).unwrap_or(f64::NAN),
                    self.allowed_increase * 100.0,
                    t.p_value,
                    self.alpha
                ),
            ),
            Err(e) => GateReading::need_more_data(&name, self.alpha, nc, Some(nb), e.to_string()),
        }
    }
}

/// Fails when the candidate's score distribution drifted from the baseline's
/// over the same window, by any [`DriftDetector`] (`mlops-monitor`'s methods
/// implement it: KS, PSI, Wasserstein…).
#[derive(Clone, Debug)]
pub struct ScoreDrift {
    /// The test (reference: the baseline's scores; current: the candidate's).
    pub detector: Arc<dyn DriftDetector>,
    /// Scores needed in each arm before judging.
    pub min_samples: u64,
}

impl Gate for ScoreDrift {
    fn name(&self) -> String {
        format!("score_drift_{}", self.detector.method())
    }

    fn evaluate(&self, input: &GateInput<'_>) -> GateReading {
        let (c, b) = (input.candidate, input.baseline);
        let name = self.name();
        let (nc, nb) = (c.scores.len() as u64, b.scores.len() as u64);
        if nc < self.min_samples || nb < self.min_samples {
            return GateReading::need_more_data(
                &name,
                f64::NAN,
                nc,
                Some(nb),
                format!("{nc} and {nb} of {} scores per arm", self.min_samples),
            );
        }
        let reference = Float64Array::from(b.scores.clone());
        let current = Float64Array::from(c.scores.clone());
        match self.detector.detect(&reference, &current) {
            Ok(r) => GateReading::judged(
                &name,
                !r.drifted,
                r.score,
                r.threshold,
                nc,
                Some(nb),
                format!(
                    "{}: statistic {:.4}, score {:.4} against threshold {}",
                    r.method, r.statistic, r.score, r.threshold
                ),
            ),
            Err(e) => GateReading::need_more_data(&name, f64::NAN, nc, Some(nb), e.to_string()),
        }
    }
}

/// A performance metric per version, computed once labels arrive (delayed):
/// `mlops-monitor`'s label joiner is the usual source.
pub trait LabelledMetric: Send + Sync + Debug {
    /// The metric's name (`accuracy`, `auc`…).
    fn name(&self) -> &str;

    /// The metric of `version` over its labelled predictions so far, or `None` before any.
    fn read(&self, version: u64) -> Option<MetricReading>;
}

/// One value of a [`LabelledMetric`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MetricReading {
    /// The metric.
    pub value: f64,
    /// Labelled predictions behind it.
    pub samples: u64,
}

/// Fails when the candidate's labelled metric is worse than the baseline's by
/// more than `max_drop` (in the metric's own units).
#[derive(Clone, Debug)]
pub struct MetricVsBaseline {
    /// Where the metric comes from.
    pub source: Arc<dyn LabelledMetric>,
    /// Whether larger values are better (accuracy) or worse (log loss).
    pub higher_is_better: bool,
    /// The largest acceptable degradation.
    pub max_drop: f64,
    /// Labelled predictions needed in each arm before judging.
    pub min_samples: u64,
}

impl Gate for MetricVsBaseline {
    fn name(&self) -> String {
        format!("{}_vs_baseline", self.source.name())
    }

    fn evaluate(&self, input: &GateInput<'_>) -> GateReading {
        let name = self.name();
        let c = self.source.read(input.candidate.version);
        let b = self.source.read(input.baseline.version);
        let (cn, bn) = (c.map_or(0, |m| m.samples), b.map_or(0, |m| m.samples));
        match (c, b) {
            (Some(c), Some(b)) if cn >= self.min_samples && bn >= self.min_samples => {
                let drop = if self.higher_is_better {
                    b.value - c.value
                } else {
                    c.value - b.value
                };
                GateReading::judged(
                    &name,
                    drop <= self.max_drop,
                    drop,
                    self.max_drop,
                    cn,
                    Some(bn),
                    format!(
                        "{} {:.4} (candidate) against {:.4} (baseline): worse by {drop:.4}, at most {}",
                        self.source.name(),
                        c.value,
                        b.value,
                        self.max_drop
                    ),
                )
            }
            _ => GateReading::need_more_data(
                &name,
                self.max_drop,
                cn,
                Some(bn),
                format!("{cn} and {bn} of {} labelled predictions per arm", self.min_samples),
            ),
        }
    }
}
