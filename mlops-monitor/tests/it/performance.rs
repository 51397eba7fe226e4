#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Performance metrics and the label joiner agree with scikit-learn and
//! fairlearn to 1e-12.
//!
//! `fixtures/performance_reference.json` is written by
//! `fixtures/performance_make_reference.py` (library versions recorded in it).

use mlops_core::Error;
use mlops_monitor::performance::metrics::{
    binary_metrics, fairness_gaps, log_loss, r2_score, regression_metrics, roc_auc,
};
use mlops_monitor::performance::{
    JoinerConfig, Label, LabelJoiner, Metrics, Prediction, Task, WindowReport, WindowSpec,
};
use serde_json::Value;

const FIXTURE: &str = include_str!("../fixtures/performance_reference.json");
const TOL: f64 = 1e-12;

fn fixture() -> Value {
    serde_json::from_str(FIXTURE).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

fn bools(v: &Value) -> Vec<bool> {
    v.as_array().unwrap().iter().map(|x| x.as_i64().unwrap() == 1).collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_owned())
        .collect()
}

#[track_caller]
fn close(what: &str, got: Option<f64>, want: &Value) {
    match (got, want.as_f64()) {
        (None, None) => {}
        (Some(g), Some(w)) => assert!((g - w).abs() <= TOL, "{what}: got {g}, sklearn {w}, diff {}", g - w),
        (g, _) => panic!("{what}: got {g:?}, sklearn {want}"),
    }
}

#[track_caller]
fn check_binary(what: &str, m: &Metrics, want: &Value) {
    let Metrics::Binary(m) = m else {
        panic!("{what}: not binary")
    };
    close(&format!("{what}.accuracy"), Some(m.accuracy), &want["accuracy"]);
    close(&format!("{what}.precision"), m.precision, &want["precision"]);
    close(&format!("{what}.recall"), m.recall, &want["recall"]);
    close(&format!("{what}.f1"), m.f1, &want["f1"]);
    close(&format!("{what}.roc_auc"), m.roc_auc, &want["roc_auc"]);
    close(&format!("{what}.log_loss"), Some(m.log_loss), &want["log_loss"]);
}

#[test]
fn binary_metrics_match_sklearn() {
    let f = fixture();
    for case in f["binary"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let (t, s, p) = (bools(&case["y_true"]), floats(&case["y_score"]), bools(&case["y_pred"]));
        let m = binary_metrics(&t, &s, &p).unwrap();
        check_binary(name, &Metrics::Binary(m), &case["expected"]);
    }
}

#[test]
fn regression_metrics_match_sklearn() {
    let f = fixture();
    for case in f["regression"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let m = regression_metrics(&floats(&case["y_true"]), &floats(&case["y_pred"])).unwrap();
        let want = &case["expected"];
        close(&format!("{name}.mae"), Some(m.mae), &want["mae"]);
        close(&format!("{name}.rmse"), Some(m.rmse), &want["rmse"]);
        close(&format!("{name}.r2"), m.r2, &want["r2"]);
    }
}

#[test]
fn fairness_gaps_match_fairlearn() {
    let f = fixture();
    for case in f["fairness"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let g = fairness_gaps(
            "g",
            &bools(&case["y_true"]),
            &bools(&case["y_pred"]),
            &strings(&case["groups"]),
        )
        .unwrap();
        let want = &case["expected"];
        close(
            &format!("{name}.dpd"),
            g.demographic_parity_difference,
            &want["demographic_parity_difference"],
        );
        close(
            &format!("{name}.eod"),
            g.equal_opportunity_difference,
            &want["equal_opportunity_difference"],
        );
    }
}

