//! Batch scoring of real Parquet files.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_select::concat::concat_batches;
use mlops_serve::{Carry, Error, Predict, ScoreConfig, ScoreProgress, score_parquet};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use crate::doubler::Affine;

/// `rows` rows (`id`, `x` with a NaN every 13th row, `name`) in row groups of `group_rows`.
fn table(rows: i64) -> RecordBatch {
    RecordBatch::try_from_iter([
        ("id", Arc::new(Int64Array::from_iter_values(0..rows)) as _),
        (
            "x",
            Arc::new(Float64Array::from_iter_values(
                (0..rows).map(|i| if i % 13 == 5 { f64::NAN } else { i as f64 / 4.0 }),
            )) as _,
        ),
        (
            "name",
            Arc::new(StringArray::from_iter_values((0..rows).map(|i| format!("row-{i}")))) as _,
        ),
    ])
    .unwrap()
}

fn write(path: &Path, batch: &RecordBatch, group_rows: usize) {
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(group_rows))
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .build();
    let mut writer = ArrowWriter::try_new(File::create(path).unwrap(), batch.schema(), Some(props)).unwrap();
    writer.write(batch).unwrap();
    writer.close().unwrap();
}

fn read(path: &Path) -> (RecordBatch, usize) {
    let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap()).unwrap();
    let groups = builder.metadata().num_row_groups();
    let schema = Arc::clone(builder.schema());
    let batches: Vec<RecordBatch> = builder.build().unwrap().collect::<Result<_, _>>().unwrap();
    (concat_batches(&schema, &batches).unwrap(), groups)
}

/// The file names in `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn setup(rows: i64, group_rows: usize) -> (tempfile::TempDir, PathBuf, RecordBatch) {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.parquet");
    let data = table(rows);
    write(&input, &data, group_rows);
    (dir, input, data)
}

#[test]
fn output_equals_predicting_the_whole_table_in_memory() {
    let (dir, input, data) = setup(1000, 100);
    let output = dir.path().join("out.parquet");
    let predictor = Affine::new();
    let config = ScoreConfig::default().with_max_in_flight(3).with_batch_rows(64);
    let report = score_parquet(&predictor, input.to_str().unwrap(), &output, config).unwrap();
    let whole = Affine::new().predict_detailed(&data).unwrap();
    assert_eq!(report.rows, 1000);
    assert_eq!(report.row_groups, 10);
    assert_eq!(report.rejected_rows, whole.rejected_rows.len() as u64);
    assert!(report.rejected_rows > 0);

    let (scored, groups) = read(&output);
    assert_eq!(groups, 10, "one output row group per input row group");
    let names: Vec<&str> = scored.schema_ref().fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["id", "x", "name", "y"]);
    for column in ["id", "x", "name"] {
        assert_eq!(
            scored.column_by_name(column).unwrap(),
            data.column_by_name(column).unwrap()
        );
    }
    assert_eq!(
        scored.column_by_name("y").unwrap(),
        whole.batch.column_by_name("y").unwrap()
    );
    assert_eq!(listing(dir.path()), ["in.parquet", "out.parquet"]);
}

#[test]
fn output_rows_follow_input_rows_across_many_small_row_groups() {
    let (dir, input, _) = setup(2000, 7);
    let output = dir.path().join("out.parquet");
    let config = ScoreConfig::default().with_max_in_flight(4).with_batch_rows(3);
    let report = score_parquet(&Affine::new(), &input, &output, config).unwrap();
    assert_eq!((report.rows, report.row_groups), (2000, 286));
    let (scored, groups) = read(&output);
    assert_eq!(groups, 286);
    let ids: Vec<i64> = scored
        .column_by_name("id")
        .unwrap()
        .as_primitive::<Int64Type>()
        .values()
        .to_vec();
    assert_eq!(ids, (0..2000).collect::<Vec<_>>());
}

