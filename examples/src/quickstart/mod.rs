//! The quickstart: the whole model lifecycle on the bundled data, one stage per module.
//!
//! ```text
//! data checks ─▶ train, evaluate, gate, register ─▶ deploy ─▶ canaries (virtual time)
//!   ─▶ injected drift ─▶ monitor alert ─▶ retrain ─▶ same gate ─▶ canary ─▶ summary
//! ```
//!
//! - `data_checks`: profile, fingerprint, rules, validation, merge, persistence.
//! - `training`: one function builds every candidate (the first model, the
//!   canary candidates, the retrained one) from a `Recipe` and its data.
//! - `gate`: a candidate against the champion on the same holdout.
//! - `traffic` and `labels`: simulated serving traffic with labels that arrive late.
//! - `deploy`: the deployment, its monitor, today's traffic and its drift report.
//! - `canary`: a rollout driven by that traffic on a virtual clock.
//! - `retraining`: drift injected, the monitor's alert, the retraining it triggers.
//! - `card`: the production version's model card.
//! - `summary`: rollout history, the alias at a given time, lineage.
//!
//! Everything runs on embedded defaults: local disk, no service.

// A program whose output is the point: the stages print their progress.
#![allow(clippy::print_stdout)]

mod canary;
mod card;
mod data_checks;
mod deploy;
mod gate;
mod labels;
mod retraining;
mod summary;
mod traffic;
mod training;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use mlops_core::{PackageSigner, StoreRegistry, TrustedKeys};

/// What every stage returns on failure: the error, for `main` to print.
pub type BoxError = Box<dyn std::error::Error>;

/// The model every stage works on.
pub(crate) const MODEL: &str = "loan-default";
/// The registry alias that names the production version.
pub(crate) const CHAMPION: &str = "champion";

/// Where the quickstart reads and writes.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Training data (Parquet).
    pub train: PathBuf,
    /// Serving traffic (Parquet, labelled: the `defaulted` column).
    pub serving: PathBuf,
    /// Where profiles, rules, the registry, reports and the model card go.
    pub out: PathBuf,
}

/// Runs every stage in order; the registry in `out` persists between runs,
/// so a second run starts from the first one's champion.
pub async fn run(settings: Settings) -> Result<(), BoxError> {
    let run_started_ms = mlops_core::time::now_ms();
    std::fs::create_dir_all(&settings.out)?;
    let settings = Settings {
        train: shown(&settings.train),
        serving: shown(&settings.serving),
        out: shown(&settings.out),
    };
    let checked = data_checks::run(&settings)?;

    // A demo key: real deployments load the secret from their key store.
    let signer = PackageSigner::from_secret(*b"mlops-rs quickstart demo key!!!!");
    let registry = Arc::new(
        StoreRegistry::local(settings.out.join("registry"))?
            .with_actor("quickstart")
            .require_signatures(TrustedKeys::new().with_key(&signer.key_id())?),
    );
    let lab = training::Lab::new(&settings, &checked, signer)?;
    let first = training::first_model(&lab, &registry).await?;
    let mut deployed = deploy::run(&settings, &lab, &registry, first).await?;
    let mut rollouts = canary::candidates(&lab, &registry, &mut deployed).await?;
    let retrained = retraining::run(&settings, &lab, &registry, &mut deployed).await?;
    rollouts.extend(retrained.rollouts);
    let production = card::run(&settings, &registry, &retrained.recent_holdout).await?;
    summary::run(
        &settings,
        &registry,
        &rollouts,
        production,
        run_started_ms,
        retrained.before_drift_ms,
    )
    .await
}

/// `path` as people read it: absolute without `..`, and relative to the
/// current directory when it lies below it.
pub fn shown(path: &Path) -> PathBuf {
    let absolute = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    match std::env::current_dir() {
        Ok(here) => match absolute.strip_prefix(&here) {
            Ok(relative) if !relative.as_os_str().is_empty() => relative.to_path_buf(),
            _ => absolute,
        },
        Err(_) => absolute,
    }
}
