//! The Predictor end to end: packages in, Arrow answers out, the door's policies.

use std::sync::{Arc, Mutex};

use arrow_array::cast::AsArray;
use arrow_array::types::Float32Type;
use arrow_array::{Array, ArrayRef, Float32Array, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::DataType;
use mlops_core::{
    Error, FieldConstraints, FieldSpec, LabelValue, ModelPackage, NumericRange, PackageBuilder, PredictionEvent,
    PredictionSink, RuleKind, Signature, TrustedKeys,
};
use mlops_data::{ImputeStrategy, OneHotConfig, TransformPipeline, TransformSpec, UnseenCategory};
use mlops_serve::{MissingValuePolicy, Predict, Predictor, PredictorConfig, RulePolicy, ValidationConfig};

use crate::support::{feature_batch, feature_names, float_signature, mlp_package, mlp_weights, safetensors};

/// Equal to float rounding: answers for the same row computed in batches of
/// different sizes may differ in the last bits (different kernel paths).
fn close(a: f32, b: f32) -> bool {
    (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0)
}

fn proba(batch: &RecordBatch, name: &str) -> Vec<f32> {
    batch
        .column_by_name(name)
        .unwrap()
        .as_primitive::<Float32Type>()
        .values()
        .to_vec()
}

#[test]
fn a_classifier_answers_label_and_one_probability_per_class_in_row_order() {
    let package = mlp_package(&[4, 16, 3], "softmax", Some(vec!["cat", "dog", "eel"]), 5);
    let predictor = Predictor::from_package(&package, PredictorConfig::default()).unwrap();
    let batch = feature_batch(4, 50, 9);
    let answer = predictor.predict(&batch).unwrap();
    let names: Vec<&str> = answer.schema_ref().fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["label", "proba_cat", "proba_dog", "proba_eel"]);
    let (c, d, e) = (
        proba(&answer, "proba_cat"),
        proba(&answer, "proba_dog"),
        proba(&answer, "proba_eel"),
    );
    let labels = answer.column(0).as_string::<i32>();
    for row in 0..50 {
        assert!((c[row] + d[row] + e[row] - 1.0).abs() < 1e-5);
        let best = [("cat", c[row]), ("dog", d[row]), ("eel", e[row])]
            .into_iter()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap();
        assert_eq!(labels.value(row), best.0);
        // Row order: each row alone gets the same answer as inside the batch
        // (to float rounding: a single row takes the one-row kernel path).
        let alone = predictor.predict(&batch.slice(row, 1)).unwrap();
        assert!(close(proba(&alone, "proba_dog")[0], d[row]), "row {row}");
    }
}

#[test]
fn a_regressor_answers_prediction_columns() {
    let one = Predictor::from_package(
        &mlp_package(&[3, 8, 1], "identity", None, 1),
        PredictorConfig::default(),
    )
    .unwrap();
    let answer = one.predict(&feature_batch(3, 4, 2)).unwrap();
    assert_eq!(answer.schema_ref().field(0).name(), "prediction");
    let two = Predictor::from_package(
        &mlp_package(&[3, 8, 2], "identity", None, 1),
        PredictorConfig::default(),
    )
    .unwrap();
    let answer = two.predict(&feature_batch(3, 4, 2)).unwrap();
    let names: Vec<&str> = answer.schema_ref().fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["prediction_0", "prediction_1"]);
    let binary = Predictor::from_package(
        &mlp_package(&[3, 8, 1], "sigmoid", Some(vec!["no", "yes"]), 1),
        PredictorConfig::default(),
    )
    .unwrap();
    let answer = binary.predict(&feature_batch(3, 6, 2)).unwrap();
    let (no, yes) = (proba(&answer, "proba_no"), proba(&answer, "proba_yes"));
    for row in 0..6 {
        assert!((no[row] + yes[row] - 1.0).abs() < 1e-6);
        assert_eq!(
            answer.column(0).as_string::<i32>().value(row),
            if yes[row] >= 0.5 { "yes" } else { "no" }
        );
    }
}

