//! Side-by-side timing of the ways to profile the same Parquet files:
//! our own `ParquetProfiler` (row groups in parallel, files merged), a local
//! DataFusion `SessionContext` with N partitions, and — with `--cluster` — a
//! Ballista cluster. Also what the Arrow 59 → 60 bridge costs on its own,
//! and DataFusion's scan alone (reading, no profiling).
//!
//! Rounds alternate between the methods so that a noisy machine slows them
//! alike; the medians and their ratios are printed.
//!
//! ```text
//! cargo run --release -p mlops-datafusion --example bench_profile_datafusion -- \
//!     --rows 2000000 --files 8 [--cluster df://127.0.0.1:50050] [--rounds 5]
//! ```

// A program whose output is the point: printing is its job.
#![allow(clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};
use mlops_data::{ParquetProfiler, Profile, ProfileConfig};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

/// Time our profiler, DataFusion and Ballista on the same Parquet files.
#[derive(Parser)]
#[command(name = "bench_profile_datafusion")]
struct Cli {
    /// Rows to generate (the bundled loan applications, repeated).
    #[arg(long, default_value_t = 2_000_000)]
    rows: usize,
    /// Files to spread them over.
    #[arg(long, default_value_t = 8)]
    files: usize,
    /// Where the files go (default: target/bench-data/datafusion).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// DataFusion partitions for the local context.
    #[arg(long, default_value_t = 2)]
    partitions: usize,
    /// Rounds per method.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Also profile through this Ballista scheduler (`df://HOST:PORT`).
    #[arg(long)]
    cluster: Option<String>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cli = Cli::parse();
    let dir = cli
        .dir
        .clone()
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-data/datafusion"));
    write_files(&dir, cli.rows, cli.files)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let url = format!("{}/", dir.display());
    let files: Vec<PathBuf> = (0..cli.files).map(|i| dir.join(format!("part-{i}.parquet"))).collect();
    let local = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(cli.partitions));
    mlops_datafusion::register(&local);
    let cluster = match &cli.cluster {
        Some(u) => Some(runtime.block_on(mlops_datafusion::connect(u, ProfileConfig::default()))?),
        None => None,
    };

    let mut times: Vec<(&str, Vec<Duration>)> = vec![
        ("ours: ParquetProfiler", Vec::new()),
        ("DataFusion local", Vec::new()),
        ("DataFusion scan only", Vec::new()),
        ("bridge only", Vec::new()),
    ];
    if cluster.is_some() {
        times.push(("Ballista (2 executors)", Vec::new()));
    }
    let mut rows = 0;
    for _ in 0..cli.rounds {
        // Ours: each file's row groups in parallel, then the files merged.
        let started = Instant::now();
        let profiler = ParquetProfiler::new(ProfileConfig::default());
        let mut ours = Profile::empty(ProfileConfig::default());
        for f in &files {
            ours.merge(&profiler.profile_file(f)?)?;
        }
        times[0].1.push(started.elapsed());
        rows = ours.num_rows();

        let started = Instant::now();
        let theirs = runtime.block_on(mlops_datafusion::profile_parquet(&local, &url))?;
        times[1].1.push(started.elapsed());
        assert_eq!(theirs.num_rows(), rows, "both profiled every row");

        let started = Instant::now();
        let scanned = runtime.block_on(async {
            local
                .read_parquet(url.as_str(), ParquetReadOptions::default())
                .await?
                .collect()
                .await
        })?;
        times[2].1.push(started.elapsed());

        let names: Vec<String> = scanned
            .first()
            .map(|b| b.schema().fields().iter().map(|f| f.name().clone()).collect())
            .unwrap_or_default();
        let started = Instant::now();
        for batch in &scanned {
            let crossed = mlops_datafusion::bridge::batch(batch.columns(), &names)?;
            std::hint::black_box(crossed);
        }
        times[3].1.push(started.elapsed());

        if let Some(ctx) = &cluster {
            let started = Instant::now();
            let remote = runtime.block_on(mlops_datafusion::profile_parquet(ctx, &url))?;
            times[4].1.push(started.elapsed());
            assert_eq!(remote.num_rows(), rows, "the cluster profiled every row");
        }
    }
    println!(
        "{rows} rows × 8 columns in {} files, {} rounds, DataFusion with {} partitions (median, min–max):",
        cli.files, cli.rounds, cli.partitions
    );
    let median = |v: &[Duration]| {
        let mut v = v.to_vec();
        v.sort();
        v[v.len() / 2]
    };
    let base = median(&times[0].1);
    for (name, t) in &times {
        let m = median(t);
        let (lo, hi) = (
            t.iter().min().copied().unwrap_or_default(),
            t.iter().max().copied().unwrap_or_default(),
        );
        println!(
            "  {name:<24} {:>8.1} ms ({:.1}–{:.1})  {:>6.2} M rows/s  {:.2}× ours",
            m.as_secs_f64() * 1e3,
            lo.as_secs_f64() * 1e3,
            hi.as_secs_f64() * 1e3,
            rows as f64 / m.as_secs_f64() / 1e6,
            m.as_secs_f64() / base.as_secs_f64()
        );
    }
    let stats = mlops_datafusion::profiling_stats();
    println!(
        "  this process: {} partial profiles shipped, {:.1} KiB each on average",
        stats.states_shipped,
        stats.state_bytes as f64 / stats.states_shipped.max(1) as f64 / 1024.0
    );
    Ok(())
}

/// The bundled data repeated to `rows` rows over `files` files (kept when already there).
fn write_files(dir: &Path, rows: usize, files: usize) -> Result<(), Box<dyn std::error::Error>> {
    let marker = dir.join(format!(".rows-{rows}-files-{files}"));
    if marker.exists() {
        return Ok(());
    }
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)?;
    let bundled = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/data/train.parquet");
    let batches: Vec<arrow_array::RecordBatch> =
        ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(bundled)?)?
            .build()?
            .collect::<Result<_, _>>()?;
    let schema = batches.first().ok_or("no bundled rows")?.schema();
    let per_file = rows.div_ceil(files);
    for i in 0..files {
        let file = std::fs::File::create(dir.join(format!("part-{i}.parquet")))?;
        let mut writer = ArrowWriter::try_new(file, Arc::clone(&schema), None)?;
        let mut left = per_file.min(rows - i * per_file);
        'fill: loop {
            for b in &batches {
                if left == 0 {
                    break 'fill;
                }
                let take = b.num_rows().min(left);
                writer.write(&b.slice(0, take))?;
                left -= take;
            }
        }
        writer.close()?;
    }
    std::fs::write(marker, b"")?;
    Ok(())
}