#[test]
fn joined_stream_windows_match_sklearn_and_fairlearn() {
    let f = fixture();
    let s = &f["stream"];
    let (t, sc, p, c) = (
        bools(&s["y_true"]),
        floats(&s["y_score"]),
        bools(&s["y_pred"]),
        strings(&s["country"]),
    );
    let mut joiner = LabelJoiner::new(JoinerConfig {
        task: Task::BinaryClassification,
        ttl_ms: 1_000_000,
        capacity: 100_000,
        window: WindowSpec::Count(s["window"].as_u64().unwrap() as usize),
        fairness_key: Some("country".into()),
    })
    .unwrap();
    let mut reports: Vec<WindowReport> = Vec::new();
    for e in s["events"].as_array().unwrap() {
        let id = e["id"].as_str().unwrap();
        let i: usize = id.trim_start_matches("req-").parse().unwrap();
        let at = e["at_ms"].as_i64().unwrap();
        let closed = match e["kind"].as_str().unwrap() {
            "prediction" => joiner
                .record_prediction(
                    id,
                    at,
                    Prediction::binary(sc[i], p[i]).with_segment("country", c[i].as_str()),
                )
                .unwrap(),
            _ => joiner.record_label(id, at, Label::Binary(t[i])).unwrap(),
        };
        reports.extend(closed);
    }
    assert!(joiner.flush().unwrap().is_none(), "600 pairs fill 4 windows exactly");
    let want = s["windows"].as_array().unwrap();
    assert_eq!(reports.len(), want.len());
    for (k, (r, w)) in reports.iter().zip(want).enumerate() {
        assert_eq!(r.sequence, k as u64);
        check_binary(&format!("window {k}"), &r.overall, &w["overall"]);
        for country in ["de", "fr"] {
            check_binary(
                &format!("window {k} country={country}"),
                &r.segments["country"][country],
                &w["segments"]["country"][country],
            );
        }
        let gaps = r.fairness.as_ref().unwrap();
        close(
            "dpd",
            gaps.demographic_parity_difference,
            &w["fairness"]["demographic_parity_difference"],
        );
        close(
            "eod",
            gaps.equal_opportunity_difference,
            &w["fairness"]["equal_opportunity_difference"],
        );
    }
    let stats = joiner.stats();
    assert_eq!(
        (stats.joined, stats.evicted_predictions, stats.evicted_labels),
        (600, 0, 0)
    );
    assert_eq!((stats.pending_predictions, stats.pending_labels), (0, 0));
}

fn binary_joiner(ttl_ms: i64, capacity: usize, window: WindowSpec) -> LabelJoiner {
    LabelJoiner::new(JoinerConfig {
        task: Task::BinaryClassification,
        ttl_ms,
        capacity,
        window,
        fairness_key: None,
    })
    .unwrap()
}

#[test]
fn ttl_evicts_and_counts_unmatched_entries() {
    let mut j = binary_joiner(100, 1000, WindowSpec::Count(10));
    j.record_prediction("p-old", 0, Prediction::binary(0.3, false)).unwrap();
    j.record_label("l-old", 10, Label::Binary(true)).unwrap();
    j.record_prediction("p-new", 100, Prediction::binary(0.3, false))
        .unwrap();
    assert_eq!(j.stats().evicted_predictions, 0, "exactly ttl old is kept");
    j.record_prediction("p-newer", 101, Prediction::binary(0.3, false))
        .unwrap();
    let s = j.stats();
    assert_eq!((s.evicted_predictions, s.evicted_labels), (1, 0));
    j.record_label("x", 111, Label::Binary(true)).unwrap();
    let s = j.stats();
    assert_eq!(
        (s.evicted_predictions, s.evicted_labels, s.evicted_for_capacity),
        (1, 1, 0)
    );
    // The evicted prediction's label arrives: it cannot join and waits itself.
    j.record_label("p-old", 112, Label::Binary(true)).unwrap();
    assert_eq!(j.stats().joined, 0);
    // A label may come first; the prediction then joins it.
    j.record_label("q", 120, Label::Binary(true)).unwrap();
    j.record_prediction("q", 121, Prediction::binary(0.9, true)).unwrap();
    assert_eq!(j.stats().joined, 1);
    assert_eq!(j.stats().pending_labels, 2); // "x", "p-old"
}

#[test]
fn capacity_evicts_oldest_first() {
    let mut j = binary_joiner(1_000_000, 3, WindowSpec::Count(10));
    for i in 0..5 {
        j.record_prediction(format!("p{i}"), i, Prediction::binary(0.5, true))
            .unwrap();
    }
    let s = j.stats();
    assert_eq!(
        (s.evicted_predictions, s.evicted_for_capacity, s.pending_predictions),
        (2, 2, 3)
    );
    // p0 and p1 are gone, p2..p4 remain.
    j.record_label("p1", 10, Label::Binary(true)).unwrap();
    j.record_label("p2", 10, Label::Binary(true)).unwrap();
    assert_eq!(j.stats().joined, 1);
}

#[test]
fn duplicate_predictions_replace_and_count() {
    let mut j = binary_joiner(1000, 10, WindowSpec::Count(1));
    j.record_prediction("a", 0, Prediction::binary(0.1, false)).unwrap();
    j.record_prediction("a", 1, Prediction::binary(0.9, true)).unwrap();
    assert_eq!(j.stats().duplicate_predictions, 1);
    let r = j.record_label("a", 2, Label::Binary(true)).unwrap();
    let Metrics::Binary(m) = &r[0].overall else { panic!() };
    assert_eq!(m.accuracy, 1.0, "the latest prediction was joined");
}

