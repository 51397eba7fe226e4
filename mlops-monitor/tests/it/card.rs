//! Model cards from a real package: every section, escaping, segment metrics
//! and fairness gaps, and the HTML page in headless Chromium (screenshot in
//! target/model-card-screenshot.png).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use arrow_array::{Float64Array, RecordBatch, StringArray};
use arrow_schema::DataType;
use mlops_core::{DatasetRef, Digest, FieldSpec, ModelPackage, PackageBuilder, PackageSigner, Signature};
use mlops_data::{ProfileConfig, Profiler};
use mlops_monitor::card::{ModelCard, SegmentMetrics};

use crate::browser::{chromium_or_skip, console_messages, run_chromium, screenshot};

fn package() -> mlops_core::Package {
    let batch = RecordBatch::try_from_iter([
        (
            "income",
            Arc::new(Float64Array::from(vec![10.0, 20.0, 30.0, 40.0])) as _,
        ),
        (
            "region",
            Arc::new(StringArray::from(vec!["north", "north", "south", "<east>"])) as _,
        ),
    ])
    .unwrap();
    let profile = Profiler::profile_batches(ProfileConfig::default(), &[batch]).unwrap();
    let signer = PackageSigner::from_secret([7; 32]);
    let mut package = PackageBuilder::new("loan-default")
        .weights(mlops_core::testing::safetensors_f32(&[("w", &[2], &[0.5, -1.0])]))
        .input_signature(
            Signature::new(vec![
                FieldSpec::new("income", DataType::Float64, false),
                FieldSpec::new("region", DataType::Utf8, true),
            ])
            .unwrap(),
        )
        .output_signature(Signature::new(vec![FieldSpec::new("proba_yes", DataType::Float32, true)]).unwrap())
        .training_profile(&profile)
        .dataset(DatasetRef {
            uri: "file:///data/train.parquet".into(),
            fingerprint: Digest::of(b"rows"),
            schema: arrow_schema::Schema::empty(),
            num_rows: 4,
        })
        .description("Scores loan applications for <review> by an officer; not for automatic refusals.")
        .param("epochs", serde_json::json!(200))
        .metric("accuracy", 0.875)
        .code_version("3f2c1e9")
        .creator("ci")
        .build()
        .unwrap();
    package.sign(&signer);
    package
}

fn card() -> ModelCard {
    // 8 holdout rows, two regions: the decision favours the north.
    let y_true = [true, false, true, false, true, false, true, true];
    let y_pred = [true, true, true, false, false, false, true, false];
    let groups = ["north", "north", "north", "north", "south", "south", "south", "south"];
    ModelCard::from_package(&package())
        .unwrap()
        .with_segments(SegmentMetrics::compute("region", &y_true, &y_pred, &groups).unwrap())
        .with_importance(vec![("region".into(), 0.05), ("income".into(), 0.31)])
}

#[test]
fn a_card_holds_every_section_from_the_package() {
    let p = package();
    let card = card();
    assert_eq!(card.content_digest, p.content_digest().unwrap().to_string());
    assert_eq!(card.training_rows, Some(4));
    let region = card.training_columns.iter().find(|c| c.name == "region").unwrap();
    assert_eq!(region.top.first().map(String::as_str), Some("north"));
    let income = card.training_columns.iter().find(|c| c.name == "income").unwrap();
    assert_eq!(
        (income.mean, income.min, income.max),
        (Some(25.0), Some(10.0), Some(40.0))
    );
    assert!(card.signed_by.is_some());
    // Segments: north 4 rows, 3 correct, selects 3/4, TPR 2/2; south 4 rows, 2 correct, selects 1/4, TPR 1/3.
    let s = card.segments.as_ref().unwrap();
    let north = &s.rows[0];
    assert_eq!(
        (
            north.segment.as_str(),
            north.count,
            north.accuracy,
            north.selection_rate
        ),
        ("north", 4, 0.75, 0.75)
    );
    assert_eq!(north.true_positive_rate, Some(1.0));
    let south = &s.rows[1];
    assert_eq!((south.accuracy, south.selection_rate), (0.5, 0.25));
    assert!((s.gaps.demographic_parity_difference.unwrap() - 0.5).abs() < 1e-12);
    assert!((s.gaps.equal_opportunity_difference.unwrap() - 2.0 / 3.0).abs() < 1e-12);
    // Importance is sorted, largest first.
    assert_eq!(card.importance[0].0, "income");

    let md = card.to_markdown();
    for needle in [
        "# Model card: loan-default",
        "## Intended use",
        "for <review> by an officer",
        "| income | Float64 | refused |",
        "| proba_yes | Float32 | allowed |",
        "fingerprint `sha256:",
        "4 rows profiled",
        "| accuracy | 0.8750 |",
        "### By `region`",
        "Demographic parity difference: 0.5000",
        "## What drives it",
        "| epochs | 200 |",
        "code version: 3f2c1e9",
    ] {
        assert!(md.contains(needle), "markdown lacks `{needle}`:\n{md}");
    }
    let json: serde_json::Value = serde_json::from_str(&card.to_json().unwrap()).unwrap();
    assert_eq!(json["name"], "loan-default");
}

#[test]
fn the_html_card_is_self_contained_escaped_and_renders_in_chromium() {
    let page = card().to_html();
    assert!(page.contains("for &lt;review&gt; by an officer") && !page.contains("<review>"));
    assert!(
        page.contains("&lt;east&gt;") && !page.contains("<east>"),
        "profile values are escaped"
    );
    for needle in ["<script", "src=", "href=", "url(", "@import"] {
        assert!(!page.contains(needle), "the page contains `{needle}`");
    }
    let Some(browser) = chromium_or_skip() else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("card.html");
    std::fs::write(&file, &page).unwrap();
    let profile = dir.path().join("chrome-profile");
    let dom = run_chromium(browser, &file, &profile, &["--dump-dom"]);
    let text = String::from_utf8_lossy(&dom.stdout);
    assert!(
        text.contains("id=\"title\"") && text.contains("Model card: loan-default"),
        "{text:.400}"
    );
    assert!(
        text.contains("id=\"importance\"") && text.contains("id=\"fairness\""),
        "{text:.400}"
    );
    let console = console_messages(&dom);
    assert!(console.is_empty(), "console messages: {console:?}");
    let target = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target");
    std::fs::create_dir_all(&target).unwrap();
    screenshot(
        browser,
        &file,
        &profile,
        &target.join("model-card-screenshot.png"),
        "1100,1600",
    );
}
