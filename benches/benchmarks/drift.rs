//! Drift methods per column (100k reference vs 100k current values) and a whole
//! 20-column report, so per-method costs and the end-to-end cost are both visible.

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use mlops_benches::Rng;
use mlops_monitor::drift::{DataDrift, DriftConfig, DriftMethod};

const N: usize = 100_000;

fn column(rng: &mut Rng, shift: f64) -> Vec<f64> {
    (0..N).map(|_| rng.normal() + shift).collect()
}

fn methods(c: &mut Criterion) {
    let mut rng = Rng::new(11);
    let (r, cur) = (column(&mut rng, 0.0), column(&mut rng, 0.1));
    let cats = |rng: &mut Rng| -> Vec<String> { (0..N).map(|_| format!("c{}", rng.next_u64() % 12)).collect() };
    let (rc, cc) = (cats(&mut rng), cats(&mut rng));
    let batch = |x: &[f64], s: &[String]| {
        RecordBatch::try_from_iter([
            ("x", Arc::new(Float64Array::from(x.to_vec())) as ArrayRef),
            ("s", Arc::new(StringArray::from(s.to_vec())) as ArrayRef),
        ])
    };
    let (Ok(rb), Ok(cb)) = (batch(&r, &rc), batch(&cur, &cc)) else {
        return;
    };
    let mut group = c.benchmark_group("drift_method_100k_vs_100k");
    group.sample_size(10);
    group.throughput(Throughput::Elements(2 * N as u64));
    for method in [
        DriftMethod::Ks,
        DriftMethod::Wasserstein,
        DriftMethod::JensenShannon,
        DriftMethod::Psi,
        DriftMethod::Hellinger,
        DriftMethod::AndersonDarling,
        DriftMethod::CramerVonMises,
    ] {
        let drift = DataDrift::new(DriftConfig::default().with_column("x", Some(method), None));
        group.bench_function(BenchmarkId::new("numeric", method.name()), |b| {
            b.iter(|| drift.compare(std::slice::from_ref(&rb), std::slice::from_ref(&cb)))
        });
    }
    let chi = DataDrift::new(DriftConfig::default().with_column("s", Some(DriftMethod::ChiSquare), None));
    group.bench_function(BenchmarkId::new("categorical", "chisquare"), |b| {
        b.iter(|| chi.compare(std::slice::from_ref(&rb), std::slice::from_ref(&cb)))
    });
    group.finish();
}

criterion_group!(benches, methods);
