//! Test models: seeded random dense weights in `nn.Sequential` naming, and
//! packages holding them.

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, RecordBatch};
use mlops_core::weights::encode_f32;
use mlops_core::{FieldSpec, Package, PackageBuilder, Signature};
use mlops_serve::ModelSpec;

/// Weights `(name, shape, values)` of an MLP with these widths, drawn from a seeded generator.
pub(crate) fn mlp_weights(layers: &[usize], seed: u64) -> Vec<(String, Vec<usize>, Vec<f32>)> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut out = Vec::new();
    for (i, w) in layers.windows(2).enumerate() {
        let scale = (1.0 / w[0] as f32).sqrt();
        let weight: Vec<f32> = (0..w[0] * w[1])
            .map(|_| (rng.f32() * 2.0 - 1.0) * scale * 1.5)
            .collect();
        let bias: Vec<f32> = (0..w[1]).map(|_| rng.f32() - 0.5).collect();
        out.push((format!("{}.weight", 2 * i), vec![w[1], w[0]], weight));
        out.push((format!("{}.bias", 2 * i), vec![w[1]], bias));
    }
    out
}

/// The weights as a safetensors file.
pub(crate) fn safetensors(weights: &[(String, Vec<usize>, Vec<f32>)]) -> Vec<u8> {
    let views: Vec<(&str, &[usize], &[f32])> = weights
        .iter()
        .map(|(n, s, v)| (n.as_str(), s.as_slice(), v.as_slice()))
        .collect();
    encode_f32(&views).unwrap()
}

/// Feature names `f0…f{n-1}`.
pub(crate) fn feature_names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("f{i}")).collect()
}

/// A batch of `rows` rows of `Float64` features `f0…`, seeded.
pub(crate) fn feature_batch(features: usize, rows: usize, seed: u64) -> RecordBatch {
    let mut rng = fastrand::Rng::with_seed(seed);
    let columns: Vec<(String, ArrayRef)> = feature_names(features)
        .into_iter()
        .map(|n| {
            let values: Vec<f64> = (0..rows).map(|_| rng.f64() * 4.0 - 2.0).collect();
            (n, Arc::new(Float64Array::from(values)) as ArrayRef)
        })
        .collect();
    RecordBatch::try_from_iter(columns).unwrap()
}

/// A spec from JSON text.
pub(crate) fn spec(json: serde_json::Value) -> ModelSpec {
    ModelSpec::from_json_value(&json).unwrap()
}

/// Non-null `Float64` fields for the features.
pub(crate) fn float_signature(features: &[String]) -> Signature {
    Signature::new(
        features
            .iter()
            .map(|f| FieldSpec::new(f, arrow_schema::DataType::Float64, false))
            .collect(),
    )
    .unwrap()
}

/// A package of a random MLP, with its signature and no example.
pub(crate) fn mlp_package(layers: &[usize], output: &str, classes: Option<Vec<&str>>, seed: u64) -> Package {
    let features = feature_names(layers[0]);
    let mut config = serde_json::json!({
        "architecture": "mlp", "layers": layers, "activation": "relu", "output": output, "features": features,
    });
    if let Some(c) = classes {
        config["classes"] = serde_json::json!(c);
    }
    PackageBuilder::new("test-model")
        .weights(safetensors(&mlp_weights(layers, seed)))
        .model_config(config)
        .input_signature(float_signature(&features))
        .build()
        .unwrap()
}
