//! A Ballista scheduler that knows `mlops_profile`: the stock scheduler's
//! configuration plus our function (to plan the client's queries) and our
//! codec (the profile configuration travels inside plans). Deploy it as your
//! cluster's scheduler.
//!
//! ```text
//! cargo run --release --example ballista_scheduler -- --bind-host 0.0.0.0 --port 50050
//! ```

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;
use clap::Parser;
use mlops_datafusion::ProfileCodec;

/// A Ballista scheduler with `mlops_profile`.
#[derive(Parser)]
#[command(name = "ballista_scheduler")]
struct Cli {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    bind_host: String,
    /// Port to listen on.
    #[arg(long, default_value_t = 50050)]
    port: u16,
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
    let address: SocketAddr = format!("{}:{}", cli.bind_host, cli.port).parse()?;
    let codec = Arc::new(ProfileCodec::default());
    let mut config = SchedulerConfig {
        bind_host: cli.bind_host.clone(),
        bind_port: cli.port,
        override_logical_codec: Some(codec.clone()),
        override_physical_codec: Some(codec),
        ..SchedulerConfig::default()
    };
    config = config
        .with_override_config_producer(Arc::new(mlops_datafusion::ballista_config))
        .with_override_session_builder(Arc::new(mlops_datafusion::scheduler_session));
    let cluster = BallistaCluster::new_from_config(&config).await?;
    eprintln!("ballista scheduler with mlops_profile listening on {address}");
    start_server(cluster, address, Arc::new(config)).await?;
    Ok(())
}
