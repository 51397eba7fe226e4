//! `DataDrift::compare_parquet` (column-wise reads) gives the report `compare`
//! gives on the same data, handles every column type `compare` does, and turns
//! bad files into typed errors; categorical columns count the same whatever
//! their Arrow encoding.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::{ListBuilder, StringDictionaryBuilder};
use arrow_array::types::Int32Type;
use arrow_array::{
    ArrayRef, BooleanArray, Date32Array, DictionaryArray, Float32Array, Float64Array, Int32Array, Int64Array,
    LargeStringArray, RecordBatch, StringArray, StringViewArray,
};
use mlops_core::Error;
use mlops_monitor::drift::{ColumnStatus, DataDrift, DriftConfig, DriftMethod, DriftReport};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::properties::WriterProperties;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn read(path: &Path) -> Vec<RecordBatch> {
    ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(path).unwrap())
        .unwrap()
        .build()
        .unwrap()
        .map(|b| b.unwrap())
        .collect()
}

fn write(path: &Path, batches: &[RecordBatch], rows_per_group: usize) {
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(rows_per_group))
        .build();
    let mut w = ArrowWriter::try_new(std::fs::File::create(path).unwrap(), batches[0].schema(), Some(props)).unwrap();
    for b in batches {
        w.write(b).unwrap();
    }
    w.close().unwrap();
}

/// Same columns, methods, statuses, verdicts and plots; scores equal up to
/// summation order (the two paths see different chunk boundaries).
fn assert_same(a: &DriftReport, b: &DriftReport, what: &str) {
    assert_eq!(a.columns.len(), b.columns.len(), "{what}");
    assert_eq!(
        (a.dataset_drift, a.number_of_columns),
        (b.dataset_drift, b.number_of_columns),
        "{what}"
    );
    assert_eq!(
        (a.reference_rows, a.current_rows),
        (b.reference_rows, b.current_rows),
        "{what}"
    );
    for (x, y) in a.columns.iter().zip(&b.columns) {
        let at = format!("{what} / {}", x.name);
        assert_eq!(x.name, y.name, "{at}");
        assert_eq!(
            (x.method.map_or("–", |m| m.name()), x.status, x.drifted),
            (y.method.map_or("–", |m| m.name()), y.status, y.drifted),
            "{at}"
        );
        assert_eq!(
            (x.reference_count, x.current_count),
            (y.reference_count, y.current_count),
            "{at}"
        );
        assert_eq!(
            (x.reference_missing_share, x.current_missing_share),
            (y.reference_missing_share, y.current_missing_share),
            "{at}"
        );
        match (x.score, y.score) {
            (Some(s), Some(t)) => assert!((s - t).abs() <= 1e-12 * s.abs().max(1e-300), "{at}: {s} vs {t}"),
            (s, t) => assert_eq!(s, t, "{at}"),
        }
        assert_eq!(x.plot, y.plot, "{at}");
    }
}

#[test]
fn column_wise_reads_match_in_memory_comparison_on_the_evidently_fixtures() {
    for case in ["small", "large", "edge"] {
        let (r, c) = (
            fixture(&format!("evidently_{case}_reference.parquet")),
            fixture(&format!("evidently_{case}_current.parquet")),
        );
        let drift = DataDrift::new(DriftConfig::default());
        let in_memory = drift.compare(&read(&r), &read(&c)).unwrap();
        let column_wise = drift.compare_parquet(&r, &c).unwrap();
        assert_same(&in_memory, &column_wise, case);
    }
}

