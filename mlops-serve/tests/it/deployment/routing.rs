//! Sticky routing, exact shares, atomic changes and their refusals.

use std::sync::Arc;

use mlops_serve::Error;
use mlops_serve::deployment::{BUCKETS, Split, Weight, bucket_of};

use super::support::{Scorer, deployment, send, x};

#[test]
fn each_arm_gets_its_share_and_a_key_always_meets_the_same_arm() {
    let (d, _) = deployment(Arc::new(Scorer::new(0.0)));
    d.load(2, Arc::new(Scorer::new(0.1))).unwrap();
    d.set_strategy(Arc::new(Split::canary(1, 2, Weight::percent(10.0).unwrap())))
        .unwrap();
    let (by_version, errors) = send(&d, 100_000);
    assert_eq!(errors, 0);
    // 10 % of 100,000 random keys: 10,000 ± 3σ (σ ≈ 95).
    assert!((by_version[2] as i64 - 10_000).abs() < 300, "{by_version:?}");
    assert_eq!(by_version[1] + by_version[2], 100_000);

    // Sticky: a key's answers all come from one version, and exactly the
    // version that owns its bucket.
    let batch = x(&[1.0]);
    for key in 0..2_000u64 {
        let first = d.predict(Some(key), &batch).unwrap();
        let again = d.predict(Some(key), &batch).unwrap();
        assert_eq!(first.version, again.version);
        let owner = if bucket_of(key) < 1_000 { 2 } else { 1 };
        assert_eq!(first.version, owner, "key {key}");
        assert_eq!(first.key, key);
    }
}

#[test]
fn raising_a_canary_only_moves_keys_into_it() {
    let (d, _) = deployment(Arc::new(Scorer::new(0.0)));
    d.load(2, Arc::new(Scorer::new(0.1))).unwrap();
    let batch = x(&[1.0]);
    let assign = |percent: f64| -> Vec<u64> {
        d.set_strategy(Arc::new(Split::canary(1, 2, Weight::percent(percent).unwrap())))
            .unwrap();
        (0..20_000u64)
            .map(|k| d.predict(Some(k), &batch).unwrap().version)
            .collect()
    };
    let ten = assign(10.0);
    let twenty = assign(20.0);
    let moved_out = ten.iter().zip(&twenty).filter(|&(&a, &b)| a == 2 && b == 1).count();
    let moved_in = ten.iter().zip(&twenty).filter(|&(&a, &b)| a == 1 && b == 2).count();
    assert_eq!(moved_out, 0);
    assert!(moved_in > 1_500, "{moved_in} keys moved in (about 2,000 expected)");
}

#[test]
fn answers_name_their_version_and_generation() {
    let (d, _) = deployment(Arc::new(Scorer::new(0.0)));
    assert_eq!(d.state().generation, 0);
    let a = d.predict(Some(1), &x(&[0.0])).unwrap();
    assert_eq!((a.version, a.generation), (1, 0));
    d.load(2, Arc::new(Scorer::new(0.0))).unwrap();
    d.set_strategy(Arc::new(Split::all(2))).unwrap();
    let b = d.predict(Some(1), &x(&[0.0])).unwrap();
    assert_eq!((b.version, b.generation), (2, 2));
    let state = d.state();
    assert_eq!(
        (state.strategy.as_str(), state.routed, state.loaded),
        ("fixed", vec![2], vec![1, 2])
    );
}

#[test]
fn changes_that_would_break_routing_are_refused_and_change_nothing() {
    let (d, _) = deployment(Arc::new(Scorer::new(0.0)));
    let before = d.state();
    // A strategy naming a version that is not loaded.
    match d.set_strategy(Arc::new(Split::canary(1, 9, Weight::percent(5.0).unwrap()))) {
        Err(Error::NotFound { what }) => assert!(what.contains("version 9"), "{what}"),
        other => panic!("expected NotFound, got {other:?}"),
    }
    // Unloading the version that answers.
    assert!(matches!(d.unload(1), Err(Error::InvalidInput { .. })));
    // Loading a version twice.
    d.load(2, Arc::new(Scorer::new(0.0))).unwrap();
    assert!(matches!(
        d.load(2, Arc::new(Scorer::new(0.0))),
        Err(Error::AlreadyExists { .. })
    ));
    // A predictor that reports another version than the one it is loaded as.
    match d.load(3, Arc::new(Scorer::new(0.0).reporting_version(4))) {
        Err(Error::InvalidInput { message, .. }) => assert!(message.contains("version 4"), "{message}"),
        other => panic!("expected InvalidInput, got {other:?}"),
    }
    assert!(matches!(d.unload(7), Err(Error::NotFound { .. })));
    let after = d.state();
    assert_eq!(after.routed, before.routed);
    assert_eq!(after.loaded, vec![1, 2]);
    // An A/B split that does not add up to 100 % never reaches the deployment.
    assert!(Split::weighted(&[(1, Weight::percent(60.0).unwrap()), (2, Weight::percent(30.0).unwrap())]).is_err());
    assert_eq!(u32::from(BUCKETS), 10_000);
}

#[test]
fn a_model_error_reaches_the_caller_and_is_counted() {
    let (d, _) = deployment(Arc::new(Scorer::new(0.0).failing_one_in(2)));
    let results: Vec<bool> = (0..10).map(|_| d.predict(None, &x(&[0.0])).is_ok()).collect();
    assert_eq!(results.iter().filter(|ok| !**ok).count(), 5);
    let w = d.window(1).unwrap();
    assert_eq!((w.requests, w.failed, w.errors()), (10, 5, 5));
    assert_eq!(w.error_rate(), Some(0.5));
    // A request without the model's column is the caller's fault: refused, not failed.
    let bad =
        arrow_array::RecordBatch::try_from_iter([("z", Arc::new(arrow_array::Float64Array::from(vec![1.0])) as _)])
            .unwrap();
    assert!(d.predict(None, &bad).is_err());
    let w = d.window(1).unwrap();
    assert_eq!((w.requests, w.refused, w.failed, w.rejected_rows), (11, 1, 5, 1));
}
