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

#[test]
fn a_promotion_points_the_alias_at_the_candidate_and_moves_it_to_production() {
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

    let hooks = Arc::new(PromoteInRegistry::new(
        registry.clone(),
        "champion",
        runtime.handle().clone(),
    ));
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

    assert_eq!(hooks.outcome(), Some(Ok(v2)));
    let (champion, stage, events) = runtime.block_on(async {
        let champion = registry
            .resolve("test-model", &VersionSelector::Alias("champion".into()))
            .await
            .unwrap();
        let stage = registry.list_versions("test-model").await.unwrap()[1].stage;
        let events = registry.stage_history("test-model", v2).await.unwrap();
        (champion, stage, events)
    });
    assert_eq!((champion, stage), (v2, Stage::Production));
    let reason = events.last().and_then(|e| e.reason.clone()).unwrap_or_default();
    assert!(
        reason.contains("canary rollout") && reason.contains("promotion was confirmed"),
        "{reason}"
    );
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
