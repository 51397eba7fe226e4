//! The rollout controller: moves traffic step by step, judges, promotes or rolls back.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::gate::{GateInput, GateReading, Verdict};
use super::history::{RolloutEvent, RolloutHistory, RolloutRecord};
use super::hooks::RolloutHooks;
use super::live::Deployment;
use super::mirror::Mirror;
use super::plan::{BlueGreenPlan, CanaryPlan, FailurePolicy, GateSpec};
use super::preview::Preview;
use super::routing::Weight;
use super::split::Split;
use super::window::WindowSnapshot;
use crate::{Error, Result};

/// Where a rollout stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Phase {
    /// The candidate takes `weight` of the traffic (a blue/green preview: 0 %
    /// plus its keys and mirrored share).
    Progressing {
        /// Step index.
        step: usize,
        /// The candidate's share.
        weight: Weight,
    },
    /// Every check passed; promotion waits for the confirmation hook.
    AwaitingConfirmation,
    /// The candidate takes all traffic; blue/green keeps the old version
    /// loaded until its rollback window ends.
    Promoted,
    /// Done: the candidate took all traffic and the rollout is over.
    Completed,
    /// All traffic went back to the stable version; the rollout is over.
    RolledBack,
}

impl Phase {
    /// Whether the rollout is over.
    pub fn is_finished(self) -> bool {
        matches!(self, Phase::Completed | Phase::RolledBack)
    }
}

/// A rollout's state, for hooks and dashboards.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RolloutStatus {
    /// The model.
    pub model: String,
    /// `canary` or `blue_green`.
    pub strategy: String,
    /// The version traffic comes from.
    pub stable: u64,
    /// The version being rolled out.
    pub candidate: u64,
    /// Where it stands.
    pub phase: Phase,
    /// Failed checks counted by the failure policy.
    pub failures: u32,
    /// Time since it started.
    pub elapsed: Duration,
    /// The reason of the last promotion or rollback, once there is one.
    pub last_decision: Option<String>,
}

enum Kind {
    Canary(CanaryPlan),
    BlueGreen(BlueGreenPlan),
}

impl Kind {
    fn name(&self) -> &'static str {
        match self {
            Kind::Canary(_) => "canary",
            Kind::BlueGreen(_) => "blue_green",
        }
    }

    fn hooks(&self) -> Arc<dyn RolloutHooks> {
        match self {
            Kind::Canary(p) => Arc::clone(&p.hooks),
            Kind::BlueGreen(p) => Arc::clone(&p.hooks),
        }
    }

    fn failure_policy(&self) -> FailurePolicy {
        match self {
            Kind::Canary(p) => p.failures,
            Kind::BlueGreen(p) => p.failures,
        }
    }
}

struct Inner {
    phase: Phase,
    failures: u32,
    step_started: Duration,
    /// Blue/green: when the switch happened, and the old version's last window.
    promoted_at: Option<Duration>,
    baseline_at_switch: Option<WindowSnapshot>,
    history: RolloutHistory,
}

/// What to call once the lock is released (hooks never run under it, so a
/// slow hook never delays a rollback).
enum After {
    Nothing,
    Step,
    Confirm,
    RolledBack,
}

