//! `import_model` and `predict` as a user runs them: a scikit-learn MLP
//! (the mlops-serve fixture) imported with a sample, scored from a package
//! directory and from a registry, and refused with a clear message when the
//! input or the package is wrong.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, Float64Array, RecordBatch};

use crate::cli::example;

pub(crate) fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../mlops-serve/tests/fixtures/mlp/mlp_softmax_relu")
}

pub(crate) fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The fixture's input rows as a Parquet sample and as a CSV.
pub(crate) fn write_inputs(dir: &Path) -> (PathBuf, PathBuf, usize) {
    let inputs = json(&fixture().join("inputs.json"));
    let names: Vec<String> = serde_json::from_value(inputs["features"].clone()).unwrap();
    let rows: Vec<Vec<f64>> = serde_json::from_value(inputs["rows"].clone()).unwrap();
    let columns: Vec<(String, ArrayRef)> = names
        .iter()
        .enumerate()
        .map(|(j, n)| {
            (
                n.clone(),
                Arc::new(Float64Array::from(rows.iter().map(|r| r[j]).collect::<Vec<_>>())) as ArrayRef,
            )
        })
        .collect();
    let batch = RecordBatch::try_from_iter(columns).unwrap();
    let parquet = dir.join("sample.parquet");
    let mut w =
        parquet::arrow::ArrowWriter::try_new(std::fs::File::create(&parquet).unwrap(), batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    let mut csv = format!("id,{}\n", names.join(","));
    for (i, r) in rows.iter().enumerate() {
        let values: Vec<String> = r.iter().map(|v| format!("{v:?}")).collect();
        csv.push_str(&format!("{i},{}\n", values.join(",")));
    }
    let csv_path = dir.join("requests.csv");
    std::fs::write(&csv_path, csv).unwrap();
    (parquet, csv_path, rows.len())
}

fn run(name: &str, args: &[&str]) -> Output {
    Command::new(example(name)).args(args).output().unwrap()
}

pub(crate) fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `predict --package PKG --input IN --output OUT` plus `extra` flags.
fn predict_package(pkg: &Path, input: &Path, output: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "--package",
        pkg.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    run("predict", &args)
}

/// One JSON value per line of `path`.
fn read_jsonl(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

pub(crate) fn import(dir: &Path, sample: &Path, registry: Option<&str>) -> Output {
    let f = fixture();
    let pkg = dir.join("pkg");
    let mut args = vec![
        "--weights".to_owned(),
        f.join("weights.safetensors").display().to_string(),
        "--architecture".into(),
        f.join("architecture.json").display().to_string(),
        "--name".into(),
        "wine".into(),
        "--out".into(),
        pkg.display().to_string(),
        "--sample".into(),
        sample.display().to_string(),
    ];
    if let Some(url) = registry {
        args.extend(["--registry".to_owned(), url.to_owned()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run("import_model", &args)
}

#[test]
fn an_imported_model_scores_csv_and_parquet_as_scikit_learn_does() {
    let dir = tempfile::tempdir().unwrap();
    let (sample, csv, rows) = write_inputs(dir.path());
    let registry = format!("file://{}", dir.path().join("registry").display());
    let out = import(dir.path(), &sample, Some(&registry));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim().lines().last(),
        Some("1"),
        "the version is printed last"
    );
    let pkg = dir.path().join("pkg");
    for file in [
        "manifest.json",
        "weights.safetensors",
        "input_example.json",
        "expected_output.json",
        "training_profile.json",
    ] {
        assert!(pkg.join(file).exists(), "{file} missing");
    }
    // From the package directory, CSV in, JSON lines out.
    let jsonl = dir.path().join("scores.jsonl");
    let out = predict_package(&pkg, &csv, &jsonl, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let expected = json(&fixture().join("expected.json"));
    let lines = read_jsonl(&jsonl);
    assert_eq!(lines.len(), rows);
    for (row, line) in lines.iter().enumerate() {
        assert_eq!(line["label"], expected["labels"][row], "row {row}");
        for k in 0..3 {
            let got = line[format!("proba_{k}")].as_f64().unwrap();
            let want = expected["outputs"][row][k].as_f64().unwrap();
            assert!((got - want).abs() < 1e-5, "row {row} class {k}: {got} vs {want}");
        }
    }
    // Parquet in, Parquet out: streamed row group by row group, with a progress bar.
    let scores_parquet = dir.path().join("scores.parquet");
    let out = predict_package(&pkg, &sample, &scores_parquet, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("100.0%") && stderr(&out).contains("] "),
        "{}",
        stderr(&out)
    );
    let scored: Vec<RecordBatch> = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
        std::fs::File::open(&scores_parquet).unwrap(),
    )
    .unwrap()
    .build()
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap();
    let labels: Vec<String> = scored
        .iter()
        .flat_map(|b| {
            let c = arrow_array::cast::AsArray::as_string::<i32>(b.column_by_name("label").unwrap().as_ref()).clone();
            (0..c.len()).map(move |i| c.value(i).to_owned()).collect::<Vec<_>>()
        })
        .collect();
    let expected_labels: Vec<String> = serde_json::from_value(expected["labels"].clone()).unwrap();
    assert_eq!(labels, expected_labels);
    // From the registry, Parquet in, CSV out.
    let scores_csv = dir.path().join("scores.csv");
    let out = run(
        "predict",
        &[
            "--registry",
            &registry,
            "--name",
            "wine",
            "--version",
            "1",
            "--input",
            sample.to_str().unwrap(),
            "--output",
            scores_csv.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&scores_csv).unwrap();
    assert!(text.starts_with("label,proba_0,proba_1,proba_2\n"), "{text}");
    assert_eq!(text.lines().count(), rows + 1);
}

#[test]
fn bad_input_and_altered_packages_are_refused_naming_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let (sample, csv, _) = write_inputs(dir.path());
    assert!(import(dir.path(), &sample, None).status.success());
    let pkg = dir.path().join("pkg");
    let output = dir.path().join("out.jsonl");
    let predict = |input: &Path| predict_package(&pkg, input, &output, &[]);
    // A missing column.
    let text = std::fs::read_to_string(&csv).unwrap();
    let without_f3: String = text
        .lines()
        .map(|l| {
            let mut cells: Vec<&str> = l.split(',').collect();
            cells.remove(4);
            cells.join(",") + "\n"
        })
        .collect();
    let missing = dir.path().join("missing.csv");
    std::fs::write(&missing, without_f3).unwrap();
    let out = predict(&missing);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("`f3`") && stderr(&out).contains("missing_column"),
        "{}",
        stderr(&out)
    );
    assert!(!output.exists(), "nothing is written on a refusal");
    // A value that is not a number: the column and the row are named.
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let cells: Vec<String> = lines[3].split(',').map(str::to_owned).collect();
    lines[3] = format!("{},abc,{}", cells[0], cells[2..].join(","));
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, lines.join("\n") + "\n").unwrap();
    let out = predict(&bad);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("column `f0`") && stderr(&out).contains("data row 3") && stderr(&out).contains("\"abc\""),
        "{}",
        stderr(&out)
    );
    // An altered weights file.
    let weights = pkg.join("weights.safetensors");
    let mut bytes = std::fs::read(&weights).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x55;
    std::fs::write(&weights, bytes).unwrap();
    let out = predict(&csv);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("weights.safetensors") && stderr(&out).contains("digest mismatch"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn explain_adds_one_attribution_per_feature_for_the_predicted_class() {
    let dir = tempfile::tempdir().unwrap();
    let (sample, csv, rows) = write_inputs(dir.path());
    let out = import(dir.path(), &sample, None);
    assert!(out.status.success(), "{}", stderr(&out));
    let pkg = dir.path().join("pkg");
    let jsonl = dir.path().join("explained.jsonl");
    let out = predict_package(&pkg, &csv, &jsonl, &["--explain", "--explain-steps", "16"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines = read_jsonl(&jsonl);
    assert_eq!(lines.len(), rows);
    let expected = json(&fixture().join("expected.json"));
    for (i, line) in lines.iter().enumerate() {
        let label = line["label"].as_str().unwrap();
        assert_eq!(label, expected["labels"][i].as_str().unwrap());
        assert_eq!(line["explained_output"], format!("proba_{label}"));
        let attrs: Vec<f64> = (0..13).map(|j| line[format!("attr_f{j}")].as_f64().unwrap()).collect();
        assert!(
            attrs.iter().all(|a| a.is_finite()) && attrs.iter().any(|a| *a != 0.0),
            "row {i}: {attrs:?}"
        );
        // Attributions add up to p(x) − p(baseline), so never beyond ±1.
        assert!(attrs.iter().sum::<f64>().abs() <= 1.0 + 1e-3, "row {i}");
    }
    // Parquet to Parquet with --explain writes the same columns.
    let parquet_out = dir.path().join("explained.parquet");
    let out = predict_package(&pkg, &sample, &parquet_out, &["--explain"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let file = std::fs::File::open(&parquet_out).unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    let names: Vec<String> = reader.schema().fields().iter().map(|f| f.name().clone()).collect();
    assert!(
        names.contains(&"attr_f12".to_owned()) && names.contains(&"explained_output".to_owned()),
        "{names:?}"
    );
}
