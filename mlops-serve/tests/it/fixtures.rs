//! Models trained elsewhere load exactly: every case under
//! `tests/fixtures/mlp/` (scikit-learn models exported in `nn.Sequential`
//! naming, and numpy forward passes; see `tests/fixtures/README.md` and
//! `make_mlp_fixtures.py`) answers as the fixture says, within its tolerance
//! (1e-5 absolute plus 1e-5 relative: f32 arithmetic on outputs near 150).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Float32Type;
use arrow_array::{ArrayRef, Float64Array, RecordBatch};
use mlops_core::Signature;
use mlops_serve::model::{CandleDense, Weights};
use mlops_serve::{Model, ModelSpec, Predict, Predictor, PredictorConfig};

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mlp");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().path()).collect();
    cases.sort();
    cases
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

struct Case {
    name: String,
    spec: ModelSpec,
    weights: Weights,
    batch: RecordBatch,
    outputs: Vec<Vec<f64>>,
    labels: Option<Vec<String>>,
    abs: f64,
    rel: f64,
}

fn load(dir: &Path) -> Case {
    let spec = ModelSpec::from_json_value(&json(&dir.join("architecture.json"))).unwrap();
    let weights = Weights::from_safetensors(
        &std::fs::read(dir.join("weights.safetensors")).unwrap(),
        &spec.architecture.architecture().tensors(),
        &spec,
    )
    .unwrap();
    let inputs = json(&dir.join("inputs.json"));
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
    let expected = json(&dir.join("expected.json"));
    Case {
        name: dir.file_name().unwrap().to_string_lossy().into_owned(),
        spec,
        weights,
        batch: RecordBatch::try_from_iter(columns).unwrap(),
        outputs: serde_json::from_value(expected["outputs"].clone()).unwrap(),
        labels: serde_json::from_value(expected["labels"].clone()).ok(),
        abs: expected["tolerance"]["abs"].as_f64().unwrap(),
        rel: expected["tolerance"]["rel"].as_f64().unwrap(),
    }
}

impl Case {
    fn assert_close(&self, kernel: &str, row: usize, k: usize, got: f32) {
        let want = self.outputs[row][k];
        let allowed = self.abs + self.rel * want.abs();
        let diff = (f64::from(got) - want).abs();
        assert!(
            diff <= allowed,
            "{} ({kernel}): row {row} output {k}: {got} vs {want} (difference {diff:e} > {allowed:e})",
            self.name
        );
    }
}

#[test]
fn every_fixture_case_is_reproduced_by_the_predictor_and_the_candle_kernel() {
    let cases = cases();
    assert!(cases.len() >= 13, "fixture cases missing: {cases:?}");
    for dir in cases {
        let case = load(&dir);
        assert!(
            case.abs <= 1e-5 && case.rel <= 1e-5,
            "{}: tolerance looser than the contract",
            case.name
        );
        let predictor = Predictor::from_parts(
            &case.name,
            case.spec.clone(),
            &case.weights,
            None,
            Signature::default(),
            Signature::default(),
            PredictorConfig::default(),
        )
        .unwrap();
        let answer = predictor.predict(&case.batch).unwrap();
        let rows = case.batch.num_rows();
        let classes = case.spec.class_names();
        // The columns that hold the fixture's outputs, in order.
        let columns: Vec<String> = match (&classes, case.outputs[0].len()) {
            (Some(c), 1) => vec![format!("proba_{}", c[1])],
            (Some(c), _) => c.iter().map(|c| format!("proba_{c}")).collect(),
            (None, 1) => vec!["prediction".into()],
            (None, n) => (0..n).map(|i| format!("prediction_{i}")).collect(),
        };
        for (k, column) in columns.iter().enumerate() {
            let values = answer.column_by_name(column).unwrap().as_primitive::<Float32Type>();
            (0..rows).for_each(|row| case.assert_close("predictor", row, k, values.value(row)));
        }
        if let Some(labels) = &case.labels {
            let got = answer.column_by_name("label").unwrap().as_string::<i32>();
            (0..rows).for_each(|row| assert_eq!(got.value(row), labels[row], "{} row {row}", case.name));
        }
        // The Candle kernel (the CUDA path's code) agrees with the fixtures too.
        let candle = CandleDense::new(
            &case.spec.architecture.dense_stack(case.spec.output),
            &case.weights,
            &candle_core::Device::Cpu,
        )
        .unwrap();
        let features: Vec<f32> = (0..case.batch.num_columns())
            .flat_map(|j| {
                case.batch
                    .column(j)
                    .as_primitive::<arrow_array::types::Float64Type>()
                    .values()
                    .iter()
                    .map(|&v| v as f32)
                    .collect::<Vec<_>>()
            })
            .collect();
        let out = candle.forward_columns(&features, rows).unwrap();
        for k in 0..case.outputs[0].len() {
            (0..rows).for_each(|row| case.assert_close("candle", row, k, out[k * rows + row]));
        }
    }
}
