//! The end-to-end job on the bundled loan-application data, with embedded
//! defaults (local disk, no server): the whole model lifecycle.
//!
//! 1–6. profile, fingerprint, infer rules, validate today's traffic (batch by
//!      batch and from its profile alone), merge partition profiles, persist;
//! 7.   fit the transforms, train an MLP with candle-nn (seeded), evaluate it
//!      on a holdout, gate it against the champion on that holdout, package,
//!      sign and register it (content digest printed: the same on every run);
//! 8–9. deploy the champion, answer today's traffic, report its drift;
//! 10.  roll out two candidates as canaries on simulated traffic in virtual
//!      time: one is rolled back by its gate, the other promoted, and the
//!      registry alias follows with the reason;
//! 11.  inject drift: the monitor alerts, the drift report is written, the
//!      alert triggers retraining on recent data, through the same gate and a canary;
//! 12.  write the production version's model card;
//! 13.  print the rollout history, which version was in production when,
//!      and the production version's lineage.
//!
//! The stages live in `examples/src/quickstart/`, one module each.
//!
//! ```text
//! cargo run --release --example quickstart
//! cargo run --release --example quickstart -- TRAIN.parquet SERVING.parquet --out DIR
//! ```

use std::path::{Path, PathBuf};

use clap::Parser;
use mlops_examples::quickstart::{self, Settings};

fn bundled(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data").join(name)
}

/// The end-to-end job: data checks, training, gating, registry, deployment,
/// canaries, drift, retraining, model card and summary.
#[derive(Parser)]
#[command(name = "quickstart")]
struct Cli {
    /// Training data (default: the bundled loan applications).
    #[arg(value_name = "TRAIN.parquet")]
    train: Option<PathBuf>,
    /// Serving data, labelled (default: the bundled serving traffic).
    #[arg(value_name = "SERVING.parquet")]
    serving: Option<PathBuf>,
    /// Where profiles, rules, the registry, reports and the model card go (default: target/quickstart).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cli = Cli::parse();
    let settings = Settings {
        train: cli.train.unwrap_or_else(|| bundled("train.parquet")),
        serving: cli.serving.unwrap_or_else(|| bundled("serving.parquet")),
        out: cli
            .out
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/quickstart")),
    };
    // The registry is asynchronous (object storage); training and serving are not.
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(quickstart::run(settings))
}
