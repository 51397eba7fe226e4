//! `mlops_profile` on a local SessionContext: the whole table, a directory
//! or glob of Parquet files, SQL with GROUP BY, the configuration it carries,
//! and bad input.

use std::sync::Arc;

use datafusion::arrow::array as a59;
use datafusion::prelude::{SessionConfig, SessionContext};
use mlops_core::DataProfile;
use mlops_data::{Profile, ProfileConfig};

use crate::support;

fn context(partitions: usize) -> SessionContext {
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(partitions));
    mlops_datafusion::register(&ctx);
    ctx
}

#[tokio::test]
async fn a_directory_of_parquet_files_profiles_like_one_machine() {
    let dir = tempfile::tempdir().unwrap();
    let batches = support::write_parts(dir.path(), 4);
    let expected = support::single_machine(&batches);
    for partitions in [1, 2, 4] {
        let ctx = context(partitions);
        let got = mlops_datafusion::profile_parquet(&ctx, &format!("{}/", dir.path().display()))
            .await
            .unwrap();
        support::assert_same_data(&got, &expected, &batches);
    }
    // A glob picks a subset of the files.
    let ctx = context(2);
    let two = mlops_datafusion::profile_parquet(&ctx, &format!("{}/part-[01].parquet", dir.path().display()))
        .await
        .unwrap();
    assert_eq!(two.num_rows(), 10_000);
}

#[tokio::test]
async fn sql_group_by_gives_one_profile_per_segment_and_segment_drift_follows() {
    let dir = tempfile::tempdir().unwrap();
    let batches = support::write_parts(dir.path(), 2);
    let ctx = context(2);
    ctx.register_parquet("loans", &format!("{}/", dir.path().display()), Default::default())
        .await
        .unwrap();
    let groups = mlops_datafusion::profile_groups(&ctx, "loans", &["employment"])
        .await
        .unwrap();
    let keys: Vec<&str> = groups.iter().map(|(k, _)| k[0].as_str()).collect();
    assert_eq!(keys, ["contractor", "retired", "salaried", "self-employed", "student"]);
    assert_eq!(groups.iter().map(|(_, p)| p.num_rows()).sum::<u64>(), 20_000);
    // Each segment's profile is the profile of its rows.
    let salaried: Vec<arrow_array::RecordBatch> = batches
        .iter()
        .map(|b| {
            let employment =
                arrow_cast::cast(b.column_by_name("employment").unwrap(), &arrow_schema::DataType::Utf8).unwrap();
            let employment = employment.as_any().downcast_ref::<arrow_array::StringArray>().unwrap();
            let keep: arrow_array::BooleanArray = employment.iter().map(|e| Some(e == Some("salaried"))).collect();
            let b = arrow_select::filter::filter_record_batch(b, &keep).unwrap();
            let without = b.schema().index_of("employment").unwrap();
            let keep: Vec<usize> = (0..b.num_columns()).filter(|&i| i != without).collect();
            b.project(&keep).unwrap()
        })
        .collect();
    let (_, got) = &groups[2];
    support::assert_same_data(got, &support::single_machine(&salaried), &salaried);
    // Segment drift from the profiles alone: salaried vs students.
    let report = mlops_monitor::drift::from_profiles::compare_profiles(
        &groups[2].1,
        &groups[4].1,
        &mlops_monitor::drift::DriftConfig::default(),
    )
    .unwrap();
    assert!(report.columns.iter().any(|c| c.name == "income"), "{report:?}");
    // The same in plain SQL; the profile column decodes row by row.
    let rows = ctx
        .sql("SELECT region, mlops_profile(income, age) AS profile FROM loans GROUP BY region ORDER BY region")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let profiles = mlops_datafusion::decode(&rows, "profile", "test").unwrap();
    assert_eq!(profiles.len(), 5);
    assert_eq!(profiles[0].column_names(), ["income", "age"]);
}

#[tokio::test]
async fn the_configuration_travels_with_the_function() {
    let ctx = SessionContext::new();
    let config = ProfileConfig::default().with_kll_k(64).with_frequent_items(8);
    mlops_datafusion::register_with(&ctx, config.clone());
    let batch = datafusion::arrow::array::RecordBatch::try_from_iter([(
        "x",
        Arc::new(a59::Float64Array::from_iter_values((0..5000).map(f64::from))) as a59::ArrayRef,
    )])
    .unwrap();
    ctx.register_batch("t", batch).unwrap();
    let profile = mlops_datafusion::profile_table(&ctx, "t").await.unwrap();
    assert_eq!(profile.config().kll_k, 64);
    assert_eq!(profile.config().frequent_items, 8);
    assert_eq!(profile.summary("x").unwrap().max, Some(4999.0));
}

#[tokio::test]
async fn bad_input_is_a_clear_error() {
    let ctx = context(1);
    // No argument: a planning error, before any data is read.
    let batch = datafusion::arrow::array::RecordBatch::try_from_iter([(
        "x",
        Arc::new(a59::Int64Array::from(vec![1, 2])) as a59::ArrayRef,
    )])
    .unwrap();
    ctx.register_batch("t", batch).unwrap();
    let err = ctx.sql("SELECT mlops_profile() FROM t").await.unwrap_err();
    assert!(err.to_string().contains("mlops_profile"), "{err}");
    // A type the profiler has no statistics for: counted, typed, and nothing more.
    let lists = datafusion::arrow::array::RecordBatch::try_from_iter([(
        "tags",
        Arc::new(a59::ListArray::from_iter_primitive::<
            datafusion::arrow::datatypes::Int32Type,
            _,
            _,
        >(vec![Some(vec![Some(1)])])) as a59::ArrayRef,
    )])
    .unwrap();
    ctx.register_batch("lists", lists).unwrap();
    let lists = mlops_datafusion::profile_table(&ctx, "lists").await.unwrap();
    let tags = lists.summary("tags").unwrap();
    assert_eq!((tags.count, tags.mean, tags.distinct), (1, None, None));
    assert!(tags.data_type.to_string().contains("List"), "{}", tags.data_type);
    // Missing files: DataFusion's error, no panic.
    let err = mlops_datafusion::profile_parquet(&ctx, "/no/such/dir/")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("/no/such/dir"), "{err}");
    // An empty table profiles as zero rows.
    let empty = datafusion::arrow::array::RecordBatch::try_from_iter([(
        "x",
        Arc::new(a59::Float64Array::from(Vec::<f64>::new())) as a59::ArrayRef,
    )])
    .unwrap();
    ctx.register_batch("empty", empty).unwrap();
    let profile: Profile = mlops_datafusion::profile_table(&ctx, "empty").await.unwrap();
    assert_eq!(profile.num_rows(), 0);
}

#[test]
fn the_example_prints_a_profile_in_the_profile_examples_form() {
    let dir = tempfile::tempdir().unwrap();
    let batches = support::write_parts(dir.path(), 3);
    let exe = std::env::current_exe().unwrap();
    let example = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples/profile_datafusion");
    let out = std::process::Command::new(example)
        .args(["--parquet", &format!("{}/", dir.path().display()), "--partitions", "2"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    // One line of JSON that reads back as a profile, with the same keys as our own.
    assert_eq!(stdout.lines().count(), 1);
    let printed = Profile::from_json(stdout.trim()).unwrap();
    support::assert_same_data(&printed, &support::single_machine(&batches), &batches);
    let ours: serde_json::Value = serde_json::from_str(&support::single_machine(&batches).to_json().unwrap()).unwrap();
    let theirs: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    let keys = |v: &serde_json::Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&theirs), keys(&ours));
}