#[test]
fn columns_match_by_name_in_any_order_extra_ones_ignored_and_ints_widen() {
    let predictor = Predictor::from_package(
        &mlp_package(&[3, 8, 1], "identity", None, 1),
        PredictorConfig::default(),
    )
    .unwrap();
    let batch = RecordBatch::try_from_iter([
        ("f0", Arc::new(Float64Array::from(vec![1.0, -2.0])) as ArrayRef),
        ("f1", Arc::new(Float64Array::from(vec![0.5, 3.0])) as ArrayRef),
        ("f2", Arc::new(Float64Array::from(vec![2.0, 1.0])) as ArrayRef),
    ])
    .unwrap();
    let expected = predictor.predict(&batch).unwrap();
    let shuffled = RecordBatch::try_from_iter([
        ("extra", Arc::new(StringArray::from(vec!["x", "y"])) as ArrayRef),
        ("f2", Arc::new(Int32Array::from(vec![2, 1])) as ArrayRef),
        ("f0", Arc::new(Int64Array::from(vec![1, -2])) as ArrayRef),
        ("f1", Arc::new(Float32Array::from(vec![0.5, 3.0])) as ArrayRef),
    ])
    .unwrap();
    assert_eq!(predictor.predict(&shuffled).unwrap(), expected);
}

