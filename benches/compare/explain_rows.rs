//! The Rust side of the explanation comparison: Integrated Gradients (32 steps
//! by default) on the inference benchmark's MLP, over its input rows, against
//! the rows' mean as the baseline. Prints one JSON object: rows per second and
//! the global importance (mean |attribution| per feature).
//!
//! `cargo run --release -p mlops-benches --bin explain_rows -- DIR [ROWS] [STEPS]`
//! (run by `benches/compare/run_explain_comparison.sh`, next to SHAP's KernelExplainer).
#![allow(clippy::print_stdout)]

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use arrow_array::{ArrayRef, Float32Array, RecordBatch};
use mlops_core::Signature;
use mlops_serve::explain::Explainer;
use mlops_serve::model::Weights;
use mlops_serve::{ModelSpec, Predictor, PredictorConfig};

type Failure = Box<dyn std::error::Error>;

fn main() -> Result<(), Failure> {
    let args: Vec<String> = std::env::args().collect();
    let dir = Path::new(args.get(1).ok_or("usage: explain_rows DIR [ROWS] [STEPS]")?);
    let rows: usize = args.get(2).map_or(Ok(1024), |s| s.parse())?;
    let steps: usize = args.get(3).map_or(Ok(32), |s| s.parse())?;
    let spec = ModelSpec::from_json(&std::fs::read_to_string(dir.join("architecture.json"))?)?;
    let weights = Weights::from_safetensors(
        &std::fs::read(dir.join("weights.safetensors"))?,
        &spec.architecture.architecture().tensors(),
        &spec,
    )?;
    let width = spec.features.len();
    let bytes = std::fs::read(dir.join("input.f32"))?;
    let values: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let available = values.len() / width;
    let rows = rows.min(available);
    // The baseline SHAP's background stands for: the mean input row.
    let baseline: Vec<f32> = (0..width)
        .map(|j| (0..available).map(|r| values[r * width + j]).sum::<f32>() / available as f32)
        .collect();
    let columns: Vec<(String, ArrayRef)> = spec
        .features
        .iter()
        .enumerate()
        .map(|(j, name)| {
            let column: Vec<f32> = (0..rows).map(|r| values[r * width + j]).collect();
            (name.clone(), Arc::new(Float32Array::from(column)) as ArrayRef)
        })
        .collect();
    let batch = RecordBatch::try_from_iter(columns)?;
    let signature = Signature::from_schema(batch.schema_ref())?;
    let predictor = Predictor::from_parts(
        "bench",
        spec.clone(),
        &weights,
        None,
        signature,
        Signature::default(),
        PredictorConfig::default(),
    )?;
    let explainer = Explainer::from_parts(predictor, &weights, baseline, steps)?;
    // Warm-up, then the timed pass.
    explainer.explain(&batch.slice(0, rows.min(64)))?;
    let started = Instant::now();
    let importance = explainer.global_importance(&batch)?;
    let seconds = started.elapsed().as_secs_f64();
    let by_feature: serde_json::Map<String, serde_json::Value> = importance
        .iter()
        .map(|(f, v)| (f.clone(), serde_json::json!(v)))
        .collect();
    println!(
        "{}",
        serde_json::json!({
            "explainer": "mlops-serve integrated gradients",
            "steps": steps,
            "rows": rows,
            "seconds": seconds,
            "rows_per_s": rows as f64 / seconds,
            "importance": by_feature,
        })
    );
    Ok(())
}
