//! Stage 11: drift injected into the simulated traffic. The monitor compares
//! the recent requests with the training data and raises an alert; its
//! callback is the retraining trigger: a model trained on the recent labelled
//! traffic goes through the same gate as the first one, then a canary.

use std::sync::Arc;

use arrow_array::RecordBatch;
use mlops_core::{ModelPackage, StoreRegistry};
use mlops_monitor::drift::html as drift_html;

use super::canary::{self, RolloutRun};
use super::deploy::{DRIFT_ALERT_SHARE, Deployed};
use super::gate;
use super::traffic::{Draw, Pool};
use super::training::{self, BASELINE_RECIPE, Lab, TrainingData};
use super::{BoxError, Settings};

/// Requests sent between two looks at the monitor's alerts.
const CHUNK: usize = 250;
/// Recent labelled requests the retrained model learns from (and is judged on: every fifth).
const RECENT_ROWS: usize = 3000;

/// What the drift stage left behind.
pub(crate) struct Retrained {
    /// The retrained model's rollout, if it passed the gate.
    pub rollouts: Vec<RolloutRun>,
    /// The recent labelled rows held out from retraining (the model card is computed on them).
    pub recent_holdout: Vec<RecordBatch>,
    /// Wall time just before the drift began: the summary asks which version
    /// was in production then.
    pub before_drift_ms: i64,
}

/// Stage 11.
pub(crate) async fn run(
    settings: &Settings,
    lab: &Lab,
    registry: &Arc<StoreRegistry>,
    deployed: &mut Deployed,
) -> Result<Retrained, BoxError> {
    // Alerts raised before the injection would be about today's traffic, not the downturn.
    deployed.monitor.flush();
    let earlier = deployed.alerts.try_iter().count();
    let before_drift_ms = mlops_core::time::now_ms();
    println!(
        "\n== 11. Drift injected into the traffic: incomes halve, credit scores fall 90 points, loans grow 60 % \
         (monitor alerts when ≥ {:.0} % of the features drift; {earlier} alert(s) before)",
        DRIFT_ALERT_SHARE * 100.0
    );
    let (traffic, _) = canary::traffic_and_new_training_rows(lab)?;
    let drifted = Pool::from_batches(&traffic)?.drifted()?;
    let order = Draw::new(2026).shuffled(drifted.len());
    let mut sent = 0usize;
    let alert = loop {
        if sent >= order.len() {
            break None;
        }
        let end = (sent + CHUNK).min(order.len());
        for &row in &order[sent..end] {
            deployed.serve(&drifted, row, None);
        }
        sent = end;
        // Everything sent so far is seen by the monitor before we look.
        deployed.monitor.flush();
        if let Some(alert) = deployed.alerts.try_iter().next() {
            break Some(alert);
        }
    };
    let Some(alert) = alert else {
        println!("no alert after {sent} drifted requests: nothing to retrain");
        return Ok(Retrained {
            rollouts: Vec::new(),
            recent_holdout: Vec::new(),
            before_drift_ms,
        });
    };
    println!("monitor alert after {sent} drifted requests: {}", alert.message);
    if let Some(report) = alert.drift.as_deref() {
        let drifted_columns: Vec<&str> = report
            .columns
            .iter()
            .filter(|c| c.drifted)
            .map(|c| c.name.as_str())
            .collect();
        std::fs::write(settings.out.join("drift-alert.json"), report.to_json_pretty()?)?;
        std::fs::write(
            settings.out.join("drift-alert.html"),
            drift_html::render(report, "Recent requests vs training data (monitor alert)"),
        )?;
        println!(
            "drifted: {}; wrote {} and drift-alert.html",
            drifted_columns.join(", "),
            settings.out.join("drift-alert.json").display()
        );
    }

    // The trigger: keep serving until enough recent labelled rows exist, then retrain on them.
    let recent_end = RECENT_ROWS.clamp(sent, order.len());
    for &row in &order[sent..recent_end] {
        deployed.serve(&drifted, row, None);
    }
    deployed.monitor.flush();
    // The monitor keeps alerting while the drift lasts; the trigger fired once.
    let repeated = deployed.alerts.try_iter().count();
    let recent = drifted.labelled(&order[..recent_end])?;
    let (fit, holdout) = training::split_every_nth(&[recent], 5)?;
    let profile = training::profile_of(&fit)?;
    let data = TrainingData {
        fit: &fit,
        holdout: &holdout,
        profile: &profile,
        dataset: training::dataset_of("quickstart://recent-traffic", &fit)?,
        parent: Some(deployed.stable),
    };
    let candidate = training::train(lab, BASELINE_RECIPE, &data)?;
    println!(
        "retraining (triggered by the alert; {repeated} repeat(s) since ignored): same recipe on {} recent labelled rows; \
         holdout log loss {:.4} on the {} recent rows held out",
        candidate.rows, candidate.holdout.log_loss, candidate.holdout.count
    );
    println!(
        "retrained model content digest: {}",
        candidate.package.content_digest()?
    );
    let verdict = gate::against_champion(registry, &candidate, &holdout).await?;
    let mut rollouts = Vec::new();
    if let Some(version) = gate::register_if_passed(registry, &candidate, &verdict).await? {
        rollouts.extend(
            canary::rollout(
                deployed,
                registry,
                &drifted,
                &order[recent_end..],
                version,
                "retrained model",
                3,
            )
            .await?,
        );
    }
    Ok(Retrained {
        rollouts,
        recent_holdout: holdout,
        before_drift_ms,
    })
}
