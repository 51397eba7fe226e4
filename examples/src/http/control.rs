//! Rollout control for the service: which strategy runs, and the admin's
//! start / promote / abort.

use std::sync::Arc;
use std::time::Duration;

use mlops_serve::deployment::{
    BlueGreenPlan, CanaryPlan, Deployment, ErrorRate, ErrorRateVsBaseline, FailurePolicy, Mirror, Rollout,
    RolloutDriver, Split, StepLength, Weight,
};
use serde::Serialize;
use serde_json::Value;

/// The strategies the command line and the admin endpoint name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StrategyKind {
    /// Growing weight with gates, then promotion.
    Canary,
    /// Preview on mirrored traffic, then one switch.
    BlueGreen,
    /// The candidate sees a share of requests; its answers are only compared.
    Shadow,
    /// A fixed 50/50 sticky split.
    Ab,
}

impl StrategyKind {
    /// Parses `canary`, `blue-green`, `shadow`, `ab`.
    pub fn parse(text: &str) -> Result<StrategyKind, String> {
        match text {
            "canary" => Ok(StrategyKind::Canary),
            "blue-green" => Ok(StrategyKind::BlueGreen),
            "shadow" => Ok(StrategyKind::Shadow),
            "ab" => Ok(StrategyKind::Ab),
            other => Err(format!("unknown strategy `{other}` (canary, blue-green, shadow, ab)")),
        }
    }
}

/// How rollouts started by the service run.
#[derive(Clone, Debug)]
pub struct RolloutSettings {
    /// Canary steps: this weight per step up to `canary_max`.
    pub canary_step: Weight,
    /// The last canary step before promotion.
    pub canary_max: Weight,
    /// How long each step (or the blue/green preview) lasts.
    pub step: StepLength,
    /// Mirrored share for shadow and blue/green previews.
    pub mirrored: Weight,
    /// Blue/green: how long the old version stays loaded.
    pub rollback_window: Duration,
    /// How often the driver thread ticks.
    pub tick: Duration,
}

impl Default for RolloutSettings {
    fn default() -> Self {
        RolloutSettings {
            canary_step: Weight::from_buckets(1_000).unwrap_or(Weight::ZERO),
            canary_max: Weight::from_buckets(5_000).unwrap_or(Weight::ZERO),
            step: StepLength::both(Duration::from_secs(30), 200),
            mirrored: Weight::from_buckets(2_000).unwrap_or(Weight::ZERO),
            rollback_window: Duration::from_secs(600),
            tick: Duration::from_millis(50),
        }
    }
}

enum Active {
    None,
    Rollout {
        kind: StrategyKind,
        rollout: Arc<Rollout>,
        _driver: RolloutDriver,
    },
    /// Shadow and A/B have no phases: promotion and abort are one switch.
    Static {
        kind: StrategyKind,
        finished: Option<&'static str>,
    },
}

/// The stable and candidate versions and what runs between them.
pub struct Control {
    deployment: Arc<Deployment>,
    stable: u64,
    candidate: Option<u64>,
    settings: RolloutSettings,
    active: Active,
}

impl Control {
    /// Control over `deployment`, where `stable` serves and `candidate` (if any) is loaded.
    pub fn new(deployment: Arc<Deployment>, stable: u64, candidate: Option<u64>, settings: RolloutSettings) -> Self {
        Control {
            deployment,
            stable,
            candidate,
            settings,
            active: Active::None,
        }
    }

    fn candidate(&self) -> Result<u64, String> {
        self.candidate
            .ok_or_else(|| "no candidate is loaded (start the service with --candidate DIR)".to_owned())
    }

    fn running(&self) -> bool {
        match &self.active {
            Active::None => false,
            Active::Rollout { rollout, .. } => !rollout.status().phase.is_finished(),
            Active::Static { finished, .. } => finished.is_none(),
        }
    }

