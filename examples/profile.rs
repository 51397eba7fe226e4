//! Profile a Parquet file and print the profile as JSON on stdout.
//!
//! ```text
//! cargo run --release --example profile -- data/train.parquet
//! cargo run --release --example profile -- file:///abs/path/train.parquet
//! cargo run --release --example profile -- train.parquet --binary train.profile   # compact form too
//! ```
//!
//! Progress goes to stderr, so `> profile.json` captures only the JSON.
//! Copy this file as the starting point of your own profiling job.

// A program whose output is the point: printing is its job.
#![allow(clippy::print_stdout)]

use std::io::Write;
use std::process::ExitCode;

use mlops_data::{ParquetProfiler, Profile, ProfileConfig};

fn usage() -> ExitCode {
    eprintln!("usage: profile <file.parquet | file:///… | s3://…> [--binary OUT] [--pretty]");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (mut source, mut binary, mut pretty) = (None, None, false);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--binary" => match args.next() {
                Some(out) => binary = Some(out),
                None => return usage(),
            },
            "--pretty" => pretty = true,
            "-h" | "--help" => return usage(),
            _ if source.is_none() => source = Some(arg),
            _ => return usage(),
        }
    }
    let Some(source) = source else { return usage() };
    match run(&source, binary.as_deref(), pretty) {
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
    let profile: Profile = if source.contains("://") {
        // Object stores are async; a small runtime drives the I/O while rayon profiles.
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?
            .block_on(profiler.profile_url(source))?
    } else {
        profiler.profile_file(source)?
    };
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
