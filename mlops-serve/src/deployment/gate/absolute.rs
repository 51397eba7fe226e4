//! Absolute gates: the candidate against fixed thresholds.

use super::{Gate, GateInput, GateReading};

/// The reading of a gate that passes while `value ≤ max`, once `samples`
/// reach `min_samples` (`what` names the samples: "requests", "rows").
fn at_most(
    gate: &str,
    value: Option<f64>,
    max: f64,
    (samples, min_samples, what): (u64, u64, &str),
    detail: impl FnOnce(f64) -> String,
) -> GateReading {
    match value.filter(|_| samples >= min_samples) {
        None => GateReading::need_more_data(
            gate,
            max,
            samples,
            None,
            format!("{samples} of {min_samples} {what} seen"),
        ),
        Some(v) => GateReading::judged(gate, v <= max, v, max, samples, None, detail(v)),
    }
}

/// Fails when the candidate's error rate (failures plus invalid answers, per
/// request) is above `max`.
#[derive(Clone, Debug, PartialEq)]
pub struct ErrorRate {
    /// Highest acceptable rate (0–1).
    pub max: f64,
    /// Requests needed before judging.
    pub min_samples: u64,
}

impl Gate for ErrorRate {
    fn name(&self) -> String {
        "error_rate".to_owned()
    }

    fn evaluate(&self, input: &GateInput<'_>) -> GateReading {
        let c = input.candidate;
        at_most(
            &self.name(),
            c.error_rate(),
            self.max,
            (c.requests, self.min_samples, "requests"),
            |rate| {
                format!(
                    "{} errors in {} requests ({:.3} %), at most {:.3} %",
                    c.errors(),
                    c.requests,
                    rate * 100.0,
                    self.max * 100.0
                )
            },
        )
    }
}

/// Fails when the candidate's latency quantile `q` is above `max_us`.
#[derive(Clone, Debug, PartialEq)]
pub struct LatencyQuantile {
    /// The quantile (0.5 for p50, 0.99 for p99).
    pub quantile: f64,
    /// Highest acceptable latency, µs.
    pub max_us: f64,
    /// Requests needed before judging.
    pub min_samples: u64,
}

impl Gate for LatencyQuantile {
    fn name(&self) -> String {
        format!("latency_p{}", (self.quantile * 100.0).round())
    }

    fn evaluate(&self, input: &GateInput<'_>) -> GateReading {
        let c = input.candidate;
        match c
            .latency_quantile_us(self.quantile)
            .filter(|_| c.requests >= self.min_samples)
        {
            None => GateReading::need_more_data(
                &self.name(),
                self.max_us,
                c.requests,
                None,
                format!("{} of {} requests seen", c.requests, self.min_samples),
            ),
            Some(us) => GateReading::judged(
                &self.name(),
                us <= self.max_us,
                us,
                self.max_us,
                c.requests,
                None,
                format!("{} is {us:.1} µs, at most {:.1} µs", self.name(), self.max_us),
            ),
        }
    }
}

/// Fails when more than `max` of the candidate's input rows were refused at the door.
#[derive(Clone, Debug, PartialEq)]
pub struct RejectedShare {
    /// Highest acceptable share of rows (0–1).
    pub max: f64,
    /// Rows needed before judging.
    pub min_samples: u64,
}

impl Gate for RejectedShare {
    fn name(&self) -> String {
        "rejected_share".to_owned()
    }

    fn evaluate(&self, input: &GateInput<'_>) -> GateReading {
        let c = input.candidate;
        at_most(
            &self.name(),
            c.rejected_share(),
            self.max,
            (c.rows, self.min_samples, "rows"),
            |_| {
                format!(
                    "{} of {} rows refused, at most {:.3} %",
                    c.rejected_rows,
                    c.rows,
                    self.max * 100.0
                )
            },
        )
    }
}

/// Fails when more than `max` of the candidate's answers broke the output signature.
#[derive(Clone, Debug, PartialEq)]
pub struct OutputInvalidRate {
    /// Highest acceptable share of requests (0–1).
    pub max: f64,
    /// Requests needed before judging.
    pub min_samples: u64,
}

impl Gate for OutputInvalidRate {
    fn name(&self) -> String {
        "output_invalid_rate".to_owned()
    }

    fn evaluate(&self, input: &GateInput<'_>) -> GateReading {
        let c = input.candidate;
        at_most(
            &self.name(),
            c.output_invalid_rate(),
            self.max,
            (c.requests, self.min_samples, "requests"),
            |_| format!("{} invalid answers in {} requests", c.output_invalid, c.requests),
        )
    }
}
