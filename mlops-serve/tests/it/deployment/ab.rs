//! A/B: a fixed sticky split, per-variant metrics and a significance test.

use std::sync::Arc;

use mlops_serve::deployment::stats::{Alternative, mann_whitney_u, welch_t};
use mlops_serve::deployment::{AbMetric, ContinuousTest, Split, Weight, compare_rates, compare_values};

use super::support::{Scorer, deployment, send};

#[test]
fn an_ab_report_finds_the_variant_with_more_errors_and_says_how_sure() {
    let (d, _) = deployment(Arc::new(Scorer::new(0.0).failing_one_in(100)));
    d.load(2, Arc::new(Scorer::new(0.0).failing_one_in(20))).unwrap();
    let half = Weight::percent(50.0).unwrap();
    d.set_strategy(Arc::new(Split::weighted(&[(1, half), (2, half)]).unwrap()))
        .unwrap();
    d.open_windows(&[1, 2]);
    send(&d, 20_000);
    let report = d.ab_report(1, &[2], AbMetric::ErrorRate, 0.05, 0.8).unwrap();
    let c = &report[0];
    assert_eq!((c.variant, c.control, c.test.as_str()), (2, 1, "two_proportion_z"));
    // 5 % against 1 % errors, ~10,000 requests each.
    assert!(
        (c.variant_value - 0.05).abs() < 0.002 && (c.control_value - 0.01).abs() < 0.001,
        "{c:?}"
    );
    assert!(c.significant && c.p_value < 1e-20, "{c:?}");
    assert!(
        c.confidence_interval.0 < 0.04 && 0.04 < c.confidence_interval.1,
        "{c:?}"
    );
    // An effect this large needs a few hundred requests per arm; we have ten thousand.
    let needed = c.needed_per_arm.unwrap();
    assert!((100.0..1_000.0).contains(&needed), "{needed}");
    assert_eq!(c.still_needed_per_arm, Some(0));
}

#[test]
fn a_tiny_effect_reports_how_many_more_samples_it_needs() {
    let c = compare_rates((105, 1_000), (100, 1_000), 0.05, 0.8).unwrap();
    assert!(!c.significant);
    let needed = c.needed_per_arm.unwrap();
    assert!(needed > 50_000.0, "{needed}");
    assert_eq!(c.still_needed_per_arm, Some(needed.ceil() as u64 - 1_000));
}

#[test]
fn continuous_metrics_use_the_chosen_test() {
    let a: Vec<f64> = (0..60).map(|i| 100.0 + f64::from(i % 7) * 3.0).collect();
    let b: Vec<f64> = (0..50).map(|i| 104.0 + f64::from(i % 5) * 4.0).collect();
    let welch = compare_values(&a, &b, ContinuousTest::Welch, 0.05, 0.8).unwrap();
    let reference = welch_t(&a, &b, Alternative::TwoSided, 0.95).unwrap();
    assert_eq!(welch.p_value, reference.p_value);
    assert_eq!(welch.confidence_interval, reference.confidence_interval);
    let mw = compare_values(&a, &b, ContinuousTest::MannWhitney, 0.05, 0.8).unwrap();
    assert_eq!(
        mw.p_value,
        mann_whitney_u(&a, &b, Alternative::TwoSided).unwrap().p_value
    );
    assert_eq!(mw.test, "mann_whitney_u");
    assert!(welch.effect_size < 0.0);
}
