//! Bad input gets a typed error or a correct profile, never a panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::sync::Arc;

use arrow_array::{Float64Array, Int64Array, ListArray, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use common::{arc, batch, fixture, write_parquet};
use mlops_core::DataProfile;
use mlops_data::{Error, ParquetProfiler, ProfileConfig, Profiler};

fn profiler() -> ParquetProfiler {
    ParquetProfiler::new(ProfileConfig::default())
}

#[test]
fn truncated_parquet_is_a_corrupt_error_at_every_cut() {
    let bytes = std::fs::read(fixture("mixed.parquet")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.parquet");
    for cut in [0, 3, 4, 100, bytes.len() / 2, bytes.len() - 9, bytes.len() - 1] {
        std::fs::write(&path, &bytes[..cut]).unwrap();
        match profiler().profile_file(&path) {
            Err(Error::Corrupt { location, .. }) => assert!(location.contains("cut.parquet")),
            other => panic!("cut at {cut}: {other:?}"),
        }
    }
}

#[test]
fn damaged_pages_are_errors_not_panics() {
    let bytes = std::fs::read(fixture("mixed.parquet")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flip.parquet");
    // Flip bytes inside the data pages (the footer stays intact, so the reader gets that far).
    let mut refused = 0;
    for pos in (100..bytes.len() - 20_000).step_by(9_973) {
        let mut damaged = bytes.clone();
        for b in &mut damaged[pos..pos + 16] {
            *b ^= 0xff;
        }
        std::fs::write(&path, &damaged).unwrap();
        // A flip may land in a value and still decode; what matters is no panic.
        if let Err(e) = profiler().profile_file(&path) {
            assert!(matches!(e, Error::Corrupt { .. } | Error::Storage { .. }), "{e:?}");
            refused += 1;
        }
    }
    // Otherwise every flip decoded and the error path above was never exercised.
    assert!(refused > 0, "no damaged file was refused");
}

#[test]
fn missing_file_is_an_io_error_naming_it() {
    match profiler().profile_file("/no/such/file.parquet") {
        Err(Error::Io { location, .. }) => assert!(location.contains("/no/such/file.parquet")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn zero_row_file_keeps_its_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.parquet");
    let empty = RecordBatch::new_empty(Arc::new(Schema::new(vec![
        Field::new("x", DataType::Float64, true),
        Field::new("s", DataType::Utf8, true),
    ])));
    write_parquet(&path, &[empty], 100);
    let p = profiler().profile_file(&path).unwrap();
    assert_eq!(p.num_rows(), 0);
    assert_eq!(p.column_names(), vec!["x", "s"]);
    let x = p.summary("x").unwrap();
    assert_eq!((x.count, x.min, x.mean, x.std), (0, None, None, None));
    assert_eq!(p.quantile("x", 0.5), None);
    assert!(mlops_data::Profile::from_json(&p.to_json().unwrap()).is_ok());
}

#[test]
fn zero_row_batches_all_null_and_all_nan_columns_profile_correctly() {
    let mut profiler = Profiler::new(ProfileConfig::default()).unwrap();
    let b = |x: Vec<Option<f64>>, s: Vec<Option<&str>>| {
        batch(vec![
            ("x", arc(Float64Array::from(x))),
            ("s", arc(StringArray::from(s))),
        ])
    };
    profiler.update(&b(vec![], vec![])).unwrap();
    profiler.update(&b(vec![None, None], vec![None, None])).unwrap();
    profiler
        .update(&b(vec![Some(f64::NAN), Some(f64::NAN)], vec![None, None]))
        .unwrap();
    let p = profiler.finish();
    let x = p.summary("x").unwrap();
    assert_eq!(
        (x.count, x.null_count, x.nan_count, x.min, x.mean, x.distinct),
        (2, 2, 2, None, None, Some(0.0))
    );
    let s = p.summary("s").unwrap();
    assert_eq!((s.count, s.null_count, s.distinct), (0, 4, Some(0.0)));
    assert_eq!(p.frequent_items("s").unwrap(), vec![]);
    let back = mlops_data::Profile::from_bytes(&p.to_bytes().unwrap()).unwrap();
    assert_eq!(back.to_json().unwrap(), p.to_json().unwrap());
}

#[test]
fn mismatched_schemas_in_one_stream_are_rejected_and_lose_nothing() {
    let mut profiler = Profiler::new(ProfileConfig::default()).unwrap();
    profiler
        .update(&batch(vec![("x", arc(Float64Array::from(vec![1.0, 2.0])))]))
        .unwrap();
    // Same name, another kind of type.
    let wrong_type = batch(vec![("x", arc(StringArray::from(vec!["1"])))]);
    assert!(matches!(
        profiler.update(&wrong_type),
        Err(Error::SchemaMismatch { .. })
    ));
    // Another name.
    let wrong_name = batch(vec![("y", arc(Float64Array::from(vec![1.0])))]);
    assert!(matches!(
        profiler.update(&wrong_name),
        Err(Error::SchemaMismatch { .. })
    ));
    // Extra column.
    let extra = batch(vec![
        ("x", arc(Float64Array::from(vec![1.0]))),
        ("y", arc(Float64Array::from(vec![1.0]))),
    ]);
    assert!(matches!(profiler.update(&extra), Err(Error::SchemaMismatch { .. })));
    // A wider type of the same kind continues the column.
    profiler
        .update(&batch(vec![("x", arc(Int64Array::from(vec![3])))]))
        .unwrap();
    let p = profiler.finish();
    let x = p.summary("x").unwrap();
    assert_eq!((p.num_rows(), x.count, x.max), (3, 3, Some(3.0)));
}

#[test]
fn nested_columns_are_counted_not_profiled() {
    let list = ListArray::from_iter_primitive::<arrow_array::types::Int32Type, _, _>(vec![
        Some(vec![Some(1)]),
        None,
        Some(vec![]),
    ]);
    let p = Profiler::profile_batches(ProfileConfig::default(), &[batch(vec![("l", arc(list))])]).unwrap();
    let l = p.summary("l").unwrap();
    assert_eq!(
        (l.count, l.null_count, l.kind),
        (2, 1, mlops_core::SemanticKind::Unsupported)
    );
    let json: serde_json::Value = serde_json::from_str(&p.to_json().unwrap()).unwrap();
    assert_eq!(json["columns"][0]["profiled"], false);
}

#[test]
fn invalid_configuration_is_rejected() {
    assert!(matches!(
        Profiler::new(ProfileConfig::default().with_kll_k(2)),
        Err(Error::InvalidInput { .. })
    ));
    assert!(matches!(
        Profiler::new(ProfileConfig::default().with_hll_precision(30)),
        Err(Error::InvalidInput { .. })
    ));
    assert!(matches!(
        Profiler::new(ProfileConfig::default().with_frequent_items(0)),
        Err(Error::InvalidInput { .. })
    ));
    assert!(
        ParquetProfiler::new(ProfileConfig::default().with_batch_size(0))
            .profile_file(fixture("mixed.parquet"))
            .is_err()
    );
}

#[test]
fn merging_incompatible_profiles_is_an_error_and_leaves_self_unchanged() {
    let a = Profiler::profile_batches(
        ProfileConfig::default(),
        &[batch(vec![("x", arc(Float64Array::from(vec![1.0])))])],
    )
    .unwrap();
    let b = Profiler::profile_batches(
        ProfileConfig::default(),
        &[batch(vec![("y", arc(Float64Array::from(vec![1.0])))])],
    )
    .unwrap();
    let c = Profiler::profile_batches(
        ProfileConfig::default(),
        &[batch(vec![("x", arc(StringArray::from(vec!["a"])))])],
    )
    .unwrap();
    let d = Profiler::profile_batches(
        ProfileConfig::default().with_hll_precision(10),
        &[batch(vec![("x", arc(Float64Array::from(vec![1.0])))])],
    )
    .unwrap();
    let before = a.to_json().unwrap();
    let mut m = a.clone();
    assert!(matches!(m.merge(&b), Err(Error::SchemaMismatch { .. })));
    assert!(matches!(m.merge(&c), Err(Error::SchemaMismatch { .. })));
    assert!(matches!(m.merge(&d), Err(Error::InvalidInput { .. })));
    assert_eq!(m.to_json().unwrap(), before);
}
