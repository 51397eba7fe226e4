//! What a rollout is told: the steps, how long each lasts, the gates, how failures count.

use std::sync::Arc;
use std::time::Duration;

use super::gate::Gate;
use super::hooks::{NoHooks, RolloutHooks};
use super::routing::Weight;
use crate::{Error, Result};

/// When a step (or a blue/green preview) has lasted long enough to judge.
///
/// With both set, both must hold: at least `time`, and at least `requests`
/// requests seen by the candidate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StepLength {
    /// Least time per step.
    pub time: Option<Duration>,
    /// Least candidate requests per step.
    pub requests: Option<u64>,
}

impl StepLength {
    /// A step of `time`.
    pub fn time(time: Duration) -> Self {
        StepLength {
            time: Some(time),
            requests: None,
        }
    }

    /// A step of `requests` candidate requests.
    pub fn requests(requests: u64) -> Self {
        StepLength {
            time: None,
            requests: Some(requests),
        }
    }

    /// A step of both.
    pub fn both(time: Duration, requests: u64) -> Self {
        StepLength {
            time: Some(time),
            requests: Some(requests),
        }
    }

    pub(crate) fn reached(&self, elapsed: Duration, requests: u64) -> bool {
        self.time.is_none_or(|t| elapsed >= t) && self.requests.is_none_or(|r| requests >= r)
    }
}

/// How failed checks add up to a rollback.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailurePolicy {
    /// Roll back after this many failed checks in all (Flagger's `threshold`).
    Threshold(u32),
    /// Roll back after this many failed checks in a row; a passing check resets the count.
    Consecutive(u32),
}

/// A gate and whether it is critical (rolls back at its first failure, and is
/// evaluated at every tick rather than at the end of a step).
#[derive(Clone, Debug)]
pub struct GateSpec {
    /// The check.
    pub gate: Arc<dyn Gate>,
    /// Whether one failure rolls back at once.
    pub critical: bool,
}

/// A canary: the candidate's weight grows step by step while its gates pass.
///
/// ```
/// use std::time::Duration;
/// use mlops_serve::deployment::{CanaryPlan, StepLength, Weight};
///
/// let plan = CanaryPlan::stepped(Weight::percent(10.0)?, Weight::percent(50.0)?)?
///     .with_step_length(StepLength::both(Duration::from_secs(60), 500));
/// let weights: Vec<f64> = plan.steps().iter().map(|w| w.as_percent()).collect();
/// assert_eq!(weights, [10.0, 20.0, 30.0, 40.0, 50.0]);
/// # Ok::<(), mlops_serve::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct CanaryPlan {
    pub(crate) steps: Vec<Weight>,
    pub(crate) step_length: StepLength,
    pub(crate) gates: Vec<GateSpec>,
    pub(crate) failures: FailurePolicy,
    pub(crate) hooks: Arc<dyn RolloutHooks>,
}

impl CanaryPlan {
    /// Steps of `step_weight` up to `max_weight` (Flagger's `stepWeight`/`maxWeight`,
    /// below 100 %); promotion follows the last step.
    pub fn stepped(step_weight: Weight, max_weight: Weight) -> Result<CanaryPlan> {
        if step_weight == Weight::ZERO || step_weight > max_weight {
            return Err(Error::invalid_input(
                "canary plan",
                "step_weight",
                format!("{step_weight} with max_weight {max_weight}"),
                "a step above 0 and at most max_weight",
            ));
        }
        let mut steps = Vec::new();
        let mut w = step_weight.buckets();
        while w < max_weight.buckets() {
            steps.push(Weight::from_buckets(w)?);
            w += step_weight.buckets();
        }
        steps.push(max_weight);
        Self::with_steps(steps)
    }

    /// Explicit steps (e.g. 1 %, 5 %, 25 %, 50 %): ascending, above 0 and
    /// below 100 %, so that every step leaves the stable version traffic to
    /// compare with. Promotion (100 %) follows the last step.
    pub fn with_steps(steps: Vec<Weight>) -> Result<CanaryPlan> {
        let ascending = steps.windows(2).all(|w| w[0] < w[1]);
        let in_range =
            steps.first().is_some_and(|&w| w > Weight::ZERO) && steps.last().is_some_and(|&w| w < Weight::ALL);
        if !ascending || !in_range {
            return Err(Error::invalid_input(
                "canary plan",
                "steps",
                format!("{steps:?}"),
                "one or more ascending weights above 0 % and below 100 % (promotion follows the last)",
            ));
        }
        Ok(CanaryPlan {
            steps,
            step_length: StepLength::time(Duration::from_secs(60)),
            gates: Vec::new(),
            failures: FailurePolicy::Threshold(2),
            hooks: Arc::new(NoHooks),
        })
    }