#[test]
fn carried_columns_are_the_chosen_ones_in_the_chosen_order() {
    let (dir, input, data) = setup(300, 50);
    let output = dir.path().join("subset.parquet");
    score_parquet(
        &Affine::new(),
        &input,
        &output,
        ScoreConfig::default().carry(["name", "id"]),
    )
    .unwrap();
    let (scored, _) = read(&output);
    let names: Vec<&str> = scored.schema_ref().fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["name", "id", "y"]);
    assert_eq!(
        scored.column_by_name("name").unwrap(),
        data.column_by_name("name").unwrap()
    );

    let bare = dir.path().join("bare.parquet");
    score_parquet(
        &Affine::new(),
        &input,
        &bare,
        ScoreConfig::default().with_carry(Carry::None),
    )
    .unwrap();
    assert_eq!(read(&bare).0.num_columns(), 1);

    let unknown = dir.path().join("unknown.parquet");
    match score_parquet(
        &Affine::new(),
        &input,
        &unknown,
        ScoreConfig::default().carry(["id", "nope"]),
    ) {
        Err(e @ Error::InvalidInput { .. }) => assert!(e.to_string().contains("`nope`"), "{e}"),
        other => panic!("expected InvalidInput, got {other:?}"),
    }
    assert!(!unknown.exists());
}

#[test]
fn progress_reaches_the_totals() {
    let (dir, input, _) = setup(1000, 90);
    let seen: Arc<Mutex<Vec<ScoreProgress>>> = Arc::default();
    let sink = Arc::clone(&seen);
    let config = ScoreConfig::default()
        .with_max_in_flight(2)
        .with_progress(move |p| sink.lock().unwrap().push(p));
    score_parquet(&Affine::new(), &input, &dir.path().join("out.parquet"), config).unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 12);
    assert!(seen.windows(2).all(|w| w[0].rows_done < w[1].rows_done));
    let last = seen.last().unwrap();
    assert_eq!((last.rows_done, last.rows_total), (1000, 1000));
    assert_eq!((last.row_groups_done, last.row_groups_total), (12, 12));
}

#[test]
fn a_missing_input_column_is_a_typed_error_and_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("no_x.parquet");
    let data = RecordBatch::try_from_iter([("id", Arc::new(Int64Array::from_iter_values(0..10)) as _)]).unwrap();
    write(&input, &data, 5);
    let output = dir.path().join("out.parquet");
    match score_parquet(&Affine::new(), &input, &output, ScoreConfig::default()) {
        Err(Error::SchemaMismatch { message, .. }) => assert!(message.contains("`x`"), "{message}"),
        other => panic!("expected SchemaMismatch, got {other:?}"),
    }
    assert_eq!(listing(dir.path()), ["no_x.parquet"]);
}

#[test]
fn a_truncated_input_is_a_typed_error_and_leaves_no_file() {
    let (dir, input, _) = setup(1000, 100);
    let bytes = std::fs::read(&input).unwrap();
    std::fs::write(&input, &bytes[..bytes.len() / 2]).unwrap();
    let output = dir.path().join("out.parquet");
    let result = score_parquet(&Affine::new(), &input, &output, ScoreConfig::default());
    assert!(
        matches!(result, Err(Error::Corrupt { .. } | Error::Storage { .. })),
        "{result:?}"
    );
    assert_eq!(listing(dir.path()), ["in.parquet"]);
}

#[test]
fn a_failure_midway_leaves_no_partial_output_and_keeps_an_old_one() {
    // Damaged data pages (footer intact): reading fails after writing has started.
    let (dir, input, _) = setup(4000, 500);
    let mut bytes = std::fs::read(&input).unwrap();
    let len = bytes.len();
    bytes[len / 2..len * 3 / 4].fill(0xA5);
    std::fs::write(&input, &bytes).unwrap();
    let output = dir.path().join("out.parquet");
    std::fs::write(&output, b"the previous output").unwrap();
    let config = ScoreConfig::default().with_max_in_flight(1);
    let result = score_parquet(&Affine::new(), &input, &output, config);
    assert!(
        matches!(result, Err(Error::Corrupt { .. } | Error::Storage { .. })),
        "{result:?}"
    );
    assert_eq!(std::fs::read(&output).unwrap(), b"the previous output");
    assert_eq!(listing(dir.path()), ["in.parquet", "out.parquet"]);
}

#[test]
fn a_batch_level_refusal_stops_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.parquet");
    let data = RecordBatch::try_from_iter([(
        "x",
        Arc::new(Float64Array::from_iter_values(
            (0..100).map(|i| if i == 77 { -1.0 } else { 1.0 }),
        )) as _,
    )])
    .unwrap();
    write(&input, &data, 10);
    let output = dir.path().join("out.parquet");
    let result = score_parquet(&Affine::new(), &input, &output, ScoreConfig::default());
    assert!(matches!(result, Err(Error::InvalidInput { .. })), "{result:?}");
    assert!(!output.exists());
}
