//! Profiling throughput: in-memory Arrow batches and Parquet files.

use criterion::{Criterion, Throughput, criterion_group};
use mlops_benches::mixed_batches;
use mlops_data::{ParquetProfiler, ProfileConfig, Profiler};

const ROWS: usize = 1_000_000;

fn profile_arrow(c: &mut Criterion) {
    let mut group = c.benchmark_group("profile_arrow");
    group.sample_size(10);
    // 10 numeric columns: the "numeric values per second including sketches" target.
    let numeric = mixed_batches(ROWS, 10, 0, 8192, 1);
    group.throughput(Throughput::Elements((ROWS * 10) as u64));
    group.bench_function("1M_rows_x_10_numeric", |b| {
        b.iter(|| Profiler::profile_batches(ProfileConfig::default(), &numeric).map(|p| p.num_rows()))
    });
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
    group.sample_size(10);
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
