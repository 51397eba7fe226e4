//! Profile a Parquet file and print the profile as JSON on stdout.
//!
//! ```text
//! cargo run --release --example profile -- data/train.parquet
//! cargo run --release --example profile -- file:///abs/path/train.parquet
//! AWS_ENDPOINT=… cargo run --release --example profile -- s3://bucket/train.parquet
//! cargo run --release --example profile -- train.parquet --binary train.profile   # compact form too
//! ```
//!
//! Progress goes to stderr, so `> profile.json` captures only the JSON.
//! Copy this file as the starting point of your own profiling job.

// A program whose output is the point: printing is its job.
#![allow(clippy::print_stdout)]

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use mlops_data::{ParquetProfiler, Profile, ProfileConfig};

/// Profile a Parquet file and print the profile as JSON on stdout (progress on stderr).
#[derive(Parser)]
#[command(name = "profile")]
struct Cli {
    /// A local Parquet file, or a URL: file:///abs/path.parquet, s3://bucket/key.parquet.
    source: String,
    /// Also write the compact binary form of the profile to this file.
    #[arg(long, value_name = "OUT")]
    binary: Option<String>,
    /// Indent the JSON.
    #[arg(long)]
    pretty: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli.source, cli.binary.as_deref(), cli.pretty) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(source: &str, binary: Option<&str>, pretty: bool) -> Result<(), Box<dyn std::error::Error>> {
    let started = std::time::Instant::now();
    let profiler = ParquetProfiler::new(ProfileConfig::default()).with_progress(|p| {
        eprintln!(
            "profiled row group {}/{} ({} of {} rows)",
            p.row_groups_done, p.row_groups_total, p.rows_done, p.rows_total
        )
    });
    // Paths and URLs alike: object-store I/O runs on the reader's own small runtime.
    let profile: Profile = profiler.profile(source)?;
    eprintln!(
        "profiled {} rows × {} columns in {:.2?}",
        profile.num_rows(),
        profile.columns().len(),
        started.elapsed()
    );
    if let Some(out) = binary {
        std::fs::write(out, profile.to_bytes()?)?;
    }
    let json = if pretty {
        profile.to_json_pretty()?
    } else {
        profile.to_json()?
    };
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{json}")?;
    Ok(())
}
