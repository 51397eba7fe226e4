//! A promotion moves the registry's alias (real packages, a real local registry).

use std::sync::Arc;
use std::time::Duration;

use mlops_core::{Registry, Stage, StoreRegistry, VersionSelector};
use mlops_serve::deployment::{
    CanaryPlan, Deployment, DeploymentConfig, ErrorRate, ManualClock, Phase, PromoteInRegistry, Rollout, SeededKeys,
    StepLength, Weight,
};
use mlops_serve::{Predictor, PredictorConfig};

use crate::support::{feature_batch, mlp_package};

/// What [`promote_second`] leaves: the registry, the hook's outcome, and
/// what must outlive the checks (the runtime, the registry's directory).
struct Promoted {
    registry: Arc<dyn Registry>,
    outcome: Option<Result<u64, String>>,
    runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

/// Registers two versions (the first in production under `champion`) and
/// rolls the second out through `PromoteInRegistry`.
fn promote_second(keep_replaced: bool) -> Promoted {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let registry: Arc<dyn Registry> = Arc::new(StoreRegistry::local(dir.path()).unwrap());
    let layers = [4, 8, 1];
    let (v1, v2) = runtime.block_on(async {
        let v1 = registry
            .register(&mlp_package(&layers, "identity", None, 1))
            .await
            .unwrap();
        let v2 = registry
            .register(&mlp_package(&layers, "identity", None, 2))
            .await
            .unwrap();
        registry.set_alias("test-model", "champion", v1).await.unwrap();
        registry
            .transition("test-model", v1, Stage::Production, None)
            .await
            .unwrap();
        (v1, v2)
    });
    let load = |version: u64| {
        let package = runtime.block_on(registry.load("test-model", version)).unwrap();
        let config = PredictorConfig::default().with_version(version);
        Arc::new(Predictor::from_package(&package, config).unwrap())
    };
    let clock = Arc::new(ManualClock::new());
    let config = DeploymentConfig::default()
        .with_clock(clock.clone())
        .with_keys(Arc::new(SeededKeys::new(1)));
    let deployment = Arc::new(Deployment::new("test-model", v1, load(v1), config).unwrap());
    deployment.load(v2, load(v2)).unwrap();

    let mut hooks = PromoteInRegistry::new(registry.clone(), "champion", runtime.handle().clone());
    if keep_replaced {
        hooks = hooks.keep_replaced();
    }
    let hooks = Arc::new(hooks);
    let plan = CanaryPlan::stepped(Weight::percent(50.0).unwrap(), Weight::percent(50.0).unwrap())
        .unwrap()
        .with_step_length(StepLength::requests(20))
        .with_gate(Arc::new(ErrorRate {
            max: 0.0,
            min_samples: 20,
        }))
        .with_hooks(hooks.clone());
    let rollout = Rollout::canary(deployment.clone(), v1, v2, plan).unwrap();
    let batch = feature_batch(4, 1, 9);
    for _ in 0..100 {
        deployment.predict(None, &batch).unwrap();
    }
    clock.advance(Duration::from_secs(1));
    assert_eq!(rollout.tick().unwrap(), Phase::Completed);
    Promoted {
        outcome: hooks.outcome(),
        registry,
        runtime,
        _dir: dir,
    }
}

#[test]
fn a_promotion_points_the_alias_at_the_candidate_and_moves_it_to_production() {
    let Promoted {
        registry,
        outcome,
        runtime,
        _dir,
    } = promote_second(false);
    assert_eq!(outcome, Some(Ok(2)));
    let (champion, stages, events, replaced) = runtime.block_on(async {
        let champion = registry
            .resolve("test-model", &VersionSelector::Alias("champion".into()))
            .await
            .unwrap();
        let stages: Vec<Stage> = registry
            .list_versions("test-model")
            .await
            .unwrap()
            .iter()
            .map(|v| v.stage)
            .collect();
        let events = registry.stage_history("test-model", 2).await.unwrap();
        let replaced = registry.stage_history("test-model", 1).await.unwrap();
        (champion, stages, events, replaced)
    });
    assert_eq!((champion, stages), (2, vec![Stage::Archived, Stage::Production]));
    let reason = events.last().and_then(|e| e.reason.clone()).unwrap_or_default();
    assert!(
        reason.contains("canary rollout") && reason.contains("promotion was confirmed"),
        "{reason}"
    );
    let archived = replaced.last().and_then(|e| e.reason.clone()).unwrap_or_default();
    assert!(archived.contains("replaced by version 2"), "{archived}");
}

#[test]
fn keep_replaced_leaves_the_old_version_in_production() {
    let Promoted {
        registry,
        outcome,
        runtime,
        _dir,
    } = promote_second(true);
    assert_eq!(outcome, Some(Ok(2)));
    let stages: Vec<Stage> = runtime
        .block_on(registry.list_versions("test-model"))
        .unwrap()
        .iter()
        .map(|v| v.stage)
        .collect();
    assert_eq!(stages, vec![Stage::Production, Stage::Production]);
}

#[test]
fn a_registry_failure_is_reported_and_never_undoes_the_promotion() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    // An empty registry: the model is not there.
    let registry: Arc<dyn Registry> = Arc::new(StoreRegistry::local(dir.path()).unwrap());
    let (d, clock) = super::support::deployment(Arc::new(super::support::Scorer::new(0.0)));
    d.load(2, Arc::new(super::support::Scorer::new(0.0))).unwrap();
    let hooks = Arc::new(PromoteInRegistry::new(registry, "champion", runtime.handle().clone()));
    let plan = CanaryPlan::stepped(Weight::percent(50.0).unwrap(), Weight::percent(50.0).unwrap())
        .unwrap()
        .with_step_length(StepLength::requests(10))
        .with_hooks(hooks.clone());
    let rollout = Rollout::canary(d.clone(), 1, 2, plan).unwrap();
    super::support::send(&d, 100);
    clock.advance(Duration::from_secs(1));
    assert_eq!(rollout.tick().unwrap(), Phase::Completed);
    assert!(matches!(hooks.outcome(), Some(Err(_))), "{:?}", hooks.outcome());
    assert_eq!(super::support::send(&d, 50).0[2], 50);
}
