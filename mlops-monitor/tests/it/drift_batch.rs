//! Batch drift: method selection, verdict rules, bad columns and corrections.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use arrow_array::{ArrayRef, BooleanArray, Float64Array, Int64Array, ListArray, RecordBatch, StringArray};
use mlops_monitor::drift::{ColumnStatus, Correction, DataDrift, DriftConfig, DriftMethod};

fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    RecordBatch::try_from_iter(columns).unwrap()
}

fn numbers(n: usize, shift: f64, modulo: usize) -> ArrayRef {
    Arc::new(Float64Array::from_iter_values(
        (0..n).map(|i| ((i * 7919) % modulo) as f64 + shift),
    ))
}

#[test]
fn default_selection_follows_evidently() {
    let mk = |n: usize| {
        batch(vec![
            ("cont", numbers(n, 0.0, 997)),
            (
                "four",
                Arc::new(Int64Array::from_iter_values((0..n as i64).map(|i| i % 4))),
            ),
            (
                "two",
                Arc::new(Int64Array::from_iter_values((0..n as i64).map(|i| i % 2))),
            ),
            (
                "cat",
                Arc::new(StringArray::from_iter_values((0..n).map(|i| ["a", "b", "c"][i % 3]))),
            ),
            (
                "flag",
                Arc::new(BooleanArray::from_iter((0..n).map(|i| Some(i % 3 == 0)))),
            ),
            (
                "few",
                Arc::new(Int64Array::from_iter_values((0..n as i64).map(|i| i % 12))),
            ),
        ])
    };
    let small = DataDrift::default().compare(&[mk(800)], &[mk(600)]).unwrap();
    let methods: Vec<(&str, &str)> = small
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.method.map_or("–", DriftMethod::name)))
        .collect();
    assert_eq!(
        methods,
        vec![
            ("cont", "ks"),
            ("four", "chisquare"),
            ("two", "z"),
            ("cat", "chisquare"),
            ("flag", "z"),
            ("few", "ks")
        ]
    );
    let large = DataDrift::default().compare(&[mk(3000)], &[mk(2000)]).unwrap();
    let methods: Vec<&str> = large
        .columns
        .iter()
        .map(|c| c.method.map_or("–", DriftMethod::name))
        .collect();
    assert_eq!(
        methods,
        vec![
            "wasserstein",
            "jensenshannon",
            "jensenshannon",
            "jensenshannon",
            "jensenshannon",
            "wasserstein"
        ]
    );
    // Same distributions: nothing drifts.
    assert!(
        !small.dataset_drift && small.number_of_drifted_columns == 0,
        "{:#?}",
        small.columns
    );
    assert!(
        !large.dataset_drift && large.number_of_drifted_columns == 0,
        "{:#?}",
        large.columns
    );
}

#[test]
fn shifted_columns_drift_and_the_share_decides_the_dataset() {
    let reference = batch(vec![
        ("a", numbers(2000, 0.0, 997)),
        ("b", numbers(2000, 0.0, 997)),
        ("c", numbers(2000, 0.0, 997)),
    ]);
    let current = batch(vec![
        ("a", numbers(1500, 300.0, 997)),
        ("b", numbers(1500, 0.0, 997)),
        ("c", numbers(1500, 0.0, 997)),
    ]);
    let r = DataDrift::default()
        .compare(std::slice::from_ref(&reference), std::slice::from_ref(&current))
        .unwrap();
    assert!(r.column("a").unwrap().drifted && !r.column("b").unwrap().drifted);
    assert!((r.drift_share - 1.0 / 3.0).abs() < 1e-15);
    assert!(!r.dataset_drift);
    let strict = DataDrift::new(DriftConfig::default().with_drift_share(0.3))
        .compare(&[reference], &[current])
        .unwrap();
    assert!(strict.dataset_drift);
    // Scores are the distance for distance methods and compared with >=.
    let a = r.column("a").unwrap();
    assert_eq!(a.score, a.statistic);
    assert!(a.score.unwrap() >= a.threshold.unwrap());
}

