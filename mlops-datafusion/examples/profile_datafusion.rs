//! Profile a directory or glob of Parquet files with DataFusion, locally or
//! on a Ballista cluster, and print the merged profile as JSON on stdout, in
//! exactly the form the `profile` example prints.
//!
//! ```text
//! cargo run --release --example profile_datafusion -- --parquet DIR_OR_GLOB
//! cargo run --release --example profile_datafusion -- --parquet DIR_OR_GLOB --cluster df://127.0.0.1:50050
//! ```
//!
//! Without `--cluster` it runs on a local `SessionContext`, whose partitions
//! profile in parallel. With it, the scheduler plans and the executors
//! profile (start them with the `ballista_scheduler` and `ballista_executor`
//! examples; the files must be readable by every executor). `s3://bucket/prefix/`
//! reads with the usual AWS variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//! `AWS_REGION`, `AWS_ENDPOINT`…), on this machine and on each executor.

// A program whose output is the point: printing is its job.
#![allow(clippy::print_stdout)]

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use datafusion::prelude::SessionConfig;
use mlops_data::ProfileConfig;

/// Profile Parquet files with DataFusion (locally or on Ballista); the profile as JSON on stdout.
#[derive(Parser)]
#[command(name = "profile_datafusion")]
struct Cli {
    /// A directory, a file or a glob of Parquet files (`data/`, `data/day=*/part-*.parquet`).
    #[arg(long, value_name = "DIR_OR_GLOB")]
    parquet: String,
    /// A Ballista scheduler, `df://HOST:PORT`; without it, a local SessionContext.
    #[arg(long, value_name = "df://HOST:PORT")]
    cluster: Option<String>,
    /// Local partitions (default: the number of cores).
    #[arg(long)]
    partitions: Option<usize>,
    /// Indent the JSON.
    #[arg(long)]
    pretty: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Box::new(e) as Box<dyn std::error::Error>)
        .and_then(|runtime| runtime.block_on(run(&cli)));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: &Cli) -> Result<(), Box<dyn std::error::Error>> {
    let started = std::time::Instant::now();
    let ctx = match &cli.cluster {
        Some(url) => mlops_datafusion::connect(url, ProfileConfig::default()).await?,
        None => {
            let mut config = SessionConfig::new();
            if let Some(n) = cli.partitions {
                config = config.with_target_partitions(n);
            }
            mlops_datafusion::local_context(config)?
        }
    };
    let profile = mlops_datafusion::profile_parquet(&ctx, &cli.parquet).await?;
    eprintln!(
        "profiled {} rows × {} columns in {:.2?} ({})",
        profile.num_rows(),
        profile.columns().len(),
        started.elapsed(),
        cli.cluster.as_deref().unwrap_or("local SessionContext")
    );
    let json = if cli.pretty {
        profile.to_json_pretty()?
    } else {
        profile.to_json()?
    };
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{json}")?;
    Ok(())
}