/// Drives one version's rollout on a [`Deployment`]: canary or blue/green.
///
/// Call [`tick`](Self::tick) regularly (or let [`drive`](Self::drive) do it
/// on a thread): each tick evaluates critical gates, ends steps whose
/// [`StepLength`](super::StepLength) is reached, judges them and moves traffic, always by one
/// atomic strategy swap on the deployment. Everything it decides goes to a
/// [`RolloutHistory`].
///
/// ```
/// # use std::sync::Arc;
/// # use std::time::Duration;
/// # use arrow_array::{Float64Array, RecordBatch};
/// # use mlops_serve::deployment::*;
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let (stable, candidate) = doc_support::two_versions();
/// let clock = Arc::new(ManualClock::new());
/// let config = DeploymentConfig::default().with_clock(clock.clone());
/// let deployment = Arc::new(Deployment::new("churn", 1, stable, config)?);
/// deployment.load(2, candidate)?;
///
/// let plan = CanaryPlan::stepped(Weight::percent(25.0)?, Weight::percent(50.0)?)?
///     .with_step_length(StepLength::time(Duration::from_secs(60)))
///     .with_critical_gate(Arc::new(ErrorRate { max: 0.01, min_samples: 100 }));
/// let rollout = Rollout::canary(deployment.clone(), 1, 2, plan)?;
///
/// let batch = RecordBatch::try_from_iter([("x", Arc::new(Float64Array::from(vec![1.0])) as _)])?;
/// while !rollout.tick()?.is_finished() {
///     for _ in 0..200 {
///         deployment.predict(None, &batch)?;
///     }
///     clock.advance(Duration::from_secs(61));
/// }
/// assert_eq!(rollout.status().phase, Phase::Completed);
/// assert_eq!(deployment.predict(None, &batch)?.version, 2);
/// # Ok(()) }
/// ```
pub struct Rollout {
    deployment: Arc<Deployment>,
    stable: u64,
    candidate: u64,
    kind: Kind,
    started: Duration,
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for Rollout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rollout")
            .field("status", &self.status())
            .finish_non_exhaustive()
    }
}

impl Rollout {
    /// Starts a canary of `candidate` (already loaded) against `stable`: the
    /// first step's weight goes live at once.
    pub fn canary(deployment: Arc<Deployment>, stable: u64, candidate: u64, plan: CanaryPlan) -> Result<Rollout> {
        let first = plan.steps.first().copied().unwrap_or(Weight::ALL);
        let rollout = Self::new(deployment, stable, candidate, Kind::Canary(plan), first)?;
        rollout.start(Arc::new(Split::canary(stable, candidate, first)), first)?;
        Ok(rollout)
    }

    /// Starts a blue/green rollout: `candidate` (green, already loaded) gets
    /// its preview keys and mirrored share, `stable` (blue) everything else.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use std::time::Duration;
    /// # use arrow_array::{Float64Array, RecordBatch};
    /// # use mlops_serve::deployment::*;
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let (blue, green) = doc_support::two_versions();
    /// let clock = Arc::new(ManualClock::new());
    /// let config = DeploymentConfig::default().with_clock(clock.clone());
    /// let deployment = Arc::new(Deployment::new("churn", 1, blue, config)?);
    /// deployment.load(2, green)?;
    /// let plan = BlueGreenPlan::new()
    ///     .with_preview_keys([42])
    ///     .with_preview_length(StepLength::time(Duration::from_secs(60)))
    ///     .with_rollback_window(Duration::from_secs(600));
    /// let rollout = Rollout::blue_green(deployment.clone(), 1, 2, plan)?;
    ///
    /// let batch = RecordBatch::try_from_iter([("x", Arc::new(Float64Array::from(vec![1.0])) as _)])?;
    /// assert_eq!(deployment.predict(Some(42), &batch)?.version, 2); // a tester previews green
    /// assert_eq!(deployment.predict(Some(7), &batch)?.version, 1);  // everyone else: blue
    /// clock.advance(Duration::from_secs(61));
    /// assert_eq!(rollout.tick()?, Phase::Promoted);                  // one switch
    /// assert_eq!(deployment.predict(Some(7), &batch)?.version, 2);
    /// clock.advance(Duration::from_secs(601));
    /// assert_eq!(rollout.tick()?, Phase::Completed);                 // blue unloaded
    /// assert_eq!(deployment.state().loaded, vec![2]);
    /// # Ok(()) }
    /// ```
    pub fn blue_green(
        deployment: Arc<Deployment>,
        stable: u64,
        candidate: u64,
        plan: BlueGreenPlan,
    ) -> Result<Rollout> {
        let preview = Arc::new(Preview::new(stable, candidate, plan.preview_keys.iter().copied()));
        let strategy: Arc<dyn mlops_core::DeploymentStrategy> = if plan.mirrored > Weight::ZERO {
            Arc::new(Mirror::new(preview, candidate, plan.mirrored))
        } else {
            preview
        };
        let rollout = Self::new(deployment, stable, candidate, Kind::BlueGreen(plan), Weight::ZERO)?;
        rollout.start(strategy, Weight::ZERO)?;
        Ok(rollout)
    }

