//! Verdicts and scores agree with Evidentl 0.7 (`DataDriftPreset` / legacy
//! `DataDriftTable`) on the data sets written by `fixtures/evidently_make_reference.py`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use arrow_array::RecordBatch;
use mlops_monitor::drift::{ColumnStatus, DataDrift, DriftConfig, DriftMethod};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn read(name: &str) -> Vec<RecordBatch> {
    ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(fixture(name)).unwrap())
        .unwrap()
        .build()
        .unwrap()
        .map(|b| b.unwrap())
        .collect()
}

fn reference() -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture("evidently_reference.json")).unwrap()).unwrap()
}

fn method(id: &str) -> Option<DriftMethod> {
    Some(match id {
        "ks" => DriftMethod::Ks,
        "chisquare" => DriftMethod::ChiSquare,
        "z" => DriftMethod::ZTest,
        "wasserstein" => DriftMethod::Wasserstein,
        "jensenshannon" => DriftMethod::JensenShannon,
        "psi" => DriftMethod::Psi,
        "hellinger" => DriftMethod::Hellinger,
        "anderson" => DriftMethod::AndersonDarling,
        "cramer_von_mises" => DriftMethod::CramerVonMises,
        _ => return None,
    })
}

fn score(v: &Value) -> f64 {
    match v {
        Value::String(s) if s == "NaN" => f64::NAN,
        Value::String(s) if s == "Infinity" => f64::INFINITY,
        other => other.as_f64().unwrap(),
    }
}

/// Scores agree to 1e-9 relative (1e-12 absolute near zero): both sides do the
/// same arithmetic, but summation order differs in the last bits.
fn same(ours: f64, theirs: f64) -> bool {
    (ours - theirs).abs() <= 1e-9 * theirs.abs().max(ours.abs()) || (ours - theirs).abs() <= 1e-12
}

#[test]
fn default_preset_matches_evidently() {
    let fx = reference();
    for (case, data) in fx["cases"].as_object().unwrap() {
        let r = read(data["reference_file"].as_str().unwrap());
        let c = read(data["current_file"].as_str().unwrap());
        let report = DataDrift::new(DriftConfig::default()).compare(&r, &c).unwrap();
        let expected = &data["default"];
        for (name, e) in expected["columns"].as_object().unwrap() {
            let ours = report.column(name).unwrap_or_else(|| panic!("{case}.{name} missing"));
            let ctx = format!("{case}.{name}");
            assert_eq!(ours.method.map(|m| m.name()), e["stattest_id"].as_str(), "{ctx} method");
            let theirs = score(&e["drift_score"]);
            assert!(
                same(ours.score.unwrap(), theirs),
                "{ctx}: ours {:?} vs evidently {theirs}",
                ours.score
            );
            assert_eq!(ours.drifted, e["drift_detected"].as_bool().unwrap(), "{ctx} verdict");
            assert_eq!(
                ours.threshold.unwrap(),
                e["stattest_threshold"].as_f64().unwrap(),
                "{ctx} threshold"
            );
        }
        // Columns Evidently could not evaluate (it aborts the whole report) are
        // reported by us as not-enough-data and do not count.
        for name in data["errors"].as_object().unwrap().keys() {
            assert_eq!(
                report.column(name).unwrap().status,
                ColumnStatus::NotEnoughData,
                "{case}.{name}"
            );
        }
        assert_eq!(
            report.number_of_columns as u64,
            expected["number_of_columns"].as_u64().unwrap(),
            "{case}"
        );
        assert_eq!(
            report.number_of_drifted_columns as u64,
            expected["number_of_drifted_columns"].as_u64().unwrap(),
            "{case}"
        );
        assert!(
            (report.drift_share - expected["share_of_drifted_columns"].as_f64().unwrap()).abs() < 1e-15,
            "{case}"
        );
        assert_eq!(
            report.dataset_drift,
            expected["dataset_drift"].as_bool().unwrap(),
            "{case}"
        );
    }
}

#[test]
fn every_explicit_method_matches_evidently() {
    let fx = reference();
    let mut checked = 0;
    for (case, data) in fx["cases"].as_object().unwrap() {
        let r = read(data["reference_file"].as_str().unwrap());
        let c = read(data["current_file"].as_str().unwrap());
        for (name, methods) in data["explicit"].as_object().unwrap() {
            for (id, e) in methods.as_object().unwrap() {
                // Evidently's numeric Hellinger bins distinct keys and scales by bin width
                // (0 for a drifted 0/1 column); ours uses bin shares, so only categorical agrees.
                if id == "hellinger" && e["column_type"] == "num" {
                    continue;
                }
                let Some(m) = method(id) else { continue };
                if e.get("drift_score").is_none() {
                    continue; // Evidently raised for this combination (recorded in the fixture).
                }
                let report = DataDrift::new(DriftConfig::default().with_column(name, Some(m), None))
                    .compare(&r, &c)
                    .unwrap();
                let ours = report.column(name).unwrap();
                let theirs = score(&e["drift_score"]);
                let ctx = format!("{case}.{name}.{id}");
                if theirs.is_nan() {
                    assert!(ours.score.is_none() && !ours.drifted, "{ctx}: {ours:?}");
                } else {
                    assert!(
                        same(ours.score.unwrap(), theirs),
                        "{ctx}: ours {:?} vs evidently {theirs}",
                        ours.score
                    );
                    assert_eq!(ours.drifted, e["drift_detected"].as_bool().unwrap(), "{ctx} verdict");
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 60, "only {checked} comparisons");
}