fn rejected(result: mlops_core::Result<impl std::fmt::Debug>) -> Vec<mlops_core::RowViolation> {
    match result {
        Err(Error::Rejected { violations, .. }) => violations,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[test]
fn missing_columns_wrong_types_and_zero_columns_are_refused_by_name() {
    let predictor = Predictor::from_package(
        &mlp_package(&[3, 8, 1], "identity", None, 1),
        PredictorConfig::default(),
    )
    .unwrap();
    let batch = feature_batch(3, 4, 2);
    let v = rejected(predictor.predict(&batch.project(&[0, 2]).unwrap()));
    assert_eq!((v[0].column.as_str(), v[0].rule), ("f1", RuleKind::MissingColumn));
    let strings = RecordBatch::try_from_iter([
        ("f0", Arc::new(StringArray::from(vec!["1.0"])) as ArrayRef),
        ("f1", Arc::new(Float64Array::from(vec![1.0])) as ArrayRef),
        ("f2", Arc::new(Float64Array::from(vec![1.0])) as ArrayRef),
    ])
    .unwrap();
    let v = rejected(predictor.predict(&strings));
    assert_eq!((v[0].column.as_str(), v[0].rule), ("f0", RuleKind::Type));
    let e = predictor.predict(&strings).unwrap_err().to_string();
    assert!(e.contains("`f0`") && e.contains("Utf8"), "{e}");
    let no_columns = RecordBatch::try_new_with_options(
        Arc::new(arrow_schema::Schema::empty()),
        vec![],
        &arrow_array::RecordBatchOptions::new().with_row_count(Some(3)),
    )
    .unwrap();
    assert_eq!(rejected(predictor.predict(&no_columns)).len(), 3);
    // A float where the signature declares an integer is refused, not truncated.
    let int_sig = Signature::new(vec![FieldSpec::new("n", DataType::Int64, false)]).unwrap();
    let package = PackageBuilder::new("ints")
        .weights(safetensors(&[("0.weight".into(), vec![1, 1], vec![2.0]), ("0.bias".into(), vec![1], vec![0.0])]))
        .model_config(serde_json::json!({"architecture": "linear", "inputs": 1, "outputs": 1, "output": "identity", "features": ["n"]}))
        .input_signature(int_sig)
        .build()
        .unwrap();
    let ints = Predictor::from_package(&package, PredictorConfig::default()).unwrap();
    let floats = RecordBatch::try_from_iter([("n", Arc::new(Float64Array::from(vec![1.5])) as ArrayRef)]).unwrap();
    assert_eq!(rejected(ints.predict(&floats))[0].rule, RuleKind::Type);
    let answer = ints
        .predict(&RecordBatch::try_from_iter([("n", Arc::new(Int32Array::from(vec![21])) as ArrayRef)]).unwrap())
        .unwrap();
    assert_eq!(proba(&answer, "prediction"), [42.0]);
}

#[test]
fn an_empty_batch_gets_an_empty_answer_with_the_output_schema() {
    let predictor =
        Predictor::from_package(&mlp_package(&[3, 8, 2], "softmax", None, 1), PredictorConfig::default()).unwrap();
    let answer = predictor.predict(&feature_batch(3, 0, 2)).unwrap();
    assert_eq!(answer.num_rows(), 0);
    assert_eq!(answer.schema(), predictor.output_schema());
}

fn batch_with_gaps() -> RecordBatch {
    RecordBatch::try_from_iter([
        (
            "f0",
            Arc::new(Float64Array::from(vec![Some(1.0), None, Some(0.5), Some(2.0)])) as ArrayRef,
        ),
        (
            "f1",
            Arc::new(Float64Array::from(vec![1.0, 2.0, f64::NAN, 0.0])) as ArrayRef,
        ),
        (
            "f2",
            Arc::new(Float64Array::from(vec![0.0, 1.0, 2.0, f64::INFINITY])) as ArrayRef,
        ),
    ])
    .unwrap()
}

#[test]
fn nulls_nan_and_infinities_follow_the_missing_value_policy() {
    let package = mlp_package(&[3, 8, 1], "identity", None, 1);
    let with = |policy| {
        let config =
            PredictorConfig::default().with_validation(ValidationConfig::default().with_missing_values(policy));
        Predictor::from_package(&package, config).unwrap()
    };
    // Reject the batch: every broken rule is listed.
    let v = rejected(with(MissingValuePolicy::RejectBatch).predict(&batch_with_gaps()));
    let rules: Vec<(&str, RuleKind, Vec<usize>)> =
        v.iter().map(|v| (v.column.as_str(), v.rule, v.rows.clone())).collect();
    assert_eq!(
        rules,
        [
            ("f0", RuleKind::Nullability, vec![1]),
            ("f1", RuleKind::NonFinite, vec![2]),
            ("f2", RuleKind::NonFinite, vec![3])
        ]
    );
    // Reject the rows: the others are answered, the refused ones are null.
    let p = with(MissingValuePolicy::RejectRows)
        .predict_detailed(&batch_with_gaps())
        .unwrap();
    assert_eq!(p.rejected_rows, [1, 2, 3]);
    let col = p.batch.column(0);
    assert!(col.is_valid(0) && col.is_null(1) && col.is_null(2) && col.is_null(3));
    let alone = with(MissingValuePolicy::RejectRows)
        .predict(&batch_with_gaps().slice(0, 1))
        .unwrap();
    assert_eq!(
        proba(&alone, "prediction")[0],
        col.as_primitive::<Float32Type>().value(0)
    );
    // Impute without a transform that imputes: the null cannot reach the model.
    let v = rejected(with(MissingValuePolicy::Impute).predict(&batch_with_gaps()));
    assert_eq!((v[0].column.as_str(), v[0].rule), ("f0", RuleKind::Nullability));
}

#[test]
fn transforms_run_before_the_model_and_impute_what_the_policy_lets_through() {
    let train = RecordBatch::try_from_iter([
        (
            "age",
            Arc::new(Float64Array::from(vec![Some(20.0), Some(30.0), None, Some(40.0)])) as ArrayRef,
        ),
        (
            "city",
            Arc::new(StringArray::from(vec!["rome", "oslo", "rome", "oslo"])) as ArrayRef,
        ),
    ])
    .unwrap();
    let pipeline = TransformPipeline::new()
        .step("age", TransformSpec::impute(ImputeStrategy::Median))
        .step("age", TransformSpec::standardize())
        .step(
            "city",
            TransformSpec::one_hot(OneHotConfig::default().with_unseen(UnseenCategory::Ignore)),
        )
        .fit_batch(&train)
        .unwrap();
    let features = ["age", "city=oslo", "city=rome"];
    // y = age_z + 10·oslo + 100·rome: the answer shows which transforms ran.
    let signature = Signature::new(vec![
        FieldSpec::new("age", DataType::Float64, true)
            .with_constraints(FieldConstraints::none().with_range(NumericRange::new(18.0, 65.0).unwrap())),
        FieldSpec::new("city", DataType::Utf8, false)
            .with_constraints(FieldConstraints::none().with_allowed_values(["oslo", "rome"])),
    ])
    .unwrap();
    let package = PackageBuilder::new("with-transforms")
        .weights(safetensors(&[("0.weight".into(), vec![1, 3], vec![1.0, 10.0, 100.0]), ("0.bias".into(), vec![1], vec![0.0])]))
        .model_config(serde_json::json!({"architecture": "linear", "inputs": 3, "outputs": 1, "output": "identity", "features": features}))
        .transforms_json(pipeline.to_json().unwrap().into_bytes())
        .input_signature(signature)
        .build()
        .unwrap();
    let request = RecordBatch::try_from_iter([
        (
            "city",
            Arc::new(StringArray::from(vec!["oslo", "paris", "rome"])) as ArrayRef,
        ),
        (
            "age",
            Arc::new(Float64Array::from(vec![None, Some(30.0), Some(90.0)])) as ArrayRef,
        ),
    ])
    .unwrap();
    let predictor = Predictor::from_package(&package, PredictorConfig::default()).unwrap();
    let p = predictor.predict_detailed(&request).unwrap();
    let y = proba(&p.batch, "prediction");
    let z = |age: f64| ((age - 30.0) / 50f64.sqrt()) as f32;
    assert!(
        (y[0] - (z(30.0) + 10.0)).abs() < 1e-5,
        "null age imputed with the median: {}",
        y[0]
    );
    assert!((y[1] - z(30.0)).abs() < 1e-5, "unseen city is all zeros: {}", y[1]);
    assert!((y[2] - (z(90.0) + 100.0)).abs() < 1e-4);
    // Age 90 and city "paris" break inferred rules: flagged by default, answered anyway.
    let flagged: Vec<(&str, RuleKind, Vec<usize>)> = p
        .flagged
        .iter()
        .map(|v| (v.column.as_str(), v.rule, v.rows.clone()))
        .collect();
    assert_eq!(
        flagged,
        [("age", RuleKind::Range, vec![2]), ("city", RuleKind::Category, vec![1])]
    );
    assert_eq!(p.flagged[1].example.as_deref(), Some("\"paris\""));
    // The same rules can refuse those rows instead.
    let strict = PredictorConfig::default().with_validation(
        ValidationConfig::default()
            .with_out_of_range(RulePolicy::RejectRows)
            .with_unseen_category(RulePolicy::RejectRows),
    );
    let p = Predictor::from_package(&package, strict)
        .unwrap()
        .predict_detailed(&request)
        .unwrap();
    assert_eq!(p.rejected_rows, [1, 2]);
    assert!(p.batch.column(0).is_valid(0) && p.batch.column(0).null_count() == 2);
    let batch_level = PredictorConfig::default()
        .with_validation(ValidationConfig::default().with_unseen_category(RulePolicy::RejectBatch));
    let v = rejected(
        Predictor::from_package(&package, batch_level)
            .unwrap()
            .predict(&request),
    );
    assert_eq!((v[0].column.as_str(), v[0].rule), ("city", RuleKind::Category));
}

#[test]
fn answers_that_are_not_finite_are_errors_never_silent() {
    let weights = vec![
        ("0.weight".to_owned(), vec![2, 2], vec![1.0, 0.0, 0.0, 1.0]),
        ("0.bias".to_owned(), vec![2], vec![f32::NAN, 0.0]),
    ];
    let package = PackageBuilder::new("nan")
        .weights(safetensors(&weights))
        .model_config(serde_json::json!({"architecture": "linear", "inputs": 2, "outputs": 2, "output": "identity", "features": ["f0", "f1"]}))
        .build()
        .unwrap();
    let predictor = Predictor::from_package(&package, PredictorConfig::default()).unwrap();
    let v = rejected(predictor.predict(&feature_batch(2, 3, 1)));
    assert_eq!(
        (v[0].column.as_str(), v[0].rule, v[0].count),
        ("prediction_0", RuleKind::NonFinite, 3)
    );
}

#[test]
fn large_batches_are_cut_into_pieces_with_the_same_answer() {
    let package = mlp_package(&[6, 32, 3], "softmax", None, 4);
    let batch = feature_batch(6, 20_011, 8);
    let whole = Predictor::from_package(
        &package,
        PredictorConfig::default()
            .with_threads(1)
            .with_max_rows_per_piece(1 << 20),
    )
    .unwrap();
    let pieces = Predictor::from_package(
        &package,
        PredictorConfig::default()
            .with_threads(4)
            .with_min_rows_per_thread(10)
            .with_max_rows_per_piece(997),
    )
    .unwrap();
    assert_eq!(whole.predict(&batch).unwrap(), pieces.predict(&batch).unwrap());
}

#[derive(Debug, Default)]
struct Recorder(Mutex<Vec<PredictionEvent>>);

impl PredictionSink for Recorder {
    fn record(&self, event: PredictionEvent) {
        self.0.lock().unwrap().push(event);
    }
    fn record_label(&self, _: &str, _: &str, _: i64, _: LabelValue) {}
}

#[derive(Debug)]
struct Panicking;

impl PredictionSink for Panicking {
    fn record(&self, _: PredictionEvent) {
        panic!("a broken monitor");
    }
    fn record_label(&self, _: &str, _: &str, _: i64, _: LabelValue) {}
}

#[test]
fn every_prediction_reports_an_event_and_a_broken_sink_fails_nothing() {
    let package = mlp_package(&[3, 8, 1], "identity", None, 1);
    let recorder = Arc::new(Recorder::default());
    let config = PredictorConfig::default().with_sink(recorder.clone()).with_version(7);
    let predictor = Predictor::from_package(&package, config).unwrap();
    predictor.predict(&feature_batch(3, 5, 1)).unwrap();
    assert!(predictor.predict(&feature_batch(2, 5, 1)).is_err());
    let events = recorder.0.lock().unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(
        (events[0].model.as_str(), events[0].version, events[0].ok),
        ("test-model", 7, true)
    );
    assert_eq!(events[0].features.as_ref().map(RecordBatch::num_rows), Some(5));
    assert!(!events[1].ok);
    let broken = Predictor::from_package(&package, PredictorConfig::default().with_sink(Arc::new(Panicking))).unwrap();
    assert_eq!(broken.predict(&feature_batch(3, 2, 1)).unwrap().num_rows(), 2);
}

fn with_example(expected: impl FnOnce(&RecordBatch) -> Vec<serde_json::Value>) -> mlops_core::Package {
    let layers = [3, 8, 2];
    let features = feature_names(3);
    let rows = serde_json::json!([{"f0": 0.5, "f1": -1.0, "f2": 2.0}, {"f0": 1, "f1": 0.0, "f2": -0.25}]);
    let config = serde_json::json!({"architecture": "mlp", "layers": layers, "activation": "tanh", "output": "softmax",
        "features": features, "classes": ["a", "b"]});
    let base = PackageBuilder::new("smoke")
        .weights(safetensors(&mlp_weights(&layers, 3)))
        .model_config(config.clone())
        .input_signature(float_signature(&features))
        .build()
        .unwrap();
    let answer = Predictor::from_package(&base, PredictorConfig::default())
        .unwrap()
        .predict(&mlops_serve::rows_to_batch(rows.as_array().unwrap(), &float_signature(&features), "t").unwrap())
        .unwrap();
    PackageBuilder::new("smoke")
        .weights(safetensors(&mlp_weights(&layers, 3)))
        .model_config(config)
        .input_signature(float_signature(&features))
        .example(
            serde_json::to_vec(&rows).unwrap(),
            serde_json::to_vec(&expected(&answer)).unwrap(),
        )
        .build()
        .unwrap()
}

#[test]
fn the_smoke_test_accepts_the_recorded_answer_and_says_by_how_much_another_differs() {
    let good = with_example(mlops_serve::batch_to_rows);
    assert!(Predictor::from_package(&good, PredictorConfig::default().with_required_example(true)).is_ok());
    let off = with_example(|answer| {
        let mut rows = mlops_serve::batch_to_rows(answer);
        let p = rows[1]["proba_b"].as_f64().unwrap();
        rows[1]["proba_b"] = serde_json::json!(p + 0.01);
        rows
    });
    match Predictor::from_package(&off, PredictorConfig::default()) {
        Err(Error::SmokeTestFailed {
            row,
            column,
            difference,
            ..
        }) => {
            assert_eq!((row, column.as_str()), (1, "proba_b"));
            assert!((difference - 0.01).abs() < 1e-6, "{difference}");
        }
        other => panic!("{other:?}"),
    }
    let relabelled = with_example(|answer| {
        let mut rows = mlops_serve::batch_to_rows(answer);
        let flipped = if rows[0]["label"] == "a" { "b" } else { "a" };
        rows[0]["label"] = serde_json::json!(flipped);
        rows
    });
    assert!(matches!(
        Predictor::from_package(&relabelled, PredictorConfig::default()),
        Err(Error::SmokeTestFailed { .. })
    ));
    let bare = mlp_package(&[3, 8, 1], "identity", None, 1);
    let e = Predictor::from_package(&bare, PredictorConfig::default().with_required_example(true)).unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e}");
}

#[test]
fn altered_files_and_untrusted_packages_are_refused() {
    let package = with_example(mlops_serve::batch_to_rows);
    let mut files: std::collections::BTreeMap<String, bytes::Bytes> = package
        .file_names()
        .into_iter()
        .map(|n| (n.clone(), package.read_file(&n).unwrap()))
        .collect();
    let mut weights = files["weights.safetensors"].to_vec();
    let last = weights.len() - 1;
    weights[last] ^= 1;
    files.insert("weights.safetensors".into(), weights.into());
    let e = mlops_core::Package::from_parts(package.manifest_bytes(), files, None).unwrap_err();
    assert!(
        matches!(e, Error::DigestMismatch { .. }) && e.to_string().contains("weights.safetensors"),
        "{e}"
    );
    let signer = mlops_core::PackageSigner::from_secret([7; 32]);
    let keys = TrustedKeys::new().with_key(&signer.key_id()).unwrap();
    let e = Predictor::from_package(&package, PredictorConfig::default().with_trusted_keys(keys.clone())).unwrap_err();
    assert!(matches!(e, Error::SignatureRejected { .. }), "{e}");
    let mut signed = package.clone();
    signed.sign(&signer);
    assert!(Predictor::from_package(&signed, PredictorConfig::default().with_trusted_keys(keys)).is_ok());
}

#[test]
fn the_batcher_and_batch_scoring_give_a_real_model_the_same_answers() {
    use mlops_serve::{Batcher, BatcherConfig, ScoreConfig, score_parquet};
    let predictor = Arc::new(
        Predictor::from_package(
            &mlp_package(&[4, 16, 3], "softmax", None, 5),
            PredictorConfig::default().with_threads(1),
        )
        .unwrap(),
    );
    let batch = feature_batch(4, 64, 3);
    let direct = predictor.predict(&batch).unwrap();
    let batcher = Arc::new(
        Batcher::new(
            predictor.clone(),
            BatcherConfig::default().with_workers(2).with_max_batch_rows(16),
        )
        .unwrap(),
    );
    let answers: Vec<RecordBatch> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..64)
            .map(|row| {
                let (batcher, one) = (batcher.clone(), batch.slice(row, 1));
                s.spawn(move || batcher.predict(one).unwrap().batch)
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (row, answer) in answers.iter().enumerate() {
        let expected = direct.slice(row, 1);
        assert_eq!(
            answer.column(0).as_string::<i32>().value(0),
            expected.column(0).as_string::<i32>().value(0)
        );
        for class in ["proba_0", "proba_1", "proba_2"] {
            assert!(
                close(proba(answer, class)[0], proba(&expected, class)[0]),
                "row {row} {class}"
            );
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.parquet");
    let props = parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_row_count(Some(10))
        .build();
    let mut w =
        parquet::arrow::ArrowWriter::try_new(std::fs::File::create(&input).unwrap(), batch.schema(), Some(props))
            .unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    let output = dir.path().join("out.parquet");
    let report = score_parquet(
        predictor.as_ref(),
        input.as_path(),
        &output,
        ScoreConfig::default().carry(["f0"]),
    )
    .unwrap();
    assert_eq!((report.rows, report.row_groups), (64, 7));
    let scored: Vec<RecordBatch> =
        parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&output).unwrap())
            .unwrap()
            .build()
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
    let scored = arrow_select::concat::concat_batches(&scored[0].schema(), &scored).unwrap();
    assert_eq!(scored.column(0).as_ref(), batch.column(0).as_ref());
    assert_eq!(proba(&scored, "proba_1"), proba(&direct, "proba_1"));
}

/// Small clean batches of float inputs (no transforms) take the door's short
/// way, `Float64` columns as declared and `Float32` ones (which the door
/// would widen exactly); the same values dictionary-encoded go the full way
/// (the door decodes them). All answers must be equal bit for bit, with what
/// the door found (nothing).
#[test]
fn the_doors_short_way_answers_exactly_as_the_full_door() {
    let package = mlp_package(&[5, 16, 3], "softmax", Some(vec!["a", "b", "c"]), 11);
    for threads in [1, 2] {
        let predictor = Predictor::from_package(&package, PredictorConfig::default().with_threads(threads)).unwrap();
        for rows in [1, 2, 3, 4, 5, 17, 300] {
            let source = feature_batch(5, rows, rows as u64);
            let (mut narrow, mut wide, mut encoded) = (Vec::new(), Vec::new(), Vec::new());
            for (field, column) in source.schema().fields().iter().zip(source.columns()) {
                let values: Vec<f32> = column
                    .as_primitive::<arrow_array::types::Float64Type>()
                    .values()
                    .iter()
                    .map(|&v| v as f32)
                    .collect();
                let widened: Vec<f64> = values.iter().map(|&v| f64::from(v)).collect();
                let keys = arrow_array::Int32Array::from((0..rows as i32).collect::<Vec<_>>());
                let dictionary = arrow_array::DictionaryArray::<arrow_array::types::Int32Type>::try_new(
                    keys,
                    Arc::new(Float64Array::from(widened.clone())),
                )
                .unwrap();
                let name = field.name().clone();
                narrow.push((name.clone(), Arc::new(Float32Array::from(values)) as ArrayRef));
                wide.push((name.clone(), Arc::new(Float64Array::from(widened)) as ArrayRef));
                encoded.push((name, Arc::new(dictionary) as ArrayRef));
            }
            let answer = |columns: Vec<(String, ArrayRef)>| {
                predictor
                    .predict_detailed(&RecordBatch::try_from_iter(columns).unwrap())
                    .unwrap()
            };
            let (short, widened, full) = (answer(wide), answer(narrow), answer(encoded));
            assert_eq!(short, full, "{rows} rows, {threads} thread(s)");
            assert_eq!(widened, full, "{rows} rows, {threads} thread(s), Float32 sent");
            assert!(short.rejected.is_empty() && short.flagged.is_empty());
        }
    }
}

/// A float-only model without transforms, where the short way applies, still
/// flags or refuses what breaks a rule: the batch goes down the full door.
#[test]
fn rule_breaking_rows_leave_the_short_way_for_the_full_door() {
    let layers = [2, 4, 1];
    let spec = crate::support::spec(serde_json::json!({
        "architecture": "mlp", "layers": layers, "activation": "relu", "output": "identity", "features": ["a", "b"],
    }));
    let weights = mlops_serve::model::Weights::from_safetensors(
        &safetensors(&mlp_weights(&layers, 3)),
        &spec.architecture.architecture().tensors(),
        &spec,
    )
    .unwrap();
    // Declared in another order than the model reads them, of two float types.
    let signature = Signature::new(vec![
        FieldSpec::new("b", DataType::Float32, false),
        FieldSpec::new("a", DataType::Float64, false)
            .with_constraints(FieldConstraints::none().with_range(NumericRange::new(-1.0, 1.0).unwrap())),
    ])
    .unwrap();
    let build = |validation: ValidationConfig| {
        Predictor::from_parts(
            "m",
            spec.clone(),
            &weights,
            None,
            signature.clone(),
            Signature::default(),
            PredictorConfig::default().with_validation(validation),
        )
        .unwrap()
    };
    let batch = |a: Vec<f64>, b: Vec<f32>| {
        RecordBatch::try_from_iter([
            ("a", Arc::new(Float64Array::from(a)) as ArrayRef),
            ("b", Arc::new(Float32Array::from(b)) as ArrayRef),
        ])
        .unwrap()
    };
    let flagging = build(ValidationConfig::default().with_out_of_range(RulePolicy::Flag));
    let clean = flagging
        .predict_detailed(&batch(vec![0.5, -0.5], vec![1.0, 2.0]))
        .unwrap();
    assert!(clean.flagged.is_empty() && clean.rejected_rows.is_empty());
    // Each row alone (short way) answers as inside the batch.
    for row in 0..2 {
        let alone = flagging
            .predict(&batch(vec![[0.5, -0.5][row]], vec![[1.0, 2.0][row]]))
            .unwrap();
        let (x, y) = (
            alone.column(0).as_primitive::<Float32Type>().value(0),
            clean.batch.column(0).as_primitive::<Float32Type>().value(row),
        );
        assert!(close(x, y), "row {row}: {x} vs {y}");
    }
    let out_of_range = flagging
        .predict_detailed(&batch(vec![0.5, 7.0], vec![1.0, 2.0]))
        .unwrap();
    assert_eq!(out_of_range.flagged.len(), 1);
    assert_eq!(out_of_range.flagged[0].rows, vec![1]);
    let refusing = build(ValidationConfig::default().with_out_of_range(RulePolicy::RejectRows));
    let refused = refusing
        .predict_detailed(&batch(vec![0.5, 7.0], vec![1.0, 2.0]))
        .unwrap();
    assert_eq!(refused.rejected_rows, vec![1]);
    assert!(refused.batch.column(0).is_null(1) && refused.batch.column(0).is_valid(0));
    // `Float64` sent for the `Float32` input would lose precision: refused, naming it.
    let narrowing = RecordBatch::try_from_iter([
        ("a", Arc::new(Float64Array::from(vec![0.5])) as ArrayRef),
        ("b", Arc::new(Float64Array::from(vec![1.0])) as ArrayRef),
    ])
    .unwrap();
    let refusal = rejected(refusing.predict_detailed(&narrowing));
    assert_eq!(refusal.len(), 1);
    assert_eq!(refusal[0].column, "b");
    // A NaN goes to the full door too, which refuses its row by default.
    let nan = refusing
        .predict_detailed(&batch(vec![0.5, 0.1], vec![f32::NAN, 2.0]))
        .unwrap();
    assert_eq!(nan.rejected_rows, vec![0]);
}

/// Concurrent requests of every kind a worker may merge — clean `Float64`
/// rows (packed on the caller when workers are busy), `Float32` rows (another
/// schema), a NaN (packed, refused by the door in the merged batch) and a
/// null (never packed) — each get the answer the predictor gives them alone.
#[test]
fn the_batcher_answers_mixed_requests_as_the_predictor_does_alone() {
    use mlops_serve::{Batcher, BatcherConfig};
    let predictor = Arc::new(
        Predictor::from_package(
            &mlp_package(&[3, 16, 3], "softmax", Some(vec!["a", "b", "c"]), 8),
            PredictorConfig::default().with_threads(1),
        )
        .unwrap(),
    );
    let request = |r: usize| -> RecordBatch {
        let v = |j: usize| ((r * 3 + j) as f64 * 0.37).sin();
        match r % 4 {
            1 => RecordBatch::try_from_iter((0..3).map(|j| {
                (
                    format!("f{j}"),
                    Arc::new(Float32Array::from(vec![v(j) as f32])) as ArrayRef,
                )
            })),
            kind => RecordBatch::try_from_iter((0..3).map(|j| {
                let value = match (kind, j) {
                    (2, 1) => Some(f64::NAN),
                    (3, 2) => None,
                    _ => Some(v(j)),
                };
                (format!("f{j}"), Arc::new(Float64Array::from(vec![value])) as ArrayRef)
            })),
        }
        .unwrap()
    };
    for workers in [1, 2] {
        let batcher = Arc::new(
            Batcher::new(
                predictor.clone(),
                BatcherConfig::default().with_workers(workers).with_max_batch_rows(16),
            )
            .unwrap(),
        );
        let answers: Vec<(usize, mlops_serve::Prediction)> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..96)
                .map(|r| {
                    let (batcher, one) = (batcher.clone(), request(r));
                    s.spawn(move || (r, batcher.predict(one).unwrap()))
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for (r, answer) in answers {
            let alone = predictor.predict_detailed(&request(r)).unwrap();
            assert_eq!(answer.rejected_rows, alone.rejected_rows, "request {r}");
            assert_eq!(answer.rejected_rows.is_empty(), r % 4 < 2, "request {r}");
            let labels = |p: &mlops_serve::Prediction| -> Vec<Option<String>> {
                p.batch
                    .column(0)
                    .as_string::<i32>()
                    .iter()
                    .map(|l| l.map(str::to_owned))
                    .collect()
            };
            assert_eq!(labels(&answer), labels(&alone), "request {r}");
            for class in ["proba_a", "proba_b", "proba_c"] {
                let (got, want) = (
                    answer.batch.column_by_name(class).unwrap(),
                    alone.batch.column_by_name(class).unwrap(),
                );
                assert_eq!(got.is_null(0), want.is_null(0), "request {r} {class}");
                if want.is_valid(0) {
                    assert!(
                        close(proba(&answer.batch, class)[0], proba(&alone.batch, class)[0]),
                        "request {r} {class}"
                    );
                }
            }
        }
        let stats = batcher.stats();
        assert_eq!(stats.requests, 96);
        assert_eq!(stats.failed, 0);
    }
}
