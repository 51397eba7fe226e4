//! Serving: the SDK's overhead over the bare forward pass, and throughput
//! with one and two threads. Model: an MLP 64→256→256→1 (relu), batch 1024
//! rows of `Float32` features; validation on, no transforms. One row also
//! through the door's full way (a value outside its declared range, flagged),
//! against its short way for clean float batches.

use std::sync::Arc;

use arrow_array::{ArrayRef, Float32Array, RecordBatch};
use arrow_schema::DataType;
use criterion::{Criterion, Throughput, criterion_group};
use mlops_benches::Rng;
use mlops_core::{FieldConstraints, FieldSpec, NumericRange, Signature};
use mlops_serve::explain::Explainer;
use mlops_serve::model::Weights;
use mlops_serve::{ModelSpec, Predict, Predictor, PredictorConfig};

const LAYERS: [usize; 4] = [64, 256, 256, 1];
const ROWS: usize = 1024;

type Setup = Result<(ModelSpec, Weights), Box<dyn std::error::Error>>;

fn model() -> Setup {
    let features: Vec<String> = (0..LAYERS[0]).map(|i| format!("f{i}")).collect();
    let spec = ModelSpec::from_json_value(&serde_json::json!({"architecture": "mlp", "layers": LAYERS,
        "activation": "relu", "output": "identity", "features": features}))?;
    let mut rng = Rng::new(11);
    let mut tensors = Vec::new();
    for (i, w) in LAYERS.windows(2).enumerate() {
        let scale = 1.0 / (w[0] as f64).sqrt();
        let weight: Vec<f32> = (0..w[0] * w[1]).map(|_| (rng.normal() * scale) as f32).collect();
        let bias: Vec<f32> = (0..w[1]).map(|_| (rng.normal() * 0.1) as f32).collect();
        tensors.push((format!("{}.weight", 2 * i), vec![w[1], w[0]], weight));
        tensors.push((format!("{}.bias", 2 * i), vec![w[1]], bias));
    }
    let views: Vec<(&str, &[usize], &[f32])> = tensors
        .iter()
        .map(|(n, s, v)| (n.as_str(), s.as_slice(), v.as_slice()))
        .collect();
    let bytes = mlops_core::weights::encode_f32(&views)?;
    let weights = Weights::from_safetensors(&bytes, &spec.architecture.architecture().tensors(), &spec)?;
    Ok((spec, weights))
}

fn batch(rng: &mut Rng) -> Result<RecordBatch, arrow_schema::ArrowError> {
    let columns: Vec<(String, ArrayRef)> = (0..LAYERS[0])
        .map(|j| {
            let values: Vec<f32> = (0..ROWS).map(|_| rng.normal() as f32).collect();
            (format!("f{j}"), Arc::new(Float32Array::from(values)) as ArrayRef)
        })
        .collect();
    RecordBatch::try_from_iter(columns)
}

fn serve(c: &mut Criterion) {
    let setup = || -> Result<_, Box<dyn std::error::Error>> {
        let (spec, weights) = model()?;
        let batch = batch(&mut Rng::new(3))?;
        let signature = Signature::from_schema(batch.schema_ref())?;
        // The same inputs, `f0` declared in [-1, 1]: a row whose `f0` is 3
        // takes the door's full way, which flags it (the default policy),
        // instead of its short way for clean floats.
        let ranged = Signature::new(
            signature
                .fields
                .iter()
                .map(|f| {
                    let field = FieldSpec::new(&f.name, DataType::Float32, false);
                    if f.name == "f0" {
                        NumericRange::new(-1.0, 1.0)
                            .map(|r| field.with_constraints(FieldConstraints::none().with_range(r)))
                    } else {
                        Ok(field)
                    }
                })
                .collect::<Result<Vec<_>, _>>()?,
        )?;
        let predictor = |threads: usize, signature: &Signature| {
            let config = PredictorConfig::default().with_threads(threads);
            Predictor::from_parts(
                "bench",
                spec.clone(),
                &weights,
                None,
                signature.clone(),
                Signature::default(),
                config,
            )
        };
        Ok((
            batch,
            predictor(1, &signature)?,
            predictor(2, &signature)?,
            predictor(1, &ranged)?,
        ))
    };
    let (batch, one, two, full_door) = match setup() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("serve benchmark setup failed: {e}");
            return;
        }
    };
    let features: Vec<f32> = batch
        .columns()
        .iter()
        .flat_map(|c| {
            arrow_array::cast::AsArray::as_primitive::<arrow_array::types::Float32Type>(c.as_ref())
                .values()
                .to_vec()
        })
        .collect();
    let mut group = c.benchmark_group("serve_mlp_64_256_256_1_batch_1024");
    group.throughput(Throughput::Elements(ROWS as u64));
    group.bench_function("bare_forward_1_thread", |b| {
        b.iter(|| one.model().forward_columns(&features, ROWS))
    });
    group.bench_function("predictor_1_thread", |b| b.iter(|| one.predict(&batch)));
    group.bench_function("predictor_2_threads", |b| b.iter(|| two.predict(&batch)));
    group.finish();
    let row = batch.slice(0, 1);
    let mut group = c.benchmark_group("serve_mlp_64_256_256_1_single_row");
    group.bench_function("predictor", |b| b.iter(|| one.predict(&row)));
    let mut columns = row.columns().to_vec();
    columns[0] = Arc::new(Float32Array::from(vec![3.0f32]));
    let flagged_row = match RecordBatch::try_new(row.schema(), columns) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("serve benchmark setup failed: {e}");
            return;
        }
    };
    group.bench_function("predictor_full_door", |b| b.iter(|| full_door.predict(&flagged_row)));
    group.finish();
}

/// Integrated Gradients with 32 steps (32 forward and backward passes per
/// row) on the same model, 256 rows per call: explained rows per second.
fn explain(c: &mut Criterion) {
    let setup = || -> Result<_, Box<dyn std::error::Error>> {
        let (spec, weights) = model()?;
        let batch = batch(&mut Rng::new(3))?.slice(0, 256);
        let signature = Signature::from_schema(batch.schema_ref())?;
        let predictor = Predictor::from_parts(
            "bench",
            spec,
            &weights,
            None,
            signature,
            Signature::default(),
            PredictorConfig::default(),
        )?;
        let explainer = Explainer::from_parts(predictor, &weights, vec![0.0; LAYERS[0]], 32)?;
        Ok((batch, explainer))
    };
    let (batch, explainer) = match setup() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("explain benchmark setup failed: {e}");
            return;
        }
    };
    let mut group = c.benchmark_group("explain_mlp_64_256_256_1_ig_32_steps");
    group.throughput(Throughput::Elements(batch.num_rows() as u64));
    group.sample_size(20);
    group.bench_function("256_rows", |b| b.iter(|| explainer.explain(&batch)));
    group.finish();
}

criterion_group!(benches, serve, explain);