#[test]
fn empty_all_null_and_nested_columns_never_abort_the_report() {
    let n = 300;
    let nulls: ArrayRef = Arc::new(Float64Array::from(vec![None::<f64>; n]));
    let nans: ArrayRef = Arc::new(Float64Array::from(vec![f64::NAN; n]));
    let list: ArrayRef = Arc::new(ListArray::from_iter_primitive::<arrow_array::types::Int32Type, _, _>(
        (0..n).map(|i| Some(vec![Some(i as i32)])),
    ));
    let reference = batch(vec![
        ("ok", numbers(n, 0.0, 97)),
        ("nulls", numbers(n, 0.0, 97)),
        ("nans", numbers(n, 0.0, 97)),
        ("nested", list.clone()),
    ]);
    let current = batch(vec![
        ("ok", numbers(n, 0.0, 97)),
        ("nulls", nulls),
        ("nans", nans),
        ("nested", list),
    ]);
    let r = DataDrift::default().compare(&[reference], &[current]).unwrap();
    assert_eq!(r.column("ok").unwrap().status, ColumnStatus::Ok);
    for name in ["nulls", "nans"] {
        let c = r.column(name).unwrap();
        assert_eq!(c.status, ColumnStatus::NotEnoughData, "{name}");
        assert!(c.score.is_none() && !c.drifted && c.message.is_some());
        assert_eq!(c.current_missing_share, 1.0);
        assert!(
            c.missing_share_drifted,
            "a jump from 0 % to 100 % missing is its own finding"
        );
    }
    // An unsupported column is reported as such: no method, no threshold, no kind, no verdict.
    let nested = r.column("nested").unwrap();
    assert_eq!(nested.status, ColumnStatus::Unsupported);
    assert_eq!(
        (nested.method, nested.threshold, nested.column_type, nested.drifted),
        (None, None, None, false)
    );
    assert!(nested.message.as_deref().unwrap().contains("List"), "{nested:?}");
    assert_eq!(r.number_of_columns, 1);
    // The JSON form has no NaN and the documented fields.
    let v: serde_json::Value = serde_json::from_str(&r.to_json_pretty().unwrap()).unwrap();
    for key in ["dataset_drift", "drift_share", "columns"] {
        assert!(v.get(key).is_some(), "{key}");
    }
    for c in v["columns"].as_array().unwrap() {
        for key in ["name", "method", "score", "threshold", "drifted"] {
            assert!(c.get(key).is_some(), "{key}");
        }
    }
    let nested_json = v["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "nested")
        .unwrap();
    assert!(
        nested_json["method"].is_null() && nested_json["threshold"].is_null(),
        "{nested_json}"
    );
    assert_eq!(v["columns"][0]["method"], "ks");
    // A column missing from the current data is an error naming it.
    let missing = DataDrift::default().compare(
        &[batch(vec![("x", numbers(10, 0.0, 7))])],
        &[batch(vec![("y", numbers(10, 0.0, 7))])],
    );
    assert!(matches!(missing, Err(mlops_core::Error::SchemaMismatch { message, .. }) if message.contains("`x`")));
    assert!(DataDrift::default().compare(&[], &[]).is_err());
}

#[test]
fn overrides_and_corrections() {
    let mk = |shift: f64| {
        batch(
            (0..10)
                .map(|i| {
                    (
                        ["c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9"][i],
                        numbers(400, if i < 2 { shift } else { 0.0 }, 997),
                    )
                })
                .collect(),
        )
    };
    let base = DataDrift::default().compare(&[mk(0.0)], &[mk(25.0)]).unwrap();
    let bonf = DataDrift::new(DriftConfig::default().with_correction(Correction::Bonferroni))
        .compare(&[mk(0.0)], &[mk(25.0)])
        .unwrap();
    let bh = DataDrift::new(DriftConfig::default().with_correction(Correction::BenjaminiHochberg))
        .compare(&[mk(0.0)], &[mk(25.0)])
        .unwrap();
    assert!(
        bonf.columns
            .iter()
            .all(|c| (c.threshold.unwrap() - 0.005).abs() < 1e-15)
    );
    assert!(bonf.number_of_drifted_columns <= base.number_of_drifted_columns);
    assert!(bh.number_of_drifted_columns <= base.number_of_drifted_columns);
    assert!(bh.number_of_drifted_columns >= bonf.number_of_drifted_columns);
    let psi = DataDrift::new(DriftConfig::default().with_column("c0", Some(DriftMethod::Psi), Some(0.2)))
        .compare(&[mk(0.0)], &[mk(25.0)])
        .unwrap();
    let c0 = psi.column("c0").unwrap();
    assert_eq!((c0.method, c0.threshold), (Some(DriftMethod::Psi), Some(0.2)));
    for method in [
        DriftMethod::Hellinger,
        DriftMethod::JensenShannon,
        DriftMethod::Wasserstein,
        DriftMethod::AndersonDarling,
        DriftMethod::CramerVonMises,
        DriftMethod::Ks,
    ] {
        let r = DataDrift::new(DriftConfig::default().with_method(method))
            .compare(&[mk(0.0)], &[mk(300.0)])
            .unwrap();
        assert!(
            r.columns
                .iter()
                .all(|c| c.status == ColumnStatus::Ok && c.score.is_some_and(f64::is_finite)),
            "{method:?}"
        );
        assert!(
            r.column("c0").unwrap().drifted,
            "{method:?} sees a shift of 300 on a 0..997 range"
        );
    }
}

#[test]
fn multivariate_mmd_sees_a_joint_shift() {
    use mlops_monitor::drift::multivariate::mmd_drift;
    use mlops_monitor::stats::MmdConfig;
    // Same marginals, different correlation: per-column tests see nothing, MMD does.
    let n = 300;
    let base: Vec<f64> = (0..n).map(|i| ((i * 7919) % 997) as f64 / 997.0 - 0.5).collect();
    let other: Vec<f64> = (0..n).map(|i| ((i * 104_729) % 991) as f64 / 991.0 - 0.5).collect();
    let mk = |y: &[f64]| {
        batch(vec![
            ("x", Arc::new(Float64Array::from(base.clone())) as ArrayRef),
            ("y", Arc::new(Float64Array::from(y.to_vec())) as ArrayRef),
        ])
    };
    let correlated = mk(&base);
    let independent = mk(&other);
    let cols = vec!["x".to_owned(), "y".to_owned()];
    let r = mmd_drift(
        std::slice::from_ref(&correlated),
        std::slice::from_ref(&independent),
        &cols,
        &MmdConfig::default(),
    )
    .unwrap();
    assert!(r.test.p_value <= 0.05, "{r:?}");
    let same = mmd_drift(
        std::slice::from_ref(&correlated),
        std::slice::from_ref(&correlated),
        &cols,
        &MmdConfig::default(),
    )
    .unwrap();
    assert!(same.test.p_value > 0.5, "{same:?}");
    assert!(
        mmd_drift(
            std::slice::from_ref(&correlated),
            &[independent],
            &[],
            &MmdConfig::default()
        )
        .is_err()
    );
}

/// A user's own detector: drift when the current mean moves by more than
/// `max_shift` reference standard deviations. Nulls are skipped.
#[derive(Debug)]
struct MeanShift {
    max_shift: f64,
}

impl mlops_core::DriftDetector for MeanShift {
    fn method(&self) -> &str {
        "mean_shift"
    }

    fn detect(
        &self,
        reference: &dyn arrow_array::Array,
        current: &dyn arrow_array::Array,
    ) -> mlops_core::Result<mlops_core::DriftResult> {
        use arrow_array::cast::AsArray;
        use arrow_array::types::Float64Type;
        let values =
            |a: &dyn arrow_array::Array| -> Vec<f64> { a.as_primitive::<Float64Type>().iter().flatten().collect() };
        let (r, c) = (values(reference), values(current));
        if r.len() < 2 || c.is_empty() {
            return Err(mlops_core::Error::NotEnoughData {
                location: "mean_shift".into(),
                message: format!("{} reference and {} current values", r.len(), c.len()),
            });
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let (mr, mc) = (mean(&r), mean(&c));
        let sd = (r.iter().map(|x| (x - mr).powi(2)).sum::<f64>() / (r.len() - 1) as f64).sqrt();
        let shift = (mc - mr).abs() / sd;
        Ok(
            mlops_core::DriftResult::new("mean_shift", shift, None, shift, self.max_shift, shift > self.max_shift)
                .with_error_bound(0.01),
        )
    }
}

#[test]
fn a_users_detector_plugs_into_one_column() {
    use mlops_core::DriftDetector as _;
    use mlops_monitor::drift::MethodDetector;
    let n = 800;
    let with_nulls = |shift: f64| -> ArrayRef {
        Arc::new(Float64Array::from_iter(
            (0..n).map(|i| (i % 10 != 0).then_some(((i * 7919) % 997) as f64 + shift)),
        ))
    };
    // Split over two batches, so the detector gets the column joined.
    let reference = batch(vec![("x", with_nulls(0.0)), ("y", numbers(n, 0.0, 97))]);
    let current = batch(vec![("x", with_nulls(200.0)), ("y", numbers(n, 0.0, 97))]);
    let config = DriftConfig::default().with_detector("x", Arc::new(MeanShift { max_shift: 0.5 }));
    let report = DataDrift::new(config)
        .compare(&[reference.slice(0, 300), reference.slice(300, n - 300)], &[current])
        .unwrap();
    let x = report.column("x").unwrap();
    assert_eq!(
        (x.method, x.detector.as_deref(), x.status),
        (Some(DriftMethod::Custom), Some("mean_shift"), ColumnStatus::Ok)
    );
    assert!(x.drifted && x.score.unwrap() > 0.6 && x.threshold == Some(0.5), "{x:?}");
    assert_eq!(x.error_bound, Some(0.01), "the detector's own bound is kept");
    assert_eq!((x.reference_count, x.reference_missing_share), (720, 0.1));
    // Other columns keep the built-in selection.
    assert_eq!(report.column("y").unwrap().method, Some(DriftMethod::Ks));
    let json: serde_json::Value = serde_json::from_str(&report.to_json_pretty().unwrap()).unwrap();
    assert_eq!(
        (
            json["columns"][0]["method"].as_str(),
            json["columns"][0]["detector"].as_str()
        ),
        (Some("custom"), Some("mean_shift"))
    );

    // A detector that finds too little data gives a not_enough_data column, not an error.
    let empty = batch(vec![(
        "x",
        Arc::new(Float64Array::from(vec![None::<f64>; 5])) as ArrayRef,
    )]);
    let r = DataDrift::new(DriftConfig::default().with_detector("x", Arc::new(MeanShift { max_shift: 0.5 })))
        .compare(std::slice::from_ref(&empty), std::slice::from_ref(&empty))
        .unwrap();
    assert_eq!(r.column("x").unwrap().status, ColumnStatus::NotEnoughData);

    // The built-in methods are detectors too, and agree with DataDrift.
    let ks = MethodDetector::new(DriftMethod::Ks);
    let (a, b) = (numbers(n, 0.0, 97), numbers(n, 30.0, 97));
    let direct = ks.detect(a.as_ref(), b.as_ref()).unwrap();
    let via_report = DataDrift::default()
        .compare(&[batch(vec![("v", a)])], &[batch(vec![("v", b)])])
        .unwrap();
    let v = via_report.column("v").unwrap();
    assert_eq!(
        (ks.method(), direct.p_value, direct.drifted),
        ("ks", v.p_value, v.drifted)
    );
}
