//! Stage 13: what happened, from the records alone: every rollout's history,
//! the champion alias's moves (and which version was in production at a given
//! time), and the lineage of the production version.

use std::sync::Arc;

use mlops_core::time::format_rfc3339;
use mlops_core::{ModelPackage, Registry, Stage, StoreRegistry, TRAINING_PROFILE_FILE};
use mlops_serve::deployment::{RolloutEvent, RolloutHistory};

use super::canary::RolloutRun;
use super::{BoxError, CHAMPION, MODEL, Settings};

/// Stage 13.
pub(crate) async fn run(
    settings: &Settings,
    registry: &Arc<StoreRegistry>,
    rollouts: &[RolloutRun],
    production: u64,
    run_started_ms: i64,
    before_drift_ms: i64,
) -> Result<(), BoxError> {
    println!("\n== 13. Summary");
    if rollouts.is_empty() {
        println!("rollouts: none in this run");
    } else {
        println!("rollouts (virtual time since each rollout began):");
    }
    for run in rollouts {
        println!("  {} — {:?}", run.title, run.phase);
        for line in history_lines(&run.history) {
            println!("    {line}");
        }
    }
    let histories: Vec<&RolloutHistory> = rollouts.iter().map(|r| &r.history).collect();
    std::fs::write(
        settings.out.join("rollouts.json"),
        serde_json::to_string_pretty(&histories)?,
    )?;
    println!(
        "  (every gate reading in {})",
        settings.out.join("rollouts.json").display()
    );

    println!("alias `{CHAMPION}` history:");
    for event in registry.alias_history(MODEL, CHAMPION).await? {
        // The reason is on the stage move that followed the alias move: the
        // first move of that version into production at or after it.
        let reason = match event.version {
            Some(v) => registry
                .stage_history(MODEL, v)
                .await?
                .into_iter()
                .find(|s| s.to == Stage::Production && s.at_ms >= event.at_ms)
                .and_then(|s| s.reason)
                .unwrap_or_default(),
            None => String::new(),
        };
        println!(
            "  {} {} -> {} ({})",
            format_rfc3339(event.at_ms),
            event.previous.map_or("none".to_owned(), |v| format!("version {v}")),
            event.version.map_or("deleted".to_owned(), |v| format!("version {v}")),
            if reason.is_empty() {
                "no reason recorded".to_owned()
            } else {
                reason
            }
        );
    }
    for (when, what) in [
        (run_started_ms, "when this run started"),
        (before_drift_ms, "just before the drift was injected"),
        (mlops_core::time::now_ms(), "now"),
    ] {
        let answer = registry.alias_at(MODEL, CHAMPION, when).await?;
        println!(
            "in production at {} ({what}): {}",
            format_rfc3339(when),
            answer.map_or("no version".to_owned(), |v| format!("version {v}"))
        );
    }

    let lineage = registry.lineage(MODEL, production).await?;
    println!("lineage of version {production} (in production):");
    for d in &lineage.datasets {
        println!("  trained on {} ({} rows) from {}", d.fingerprint, d.num_rows, d.uri);
    }
    let package = registry.load(MODEL, production).await?;
    if package.file_names().iter().any(|f| f == TRAINING_PROFILE_FILE) {
        let profile = mlops_data::Profile::from_json(std::str::from_utf8(&package.read_file(TRAINING_PROFILE_FILE)?)?)?;
        println!(
            "  training profile: {} rows, columns {}",
            mlops_core::DataProfile::num_rows(&profile),
            mlops_core::DataProfile::column_names(&profile).join(", ")
        );
    }
    println!(
        "  parent: {}",
        lineage
            .parent
            .as_ref()
            .map_or("none".to_owned(), |p| format!("{} version {}", p.name, p.version))
    );
    println!("  params: {}", serde_json::to_string(&lineage.params)?);
    let metrics: Vec<String> = lineage.metrics.iter().map(|(k, v)| format!("{k} {v:.4}")).collect();
    println!("  metrics: {}", metrics.join(", "));
    println!(
        "  code version: {}",
        lineage.code_version.as_deref().unwrap_or("unknown")
    );
    println!("  package digest: {}", lineage.digest);
    Ok(())
}

/// One line per step, promotion and rollback; gate checks condensed to the
/// last reading of each step.
fn history_lines(history: &RolloutHistory) -> Vec<String> {
    let mut lines = Vec::new();
    let mut last_check: Option<String> = None;
    let minutes = |d: std::time::Duration| format!("{:>4} min", d.as_secs() / 60);
    for record in &history.records {
        let at = minutes(record.elapsed);
        match &record.event {
            RolloutEvent::Step { step, weight } => {
                lines.extend(last_check.take());
                lines.push(format!("{at}  step {} : candidate takes {weight}", step + 1));
            }
            RolloutEvent::Checked { readings, .. } => {
                let verdicts: Vec<String> = readings
                    .iter()
                    .map(|r| format!("{} {:?} ({})", r.gate, r.verdict, r.detail))
                    .collect();
                last_check = Some(format!("{at}  checked: {}", verdicts.join("; ")));
            }
            RolloutEvent::Promoted { reason } => {
                lines.extend(last_check.take());
                lines.push(format!("{at}  promoted: {reason}"));
            }
            RolloutEvent::RolledBack { reason } => {
                lines.extend(last_check.take());
                lines.push(format!("{at}  rolled back: {reason}"));
            }
            _ => {}
        }
    }
    lines.extend(last_check);
    lines
}
