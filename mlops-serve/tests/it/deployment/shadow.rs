//! Shadow traffic: off the caller's path, bounded, compared.

use std::sync::Arc;

use mlops_serve::deployment::{Deployment, DeploymentConfig, Mirror, SeededKeys, Split, Weight};

use super::support::{Hold, MeanShift, Scorer, drain, sigmoid, x};

fn mirrored(stable: Scorer, shadow: Scorer, workers: usize, queue: usize) -> Deployment {
    let config = DeploymentConfig::default()
        .with_keys(Arc::new(SeededKeys::new(3)))
        .with_shadow_pool(workers, queue);
    let d = Deployment::new("scorer", 1, Arc::new(stable), config).unwrap();
    d.load(2, Arc::new(shadow)).unwrap();
    d.set_strategy(Arc::new(Mirror::new(Arc::new(Split::all(1)), 2, Weight::ALL)))
        .unwrap();
    d
}

#[test]
fn shadow_errors_never_reach_callers() {
    let failing = Scorer::new(0.0);
    failing.set_failing(true);
    let d = mirrored(Scorer::new(0.0), failing, 1, 10_000);
    for _ in 0..300 {
        assert_eq!(d.predict(None, &x(&[1.0])).unwrap().version, 1);
    }
    let r = drain(&d, 2);
    assert_eq!((r.sent, r.failed, r.dropped), (300, 300, 0));
    assert_eq!(
        d.window(2).unwrap().failed,
        300,
        "the shadow's own window counts its failures"
    );
}

#[test]
fn a_shadow_that_cannot_keep_up_is_dropped_and_counted_never_queued_behind_callers() {
    // One worker, two waiting places, and a shadow stuck until released.
    let hold = Arc::new(Hold::default());
    let d = mirrored(Scorer::new(0.0), Scorer::new(0.0).held(&hold), 1, 2);
    // Every caller is answered while the shadow answers none of them.
    for _ in 0..50 {
        assert_eq!(d.predict(None, &x(&[1.0])).unwrap().version, 1);
    }
    let r = d.shadow_report(2, None).unwrap();
    assert_eq!((r.sent + r.dropped, r.rows), (50, 0));
    // At most one request in the worker and two waiting: the rest were dropped.
    assert!(r.sent <= 3 && r.dropped >= 47, "{r:?}");
    hold.release();
    let r = drain(&d, 2);
    assert_eq!(r.rows, r.sent);
}

#[test]
fn paired_answers_are_compared_label_by_label_and_score_by_score() {
    // The shadow adds 1.0 inside the sigmoid: labels flip for x in (−1, 0].
    let d = mirrored(Scorer::new(0.0), Scorer::new(1.0), 2, 10_000);
    let xs: Vec<f64> = (0..200).map(|i| -2.0 + 0.02 * f64::from(i)).collect();
    for chunk in xs.chunks(10) {
        d.predict(None, &x(chunk)).unwrap();
    }
    let r = drain(&d, 2);
    assert_eq!((r.sent, r.rows, r.labelled_rows, r.scored_rows), (20, 200, 200, 200));
    // Expected from the same formulas, in f32 as the scorer answers.
    let p = |v: f64, o: f64| f64::from(sigmoid(v + o) as f32);
    let flips = xs.iter().filter(|&&v| (p(v, 0.0) > 0.5) != (p(v, 1.0) > 0.5)).count();
    let diffs: Vec<f64> = xs.iter().map(|&v| (p(v, 1.0) - p(v, 0.0)).abs()).collect();
    assert_eq!(r.label_disagreement_rate, Some(flips as f64 / 200.0));
    let mean = diffs.iter().sum::<f64>() / 200.0;
    let max = diffs.iter().cloned().fold(0.0, f64::max);
    assert!((r.mean_abs_score_diff.unwrap() - mean).abs() < 1e-12);
    assert_eq!(r.max_abs_score_diff, Some(max));
    let drift = d.shadow_report(2, Some(&MeanShift(0.05))).unwrap().drift.unwrap();
    assert!(drift.drifted, "{drift:?}");
}
