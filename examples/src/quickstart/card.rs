//! Stage 12: the model card of the version in production at the end: what it
//! is for, its data, how it does per employment type on recent labelled
//! traffic (with fairness gaps), and what drives it (Integrated Gradients).

use arrow_array::RecordBatch;
use mlops_core::{Registry, StoreRegistry};
use mlops_monitor::card::{ModelCard, SegmentMetrics};
use mlops_serve::Predictor;
use mlops_serve::explain::{ExplainConfig, Explainer};

use super::gate::{self, serving_config};
use super::labels::labelled_answers;
use super::{BoxError, MODEL, Settings};

/// Stage 12; returns the production version.
pub(crate) async fn run(
    settings: &Settings,
    registry: &StoreRegistry,
    labelled: &[RecordBatch],
) -> Result<u64, BoxError> {
    let production = gate::champion(registry).await?;
    let package = registry.load(MODEL, production).await?;
    let predictor = Predictor::from_package(&package, serving_config(production))?;
    let explainer = Explainer::from_package(&package, ExplainConfig::default())?;
    let sample = labelled.first().ok_or("no labelled rows for the model card")?;
    let sample = sample.slice(0, sample.num_rows().min(512));
    let importance = explainer.global_importance(&sample)?;
    let answers = labelled_answers(&predictor, labelled, Some("employment"))?;
    let card = ModelCard::from_package(&package)?
        .with_segments(SegmentMetrics::compute(
            "employment",
            &answers.truth,
            &answers.predicted,
            &answers.segments,
        )?)
        .with_importance(importance.clone());
    std::fs::write(settings.out.join("model-card.md"), card.to_markdown())?;
    std::fs::write(settings.out.join("model-card.html"), card.to_html())?;
    let top: Vec<String> = importance
        .iter()
        .take(3)
        .map(|(f, v)| format!("{f} ({v:.4})"))
        .collect();
    println!(
        "\n== 12. Model card of version {production} (in production): wrote {} and model-card.html; \
         metrics per employment type on {} recent labelled rows; top features by mean |attribution|: {}",
        settings.out.join("model-card.md").display(),
        answers.truth.len(),
        top.join(", ")
    );
    Ok(production)
}
