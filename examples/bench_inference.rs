//! Inference throughput and single-row latency of a `Predictor`, on the model
//! and input that `benches/compare/peer_inference.py gen DIR` writes, printed
//! as one JSON line in the format of the Python peers (onnxruntime,
//! scikit-learn, PyTorch), so `benches/compare/run_inference_comparison.sh`
//! puts them side by side.
//!
//! ```text
//! cargo run --release --example bench_inference -- DIR --threads 2 --seconds 2 --latency-iters 20000 --outputs out.f32
//! ```
//!
//! Besides the Predictor (validation, Arrow copies and answer checks on, no
//! transforms), it times the bare forward pass on the same feature-major
//! tensors, so the SDK's own overhead is measured in the same run.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow_array::cast::AsArray;
use arrow_array::types::Float32Type;
use arrow_array::{ArrayRef, Float32Array, RecordBatch};
use clap::Parser;
use mlops_core::Signature;
use mlops_serve::model::Weights;
use mlops_serve::{ModelSpec, Predict, Predictor, PredictorConfig};

/// Times a Predictor on the peers' model and input.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    /// Directory written by `peer_inference.py gen` (weights.safetensors, architecture.json, input.f32).
    dir: PathBuf,
    /// Threads a batch is spread over.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Seconds of timed batch calls.
    #[arg(long, default_value_t = 2.0)]
    seconds: f64,
    /// Timed single-row calls.
    #[arg(long, default_value_t = 20_000)]
    latency_iters: usize,
    /// Writes the batch's outputs here (little-endian f32, row-major) for cross-checking.
    #[arg(long)]
    outputs: Option<PathBuf>,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Median seconds of one call, timed for `seconds` after a warm-up.
fn time_calls(seconds: f64, mut call: impl FnMut()) -> (f64, usize) {
    let warm = Instant::now();
    while warm.elapsed() < Duration::from_millis(500) {
        call();
    }
    let mut times = Vec::new();
    let end = Instant::now() + Duration::from_secs_f64(seconds);
    while Instant::now() < end || times.len() < 5 {
        let t = Instant::now();
        call();
        times.push(t.elapsed().as_secs_f64());
    }
    let n = times.len();
    (median(times), n)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cli = Cli::parse();
    let spec = ModelSpec::from_json(&std::fs::read_to_string(cli.dir.join("architecture.json"))?)?;
    let weights = Weights::from_safetensors(
        &std::fs::read(cli.dir.join("weights.safetensors"))?,
        &spec.architecture.architecture().tensors(),
        &spec,
    )?;
    let features = spec.features.len();
    let raw = std::fs::read(cli.dir.join("input.f32"))?;
    let rows_major: Vec<f32> = raw
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let rows = rows_major.len() / features;
    let columns: Vec<(String, ArrayRef)> = spec
        .features
        .iter()
        .enumerate()
        .map(|(j, name)| {
            let values: Vec<f32> = (0..rows).map(|i| rows_major[i * features + j]).collect();
            (name.clone(), Arc::new(Float32Array::from(values)) as ArrayRef)
        })
        .collect();
    let batch = RecordBatch::try_from_iter(columns)?;
    // Declared as the data is (Float32) so the door does not widen it.
    let signature = Signature::from_schema(batch.schema_ref())?;
    let config = PredictorConfig::default().with_threads(cli.threads);
    let predictor = Predictor::from_parts("bench", spec, &weights, None, signature, Signature::default(), config)?;
    let outputs = predictor.model().output_width();
    let answer = predictor.predict(&batch)?;
    if let Some(path) = &cli.outputs {
        let mut bytes = Vec::with_capacity(rows * outputs * 4);
        for i in 0..rows {
            for k in 0..outputs {
                bytes.extend_from_slice(&answer.column(k).as_primitive::<Float32Type>().value(i).to_le_bytes());
            }
        }
        std::fs::write(path, bytes)?;
    }
    let mut failures = 0usize;
    let (batch_s, batch_runs) = time_calls(cli.seconds, || {
        failures += usize::from(predictor.predict(&batch).is_err())
    });
    // The bare forward pass on the same values, feature-major, one thread: the SDK's overhead baseline.
    let feature_major: Vec<f32> = (0..features)
        .flat_map(|j| (0..rows).map(move |i| (i, j)))
        .map(|(i, j)| rows_major[i * features + j])
        .collect();
    let model = predictor.model();
    let (bare_s, _) = time_calls(cli.seconds, || {
        failures += usize::from(model.forward_columns(&feature_major, rows).is_err())
    });
    let one = batch.slice(0, 1);
    for _ in 0..1000 {
        failures += usize::from(predictor.predict(&one).is_err());
    }
    let mut ns = Vec::with_capacity(cli.latency_iters);
    for _ in 0..cli.latency_iters {
        let t = Instant::now();
        failures += usize::from(predictor.predict(&one).is_err());
        ns.push(t.elapsed().as_nanos() as f64);
    }
    ns.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        ns.get(((ns.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or(f64::NAN)
            / 1e3
    };
    if failures > 0 {
        return Err(format!("{failures} timed calls failed").into());
    }
    let line = serde_json::json!({
        "peer": "mlops-serve", "version": env!("CARGO_PKG_VERSION"), "threads": cli.threads, "batch": rows,
        "rows_per_s": (rows as f64 / batch_s * 10.0).round() / 10.0,
        "p50_us": (pct(0.50) * 100.0).round() / 100.0, "p99_us": (pct(0.99) * 100.0).round() / 100.0,
        "batch_runs": batch_runs, "latency_iters": cli.latency_iters,
        "bare_forward_rows_per_s_1_thread": (rows as f64 / bare_s * 10.0).round() / 10.0,
    });
    #[allow(clippy::print_stdout)]
    {
        println!("{line}");
    }
    Ok(())
}
