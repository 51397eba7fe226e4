//! A Ballista executor that knows `mlops_profile`: the stock executor's
//! configuration plus our function and codec. Deploy one per node.
//!
//! ```text
//! cargo run --release --example ballista_executor -- --scheduler-host 10.0.0.1 --scheduler-port 50050 \
//!     --port 50051 --grpc-port 50052 --work-dir /var/lib/ballista
//! ```
//!
//! Every few seconds while it works, it reports its share on stderr: rows
//! profiled and bytes of partial profiles shipped (O(columns × sketch size)
//! per partition, whatever the rows). `--without-profile` starts it as a
//! stock executor (no function, no codec): queries that need the function
//! then fail with an error naming it.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use clap::Parser;
use mlops_datafusion::ProfileCodec;

/// A Ballista executor with `mlops_profile`.
#[derive(Parser)]
#[command(name = "ballista_executor")]
struct Cli {
    /// The scheduler's host.
    #[arg(long, default_value = "127.0.0.1")]
    scheduler_host: String,
    /// The scheduler's port.
    #[arg(long, default_value_t = 50050)]
    scheduler_port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    bind_host: String,
    /// Arrow Flight port (shuffle data).
    #[arg(long, default_value_t = 50051)]
    port: u16,
    /// gRPC port.
    #[arg(long, default_value_t = 50052)]
    grpc_port: u16,
    /// Where shuffle files go (default: a temporary directory).
    #[arg(long)]
    work_dir: Option<String>,
    /// Tasks run at once (default: the number of cores).
    #[arg(long)]
    concurrent_tasks: Option<usize>,
    /// Start without `mlops_profile` (as a stock executor would).
    #[arg(long)]
    without_profile: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Box::new(e) as Box<dyn std::error::Error>)
        .and_then(|runtime| runtime.block_on(run(cli)));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let mut config = ExecutorProcessConfig {
        bind_host: cli.bind_host.clone(),
        port: cli.port,
        grpc_port: cli.grpc_port,
        scheduler_host: cli.scheduler_host.clone(),
        scheduler_port: cli.scheduler_port,
        work_dir: cli.work_dir.clone(),
        // s3:// from this node's AWS variables (with the `aws` feature); local paths always.
        override_runtime_producer: Some(Arc::new(mlops_datafusion::executor_runtime)),
        ..ExecutorProcessConfig::default()
    };
    if let Some(n) = cli.concurrent_tasks {
        config.vcores = n;
    }
    if !cli.without_profile {
        let codec = Arc::new(ProfileCodec::default());
        config.override_function_registry = Some(Arc::new(mlops_datafusion::executor_functions()));
        config.override_logical_codec = Some(codec.clone());
        config.override_physical_codec = Some(codec);
        config.override_config_producer = Some(Arc::new(mlops_datafusion::ballista_config));
    }
    eprintln!(
        "ballista executor{} on {}:{} (flight) / {} (grpc), scheduler {}:{}",
        if cli.without_profile {
            " WITHOUT mlops_profile"
        } else {
            " with mlops_profile"
        },
        cli.bind_host,
        cli.port,
        cli.grpc_port,
        cli.scheduler_host,
        cli.scheduler_port
    );
    // The node's share of the work, whenever it changes.
    tokio::spawn(async {
        let mut last = mlops_datafusion::profiling_stats();
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let now = mlops_datafusion::profiling_stats();
            if now != last {
                eprintln!(
                    "mlops_profile work: rows_profiled={} states_shipped={} state_bytes={}",
                    now.rows_profiled, now.states_shipped, now.state_bytes
                );
                last = now;
            }
        }
    });
    start_executor_process(Arc::new(config)).await?;
    Ok(())
}
