//! Rules inferred from a profile catch bad batches and bad profiles.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use arrow_array::{Float64Array, Int64Array, RecordBatch, StringArray};
use common::{arc, batch, fixture};
use mlops_core::Signature;
use mlops_data::{
    InferConfig, ParquetProfiler, ProfileConfig, Profiler, RuleKind, infer_signature, validate_batch, validate_profile,
};

fn training() -> mlops_data::Profile {
    ParquetProfiler::new(ProfileConfig::default())
        .profile_file(fixture("mixed.parquet"))
        .unwrap()
}

#[test]
fn inferred_rules_describe_the_training_data() {
    let sig = infer_signature(&training(), &InferConfig::default()).unwrap();
    let s = sig.field("s").unwrap();
    assert!(s.nullable);
    let allowed = s.constraints.allowed_values.as_ref().unwrap();
    assert_eq!(allowed.len(), 6);
    assert!(allowed.contains("délta"));
    assert!(
        sig.field("text").unwrap().constraints.allowed_values.is_none(),
        "high-cardinality text gets no category rule"
    );
    let u8f = sig.field("u8").unwrap();
    assert!(!u8f.nullable);
    let r = u8f.constraints.range.unwrap();
    assert!(r.min == 0.0 && (r.max - 4.4).abs() < 1e-12, "{r:?}");
    assert!(sig.field("f64").unwrap().constraints.allow_non_finite);
    assert!(!sig.field("f32").unwrap().constraints.allow_non_finite);
    // The rules survive JSON.
    assert_eq!(Signature::from_json(&sig.to_json().unwrap()).unwrap(), sig);
    // The training data itself passes its own rules.
    let own = validate_profile(&sig, &training());
    assert!(own.is_valid(), "{:?}", own.violations);
    for b in common::read_all(&fixture("mixed.parquet")) {
        let r = validate_batch(&sig, &b);
        assert!(r.is_valid(), "{:?}", r.violations);
    }
}

fn serving_batch(u8s: Vec<Option<i64>>, s: Vec<Option<&str>>, f32s: Vec<f64>) -> RecordBatch {
    batch(vec![
        ("u8", arc(Int64Array::from(u8s))),
        ("s", arc(StringArray::from(s))),
        ("f32", arc(Float64Array::from(f32s))),
    ])
}

#[test]
fn batch_violations_list_every_rule_with_counts_and_examples() {
    let sig = infer_signature(&training(), &InferConfig::default()).unwrap();
    let sig = Signature::new(
        sig.fields
            .into_iter()
            .filter(|f| ["u8", "s", "f32", "i64"].contains(&f.name.as_str()))
            .collect(),
    )
    .unwrap();
    let bad = serving_batch(
        vec![Some(1), None, Some(9), Some(-3)],
        vec![Some("alpha"), Some("omega"), Some("omega"), Some("psi")],
        vec![0.5, f64::NAN, 7.0, f64::INFINITY],
    );
    let r = validate_batch(&sig, &bad);
    let find = |col: &str, rule: RuleKind| {
        r.violations
            .iter()
            .find(|v| v.column == col && v.rule == rule)
            .unwrap_or_else(|| panic!("{col} {rule:?} in {:?}", r.violations))
    };
    assert_eq!(find("u8", RuleKind::Nullability).count, 1);
    let range = find("u8", RuleKind::Range);
    assert_eq!(
        (range.count, range.examples.clone()),
        (2, vec!["9".to_owned(), "-3".to_owned()])
    );
    let cat = find("s", RuleKind::Category);
    assert_eq!(
        (cat.count, cat.examples.clone()),
        (3, vec!["omega".to_owned(), "psi".to_owned()])
    );
    assert_eq!(find("f32", RuleKind::NonFinite).count, 2);
    assert_eq!(find("f32", RuleKind::Range).count, 1);
    assert_eq!(find("i64", RuleKind::MissingColumn).count, 4);
    assert_eq!(r.violations.len(), 6);

    let wrong_type = batch(vec![("u8", arc(StringArray::from(vec!["1"])))]);
    let r = validate_batch(&sig, &wrong_type);
    assert!(
        r.violations
            .iter()
            .any(|v| v.column == "u8" && v.rule == RuleKind::Type)
    );
    // An empty batch breaks no value rule, only structural ones.
    let empty = serving_batch(vec![], vec![], vec![]);
    let r = validate_batch(&sig, &empty);
    assert_eq!(
        r.violations.iter().map(|v| v.rule).collect::<Vec<_>>(),
        vec![RuleKind::MissingColumn]
    );
}

#[test]
fn drifted_profile_is_caught_without_raw_data() {
    let sig = infer_signature(&training(), &InferConfig::default()).unwrap();
    let sig = Signature::new(
        sig.fields
            .into_iter()
            .filter(|f| ["u8", "s"].contains(&f.name.as_str()))
            .collect(),
    )
    .unwrap();
    let today: Vec<RecordBatch> = (0..4)
        .map(|i| {
            serving_batch(
                vec![Some(1), Some(2), Some(50 + i)],
                vec![Some("alpha"), Some("beta"), Some("new")],
                vec![0.0, 0.0, 0.0],
            )
        })
        .collect();
    let p = Profiler::profile_batches(ProfileConfig::default(), &today).unwrap();
    let r = validate_profile(&sig, &p);
    let range = r.violations.iter().find(|v| v.rule == RuleKind::Range).unwrap();
    assert_eq!(range.count, 4);
    assert_eq!(range.examples, vec!["53".to_owned()]);
    let cat = r.violations.iter().find(|v| v.rule == RuleKind::Category).unwrap();
    assert_eq!((cat.count, cat.examples.clone()), (4, vec!["new".to_owned()]));
    assert_eq!(r.unexpected_columns, vec!["f32".to_owned()]);
}
