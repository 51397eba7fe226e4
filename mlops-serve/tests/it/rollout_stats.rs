//! The rollout statistics against SciPy and statsmodels.
//!
//! `fixtures/rollout_stats_reference.json` is written by
//! `fixtures/rollout_stats_make_reference.py` (the command is in its header);
//! it holds the exact samples and what SciPy / statsmodels computed from them.

use mlops_serve::deployment::stats::{
    Alternative, cohens_h, mann_whitney_u, sample_size_per_arm, two_proportion_z, welch_t,
};
use serde_json::Value;

fn reference() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/rollout_stats_reference.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn alternative(name: &str) -> Alternative {
    match name {
        "two_sided" => Alternative::TwoSided,
        "greater" => Alternative::Greater,
        "less" => Alternative::Less,
        other => panic!("unknown alternative {other}"),
    }
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(f).collect()
}

/// Relative closeness for values that may be tiny (p-values far in a tail).
fn close(found: f64, expected: f64, rel: f64, what: &str) {
    let tol = rel * expected.abs().max(1e-300) + 1e-15;
    assert!(
        (found - expected).abs() <= tol,
        "{what}: found {found:e}, SciPy/statsmodels {expected:e}"
    );
}

#[test]
fn two_proportion_z_matches_statsmodels() {
    let doc = reference();
    let cases = doc["proportions"].as_array().unwrap();
    assert!(cases.len() >= 18);
    for c in cases {
        let n = |k: &str| c[k].as_u64().unwrap();
        let alt = c["alternative"].as_str().unwrap();
        let t = two_proportion_z(n("x_a"), n("n_a"), n("x_b"), n("n_b"), alternative(alt), 0.95).unwrap();
        let what = format!("{c}");
        close(t.statistic, f(&c["statistic"]), 1e-12, &what);
        close(t.p_value, f(&c["p_value"]), 1e-9, &what);
        let ci = floats(&c["ci95"]);
        close(t.confidence_interval.0, ci[0], 1e-9, &what);
        close(t.confidence_interval.1, ci[1], 1e-9, &what);
    }
}

#[test]
fn mann_whitney_and_welch_match_scipy() {
    let doc = reference();
    for c in doc["two_sample"].as_array().unwrap() {
        let (a, b) = (floats(&c["a"]), floats(&c["b"]));
        let kind = c["kind"].as_str().unwrap();
        for alt in ["two_sided", "greater", "less"] {
            let what = format!("{kind} ({} vs {} values), {alt}", a.len(), b.len());
            let mw = mann_whitney_u(&a, &b, alternative(alt)).unwrap();
            let expected = &c["mann_whitney"][alt];
            close(mw.statistic, f(&expected["statistic"]), 1e-12, &format!("U, {what}"));
            close(
                mw.p_value,
                f(&expected["p_value"]),
                1e-8,
                &format!("Mann–Whitney p, {what}"),
            );

            let w = welch_t(&a, &b, alternative(alt), 0.95).unwrap();
            let expected = &c["welch"][alt];
            close(w.statistic, f(&expected["statistic"]), 1e-10, &format!("t, {what}"));
            close(w.df, f(&expected["df"]), 1e-10, &format!("df, {what}"));
            close(w.p_value, f(&expected["p_value"]), 1e-8, &format!("Welch p, {what}"));
            let ci = &expected["ci95"];
            for (found, expected) in [(w.confidence_interval.0, &ci[0]), (w.confidence_interval.1, &ci[1])] {
                // SciPy writes an infinite bound as null in JSON.
                match expected.as_f64() {
                    Some(e) if e.is_finite() => close(found, e, 1e-8, &format!("CI, {what}")),
                    _ => assert!(found.is_infinite(), "CI bound {found}, SciPy: infinite ({what})"),
                }
            }
        }
    }
}

#[test]
fn sample_sizes_match_statsmodels() {
    let doc = reference();
    for c in doc["power"].as_array().unwrap() {
        let n = sample_size_per_arm(f(&c["effect_size"]), f(&c["alpha"]), f(&c["power"])).unwrap();
        close(n, f(&c["n_per_arm"]), 1e-6, &format!("{c}"));
    }
    for c in doc["cohens_h"].as_array().unwrap() {
        close(cohens_h(f(&c["p_a"]), f(&c["p_b"])), f(&c["h"]), 1e-12, &format!("{c}"));
    }
}

#[test]
fn bad_input_is_a_typed_error() {
    assert!(two_proportion_z(5, 0, 1, 10, Alternative::TwoSided, 0.95).is_err());
    assert!(two_proportion_z(11, 10, 1, 10, Alternative::TwoSided, 0.95).is_err());
    assert!(two_proportion_z(1, 10, 1, 10, Alternative::TwoSided, 1.0).is_err());
    assert!(mann_whitney_u(&[], &[1.0], Alternative::TwoSided).is_err());
    assert!(mann_whitney_u(&[f64::NAN], &[1.0], Alternative::TwoSided).is_err());
    assert!(welch_t(&[1.0], &[1.0, 2.0], Alternative::TwoSided, 0.95).is_err());
    assert!(welch_t(&[1.0, f64::INFINITY], &[1.0, 2.0], Alternative::TwoSided, 0.95).is_err());
    assert!(welch_t(&[3.0, 3.0], &[3.0, 3.0], Alternative::TwoSided, 0.95).is_err());
    assert!(sample_size_per_arm(0.0, 0.05, 0.8).is_err());
    assert!(sample_size_per_arm(0.2, 0.05, 0.01).is_err());
    // Everything tied: no evidence of a difference, and no panic.
    let tied = mann_whitney_u(&[2.0; 5], &[2.0; 7], Alternative::Greater).unwrap();
    assert_eq!(tied.p_value, 1.0);
}