fn mixed_batch(offset: usize, n: usize, shift: f64) -> RecordBatch {
    let idx = |i: usize| i + offset;
    let wave = |i: usize| ((idx(i) * 7919) % 1000) as f64 / 10.0 + shift;
    let with_bad = Float64Array::from_iter((0..n).map(|i| match idx(i) % 50 {
        0 => None,
        1 => Some(f64::NAN),
        2 => Some(f64::INFINITY),
        _ => Some(wave(i)),
    }));
    let labels = ["a", "b", "c", "d", "e"];
    let label = |i: usize| labels[(idx(i) * 31 + (shift as usize)) % 5];
    let mut dict = StringDictionaryBuilder::<Int32Type>::new();
    for i in 0..n {
        if idx(i) % 13 == 0 {
            dict.append_null();
        } else {
            dict.append_value(label(i));
        }
    }
    let mut list = ListBuilder::new(arrow_array::builder::Int32Builder::new());
    for i in 0..n {
        list.values().append_value(i as i32);
        list.append(true);
    }
    RecordBatch::try_from_iter([
        (
            "f64",
            Arc::new(Float64Array::from_iter_values((0..n).map(wave))) as ArrayRef,
        ),
        ("f64_bad", Arc::new(with_bad) as ArrayRef),
        (
            "f32",
            Arc::new(Float32Array::from_iter_values((0..n).map(|i| wave(i) as f32))) as ArrayRef,
        ),
        (
            "i32_levels",
            Arc::new(Int32Array::from_iter_values((0..n).map(|i| (idx(i) % 4) as i32))) as ArrayRef,
        ),
        (
            "i64",
            Arc::new(Int64Array::from_iter_values((0..n).map(|i| (wave(i) * 3.0) as i64))) as ArrayRef,
        ),
        (
            "date",
            Arc::new(Date32Array::from_iter_values(
                (0..n).map(|i| 19_000 + (idx(i) % 400) as i32),
            )) as ArrayRef,
        ),
        (
            "text",
            Arc::new(StringArray::from_iter(
                (0..n).map(|i| (idx(i) % 11 != 0).then(|| label(i))),
            )) as ArrayRef,
        ),
        ("dict", Arc::new(dict.finish()) as ArrayRef),
        (
            "flag",
            Arc::new(BooleanArray::from_iter((0..n).map(|i| Some(idx(i) % 3 == 0)))) as ArrayRef,
        ),
        ("nested", Arc::new(list.finish()) as ArrayRef),
    ])
    .unwrap()
}

#[test]
fn every_column_type_and_many_row_groups() {
    let dir = tempfile::tempdir().unwrap();
    let (r, c) = (dir.path().join("r.parquet"), dir.path().join("c.parquet"));
    let reference: Vec<RecordBatch> = (0..4).map(|k| mixed_batch(k * 3000, 3000, 0.0)).collect();
    let current: Vec<RecordBatch> = (0..3).map(|k| mixed_batch(k * 2500, 2500, 7.0)).collect();
    write(&r, &reference, 1700);
    write(&c, &current, 900);
    let drift = DataDrift::default();
    let column_wise = drift.compare_parquet(&r, &c).unwrap();
    assert_same(&drift.compare(&reference, &current).unwrap(), &column_wise, "mixed");
    assert_eq!(column_wise.reference_rows, 12_000);
    assert_eq!(column_wise.current_rows, 7_500);
    let col = |name: &str| column_wise.column(name).unwrap();
    assert_eq!(col("nested").status, ColumnStatus::Unsupported);
    assert_eq!(col("f64").method, Some(DriftMethod::Wasserstein));
    assert!(col("f64").drifted, "shifted by 7 on a 0..100 range");
    assert_eq!(col("i32_levels").method, Some(DriftMethod::JensenShannon));
    // 1 in 50 null, NaN and +inf each.
    assert!((col("f64_bad").reference_missing_share - 3.0 * 240.0 / 12_000.0).abs() < 1e-12);
    assert_eq!(col("dict").reference_count, 12_000 - 12_000_usize.div_ceil(13));
    assert_eq!(col("text").column_type, col("dict").column_type);
}

