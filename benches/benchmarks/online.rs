//! Online detector throughput: updates per second on a stream with one shift.

use criterion::{Criterion, Throughput, criterion_group};
use mlops_benches::Rng;
use mlops_monitor::online::{Adwin, Ddm, OnlineDetector, PageHinkley};

const N: usize = 1_000_000;

fn run(detector: &mut dyn OnlineDetector, stream: &[f64]) -> usize {
    let mut drifts = 0;
    for &x in stream {
        detector.update(x);
        drifts += usize::from(detector.drift_detected());
    }
    drifts
}

fn online(c: &mut Criterion) {
    let mut rng = Rng::new(5);
    let stream: Vec<f64> = (0..N)
        .map(|i| rng.normal() * 0.1 + if i > N / 2 { 1.0 } else { 0.0 })
        .collect();
    let errors: Vec<f64> = (0..N)
        .map(|i| f64::from(u8::from(rng.uniform() < if i > N / 2 { 0.3 } else { 0.1 })))
        .collect();
    let mut group = c.benchmark_group("online_1M_updates");
    group.sample_size(10);
    group.throughput(Throughput::Elements(N as u64));
    group.bench_function("page_hinkley", |b| b.iter(|| run(&mut PageHinkley::default(), &stream)));
    group.bench_function("adwin", |b| b.iter(|| run(&mut Adwin::default(), &stream)));
    group.bench_function("ddm", |b| b.iter(|| run(&mut Ddm::default(), &errors)));
    group.finish();
}

criterion_group!(benches, online);
