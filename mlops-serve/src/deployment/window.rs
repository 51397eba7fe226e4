//! What one arm did since its window opened: counts, latencies, scores.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::reservoir::Reservoir;
use crate::{Error, Prediction, Result};

/// Latency and score samples kept per arm and window (a uniform sample of
/// everything seen beyond that).
pub(crate) const SAMPLE_CAPACITY: usize = 10_000;

/// How one request ended, as the gates count it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Answered (some rows may have been refused by a row-level policy).
    Answered,
    /// The caller's input was refused as a whole (missing column, wrong type, a rule).
    Refused,
    /// The model's own answer broke the output signature.
    OutputInvalid,
    /// The model or its queue failed (inference error, overload, deadline).
    Failed,
}

impl Outcome {
    pub(crate) fn of(result: &Result<Prediction>) -> Outcome {
        match result {
            Ok(_) => Outcome::Answered,
            // The predictor names the side in the location: "model `m` input" / "model `m` output".
            Err(Error::Rejected { location, .. }) if location.ends_with("output") => Outcome::OutputInvalid,
            Err(
                Error::Rejected { .. }
                | Error::SchemaMismatch { .. }
                | Error::TypeMismatch { .. }
                | Error::InvalidInput { .. },
            ) => Outcome::Refused,
            Err(_) => Outcome::Failed,
        }
    }
}

/// The live counters of one arm over one window.
#[derive(Debug)]
pub(crate) struct Window {
    pub(crate) opened: Duration,
    requests: AtomicU64,
    refused: AtomicU64,
    output_invalid: AtomicU64,
    failed: AtomicU64,
    rows: AtomicU64,
    rejected_rows: AtomicU64,
    latencies_us: Reservoir,
    scores: Reservoir,
}

impl Window {
    pub(crate) fn new(opened: Duration, seed: u64) -> Self {
        Window {
            opened,
            requests: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            output_invalid: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            rows: AtomicU64::new(0),
            rejected_rows: AtomicU64::new(0),
            latencies_us: Reservoir::new(SAMPLE_CAPACITY, seed),
            scores: Reservoir::new(SAMPLE_CAPACITY, seed.rotate_left(17)),
        }
    }

    pub(crate) fn record(&self, outcome: Outcome, rows: usize, rejected_rows: usize, latency: Duration) {
        let add = |c: &AtomicU64, n: u64| {
            c.fetch_add(n, Ordering::Relaxed);
        };
        add(&self.requests, 1);
        add(&self.rows, rows as u64);
        match outcome {
            Outcome::Answered => add(&self.rejected_rows, rejected_rows as u64),
            Outcome::Refused => {
                add(&self.refused, 1);
                add(&self.rejected_rows, rows as u64);
            }
            Outcome::OutputInvalid => add(&self.output_invalid, 1),
            Outcome::Failed => add(&self.failed, 1),
        }
        self.latencies_us.offer(latency.as_secs_f64() * 1e6);
    }

    pub(crate) fn record_score(&self, score: f64) {
        if score.is_finite() {
            self.scores.offer(score);
        }
    }

    pub(crate) fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    pub(crate) fn snapshot(&self, version: u64, now: Duration) -> WindowSnapshot {
        let read = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let (latencies_us, _) = self.latencies_us.snapshot();
        let (scores, _) = self.scores.snapshot();
        WindowSnapshot {
            version,
            duration: now.saturating_sub(self.opened),
            requests: read(&self.requests),
            refused: read(&self.refused),
            output_invalid: read(&self.output_invalid),
            failed: read(&self.failed),
            rows: read(&self.rows),
            rejected_rows: read(&self.rejected_rows),
            latencies_us,
            scores,
        }
    }
}

/// What one arm did over one window: what the gates judge.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WindowSnapshot {
    /// The arm's version.
    pub version: u64,
    /// How long the window has been open.
    pub duration: Duration,
    /// Requests routed to the arm.
    pub requests: u64,
    /// Requests whose input was refused as a whole.
    pub refused: u64,
    /// Requests whose answer broke the output signature.
    pub output_invalid: u64,
    /// Requests that failed in the model or its queue.
    pub failed: u64,
    /// Rows in all requests.
    pub rows: u64,
    /// Rows refused (row-level policy, or a refused request's rows).
    pub rejected_rows: u64,
    /// A uniform sample (at most 10,000) of request latencies, in µs.
    #[serde(skip)]
    pub latencies_us: Vec<f64>,
    /// A uniform sample (at most 10,000) of output scores (see
    /// [`Deployment`](super::Deployment) for which column is the score).
    #[serde(skip)]
    pub scores: Vec<f64>,
}

impl WindowSnapshot {
    /// Requests that failed for the model's sake: errors plus invalid answers.
    pub fn errors(&self) -> u64 {
        self.failed + self.output_invalid
    }

    /// `errors() / requests`, or `None` before the first request.
    pub fn error_rate(&self) -> Option<f64> {
        ratio(self.errors(), self.requests)
    }

    /// Share of rows refused at the door.
    pub fn rejected_share(&self) -> Option<f64> {
        ratio(self.rejected_rows, self.rows)
    }

    /// Share of requests whose answer broke the output signature.
    pub fn output_invalid_rate(&self) -> Option<f64> {
        ratio(self.output_invalid, self.requests)
    }

    /// The `q` quantile of the latency sample, in µs (linear interpolation, as
    /// NumPy's default), or `None` without samples.
    pub fn latency_quantile_us(&self, q: f64) -> Option<f64> {
        quantile(&self.latencies_us, q)
    }
}

fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// The `q` quantile (0–1) of `values` by linear interpolation between order statistics.
pub(crate) fn quantile(values: &[f64], q: f64) -> Option<f64> {
    if values.is_empty() || !(0.0..=1.0).contains(&q) {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    let (a, b) = (sorted[lo], sorted[hi.min(sorted.len() - 1)]);
    Some(a + (b - a) * (pos - lo as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_match_numpy_linear_interpolation() {
        // numpy.quantile([1, 2, 3, 4, 10], [0, 0.5, 0.9, 1]) = [1, 3, 7.6, 10]
        let v = [4.0, 1.0, 10.0, 3.0, 2.0];
        assert_eq!(quantile(&v, 0.0), Some(1.0));
        assert_eq!(quantile(&v, 0.5), Some(3.0));
        assert!((quantile(&v, 0.9).unwrap() - 7.6).abs() < 1e-12);
        assert_eq!(quantile(&v, 1.0), Some(10.0));
        assert_eq!(quantile(&[], 0.5), None);
    }
}