#[test]
fn bad_files_are_typed_errors_naming_what_failed() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.parquet");
    write(&good, &[mixed_batch(0, 2000, 0.0)], 500);
    let drift = DataDrift::default();

    let missing = dir.path().join("missing.parquet");
    assert!(
        matches!(drift.compare_parquet(&good, &missing), Err(Error::Io { location, .. }) if location.contains("missing.parquet"))
    );

    let bytes = std::fs::read(&good).unwrap();
    let truncated = dir.path().join("truncated.parquet");
    for cut in [bytes.len() / 2, bytes.len() - 9, 100] {
        std::fs::write(&truncated, &bytes[..cut]).unwrap();
        let e = drift.compare_parquet(&good, &truncated).unwrap_err();
        assert!(matches!(e, Error::Corrupt { .. }), "cut at {cut}: {e}");
        assert!(e.to_string().contains("truncated.parquet"), "{e}");
    }

    // Bytes flipped inside the data pages: an error, never a panic or a silent report.
    let flipped = dir.path().join("flipped.parquet");
    let mut damaged = bytes.clone();
    for i in (8..bytes.len() / 2).step_by(97) {
        damaged[i] ^= 0x5a;
    }
    std::fs::write(&flipped, &damaged).unwrap();
    // Parquet pages carry no checksum, so damage may also decode to other numbers.
    match drift.compare_parquet(&good, &flipped) {
        Ok(report) => assert_eq!(report.columns.len(), 10),
        Err(e) => assert!(e.to_string().contains("flipped.parquet"), "{e}"),
    }

    let text = dir.path().join("text.parquet");
    std::fs::write(&text, "not parquet at all, just words").unwrap();
    assert!(matches!(
        drift.compare_parquet(&text, &good),
        Err(Error::Corrupt { .. })
    ));

    let other = dir.path().join("other.parquet");
    let renamed =
        RecordBatch::try_from_iter([("y", Arc::new(Float64Array::from(vec![1.0, 2.0])) as ArrayRef)]).unwrap();
    write(&other, &[renamed], 10);
    let e = drift.compare_parquet(&good, &other).unwrap_err();
    assert!(
        matches!(&e, Error::SchemaMismatch { message, .. } if message.contains("`f64`")),
        "{e}"
    );
}

#[test]
fn files_without_rows_give_not_enough_data_per_column() {
    let dir = tempfile::tempdir().unwrap();
    let (empty, full) = (dir.path().join("empty.parquet"), dir.path().join("full.parquet"));
    let no_rows = mixed_batch(0, 0, 0.0);
    let rows = mixed_batch(0, 3000, 0.0);
    write(&empty, std::slice::from_ref(&no_rows), 100);
    write(&full, std::slice::from_ref(&rows), 1000);
    assert_eq!(read(&empty).iter().map(RecordBatch::num_rows).sum::<usize>(), 0);
    let drift = DataDrift::default();
    for (r, c, rb, cb, what) in [
        (&empty, &full, &no_rows, &rows, "empty reference"),
        (&full, &empty, &rows, &no_rows, "empty current"),
        (&empty, &empty, &no_rows, &no_rows, "both empty"),
    ] {
        let column_wise = drift.compare_parquet(r, c).unwrap();
        let in_memory = drift
            .compare(std::slice::from_ref(rb), std::slice::from_ref(cb))
            .unwrap();
        assert_same(&in_memory, &column_wise, what);
        assert!(!column_wise.dataset_drift, "{what}");
        for column in &column_wise.columns {
            let expected = if column.name == "nested" {
                ColumnStatus::Unsupported
            } else {
                ColumnStatus::NotEnoughData
            };
            assert_eq!(column.status, expected, "{what}: {}", column.name);
        }
    }
}

#[test]
fn a_file_without_rows_still_declares_its_column_types() {
    let dir = tempfile::tempdir().unwrap();
    let (numbers, words) = (dir.path().join("numbers.parquet"), dir.path().join("words.parquet"));
    let x = RecordBatch::try_from_iter([(
        "x",
        Arc::new(Float64Array::from_iter_values((0..3000).map(f64::from))) as ArrayRef,
    )])
    .unwrap();
    let no_words =
        RecordBatch::try_from_iter([("x", Arc::new(StringArray::from(Vec::<&str>::new())) as ArrayRef)]).unwrap();
    write(&numbers, std::slice::from_ref(&x), 1000);
    write(&words, std::slice::from_ref(&no_words), 1000);
    let drift = DataDrift::default();
    let is_mismatch = |e: &Error| matches!(e, Error::SchemaMismatch { location, .. } if location.contains("`x`"));
    for (r, c) in [(&numbers, &words), (&words, &numbers)] {
        let e = drift.compare_parquet(r, c).unwrap_err();
        assert!(is_mismatch(&e), "{e}");
    }
    for (r, c) in [(&x, &no_words), (&no_words, &x)] {
        let e = drift
            .compare(std::slice::from_ref(r), std::slice::from_ref(c))
            .unwrap_err();
        assert!(is_mismatch(&e), "{e}");
    }
}

