//! Put a model behind HTTP: the Open Inference Protocol (KServe v2), JSON
//! rows, Prometheus metrics, API keys, throttling, and rollouts controlled by
//! an admin endpoint.
//!
//! ```text
//! cargo run --release --example serve_http -- --package churn-pkg --listen 127.0.0.1:8080
//! cargo run --release --example serve_http -- --package churn-v1 --candidate churn-v2 --strategy canary \
//!     --listen 127.0.0.1:8080 --api-keys keys.txt --admin-keys admin-keys.txt --rate 50
//! curl -s -H 'Authorization: Bearer <key>' -d '{"rows": [{"f0": 1.0, …}]}' http://127.0.0.1:8080/predict
//! ```
//!
//! - `--package` (and `--candidate`) take directories written by `import_model --out`;
//!   the model is served under its package name, the package as version 1 and the
//!   candidate as version 2, each smoke-tested and behind its own micro-batcher.
//! - `--api-keys FILE`: one key per line (or `$MLOPS_API_KEYS`, comma-separated);
//!   without either, no authentication. Keys are kept as SHA-256 digests and
//!   compared in constant time; a missing or wrong key gets 401.
//! - `--admin-keys FILE` (or `$MLOPS_ADMIN_KEYS`) enables `/admin/rollout`.
//! - `--rate R`: a token bucket of R requests per second per key (burst
//!   `--burst`), and `--max-in-flight` over all keys: over either, 429 with
//!   `Retry-After`. A full batcher queue is 503.
//! - The first line on stdout is `listening on http://ADDR` (with `--listen
//!   127.0.0.1:0` the port is chosen by the system). Ctrl-C or SIGTERM stops
//!   accepting and lets requests in flight finish.
//!
//! Copy this file and `examples/src/http/` as the starting point of a service.

// The address line on stdout is part of the command-line contract.
#![allow(clippy::print_stdout)]

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use mlops_core::ModelPackage;
use mlops_examples::http::auth::ApiKeys;
use mlops_examples::http::control::{RolloutSettings, StrategyKind};
use mlops_examples::http::{Service, ServiceConfig, serve};
use mlops_serve::deployment::{StepLength, Weight};

/// Serve a model package over HTTP.
#[derive(Parser, Debug)]
#[command(name = "serve_http", about)]
struct Cli {
    /// The package to serve (a directory written by `import_model --out`).
    #[arg(long)]
    package: PathBuf,
    /// A second version of the same model to roll out.
    #[arg(long, requires = "strategy")]
    candidate: Option<PathBuf>,
    /// How to roll the candidate out: canary, blue-green, shadow or ab.
    #[arg(long, requires = "candidate", value_parser = StrategyKind::parse)]
    strategy: Option<StrategyKind>,
    /// Address to listen on (loopback by default).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// API keys, one per line (default: `$MLOPS_API_KEYS`, else no authentication).
    #[arg(long)]
    api_keys: Option<PathBuf>,
    /// Admin keys, one per line (default: `$MLOPS_ADMIN_KEYS`, else admin endpoints disabled).
    #[arg(long)]
    admin_keys: Option<PathBuf>,
    /// Requests per second per key (default: unlimited).
    #[arg(long)]
    rate: Option<f64>,
    /// Requests a key may send at once above its rate.
    #[arg(long, default_value_t = 20.0)]
    burst: f64,
    /// Requests in flight at once, over all keys.
    #[arg(long, default_value_t = 256)]
    max_in_flight: usize,
    /// Largest request body, in bytes.
    #[arg(long, default_value_t = 4 << 20)]
    max_body_bytes: usize,
    /// Canary: the candidate's weight grows by this percentage per step…
    #[arg(long, default_value_t = 10.0)]
    canary_step: f64,
    /// …up to this one, then promotion.
    #[arg(long, default_value_t = 50.0)]
    canary_max: f64,
    /// Each step (or blue/green preview) lasts at least this many seconds…
    #[arg(long, default_value_t = 30.0)]
    step_seconds: f64,
    /// …and at least this many requests to the candidate.
    #[arg(long, default_value_t = 200)]
    step_requests: u64,
    /// Share of requests mirrored to the candidate (shadow, blue/green preview), percent.
    #[arg(long, default_value_t = 20.0)]
    mirror_percent: f64,
}

fn keys(file: Option<&PathBuf>, variable: &str) -> Result<Option<ApiKeys>, String> {
    match file {
        Some(path) => ApiKeys::from_file(path).map(Some),
        None => ApiKeys::from_env(variable).transpose(),
    }
}

fn config(cli: &Cli) -> Result<ServiceConfig, Box<dyn std::error::Error>> {
    let rollout = RolloutSettings {
        canary_step: Weight::percent(cli.canary_step)?,
        canary_max: Weight::percent(cli.canary_max)?,
        step: StepLength::both(Duration::try_from_secs_f64(cli.step_seconds)?, cli.step_requests),
        mirrored: Weight::percent(cli.mirror_percent)?,
        ..RolloutSettings::default()
    };
    if cli.rate.is_some_and(|r| !(r > 0.0 && r.is_finite())) {
        return Err("--rate must be a positive number of requests per second".into());
    }
    Ok(ServiceConfig {
        api_keys: keys(cli.api_keys.as_ref(), "MLOPS_API_KEYS")?,
        admin_keys: keys(cli.admin_keys.as_ref(), "MLOPS_ADMIN_KEYS")?,
        rate: cli.rate,
        burst: cli.burst,
        max_in_flight: cli.max_in_flight,
        max_body_bytes: cli.max_body_bytes,
        rollout,
        ..ServiceConfig::default()
    })
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = interrupt.await;
                return;
            }
        };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let config = config(&cli)?;
    let stable = mlops_examples::package_dir::read(&cli.package).await?;
    let candidate = match &cli.candidate {
        Some(dir) => Some(mlops_examples::package_dir::read(dir).await?),
        None => None,
    };
    let listener = tokio::net::TcpListener::bind(cli.listen).await?;
    println!("listening on http://{}", listener.local_addr()?);
    std::io::stdout().flush()?;
    let service = Service::new(stable.name(), config);
    // Load (and smoke-test) while already answering health checks: ready is
    // 503 until this finishes.
    let loading = {
        let service = service.clone();
        let strategy = cli.strategy;
        tokio::task::spawn_blocking(move || service.go_live(&stable, candidate.as_ref(), strategy))
    };
    let server = tokio::spawn(serve(listener, service.clone(), shutdown_signal()));
    loading.await??;
    eprintln!("model `{}` ready", service.model);
    server.await??;
    eprintln!("stopped");
    Ok(())
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
