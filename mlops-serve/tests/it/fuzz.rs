//! Property tests (fixed seeds, so CI draws the same cases every run): no
//! model description and no batch makes the runtime panic; every refusal is
//! a typed error, and every answer has one row per input row.

use std::sync::{Arc, OnceLock};

use arrow_array::{ArrayRef, BooleanArray, Float32Array, Float64Array, Int64Array, RecordBatch, StringArray};
use mlops_core::Error;
use mlops_serve::{MissingValuePolicy, ModelSpec, Predict, Predictor, PredictorConfig, ValidationConfig};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;

use crate::support::mlp_package;

fn json_leaf() -> impl Strategy<Value = serde_json::Value> {
    prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        (-3i64..70).prop_map(serde_json::Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(serde_json::Value::Null, serde_json::Value::Number)),
        prop::sample::select(vec![
            "mlp", "linear", "logistic", "relu", "gelu", "softmax", "sigmoid", "identity", "f0", "x"
        ])
        .prop_map(serde_json::Value::from),
    ]
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    json_leaf().prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            prop::collection::btree_map("[a-z_]{1,12}", inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

const KEYS: [&str; 10] = [
    "format_version",
    "architecture",
    "layers",
    "activation",
    "output",
    "features",
    "classes",
    "inputs",
    "outputs",
    "tensor_names",
];

fn base_spec() -> serde_json::Value {
    serde_json::json!({"architecture": "mlp", "layers": [3, 4, 2], "activation": "relu", "output": "softmax",
        "features": ["f0", "f1", "f2"], "classes": ["a", "b"]})
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, rng_seed: RngSeed::Fixed(0x5eed_0101), ..ProptestConfig::default() })]

    /// Mutations of a valid description: a field replaced, dropped or added.
    #[test]
    fn any_model_description_parses_or_is_a_typed_error(
        edits in prop::collection::vec((prop::sample::select(KEYS.to_vec()), prop::option::of(json_value())), 0..4)
    ) {
        let mut v = base_spec();
        for (key, value) in edits {
            match value {
                Some(value) => { v[key] = value; }
                None => { v.as_object_mut().unwrap().remove(key); }
            }
        }
        match ModelSpec::from_json_value(&v) {
            Ok(spec) => {
                let arch = spec.architecture.architecture();
                prop_assert_eq!(spec.features.len(), arch.input_width());
                prop_assert!(arch.tensors().iter().all(|t| t.shape.iter().all(|&d| d > 0)));
            }
            Err(e) => prop_assert!(matches!(e, Error::Serialization { .. } | Error::InvalidInput { .. } | Error::UnsupportedVersion { .. }), "{e}"),
        }
    }

    /// Any JSON at all.
    #[test]
    fn arbitrary_json_never_panics(v in json_value()) {
        let _ = ModelSpec::from_json_value(&v).map_err(|e| e.to_string());
    }
}

fn predictor(policy: MissingValuePolicy) -> &'static Predictor {
    static P: OnceLock<Vec<Predictor>> = OnceLock::new();
    let all = P.get_or_init(|| {
        [
            MissingValuePolicy::RejectBatch,
            MissingValuePolicy::RejectRows,
            MissingValuePolicy::Impute,
        ]
        .into_iter()
        .map(|p| {
            let config = PredictorConfig::default().with_validation(ValidationConfig::default().with_missing_values(p));
            Predictor::from_package(&mlp_package(&[3, 8, 2], "softmax", None, 3), config).unwrap()
        })
        .collect()
    });
    match policy {
        MissingValuePolicy::RejectBatch => &all[0],
        MissingValuePolicy::RejectRows => &all[1],
        _ => &all[2],
    }
}

fn special_f64() -> impl Strategy<Value = Option<f64>> {
    prop_oneof![
        4 => (-1e6f64..1e6).prop_map(Some),
        1 => Just(None),
        1 => prop::sample::select(vec![f64::NAN, f64::INFINITY, f64::NEG_INFINITY, f64::MAX, -0.0, 1e-310]).prop_map(Some),
    ]
}

fn column(rows: usize) -> impl Strategy<Value = ArrayRef> {
    prop_oneof![
        4 => prop::collection::vec(special_f64(), rows).prop_map(|v| Arc::new(Float64Array::from(v)) as ArrayRef),
        1 => prop::collection::vec(prop::option::of(any::<f32>()), rows).prop_map(|v| Arc::new(Float32Array::from(v)) as ArrayRef),
        1 => prop::collection::vec(prop::option::of(any::<i64>()), rows).prop_map(|v| Arc::new(Int64Array::from(v)) as ArrayRef),
        1 => prop::collection::vec(prop::option::of("[0-9.e-]{0,6}"), rows).prop_map(|v| Arc::new(StringArray::from(v)) as ArrayRef),
        1 => prop::collection::vec(prop::option::of(any::<bool>()), rows).prop_map(|v| Arc::new(BooleanArray::from(v)) as ArrayRef),
    ]
}

fn batch() -> impl Strategy<Value = RecordBatch> {
    (0usize..40).prop_flat_map(|rows| {
        prop::collection::vec(
            (
                prop::sample::select(vec!["f0", "f1", "f2", "f3", "other"]),
                column(rows),
            ),
            0..6,
        )
        .prop_map(move |cols| {
            let mut seen = std::collections::BTreeSet::new();
            let cols: Vec<(&str, ArrayRef)> = cols.into_iter().filter(|(n, _)| seen.insert(*n)).collect();
            let schema = Arc::new(arrow_schema::Schema::new(
                cols.iter()
                    .map(|(n, a)| arrow_schema::Field::new(*n, a.data_type().clone(), true))
                    .collect::<Vec<_>>(),
            ));
            RecordBatch::try_new_with_options(
                schema,
                cols.into_iter().map(|(_, a)| a).collect(),
                &arrow_array::RecordBatchOptions::new().with_row_count(Some(rows)),
            )
            .unwrap()
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, rng_seed: RngSeed::Fixed(0x5eed_0102), ..ProptestConfig::default() })]

    #[test]
    fn any_batch_gets_an_answer_row_for_row_or_a_typed_refusal(
        batch in batch(),
        policy in prop::sample::select(vec![MissingValuePolicy::RejectBatch, MissingValuePolicy::RejectRows, MissingValuePolicy::Impute]),
    ) {
        match predictor(policy).predict_detailed(&batch) {
            Ok(p) => {
                prop_assert_eq!(p.batch.num_rows(), batch.num_rows());
                prop_assert_eq!(p.batch.schema(), predictor(policy).output_schema());
                // Refused rows are exactly the null answers.
                prop_assert_eq!(p.batch.column(1).null_count(), p.rejected_rows.len());
            }
            Err(e) => prop_assert!(matches!(e, Error::Rejected { .. }), "{e}"),
        }
    }
}