#[test]
fn a_column_name_used_twice_is_an_error_in_both_paths() {
    let dir = tempfile::tempdir().unwrap();
    let (twice, once) = (dir.path().join("twice.parquet"), dir.path().join("once.parquet"));
    let values = |shift: f64| Arc::new(Float64Array::from_iter_values((0..2000).map(|i| i as f64 + shift))) as ArrayRef;
    let duplicated =
        RecordBatch::try_from_iter([("x", values(0.0)), ("y", values(1.0)), ("x", values(500.0))]).unwrap();
    let single = RecordBatch::try_from_iter([("x", values(0.0)), ("y", values(1.0))]).unwrap();
    write(&twice, std::slice::from_ref(&duplicated), 1000);
    write(&once, std::slice::from_ref(&single), 1000);
    let drift = DataDrift::default();
    let is_duplicate = |e: &Error| matches!(e, Error::SchemaMismatch { message, .. } if message.contains("`x` appears more than once"));
    for (r, c) in [(&twice, &once), (&once, &twice)] {
        let e = drift.compare_parquet(r, c).unwrap_err();
        assert!(is_duplicate(&e), "{e}");
        assert!(e.to_string().contains("twice.parquet"), "{e}");
    }
    let e = drift
        .compare(std::slice::from_ref(&duplicated), std::slice::from_ref(&single))
        .unwrap_err();
    assert!(is_duplicate(&e), "{e}");
    let e = drift
        .compare(std::slice::from_ref(&single), std::slice::from_ref(&duplicated))
        .unwrap_err();
    assert!(is_duplicate(&e), "{e}");
}

#[test]
fn categories_count_the_same_in_every_string_encoding() {
    let values: Vec<Option<&str>> = (0..5000)
        .map(|i| match i % 17 {
            0 => None,
            k => Some(["red", "green", "blue", "cyan"][k % 4]),
        })
        .collect();
    let shifted: Vec<Option<&str>> = values
        .iter()
        .map(|v| v.map(|s| if s == "cyan" { "red" } else { s }))
        .collect();
    let encodings = |v: &[Option<&str>]| -> Vec<ArrayRef> {
        vec![
            Arc::new(StringArray::from(v.to_vec())),
            Arc::new(LargeStringArray::from(v.to_vec())),
            Arc::new(StringViewArray::from(v.to_vec())),
            Arc::new(v.iter().copied().collect::<DictionaryArray<Int32Type>>()),
        ]
    };
    let batch = |a: ArrayRef| RecordBatch::try_from_iter([("colour", a)]).unwrap();
    let reports: Vec<DriftReport> = encodings(&values)
        .into_iter()
        .zip(encodings(&shifted))
        .map(|(r, c)| DataDrift::default().compare(&[batch(r)], &[batch(c)]).unwrap())
        .collect();
    for r in &reports[1..] {
        assert_eq!(r.columns, reports[0].columns);
    }
    let c = &reports[0].columns[0];
    assert_eq!(c.reference_count, 5000 - 5000_usize.div_ceil(17));
    assert_eq!(c.plot.as_ref().unwrap().labels, ["blue", "cyan", "green", "red"]);
    assert!(c.drifted);
    // Booleans are the categories "false" and "true".
    let flags = |k: usize| {
        batch(Arc::new(BooleanArray::from_iter(
            (0..3000).map(|i| if i % 29 == 0 { None } else { Some(i % k == 0) }),
        )))
    };
    let b = DataDrift::default().compare(&[flags(2)], &[flags(5)]).unwrap();
    assert_eq!(b.columns[0].plot.as_ref().unwrap().labels, ["false", "true"]);
    assert!(b.columns[0].drifted);
}
