//! Compare current data with a reference and report drift per column, as
//! Evidently's `DataDriftPreset` does by default.
//!
//! ```text
//! cargo run --release --example drift_report -- --reference data/train.parquet --current data/serving.parquet
//! cargo run --release --example drift_report -- --reference REF.parquet --current CUR.parquet --json out.json --html out.html
//! ```
//!
//! Without `--json` the JSON report goes to stdout: `dataset_drift`,
//! `drift_share`, and `columns` with `name`, `method`, `score` (p-value for
//! tests, distance otherwise), `threshold`, `drifted`, and more.

// A program whose output is the point: printing is its job.
#![allow(clippy::print_stdout)]

use std::process::ExitCode;

use clap::Parser;
use mlops_monitor::drift::{DataDrift, DriftConfig, html};

/// Compare current data with a reference and report drift per column (JSON, optionally HTML).
#[derive(Parser)]
#[command(name = "drift_report")]
struct Cli {
    /// The reference data: a Parquet file or URL (file://, s3://).
    #[arg(long, value_name = "REF.parquet")]
    reference: String,
    /// The current data: a Parquet file or URL.
    #[arg(long, value_name = "CUR.parquet")]
    current: String,
    /// Write the JSON report here instead of stdout.
    #[arg(long, value_name = "OUT.json")]
    json: Option<String>,
    /// Also write an HTML report here.
    #[arg(long, value_name = "OUT.html")]
    html: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli.reference, &cli.current, cli.json.as_deref(), cli.html.as_deref()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(
    reference: &str,
    current: &str,
    json: Option<&str>,
    html_out: Option<&str>,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let started = std::time::Instant::now();
    // Column by column: each column is read (row groups in parallel) when its
    // turn comes and dropped once compared, so memory holds a few columns.
    let report = DataDrift::new(DriftConfig::default()).compare_parquet(reference, current)?;
    eprintln!(
        "{} of {} columns drifted (dataset drift: {}) in {:.2?}",
        report.number_of_drifted_columns,
        report.number_of_columns,
        report.dataset_drift,
        started.elapsed()
    );
    let text = report.to_json_pretty()?;
    match json {
        Some(path) => std::fs::write(path, &text)?,
        None => println!("{text}"),
    }
    if let Some(path) = html_out {
        std::fs::write(
            path,
            html::render(&report, &format!("Data drift: {current} vs {reference}")),
        )?;
    }
    Ok(())
}
