//! Stage 10: two candidates rolled out as canaries against simulated traffic
//! on the virtual clock. One was trained for too few epochs and is rolled back
//! by its gate; the other, trained with today's labelled traffic added, is
//! promoted, and the registry's alias follows with the reason.

use std::sync::Arc;
use std::time::Duration;

use arrow_array::RecordBatch;
use mlops_core::{Registry, Stage, StoreRegistry};
use mlops_serve::deployment::{
    CanaryPlan, ErrorRate, FailurePolicy, MetricVsBaseline, Phase, PromoteInRegistry, Rollout, RolloutHistory,
    StepLength, Weight,
};

use super::deploy::Deployed;
use super::gate;
use super::labels::DelayedLabels;
use super::traffic::{Draw, Pool};
use super::training::{self, BASELINE_RECIPE, Lab, Recipe, TrainingData};
use super::{BoxError, CHAMPION};

/// How long after an answer its label (the loan's outcome) arrives.
const LABEL_DELAY: Duration = Duration::from_secs(10 * 60);
/// Requests between two ticks of a rollout.
const TICK_EVERY: usize = 200;
/// A rollout that has not finished after this many requests is aborted.
const MAX_REQUESTS: usize = 100_000;
/// The largest log loss increase over the stable version a canary may show.
/// A row's log loss has a standard deviation near 0.55 here (2 % defaults),
/// so with 500 labels per arm the difference between two equal models
/// stays within about ±0.05 (two standard errors).
const MAX_LOG_LOSS_INCREASE: f64 = 0.05;
/// Labelled answers each arm needs before the log loss gate judges.
const MIN_LABELS: u64 = 500;

/// A finished rollout, for the summary.
pub(crate) struct RolloutRun {
    /// What was rolled out, in words.
    pub title: String,
    /// How it ended.
    pub phase: Phase,
    /// Everything it recorded.
    pub history: RolloutHistory,
}

/// Stage 10: the two canaries.
pub(crate) async fn candidates(
    lab: &Lab,
    registry: &Arc<StoreRegistry>,
    deployed: &mut Deployed,
) -> Result<Vec<RolloutRun>, BoxError> {
    println!(
        "\n== 10. Canary rollouts: steps 10 % → 25 % → 50 %, labels arriving {} minutes after each answer (virtual clock)",
        LABEL_DELAY.as_secs() / 60
    );
    let (traffic_batches, serving_even) = traffic_and_new_training_rows(lab)?;
    let pool = Pool::from_batches(&traffic_batches)?;
    let rows: Vec<usize> = (0..pool.len()).collect();
    let mut runs = Vec::new();

    let hasty = Recipe {
        epochs: 3,
        ..BASELINE_RECIPE
    };
    let worse = training::train(lab, hasty, &lab.training_data())?;
    println!(
        "candidate A: {} epochs instead of {} (a typo in its config); offline holdout log loss {:.4}",
        hasty.epochs, BASELINE_RECIPE.epochs, worse.holdout.log_loss
    );
    if let Some(version) = gate::register(registry, &worse).await? {
        runs.extend(rollout(deployed, registry, &pool, &rows, version, "candidate A (3 epochs)", 1).await?);
    }

    let mut fit = lab.fit.clone();
    fit.extend(serving_even);
    let profile = training::profile_of(&fit)?;
    let data = TrainingData {
        fit: &fit,
        holdout: &lab.holdout,
        profile: &profile,
        dataset: training::dataset_of("quickstart://train-fit+serving-even", &fit)?,
        parent: None,
    };
    let better = training::train(lab, BASELINE_RECIPE, &data)?;
    println!(
        "candidate B: the same recipe with half of today's labelled traffic added to its data; offline holdout log loss {:.4}",
        better.holdout.log_loss
    );
    if let Some(version) = gate::register(registry, &better).await? {
        let title = "candidate B (today's data added)";
        runs.extend(rollout(deployed, registry, &pool, &rows, version, title, 2).await?);
    }
    Ok(runs)
}

/// Today's traffic split in two: even rows join the second candidate's
/// training data; odd rows, with the training holdout, make up the simulated
/// traffic, so no model is judged on rows it was trained on.
pub(crate) type TrafficSplit = (Vec<RecordBatch>, Vec<RecordBatch>);