    /// Starts `kind` between the stable version and the candidate.
    pub fn start(&mut self, kind: StrategyKind) -> Result<Value, String> {
        let candidate = self.candidate()?;
        if self.running() {
            return Err("a rollout is already running (promote or abort it first)".to_owned());
        }
        let s = &self.settings;
        let (d, stable) = (Arc::clone(&self.deployment), self.stable);
        let gates = |plan: CanaryPlan| {
            plan.with_critical_gate(Arc::new(ErrorRate {
                max: 0.01,
                min_samples: 100,
            }))
            .with_gate(Arc::new(ErrorRateVsBaseline {
                alpha: 0.01,
                min_samples: 100,
            }))
            .with_failure_policy(FailurePolicy::Threshold(2))
        };
        self.active = match kind {
            StrategyKind::Canary => {
                let plan = CanaryPlan::stepped(s.canary_step, s.canary_max).map_err(|e| e.to_string())?;
                let plan = gates(plan.with_step_length(s.step));
                let rollout = Arc::new(Rollout::canary(d, stable, candidate, plan).map_err(|e| e.to_string())?);
                let driver = rollout.drive(s.tick).map_err(|e| e.to_string())?;
                Active::Rollout {
                    kind,
                    rollout,
                    _driver: driver,
                }
            }
            StrategyKind::BlueGreen => {
                let plan = BlueGreenPlan::new()
                    .with_mirrored_share(s.mirrored)
                    .with_preview_length(s.step)
                    .with_pre_promotion_gate(Arc::new(ErrorRate {
                        max: 0.01,
                        min_samples: 100,
                    }))
                    .with_post_promotion_gate(Arc::new(ErrorRate {
                        max: 0.01,
                        min_samples: 100,
                    }))
                    .with_rollback_window(s.rollback_window);
                let rollout = Arc::new(Rollout::blue_green(d, stable, candidate, plan).map_err(|e| e.to_string())?);
                let driver = rollout.drive(s.tick).map_err(|e| e.to_string())?;
                Active::Rollout {
                    kind,
                    rollout,
                    _driver: driver,
                }
            }
            StrategyKind::Shadow => {
                let mirror = Mirror::new(Arc::new(Split::all(stable)), candidate, s.mirrored);
                d.set_strategy(Arc::new(mirror)).map_err(|e| e.to_string())?;
                Active::Static { kind, finished: None }
            }
            StrategyKind::Ab => {
                let half = Weight::from_buckets(5_000).map_err(|e| e.to_string())?;
                let split = Split::weighted(&[(stable, half), (candidate, half)]).map_err(|e| e.to_string())?;
                d.set_strategy(Arc::new(split)).map_err(|e| e.to_string())?;
                d.open_windows(&[stable, candidate]);
                Active::Static { kind, finished: None }
            }
        };
        Ok(self.status())
    }

    /// Sends all traffic to the candidate now.
    pub fn promote(&mut self, reason: &str) -> Result<Value, String> {
        let candidate = self.candidate()?;
        match &mut self.active {
            Active::Rollout { rollout, .. } => {
                rollout.promote_now(reason).map_err(|e| e.to_string())?;
            }
            Active::Static { finished, .. } => {
                self.deployment
                    .set_strategy(Arc::new(Split::all(candidate)))
                    .map_err(|e| e.to_string())?;
                *finished = Some("promoted");
            }
            Active::None => return Err("no rollout is running".to_owned()),
        }
        Ok(self.status())
    }

    /// Sends all traffic back to the stable version now.
    pub fn abort(&mut self, reason: &str) -> Result<Value, String> {
        match &mut self.active {
            Active::Rollout { rollout, .. } => {
                rollout.abort(reason).map_err(|e| e.to_string())?;
            }
            Active::Static { finished, .. } => {
                self.deployment
                    .set_strategy(Arc::new(Split::all(self.stable)))
                    .map_err(|e| e.to_string())?;
                *finished = Some("rolled_back");
            }
            Active::None => return Err("no rollout is running".to_owned()),
        }
        Ok(self.status())
    }

    /// The rollout's state as JSON (with its history for phased rollouts).
    pub fn status(&self) -> Value {
        let state = self.deployment.state();
        let base = serde_json::json!({
            "stable": self.stable,
            "candidate": self.candidate,
            "strategy": state.strategy,
            "routed": state.routed,
            "loaded": state.loaded,
        });
        let mut out = base;
        match &self.active {
            Active::None => out["rollout"] = Value::Null,
            Active::Rollout { kind, rollout, .. } => {
                out["rollout"] = serde_json::json!({
                    "kind": kind,
                    "status": rollout.status(),
                    "history": rollout.history(),
                });
            }
            Active::Static { kind, finished } => {
                out["rollout"] = serde_json::json!({"kind": kind, "phase": finished.unwrap_or("running")});
            }
        }
        out
    }

    /// `(strategy, phase)` for the metrics page.
    pub fn phase(&self) -> (String, String) {
        match &self.active {
            Active::None => ("none".to_owned(), "none".to_owned()),
            Active::Rollout { kind, rollout, .. } => {
                let phase = serde_json::to_value(rollout.status().phase)
                    .ok()
                    .and_then(|v| v.get("phase").and_then(Value::as_str).map(str::to_owned))
                    .unwrap_or_default();
                (format!("{kind:?}").to_lowercase(), phase)
            }
            Active::Static { kind, finished } => (
                format!("{kind:?}").to_lowercase(),
                finished.unwrap_or("running").to_owned(),
            ),
        }
    }
}