    /// Sets how long each step lasts (default: 60 s).
    pub fn with_step_length(mut self, length: StepLength) -> Self {
        self.step_length = length;
        self
    }

    /// Adds a gate evaluated at the end of each step.
    pub fn with_gate(mut self, gate: Arc<dyn Gate>) -> Self {
        self.gates.push(GateSpec { gate, critical: false });
        self
    }

    /// Adds a critical gate: evaluated at every tick, and one failure rolls back.
    pub fn with_critical_gate(mut self, gate: Arc<dyn Gate>) -> Self {
        self.gates.push(GateSpec { gate, critical: true });
        self
    }

    /// Sets how failures count (default: two failed checks in all).
    pub fn with_failure_policy(mut self, policy: FailurePolicy) -> Self {
        self.failures = policy;
        self
    }

    /// Sets the hooks.
    pub fn with_hooks(mut self, hooks: Arc<dyn RolloutHooks>) -> Self {
        self.hooks = hooks;
        self
    }

    /// The steps' weights.
    pub fn steps(&self) -> &[Weight] {
        &self.steps
    }
}

/// Blue/green: the preview (green) answers only chosen keys and a mirrored
/// share, is judged on that traffic, then takes everything in one switch; the
/// old version stays loaded for a window in which post-promotion gates switch
/// back by themselves.
///
/// ```
/// use std::time::Duration;
/// use mlops_serve::deployment::{BlueGreenPlan, StepLength, Weight};
///
/// let plan = BlueGreenPlan::new()
///     .with_preview_keys([7, 8, 9])
///     .with_mirrored_share(Weight::percent(5.0)?)
///     .with_preview_length(StepLength::requests(1_000))
///     .with_rollback_window(Duration::from_secs(600));
/// # Ok::<(), mlops_serve::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct BlueGreenPlan {
    pub(crate) preview_keys: Vec<u64>,
    pub(crate) mirrored: Weight,
    pub(crate) preview_length: StepLength,
    pub(crate) pre_gates: Vec<GateSpec>,
    pub(crate) post_gates: Vec<GateSpec>,
    pub(crate) rollback_window: Duration,
    pub(crate) failures: FailurePolicy,
    pub(crate) hooks: Arc<dyn RolloutHooks>,
}

impl Default for BlueGreenPlan {
    fn default() -> Self {
        Self::new()
    }
}

impl BlueGreenPlan {
    /// No preview keys, nothing mirrored, a 60 s preview, a 10 min rollback window.
    pub fn new() -> Self {
        BlueGreenPlan {
            preview_keys: Vec::new(),
            mirrored: Weight::ZERO,
            preview_length: StepLength::time(Duration::from_secs(60)),
            pre_gates: Vec::new(),
            post_gates: Vec::new(),
            rollback_window: Duration::from_secs(600),
            failures: FailurePolicy::Threshold(1),
            hooks: Arc::new(NoHooks),
        }
    }

    /// Keys the preview answers (testers, synthetic probes).
    pub fn with_preview_keys(mut self, keys: impl IntoIterator<Item = u64>) -> Self {
        self.preview_keys = keys.into_iter().collect();
        self
    }

    /// A share of all requests also sent to the preview as shadow traffic
    /// (answers compared and counted, never returned).
    pub fn with_mirrored_share(mut self, share: Weight) -> Self {
        self.mirrored = share;
        self
    }

    /// How long the preview runs before the pre-promotion gates judge it.
    pub fn with_preview_length(mut self, length: StepLength) -> Self {
        self.preview_length = length;
        self
    }

    /// A gate on preview traffic before the switch.
    pub fn with_pre_promotion_gate(mut self, gate: Arc<dyn Gate>) -> Self {
        self.pre_gates.push(GateSpec { gate, critical: false });
        self
    }

    /// A gate after the switch: its first failure switches back.
    pub fn with_post_promotion_gate(mut self, gate: Arc<dyn Gate>) -> Self {
        self.post_gates.push(GateSpec { gate, critical: true });
        self
    }

    /// How long the old version stays loaded after the switch.
    pub fn with_rollback_window(mut self, window: Duration) -> Self {
        self.rollback_window = window;
        self
    }

    /// How failed pre-promotion checks count (default: the first rolls back).
    pub fn with_failure_policy(mut self, policy: FailurePolicy) -> Self {
        self.failures = policy;
        self
    }

    /// Sets the hooks.
    pub fn with_hooks(mut self, hooks: Arc<dyn RolloutHooks>) -> Self {
        self.hooks = hooks;
        self
    }
}