/// The simulated traffic's rows, and the rows candidate B adds to its training data.
pub(crate) fn traffic_and_new_training_rows(lab: &Lab) -> Result<TrafficSplit, BoxError> {
    let (serving_odd, serving_even) = training::split_every_nth(&lab.serving, 2)?;
    let mut traffic = lab.holdout.clone();
    traffic.extend(serving_odd);
    Ok((traffic, serving_even))
}

/// Rolls `candidate` out as a canary against the stable version, with
/// requests drawn from `rows` of `pool` in an order fixed by `seed`, until
/// it is promoted or rolled back. `None` when the candidate is already the
/// stable version.
pub(crate) async fn rollout(
    deployed: &mut Deployed,
    registry: &Arc<StoreRegistry>,
    pool: &Pool,
    rows: &[usize],
    candidate: u64,
    title: &str,
    seed: u64,
) -> Result<Option<RolloutRun>, BoxError> {
    let stable = deployed.stable;
    if candidate == stable {
        println!("{title}: version {candidate} already takes all traffic; nothing to roll out");
        return Ok(None);
    }
    if rows.is_empty() {
        return Err("no traffic to roll out with".into());
    }
    let predictor = deployed.predictor(registry, candidate).await?;
    deployed.deployment.load(candidate, predictor)?;
    let labels = Arc::new(DelayedLabels::new(Arc::clone(deployed.deployment.clock()), LABEL_DELAY));
    let as_registry: Arc<dyn Registry> = registry.clone();
    let hooks = Arc::new(PromoteInRegistry::new(as_registry, CHAMPION, deployed.runtime.clone()));
    let steps = [10.0, 25.0, 50.0]
        .into_iter()
        .map(Weight::percent)
        .collect::<Result<Vec<_>, _>>()?;
    let plan = CanaryPlan::with_steps(steps)?
        .with_step_length(StepLength::both(Duration::from_secs(15 * 60), 300))
        .with_critical_gate(Arc::new(ErrorRate {
            max: 0.01,
            min_samples: 100,
        }))
        .with_gate(Arc::new(MetricVsBaseline {
            source: labels.clone(),
            higher_is_better: false,
            max_drop: MAX_LOG_LOSS_INCREASE,
            min_samples: MIN_LABELS,
        }))
        .with_failure_policy(FailurePolicy::Threshold(1))
        .with_hooks(hooks.clone());
    let rollout = Rollout::canary(deployed.deployment.clone(), stable, candidate, plan)?;
    let mut draw = Draw::new(seed);
    let mut sent = 0usize;
    let phase = loop {
        for _ in 0..TICK_EVERY {
            let row = rows[draw.below(rows.len())];
            deployed.serve(pool, row, Some(&labels));
        }
        sent += TICK_EVERY;
        let phase = rollout.tick()?;
        if phase.is_finished() {
            break phase;
        }
        if sent >= MAX_REQUESTS {
            break rollout.abort(&format!("not finished after {MAX_REQUESTS} requests"))?;
        }
    };
    let status = rollout.status();
    let reason = status.last_decision.clone().unwrap_or_default();
    let minutes = status.elapsed.as_secs() / 60;
    match phase {
        Phase::Completed => {
            deployed.deployment.unload(stable)?;
            deployed.stable = candidate;
            let moved = match hooks.outcome() {
                Some(Ok(v)) => format!("registry alias {CHAMPION} -> version {v}, stage production"),
                Some(Err(e)) => format!("the registry update failed: {e}"),
                None => "the registry was not updated".to_owned(),
            };
            println!(
                "{title}: version {candidate} PROMOTED after {sent} requests ({minutes} virtual minutes): {reason}; {moved}"
            );
        }
        _ => {
            deployed.deployment.unload(candidate)?;
            gate::move_to(registry, candidate, Stage::Archived, &format!("rolled back: {reason}")).await?;
            println!(
                "{title}: version {candidate} ROLLED BACK after {sent} requests ({minutes} virtual minutes): {reason}; version {stable} keeps all traffic"
            );
        }
    }
    Ok(Some(RolloutRun {
        title: format!("{title}: version {candidate} against version {stable}"),
        phase,
        history: rollout.history(),
    }))
}
