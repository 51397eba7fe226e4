//! Profiling throughput: in-memory Arrow batches and Parquet files.
//!
//! One iteration profiles 1 M rows (tenths of a second), so 10 samples in
//! criterion's default 5 s (the earlier setting) rest on a few dozen
//! iterations, and a neighbour's build on a shared machine decided the figure. These groups
//! take 30 samples over 20 s after a 5 s warm-up, and the single-core variant
//! pins the work to one rayon thread so that the number does not depend on how
//! many cores happen to be free.

use std::time::Duration;

use criterion::{BenchmarkGroup, Criterion, SamplingMode, Throughput, criterion_group, measurement::WallTime};
use mlops_benches::mixed_batches;
use mlops_data::{ParquetProfiler, ProfileConfig, Profiler};

const ROWS: usize = 1_000_000;

/// Sampling settings shared by the profiling groups: enough samples that the
/// median is stable from one run to the next, and a 5 % noise band. Flat
/// sampling (the same iteration count in every sample) is criterion's advice
/// for iterations this long; linear sampling could not fit 30 samples in 20 s.
fn steady(group: &mut BenchmarkGroup<'_, WallTime>) {
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(30)
        .warm_up_time(Duration::from_secs(5))
        .measurement_time(Duration::from_secs(20))
        .noise_threshold(0.05);
}

fn profile_arrow(c: &mut Criterion) {
    let mut group = c.benchmark_group("profile_arrow");
    steady(&mut group);
    // 10 numeric columns: the "numeric values per second including sketches" figure.
    // Throughput counts every cell, nulls (1 %) included.
    let numeric = mixed_batches(ROWS, 10, 0, 8192, 1);
    group.throughput(Throughput::Elements((ROWS * 10) as u64));
    group.bench_function("1M_rows_x_10_numeric", |b| {
        b.iter(|| Profiler::profile_batches(ProfileConfig::default(), &numeric).map(|p| p.num_rows()))
    });
    match rayon::ThreadPoolBuilder::new().num_threads(1).build() {
        Ok(one) => {
            group.bench_function("1M_rows_x_10_numeric_1_thread", |b| {
                b.iter(|| {
                    one.install(|| Profiler::profile_batches(ProfileConfig::default(), &numeric).map(|p| p.num_rows()))
                })
            });
        }
        Err(e) => eprintln!("profile_arrow: no single-thread pool ({e}); the 1-thread figure is missing"),
    }
    let mixed = mixed_batches(ROWS, 10, 2, 8192, 2);
    group.throughput(Throughput::Elements((ROWS * 12) as u64));
    group.bench_function("1M_rows_x_10_numeric_2_string", |b| {
        b.iter(|| Profiler::profile_batches(ProfileConfig::default(), &mixed).map(|p| p.num_rows()))
    });
    group.finish();
}

fn profile_parquet(c: &mut Criterion) {
    let dir = match tempfile_dir() {
        Some(d) => d,
        None => return,
    };
    let path = dir.join("bench.parquet");
    let batches = mixed_batches(ROWS, 10, 2, 65_536, 3);
    if write(&path, &batches).is_err() {
        return;
    }
    let mut group = c.benchmark_group("profile_parquet");
    steady(&mut group);
    group.throughput(Throughput::Elements((ROWS * 12) as u64));
    group.bench_function("1M_rows_x_12_cols_8_row_groups", |b| {
        b.iter(|| {
            ParquetProfiler::new(ProfileConfig::default())
                .profile_file(&path)
                .map(|p| p.num_rows())
        })
    });
    group.finish();
    let _ = std::fs::remove_dir_all(dir);
}

fn tempfile_dir() -> Option<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("mlops-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok().map(|_| dir)
}

fn write(path: &std::path::Path, batches: &[arrow_array::RecordBatch]) -> Result<(), Box<dyn std::error::Error>> {
    let props = parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_row_count(Some(ROWS / 8))
        .set_compression(parquet::basic::Compression::SNAPPY)
        .build();
    let first = batches.first().ok_or("no batches")?;
    let mut w = parquet::arrow::ArrowWriter::try_new(std::fs::File::create(path)?, first.schema(), Some(props))?;
    for b in batches {
        w.write(b)?;
    }
    w.close()?;
    Ok(())
}

criterion_group!(benches, profile_arrow, profile_parquet);
