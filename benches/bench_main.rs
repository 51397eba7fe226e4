//! Criterion benchmarks: `cargo bench -p mlops-benches` (one module per topic).

mod benchmarks;

criterion::criterion_main!(
    benchmarks::deployment::benches,
    benchmarks::drift::benches,
    benchmarks::online::benches,
    benchmarks::profile::benches,
    benchmarks::sketches::benches,
    benchmarks::registry::benches,
    benchmarks::serve::benches
);
