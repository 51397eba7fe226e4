//! The offline gate: a candidate against the current champion on the same
//! holdout, and what registering a candidate means at each stage.

use mlops_core::{OnDuplicate, Registry, Stage, StoreRegistry, VersionSelector};
use mlops_monitor::performance::BinaryMetrics;
use mlops_serve::{MissingValuePolicy, Predictor, PredictorConfig, ValidationConfig};

use super::labels::holdout_metrics;
use super::training::Candidate;
use super::{BoxError, CHAMPION, MODEL};

/// What the gate decided.
pub(crate) enum Verdict {
    /// There is no champion yet: the candidate passes.
    NoChampion,
    /// The candidate is no worse than the champion on the holdout.
    Passed { champion: u64 },
    /// The candidate is worse: it is not registered.
    Failed,
}

/// Validation at the door as the quickstart serves: missing incomes and credit
/// scores go on to the package's transforms, which impute them (the default
/// policy would refuse those rows, since the training data had none). Every
/// evaluation uses it too, so two models are always judged on the same rows.
pub(crate) fn door_config() -> PredictorConfig {
    let door = ValidationConfig::default().with_missing_values(MissingValuePolicy::Impute);
    PredictorConfig::default().with_validation(door)
}

/// [`door_config`] for a registered version.
pub(crate) fn serving_config(version: u64) -> PredictorConfig {
    door_config().with_version(version)
}

/// The champion's version, if there is one.
pub(crate) async fn current_champion(registry: &StoreRegistry) -> Result<Option<u64>, BoxError> {
    match registry.resolve(MODEL, &VersionSelector::Alias(CHAMPION.into())).await {
        Ok(version) => Ok(Some(version)),
        Err(mlops_core::Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The champion's version; an error when there is none.
pub(crate) async fn champion(registry: &StoreRegistry) -> Result<u64, BoxError> {
    current_champion(registry)
        .await?
        .ok_or_else(|| format!("model `{MODEL}` has no `{CHAMPION}` alias").into())
}

/// The candidate passes when its log loss on `holdout` is lower than the
/// champion's on the same rows. Log loss is a proper scoring rule: it judges
/// both ranking and calibration, so a model that ranks as well but whose
/// probabilities moved away from the outcomes (what drift does) loses to one
/// fitted to them. A tie fails: replacing a champion must buy something (and
/// re-running the same training on the same data changes nothing).
pub(crate) async fn against_champion(
    registry: &StoreRegistry,
    candidate: &Candidate,
    holdout: &[arrow_array::RecordBatch],
) -> Result<Verdict, BoxError> {
    let Some(champion) = current_champion(registry).await? else {
        println!("gate: no champion yet; the candidate passes");
        return Ok(Verdict::NoChampion);
    };
    let package = registry.load(MODEL, champion).await?;
    let theirs = holdout_metrics(&Predictor::from_package(&package, serving_config(champion))?, holdout)?;
    let ours = &candidate.holdout;
    println!(
        "gate: candidate log loss {:.4} (AUC {}) against champion (version {champion}) log loss {:.4} (AUC {}) on the same {} rows",
        ours.log_loss,
        auc(ours),
        theirs.log_loss,
        auc(&theirs),
        ours.count
    );
    if ours.count != theirs.count {
        return Err(format!(
            "the gate judged the candidate on {} rows and the champion on {}: both must see the same rows",
            ours.count, theirs.count
        )
        .into());
    }
    if ours.log_loss < theirs.log_loss {
        println!("gate: passed (better than the champion)");
        Ok(Verdict::Passed { champion })
    } else {
        println!("gate: the candidate is no better; it is not registered and version {champion} stays champion");
        Ok(Verdict::Failed)
    }
}

fn auc(m: &BinaryMetrics) -> String {
    m.roc_auc.map_or("undefined".into(), |a| format!("{a:.4}"))
}

/// Registers a candidate that passed the gate, unless its content is already
/// registered. The first model (no champion before it) becomes `champion` in
/// production at once; a later one goes to staging, for a rollout to promote.
/// Returns the version to roll out: `None` when the gate failed or the
/// content was registered before and retired.
pub(crate) async fn register_if_passed(
    registry: &StoreRegistry,
    candidate: &Candidate,
    verdict: &Verdict,
) -> Result<Option<u64>, BoxError> {
    if matches!(verdict, Verdict::Failed) {
        return Ok(None);
    }
    let Some(version) = register(registry, candidate).await? else {
        return Ok(None);
    };
    match verdict {
        Verdict::NoChampion => {
            registry.set_alias(MODEL, CHAMPION, version).await?;
            move_to(registry, version, Stage::Production, "first model: no champion to beat").await?;
            println!("loan-default version {version}: alias {CHAMPION}, stage production");
        }
        Verdict::Passed { champion } if *champion != version => println!(
            "version {version} is a candidate: the champion (version {champion}) changes only through a rollout"
        ),
        _ => {}
    }
    Ok(Some(version))
}

/// Registers `candidate` in staging, or finds the version that already holds
/// its content. `None` when that version was archived: a model retired
/// once (rolled back, or replaced) is not rolled out again by re-running the
/// same training; its record says why it was retired.
pub(crate) async fn register(registry: &StoreRegistry, candidate: &Candidate) -> Result<Option<u64>, BoxError> {
    let registration = registry
        .register_deduplicated(&candidate.package, OnDuplicate::ReturnExisting)
        .await?;
    let version = registration.version;
    if registration.created {
        move_to(registry, version, Stage::Staging, "registered as a candidate").await?;
        println!("registered loan-default version {version} (staging)");
        return Ok(Some(version));
    }
    let stage = stage_of(registry, version).await?;
    if stage == Stage::Archived {
        let why = registry
            .stage_history(MODEL, version)
            .await?
            .into_iter()
            .rev()
            .find_map(|e| e.reason)
            .unwrap_or_else(|| "no reason recorded".into());
        println!(
            "this content is already registered as loan-default version {version}, archived ({why}): nothing new registered, not rolled out again"
        );
        return Ok(None);
    }
    println!("this content is already registered as loan-default version {version}: nothing new registered");
    Ok(Some(version))
}

/// The stage `version` is in.
async fn stage_of(registry: &StoreRegistry, version: u64) -> Result<Stage, BoxError> {
    registry
        .list_versions(MODEL)
        .await?
        .into_iter()
        .find(|v| v.version == version)
        .map(|v| v.stage)
        .ok_or_else(|| format!("version {version} of {MODEL} is not in the registry").into())
}

/// Moves `version` to `stage` when the registry's stage rules allow it (a
/// version already there, or one that cannot go there, stays where it is).
pub(crate) async fn move_to(
    registry: &StoreRegistry,
    version: u64,
    stage: Stage,
    reason: &str,
) -> Result<(), BoxError> {
    let current = stage_of(registry, version).await?;
    if current != stage && current.can_move_to(stage) {
        registry.transition(MODEL, version, stage, Some(reason)).await?;
    }
    Ok(())
}