#[test]
fn time_windows_by_join_time_with_regression_and_segments() {
    let mut j = LabelJoiner::new(JoinerConfig {
        task: Task::Regression,
        ttl_ms: 10_000,
        capacity: 100,
        window: WindowSpec::Time { width_ms: 1000 },
        fairness_key: Some("ignored-for-regression".into()),
    })
    .unwrap();
    let data = [(0, 1.0, 1.5, "a"), (1, 2.0, 2.0, "b"), (2, 3.0, 2.0, "a")];
    for (i, pred, _, seg) in data {
        j.record_prediction(format!("{i}"), i, Prediction::regression(pred).with_segment("s", seg))
            .unwrap();
    }
    // Labels at 500, 900 (window 0) and 1500 (window 1), which closes window 0.
    assert!(j.record_label("0", 500, Label::Regression(1.5)).unwrap().is_empty());
    assert!(j.record_label("1", 900, Label::Regression(2.0)).unwrap().is_empty());
    let closed = j.record_label("2", 1500, Label::Regression(2.0)).unwrap();
    assert_eq!(closed.len(), 1);
    let w0 = &closed[0];
    assert_eq!(w0.bounds_ms, Some((0, 1000)));
    assert_eq!((w0.first_joined_at_ms, w0.last_joined_at_ms), (500, 900));
    assert!(w0.fairness.is_none());
    let want = regression_metrics(&[1.5, 2.0], &[1.0, 2.0]).unwrap();
    assert_eq!(w0.overall, Metrics::Regression(want));
    let Metrics::Regression(a) = &w0.segments["s"]["a"] else {
        panic!()
    };
    assert_eq!((a.count, a.mae, a.r2), (1, 0.5, None));
    // A pair joined in the closed window is late and dropped.
    j.record_prediction("late", 100, Prediction::regression(0.0)).unwrap();
    j.record_label("late", 200, Label::Regression(0.0)).unwrap();
    assert_eq!(j.stats().late_pairs, 1);
    let w1 = j.flush().unwrap().unwrap();
    assert_eq!((w1.sequence, w1.bounds_ms), (1, Some((1000, 2000))));
    assert!(j.flush().unwrap().is_none(), "empty windows report nothing");
}

#[test]
fn bad_input_is_a_typed_error() {
    let mut j = binary_joiner(1000, 10, WindowSpec::Count(2));
    for bad in [f64::NAN, -0.1, 1.5, f64::INFINITY] {
        let e = j.record_prediction("a", 0, Prediction::binary(bad, true)).unwrap_err();
        assert!(matches!(e, Error::InvalidInput { .. }), "{e}");
    }
    assert!(matches!(
        j.record_prediction("a", 0, Prediction::regression(1.0)),
        Err(Error::InvalidInput { .. })
    ));
    assert!(matches!(
        j.record_label("a", 0, Label::Regression(1.0)),
        Err(Error::InvalidInput { .. })
    ));
    assert_eq!(j.stats().pending_predictions, 0, "rejected records change nothing");

    let mut r = LabelJoiner::new(JoinerConfig {
        task: Task::Regression,
        ttl_ms: 1,
        capacity: 1,
        window: WindowSpec::Count(1),
        fairness_key: None,
    })
    .unwrap();
    assert!(r.record_prediction("a", 0, Prediction::regression(f64::NAN)).is_err());
    assert!(r.record_label("a", 0, Label::Regression(f64::NEG_INFINITY)).is_err());

    for window in [WindowSpec::Count(0), WindowSpec::Time { width_ms: 0 }] {
        let cfg = JoinerConfig {
            task: Task::Regression,
            ttl_ms: 1,
            capacity: 1,
            window,
            fairness_key: None,
        };
        assert!(LabelJoiner::new(cfg).is_err());
    }

    assert!(matches!(roc_auc(&[], &[]), Err(Error::NotEnoughData { .. })));
    assert!(matches!(roc_auc(&[true], &[0.1, 0.2]), Err(Error::InvalidInput { .. })));
    assert!(roc_auc(&[true, false], &[f64::NAN, 0.2]).is_err());
    assert!(log_loss(&[true], &[f64::NAN]).is_err());
    assert!(binary_metrics(&[true], &[2.0], &[true]).is_err());
    assert!(r2_score(&[1.0, f64::NAN], &[1.0, 2.0]).is_err());
    assert_eq!(r2_score(&[1.0], &[1.0]).unwrap(), None);
    assert!(regression_metrics(&[], &[]).is_err());
    assert!(fairness_gaps::<&str>("g", &[], &[], &[]).is_err());
}

#[test]
fn log_loss_clips_like_sklearn() {
    // Certain and wrong: -ln(eps); certain and right: -ln(1 - eps).
    let wrong = log_loss(&[true], &[0.0]).unwrap();
    assert_eq!(wrong, -f64::EPSILON.ln());
    let right = log_loss(&[true], &[1.0]).unwrap();
    assert_eq!(right, -(1.0 - f64::EPSILON).ln());
}
