//! Dataset fingerprints depend on values and schema, not on files or batching.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::sync::Arc;

use arrow_array::types::Int32Type;
use arrow_array::{DictionaryArray, Float64Array, Int32Array, Int64Array, LargeStringArray, RecordBatch, StringArray};
use common::{arc, batch, fixture, read_all, write_parquet};
use mlops_data::{Fingerprinter, fingerprint_batches, fingerprint_parquet_file};

fn data(n: usize) -> RecordBatch {
    batch(vec![
        ("id", arc(Int64Array::from_iter_values(0..n as i64))),
        (
            "x",
            arc(Float64Array::from_iter(
                (0..n).map(|i| if i % 7 == 0 { None } else { Some(i as f64 / 3.0) }),
            )),
        ),
        (
            "s",
            arc(StringArray::from_iter(
                (0..n).map(|i| if i % 5 == 0 { None } else { Some(format!("v{}", i % 13)) }),
            )),
        ),
    ])
}

#[test]
fn independent_of_batching_row_groups_and_file_names() {
    let whole = data(10_000);
    let fp_whole = fingerprint_batches([&whole]).unwrap();
    let pieces: Vec<RecordBatch> = (0..10).map(|i| whole.slice(i * 1000, 1000)).collect();
    assert_eq!(fingerprint_batches(&pieces).unwrap(), fp_whole);

    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.parquet"), dir.path().join("other-name.parquet"));
    write_parquet(&a, std::slice::from_ref(&whole), 777);
    write_parquet(&b, &pieces, 4096);
    let (ra, rb) = (
        fingerprint_parquet_file(&a).unwrap(),
        fingerprint_parquet_file(&b).unwrap(),
    );
    assert_eq!(ra.fingerprint, fp_whole);
    assert_eq!(rb.fingerprint, fp_whole);
    assert_eq!(ra.num_rows, 10_000);
    assert!(ra.uri.starts_with("file://") && ra.uri.ends_with("a.parquet"));
}

#[test]
fn encodings_of_the_same_values_agree() {
    let plain = batch(vec![(
        "s",
        arc(StringArray::from(vec![Some("a"), None, Some("b"), Some("a")])),
    )]);
    let large = batch(vec![(
        "s",
        arc(LargeStringArray::from(vec![Some("a"), None, Some("b"), Some("a")])),
    )]);
    let dict: DictionaryArray<Int32Type> = vec![Some("a"), None, Some("b"), Some("a")].into_iter().collect();
    let dict = batch(vec![("s", Arc::new(dict) as _)]);
    let fp = fingerprint_batches([&plain]).unwrap();
    assert_eq!(fingerprint_batches([&large]).unwrap(), fp);
    assert_eq!(fingerprint_batches([&dict]).unwrap(), fp);
}

#[test]
fn any_change_of_value_name_or_row_count_changes_it() {
    let base = fingerprint_batches([&data(100)]).unwrap();
    assert_ne!(fingerprint_batches([&data(101)]).unwrap(), base);
    let mut changed = data(100);
    let x: Vec<Option<f64>> = (0..100)
        .map(|i| {
            if i == 50 {
                Some(0.5)
            } else if i % 7 == 0 {
                None
            } else {
                Some(i as f64 / 3.0)
            }
        })
        .collect();
    changed = RecordBatch::try_new(
        changed.schema(),
        vec![
            changed.column(0).clone(),
            arc(Float64Array::from(x)),
            changed.column(2).clone(),
        ],
    )
    .unwrap();
    assert_ne!(fingerprint_batches([&changed]).unwrap(), base);
    let renamed = batch(vec![
        ("ID", data(100).column(0).clone()),
        ("x", data(100).column(1).clone()),
        ("s", data(100).column(2).clone()),
    ]);
    assert_ne!(fingerprint_batches([&renamed]).unwrap(), base);
    // Moving a value to another column changes it even though the multiset of values is the same.
    let a = batch(vec![
        ("p", arc(Int32Array::from(vec![1, 2]))),
        ("q", arc(Int32Array::from(vec![2, 1]))),
    ]);
    let b = batch(vec![
        ("p", arc(Int32Array::from(vec![1, 1]))),
        ("q", arc(Int32Array::from(vec![2, 2]))),
    ]);
    assert_ne!(fingerprint_batches([&a]).unwrap(), fingerprint_batches([&b]).unwrap());
    // Duplicated rows count.
    let one = batch(vec![("p", arc(Int32Array::from(vec![1])))]);
    let two = batch(vec![("p", arc(Int32Array::from(vec![1, 1])))]);
    assert_ne!(
        fingerprint_batches([&one]).unwrap(),
        fingerprint_batches([&two]).unwrap()
    );
}

#[test]
fn pyarrow_file_matches_its_batches_and_merge_is_order_free() {
    let path = fixture("mixed.parquet");
    let batches = read_all(&path);
    let r = fingerprint_parquet_file(&path).unwrap();
    assert_eq!(r.fingerprint, fingerprint_batches(&batches).unwrap());
    let mut fwd = Fingerprinter::new();
    let mut rev = Fingerprinter::new();
    for b in &batches {
        let mut f = Fingerprinter::new();
        f.update(b).unwrap();
        fwd.merge(&f).unwrap();
    }
    for b in batches.iter().rev() {
        rev.update(b).unwrap();
    }
    assert_eq!(fwd.finish().unwrap(), rev.finish().unwrap());
    assert!(Fingerprinter::new().finish().is_err());
    let other = batch(vec![("p", arc(Int32Array::from(vec![1])))]);
    assert!(fwd.update(&other).is_err());
}