    fn new(deployment: Arc<Deployment>, stable: u64, candidate: u64, kind: Kind, first: Weight) -> Result<Rollout> {
        let state = deployment.state();
        for version in [stable, candidate] {
            if !state.loaded.contains(&version) {
                return Err(Error::NotFound {
                    what: format!(
                        "version {version} in deployment `{}` (load it before the rollout)",
                        deployment.name()
                    ),
                });
            }
        }
        if stable == candidate {
            return Err(Error::invalid_input(
                "rollout",
                format!("deployment `{}`", deployment.name()),
                format!("version {stable} rolled out over itself"),
                "a candidate other than the stable version",
            ));
        }
        let started = deployment.clock().elapsed();
        Ok(Rollout {
            stable,
            candidate,
            started,
            inner: Mutex::new(Inner {
                phase: Phase::Progressing { step: 0, weight: first },
                failures: 0,
                step_started: started,
                promoted_at: None,
                baseline_at_switch: None,
                history: RolloutHistory {
                    model: deployment.name().to_owned(),
                    stable,
                    candidate,
                    records: Vec::new(),
                },
            }),
            kind,
            deployment,
        })
    }

    fn start(&self, strategy: Arc<dyn mlops_core::DeploymentStrategy>, first: Weight) -> Result<()> {
        self.kind.hooks().before_rollout(&self.status())?;
        let mut inner = self.lock();
        self.deployment.set_strategy(strategy)?;
        self.deployment.open_windows(&[self.stable, self.candidate]);
        self.record(
            &mut inner,
            RolloutEvent::Started {
                strategy: self.kind.name().to_owned(),
            },
        );
        self.record(&mut inner, RolloutEvent::Step { step: 0, weight: first });
        drop(inner);
        self.kind.hooks().on_step(&self.status());
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn now(&self) -> Duration {
        self.deployment.clock().elapsed()
    }

    fn record(&self, inner: &mut Inner, event: RolloutEvent) {
        let now = self.now();
        inner.history.records.push(RolloutRecord {
            at_ms: self.deployment.clock().wall_ms(),
            elapsed: now.saturating_sub(self.started),
            event,
        });
    }

    /// Where the rollout stands.
    pub fn status(&self) -> RolloutStatus {
        let inner = self.lock();
        self.status_of(&inner)
    }

    fn status_of(&self, inner: &Inner) -> RolloutStatus {
        RolloutStatus {
            model: self.deployment.name().to_owned(),
            strategy: self.kind.name().to_owned(),
            stable: self.stable,
            candidate: self.candidate,
            phase: inner.phase,
            failures: inner.failures,
            elapsed: self.now().saturating_sub(self.started),
            last_decision: inner.history.records.iter().rev().find_map(|r| match &r.event {
                RolloutEvent::Promoted { reason } | RolloutEvent::RolledBack { reason } => Some(reason.clone()),
                _ => None,
            }),
        }
    }

    /// Everything decided so far.
    pub fn history(&self) -> RolloutHistory {
        self.lock().history.clone()
    }

    /// Rolls back now (an operator's abort): all traffic to the stable version
    /// in one swap. Never waits for a hook, a pending confirmation included.
    pub fn abort(&self, reason: &str) -> Result<Phase> {
        let mut inner = self.lock();
        if inner.phase.is_finished() {
            return Ok(inner.phase);
        }
        self.roll_back(&mut inner, format!("aborted: {reason}"))?;
        drop(inner);
        self.kind.hooks().on_rollback(&self.status());
        Ok(Phase::RolledBack)
    }

    /// Promotes now, skipping the remaining steps and the confirmation (an operator's decision).
    pub fn promote_now(&self, reason: &str) -> Result<Phase> {
        let mut inner = self.lock();
        if inner.phase.is_finished() || inner.phase == Phase::Promoted {
            return Ok(inner.phase);
        }
        self.promote(&mut inner, format!("promoted by hand: {reason}"))?;
        let phase = inner.phase;
        drop(inner);
        self.kind.hooks().after_promotion(&self.status());
        Ok(phase)
    }

    /// Evaluates what is due and moves the rollout on; returns the phase after.
    pub fn tick(&self) -> Result<Phase> {
        let (phase, after) = {
            let mut inner = self.lock();
            let after = match &self.kind {
                Kind::Canary(plan) => self.tick_canary(&mut inner, plan)?,
                Kind::BlueGreen(plan) => self.tick_blue_green(&mut inner, plan)?,
            };
            (inner.phase, after)
        };
        let hooks = self.kind.hooks();
        match after {
            After::Nothing => Ok(phase),
            After::Step => {
                hooks.on_step(&self.status());
                Ok(phase)
            }
            After::RolledBack => {
                hooks.on_rollback(&self.status());
                Ok(phase)
            }
            After::Confirm => {
                // Asked without the lock: an abort meanwhile wins.
                if !hooks.confirm_promotion(&self.status()) {
                    return Ok(phase);
                }
                let mut inner = self.lock();
                if inner.phase != Phase::AwaitingConfirmation {
                    return Ok(inner.phase);
                }
                self.promote(&mut inner, "every check passed and promotion was confirmed".to_owned())?;
                let phase = inner.phase;
                drop(inner);
                hooks.after_promotion(&self.status());
                Ok(phase)
            }
        }
    }

    fn snapshots(&self, inner: &Inner) -> Result<(WindowSnapshot, WindowSnapshot)> {
        let missing = |v: u64| Error::NotFound {
            what: format!(
                "version {v} in deployment `{}` (unloaded during its rollout)",
                self.deployment.name()
            ),
        };
        let candidate = self
            .deployment
            .window(self.candidate)
            .ok_or_else(|| missing(self.candidate))?;
        let baseline = match &inner.baseline_at_switch {
            Some(frozen) => frozen.clone(),
            None => self
                .deployment
                .window(self.stable)
                .ok_or_else(|| missing(self.stable))?,
        };
        Ok((candidate, baseline))
    }

    fn evaluate(
        gates: &[GateSpec],
        only_critical: bool,
        candidate: &WindowSnapshot,
        baseline: &WindowSnapshot,
    ) -> Vec<(GateReading, bool)> {
        let input = GateInput { candidate, baseline };
        gates
            .iter()
            .filter(|g| g.critical || !only_critical)
            .map(|g| (g.gate.evaluate(&input), g.critical))
            .collect()
    }

    /// Rolls back when a critical gate fails; `true` when it did.
    fn critical_check(&self, inner: &mut Inner, gates: &[GateSpec], reason: &str) -> Result<bool> {
        if !gates.iter().any(|g| g.critical) {
            return Ok(false);
        }
        let (candidate, baseline) = self.snapshots(inner)?;
        let readings = Self::evaluate(gates, true, &candidate, &baseline);
        let Some(failed) = readings
            .iter()
            .find(|(r, _)| r.verdict == Verdict::Fail)
            .map(|(r, _)| r.clone())
        else {
            return Ok(false);
        };
        // Swap first, write the record after: the record never delays the rollback.
        self.roll_back(
            inner,
            format!("critical gate `{}` failed: {}", failed.gate, failed.detail),
        )?;
        let failures = inner.failures;
        let last = inner.history.records.pop();
        self.record(
            inner,
            RolloutEvent::Checked {
                reason: reason.to_owned(),
                readings: readings.into_iter().map(|(r, _)| r).collect(),
                failures,
            },
        );
        inner.history.records.extend(last);
        Ok(true)
    }

    /// Judges a finished step: `Some(true)` all passed, `Some(false)` a check
    /// failed (counted; the rollout may have rolled back), `None` not enough data.
    fn judge_step(&self, inner: &mut Inner, gates: &[GateSpec]) -> Result<Option<bool>> {
        let (candidate, baseline) = self.snapshots(inner)?;
        let readings = Self::evaluate(gates, false, &candidate, &baseline);
        let failed = readings
            .iter()
            .find(|(r, _)| r.verdict == Verdict::Fail)
            .map(|(r, c)| (r.clone(), *c));
        let waiting = readings.iter().any(|(r, _)| r.verdict == Verdict::NeedMoreData);
        let policy = self.kind.failure_policy();
        if failed.is_some() {
            inner.failures += 1;
        } else if !waiting && matches!(policy, FailurePolicy::Consecutive(_)) {
            inner.failures = 0;
        }
        let failures = inner.failures;
        self.record(
            inner,
            RolloutEvent::Checked {
                reason: "step_end".to_owned(),
                readings: readings.into_iter().map(|(r, _)| r).collect(),
                failures,
            },
        );
        if let Some((reading, critical)) = failed {
            let limit = match policy {
                FailurePolicy::Threshold(n) | FailurePolicy::Consecutive(n) => n.max(1),
            };
            if critical || inner.failures >= limit {
                self.roll_back(
                    inner,
                    format!(
                        "gate `{}` failed ({} failed checks, limit {limit}): {}",
                        reading.gate, inner.failures, reading.detail
                    ),
                )?;
            } else {
                // Judge the step again on fresh traffic.
                self.deployment.open_windows(&[self.stable, self.candidate]);
                inner.step_started = self.now();
            }
            return Ok(Some(false));
        }
        Ok(if waiting { None } else { Some(true) })
    }

    fn tick_canary(&self, inner: &mut Inner, plan: &CanaryPlan) -> Result<After> {
        let (step, waiting_confirmation) = match inner.phase {
            Phase::Progressing { step, .. } => (step, false),
            Phase::AwaitingConfirmation => (plan.steps.len().saturating_sub(1), true),
            _ => return Ok(After::Nothing),
        };
        if self.critical_check(inner, &plan.gates, "critical")? {
            return Ok(After::RolledBack);
        }
        if waiting_confirmation {
            return Ok(After::Confirm);
        }
        let now = self.now();
        let seen = self.deployment.window_requests(self.candidate).unwrap_or(0);
        if !plan.step_length.reached(now.saturating_sub(inner.step_started), seen) {
            return Ok(After::Nothing);
        }
        match self.judge_step(inner, &plan.gates)? {
            None => Ok(After::Nothing),
            Some(false) if inner.phase == Phase::RolledBack => Ok(After::RolledBack),
            Some(false) => Ok(After::Nothing),
            Some(true) => match plan.steps.get(step + 1) {
                Some(&weight) => {
                    self.deployment
                        .set_strategy(Arc::new(Split::canary(self.stable, self.candidate, weight)))?;
                    self.deployment.open_windows(&[self.stable, self.candidate]);
                    inner.step_started = now;
                    inner.phase = Phase::Progressing { step: step + 1, weight };
                    self.record(inner, RolloutEvent::Step { step: step + 1, weight });
                    Ok(After::Step)
                }
                None => {
                    inner.phase = Phase::AwaitingConfirmation;
                    self.record(inner, RolloutEvent::Held);
                    Ok(After::Confirm)
                }
            },
        }
    }

    fn tick_blue_green(&self, inner: &mut Inner, plan: &BlueGreenPlan) -> Result<After> {
        match inner.phase {
            Phase::Progressing { .. } => {
                if self.critical_check(inner, &plan.pre_gates, "critical")? {
                    return Ok(After::RolledBack);
                }
                let now = self.now();
                let seen = self.deployment.window_requests(self.candidate).unwrap_or(0);
                if !plan
                    .preview_length
                    .reached(now.saturating_sub(inner.step_started), seen)
                {
                    return Ok(After::Nothing);
                }
                match self.judge_step(inner, &plan.pre_gates)? {
                    None => Ok(After::Nothing),
                    Some(false) if inner.phase == Phase::RolledBack => Ok(After::RolledBack),
                    Some(false) => Ok(After::Nothing),
                    Some(true) => {
                        inner.phase = Phase::AwaitingConfirmation;
                        self.record(inner, RolloutEvent::Held);
                        Ok(After::Confirm)
                    }
                }
            }
            Phase::AwaitingConfirmation => {
                if self.critical_check(inner, &plan.pre_gates, "critical")? {
                    return Ok(After::RolledBack);
                }
                Ok(After::Confirm)
            }
            Phase::Promoted => {
                if self.critical_check(inner, &plan.post_gates, "post_promotion")? {
                    return Ok(After::RolledBack);
                }
                let since = self.now().saturating_sub(inner.promoted_at.unwrap_or_default());
                if since >= plan.rollback_window {
                    // The window passed: the old version is no longer needed.
                    self.deployment.unload(self.stable)?;
                    inner.phase = Phase::Completed;
                    self.record(inner, RolloutEvent::Retired { version: self.stable });
                }
                Ok(After::Nothing)
            }
            Phase::Completed | Phase::RolledBack => Ok(After::Nothing),
        }
    }

    fn promote(&self, inner: &mut Inner, reason: String) -> Result<()> {
        self.deployment.set_strategy(Arc::new(Split::all(self.candidate)))?;
        match self.kind {
            Kind::Canary(_) => inner.phase = Phase::Completed,
            Kind::BlueGreen(_) => {
                // Post-promotion gates compare against blue's traffic before the switch.
                inner.baseline_at_switch = self.deployment.window(self.stable);
                self.deployment.open_windows(&[self.candidate]);
                inner.promoted_at = Some(self.now());
                inner.phase = Phase::Promoted;
            }
        }
        self.record(inner, RolloutEvent::Promoted { reason });
        Ok(())
    }

    fn roll_back(&self, inner: &mut Inner, reason: String) -> Result<()> {
        self.deployment.set_strategy(Arc::new(Split::all(self.stable)))?;
        inner.phase = Phase::RolledBack;
        self.record(inner, RolloutEvent::RolledBack { reason });
        Ok(())
    }

    /// Ticks on a background thread every `every` until the rollout finishes
    /// or the returned driver is dropped.
    pub fn drive(self: &Arc<Self>, every: Duration) -> Result<RolloutDriver> {
        let stop = Arc::new(AtomicBool::new(false));
        let rollout = Arc::clone(self);
        let stopping = Arc::clone(&stop);
        let handle = std::thread::Builder::new()
            .name(format!("mlops-rollout-{}", self.deployment.name()))
            .spawn(move || {
                while !stopping.load(Ordering::Acquire) {
                    match rollout.tick() {
                        Ok(phase) if phase.is_finished() => return,
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "rollout tick failed; retrying at the next tick"),
                    }
                    std::thread::park_timeout(every);
                }
            })
            .map_err(|source| Error::Io {
                location: format!("rollout driver of `{}`", self.deployment.name()),
                source,
            })?;
        Ok(RolloutDriver {
            stop,
            handle: Some(handle),
        })
    }
}

/// A thread ticking a rollout; dropping it stops the thread.
#[derive(Debug)]
pub struct RolloutDriver {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl RolloutDriver {
    /// Whether the rollout finished (the thread ended by itself).
    pub fn is_finished(&self) -> bool {
        self.handle.as_ref().is_none_or(JoinHandle::is_finished)
    }
}

impl Drop for RolloutDriver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(handle) = self.handle.take() {
            handle.thread().unpark();
            let _ended = handle.join();
        }
    }
}
