//! Per-sketch costs, to see where profiling time goes.

use criterion::{Criterion, Throughput, criterion_group};
use mlops_benches::{Rng, mixed_batches};
use mlops_data::{Fingerprinter, ProfileConfig, Profiler};

fn sketches(c: &mut Criterion) {
    let mut group = c.benchmark_group("sketches");
    // Iterations take milliseconds: 50 samples over 10 s give a stable median.
    group
        .sample_size(50)
        .warm_up_time(std::time::Duration::from_secs(3))
        .measurement_time(std::time::Duration::from_secs(10))
        .noise_threshold(0.05);
    let mut rng = Rng::new(9);
    let values: Vec<f64> = (0..1_000_000).map(|_| rng.normal()).collect();
    let one_column = vec![
        arrow_array::RecordBatch::try_from_iter([(
            "x",
            std::sync::Arc::new(arrow_array::Float64Array::from(values)) as arrow_array::ArrayRef,
        )])
        .unwrap_or_else(|e| unreachable!("{e}")),
    ];
    group.throughput(Throughput::Elements(1_000_000));
    group.bench_function("numeric_column_1M_one_batch", |b| {
        b.iter(|| Profiler::profile_batches(ProfileConfig::default(), &one_column).map(|p| p.num_rows()))
    });
    let batches = mixed_batches(200_000, 4, 2, 8192, 4);
    group.throughput(Throughput::Elements(200_000));
    group.bench_function("fingerprint_200k_rows_6_cols", |b| {
        b.iter(|| {
            let mut f = Fingerprinter::new();
            for batch in &batches {
                f.update(batch)?;
            }
            f.finish()
        })
    });
    group.finish();
}

criterion_group!(benches, sketches);
