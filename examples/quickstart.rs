//! The end-to-end job on the bundled loan-application data, with embedded
//! defaults (local disk, no server):
//!
//! 1. profile the training data (Parquet row groups in parallel);
//! 2. fingerprint it for lineage;
//! 3. infer validation rules from the profile;
//! 4. validate today's serving traffic batch by batch, and again from its
//!    profile alone (no raw data needed);
//! 5. show that profiles of partitions merge into the profile of the whole;
//! 6. persist profile, rules and lineage, and read them back;
//! 7. fit the preprocessing, train a small MLP with candle-nn (seeded,
//!    deterministic) on four fifths of the rows, evaluate it on the rest
//!    (accuracy, AUC, log loss), gate it against the current champion on
//!    the same holdout (registered only if no worse), package it (safetensors weights, model spec,
//!    signatures, transforms, training profile, lineage, example, Ed25519
//!    signature) and register it in a local registry: alias `champion`,
//!    stage `production`, verified load, history;
//! 8. serve the champion: load it from the registry, smoke-test it, and
//!    answer the serving traffic through validation at the door;
//! 9. measure drift of the serving traffic against the training data
//!    (Evidently's default methods), writing `drift.json` and `drift.html`;
//! 10. write a model card (`model-card.md`, `model-card.html`): intended
//!     use, signatures, training data, metrics per employment type with
//!     fairness gaps, and global importance by Integrated Gradients.
//!
//! The package's content digest is printed (`content digest: sha256:…`):
//! it leaves out build time and creator, so two runs print the same line,
//! and the second run finds that content already registered.
//!
//! ```text
//! cargo run --release --example quickstart
//! cargo run --release --example quickstart -- TRAIN.parquet SERVING.parquet --out DIR
//! ```

// A program whose output is the point: printing is its job.
#![allow(clippy::print_stdout)]

use std::path::{Path, PathBuf};

use clap::Parser;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type};
use arrow_array::{Array, RecordBatch};
use candle_core::Tensor;
use mlops_core::{
    DataProfile, FieldConstraints, FieldSpec, ModelPackage, NumericRange, OnDuplicate, PackageBuilder, PackageSigner,
    Registry, Signature, Stage, StoreRegistry, TrustedKeys, VersionSelector,
};
use mlops_data::{
    ImputeStrategy, InferConfig, OneHotConfig, ParquetProfiler, Profile, ProfileConfig, TransformPipeline,
    TransformSpec, UnseenCategory, fingerprint_parquet_file, infer_signature, validate_batch, validate_profile,
};
use mlops_monitor::card::{ModelCard, SegmentMetrics};
use mlops_monitor::drift::{DataDrift, DriftConfig, html as drift_html};
use mlops_serve::explain::{ExplainConfig, Explainer};
use mlops_serve::train::{TrainConfig, train_dense};
use mlops_serve::{
    MissingValuePolicy, ModelSpec, Predict, Predictor, PredictorConfig, ValidationConfig, batch_to_rows,
};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

fn bundled(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data").join(name)
}

/// The end-to-end job: profile, fingerprint, validate, train, package, register, drift.
#[derive(Parser)]
#[command(name = "quickstart")]
struct Cli {
    /// Training data (default: the bundled loan applications).
    #[arg(value_name = "TRAIN.parquet")]
    train: Option<PathBuf>,
    /// Serving data (default: the bundled serving traffic).
    #[arg(value_name = "SERVING.parquet")]
    serving: Option<PathBuf>,
    /// Where profiles, rules, the registry and the drift reports go (default: target/quickstart).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cli = Cli::parse();
    // The registry is asynchronous (object storage); profiling and training are not.
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(run(cli))
}

/// `path` as people read it: absolute without `..`, and relative to the
/// current directory when it lies below it.
fn shown(path: &Path) -> PathBuf {
    let absolute = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    match std::env::current_dir() {
        Ok(here) => match absolute.strip_prefix(&here) {
            Ok(relative) if !relative.as_os_str().is_empty() => relative.to_path_buf(),
            _ => absolute,
        },
        Err(_) => absolute,
    }
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let out = cli
        .out
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/quickstart"));
    let train = shown(&cli.train.unwrap_or_else(|| bundled("train.parquet")));
    let serving = shown(&cli.serving.unwrap_or_else(|| bundled("serving.parquet")));
    std::fs::create_dir_all(&out)?;
    let out = shown(&out);

    // 1. Profile the training data.
    let profiler = ParquetProfiler::new(ProfileConfig::default());
    let profile = profiler.profile_file(&train)?;
    println!(
        "== 1. Training profile: {} rows from {}",
        profile.num_rows(),
        train.display()
    );
    println!(
        "{:<14} {:>8} {:>6} {:>12} {:>12} {:>12} {:>10}",
        "column", "count", "nulls", "mean", "p50", "p99", "distinct"
    );
    for name in profile.column_names() {
        let s = profile.summary(&name).ok_or("column vanished")?;
        let fmt = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.2}"));
        println!(
            "{:<14} {:>8} {:>6} {:>12} {:>12} {:>12} {:>10}",
            name,
            s.count,
            s.null_count,
            fmt(s.mean),
            fmt(profile.quantile(&name, 0.5)),
            fmt(profile.quantile(&name, 0.99)),
            // An estimate of a count: whole numbers read as what they are.
            s.distinct.map_or("-".to_owned(), |d| format!("{d:.0}"))
        );
    }

    // 2. Lineage: a fingerprint of the values, independent of file name and layout.
    let dataset = fingerprint_parquet_file(&train)?;
    println!(
        "\n== 2. Dataset fingerprint: {} ({} rows)",
        dataset.fingerprint, dataset.num_rows
    );

    // 3. Rules inferred from the profile.
    let rules = infer_signature(&profile, &InferConfig::default())?;
    println!("\n== 3. Inferred rules");
    for f in &rules.fields {
        let c = &f.constraints;
        let mut parts = vec![
            format!("type {}", f.data_type),
            if f.nullable {
                "nullable".into()
            } else {
                "required".into()
            },
        ];
        if let Some(r) = c.range {
            parts.push(format!("range [{:.2}, {:.2}]", r.min, r.max));
        }
        if let Some(v) = &c.allowed_values {
            parts.push(format!("one of {v:?}"));
        }
        println!("{:<14} {}", f.name, parts.join(", "));
    }

    // 4. Validate serving traffic, batch by batch, then from its profile alone.
    println!("\n== 4. Validating serving traffic from {}", serving.display());
    let reader = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&serving)?)?
        .with_batch_size(500)
        .build()?;
    let mut flagged = 0;
    for (i, batch) in reader.enumerate() {
        let report = validate_batch(&rules, &batch?);
        if !report.is_valid() {
            flagged += 1;
        }
        for v in report.violations.iter().take(if i == 0 { usize::MAX } else { 0 }) {
            println!(
                "batch {i}: {:<14} {:?}: {} ({} values, e.g. {:?})",
                v.column, v.rule, v.message, v.count, v.examples
            );
        }
    }
    println!("{flagged} batches of 500 rows had violations (details shown for the first)");
    let serving_profile = profiler.profile_file(&serving)?;
    let report = validate_profile(&rules, &serving_profile);
    println!("from the serving profile alone:");
    for v in &report.violations {
        println!("  {:<14} {:?}: {}", v.column, v.rule, v.message);
    }

    // 5. Profiles merge: row groups profiled separately equal the whole.
    let halves: Vec<Profile> = (0..2)
        .map(|half| -> Result<Profile, Box<dyn std::error::Error>> {
            let file = std::fs::File::open(&train)?;
            let builder = ParquetRecordBatchReaderBuilder::try_new(file)?;
            let groups: Vec<usize> = (0..builder.metadata().num_row_groups())
                .filter(|g| g % 2 == half)
                .collect();
            let batches: Vec<_> = builder.with_row_groups(groups).build()?.collect::<Result<_, _>>()?;
            Ok(mlops_data::Profiler::profile_batches(
                ProfileConfig::default(),
                &batches,
            )?)
        })
        .collect::<Result<_, _>>()?;
    let mut merged = halves[0].clone();
    merged.merge(&halves[1])?;
    let (a, b) = (
        merged.summary("income").ok_or("income")?,
        profile.summary("income").ok_or("income")?,
    );
    println!(
        "\n== 5. Merged partitions: income count {} = {}, mean {:.6} = {:.6}, max {:?} = {:?}",
        a.count,
        b.count,
        a.mean.unwrap_or(f64::NAN),
        b.mean.unwrap_or(f64::NAN),
        a.max,
        b.max
    );

    // 6. Persist and read back.
    std::fs::write(out.join("train.profile.json"), profile.to_json_pretty()?)?;
    std::fs::write(out.join("train.profile.bin"), profile.to_bytes()?)?;
    std::fs::write(out.join("rules.json"), rules.to_json()?)?;
    std::fs::write(out.join("dataset.json"), serde_json::to_string_pretty(&dataset)?)?;
    let reloaded = Profile::from_bytes(&std::fs::read(out.join("train.profile.bin"))?)?;
    let rules_back = Signature::from_json(&std::fs::read_to_string(out.join("rules.json"))?)?;
    let same = reloaded.to_json()? == profile.to_json()? && rules_back == rules;
    println!(
        "\n== 6. Wrote profile (JSON + binary), rules and lineage to {}; read back identical: {same}",
        out.display()
    );
    if !same {
        return Err("persisted profile did not read back identically".into());
    }

    // 7. Train, package, register.
    let all_rows: Vec<RecordBatch> = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&train)?)?
        .build()?
        .collect::<Result<_, _>>()?;
    // Every fifth row is held out: the model never sees it, the gate judges on it.
    let (batches, holdout) = split_every_nth(&all_rows, 5)?;
    let features = ["age", "income", "credit_score", "loan_amount", "employment"];
    let mut pipeline = TransformPipeline::new().passthrough(false);
    for column in &features[..4] {
        pipeline = pipeline
            .step(*column, TransformSpec::impute(ImputeStrategy::Median))
            .step(*column, TransformSpec::standardize());
    }
    let one_hot = OneHotConfig::default().with_unseen(UnseenCategory::Ignore);
    let fitted = pipeline
        .step("employment", TransformSpec::one_hot(one_hot))
        .fit(&batches)?;
    let (x, y) = design_matrix(&fitted, &batches)?;
    let names = fitted.output_names(&batches.first().ok_or("no training batch")?.schema())?;
    // A small MLP, described once: the same spec trains here and serves below.
    let spec = ModelSpec::from_json_value(&serde_json::json!({
        "architecture": "mlp", "layers": [names.len(), 16, 1], "activation": "relu",
        "output": "sigmoid", "features": names, "classes": ["repaid", "defaulted"],
    }))?;
    let train_config = TrainConfig::default()
        .with_epochs(300)
        .with_learning_rate(0.02)
        .with_seed(7);
    let trained = train_dense(&spec, &x, &y, &train_config)?;
    let log_loss = trained.losses.last().copied().unwrap_or(f64::NAN);
    println!(
        "\n== 7. Trained an MLP {:?} with candle-nn (AdamW, seed {}) on {} rows: log loss {:.4} -> {log_loss:.4}",
        [names.len(), 16, 1],
        train_config.seed,
        y.dims()[0],
        trained.losses.first().copied().unwrap_or(f64::NAN),
    );

    let input_signature = Signature::new(
        rules
            .fields
            .iter()
            .filter(|f| features.contains(&f.name.as_str()))
            .cloned()
            .collect(),
    )?;
    let probability = || NumericRange::new(0.0, 1.0).map(|r| FieldConstraints::none().with_range(r));
    let output_signature = Signature::new(vec![
        FieldSpec::new("label", arrow_schema::DataType::Utf8, true),
        FieldSpec::new("proba_repaid", arrow_schema::DataType::Float32, true).with_constraints(probability()?),
        FieldSpec::new("proba_defaulted", arrow_schema::DataType::Float32, true).with_constraints(probability()?),
    ])?;
    // The example's expected output comes from the serving path itself.
    let trained_predictor = Predictor::from_parts(
        "loan-default",
        spec.clone(),
        &trained.weights,
        Some(fitted.clone()),
        input_signature.clone(),
        output_signature.clone(),
        PredictorConfig::default(),
    )?;
    let head = batches[0].slice(0, 3);
    let scores = holdout_metrics(&trained_predictor, &holdout)?;
    let example_rows: Vec<serde_json::Value> = (0..3).map(|i| row_json(&head, &features, i)).collect();
    let expected = batch_to_rows(&trained_predictor.predict(&head)?);
    let mut package = PackageBuilder::new("loan-default")
        .weights(trained.safetensors.clone())
        .model_config(spec.to_json_value()?)
        .input_signature(input_signature)
        .output_signature(output_signature)
        .transforms_json(fitted.to_json()?.into_bytes())
        .training_profile(&profile)
        .dataset(dataset.clone())
        .param("epochs", serde_json::json!(train_config.epochs))
        .param("learning_rate", serde_json::json!(train_config.learning_rate))
        .param("seed", serde_json::json!(train_config.seed))
        .metric("train_log_loss", log_loss)
        .metric("holdout_accuracy", scores.accuracy)
        .metric("holdout_auc", scores.roc_auc.unwrap_or(f64::NAN))
        .metric("holdout_log_loss", scores.log_loss)
        .code_version(option_env!("GIT_COMMIT").unwrap_or("quickstart"))
        .creator("quickstart")
        .description(
            "Estimates the probability that a loan application defaults, for a credit officer's review \
             queue. Trained on the bundled synthetic applications; not for automatic refusals.",
        )
        .example(serde_json::to_vec(&example_rows)?, serde_json::to_vec(&expected)?)
        .build()?;
    // A demo key: real deployments load the secret from their key store.
    let signer = PackageSigner::from_secret(*b"mlops-rs quickstart demo key!!!!");
    package.sign(&signer);

    let registry_dir = out.join("registry");
    let registry = StoreRegistry::local(&registry_dir)?
        .with_actor("quickstart")
        .require_signatures(TrustedKeys::new().with_key(&signer.key_id())?);
    // The content digest leaves out build time and creator: two runs on the
    // same data, seed and parameters print the same line, and the second
    // finds its model already registered instead of adding a copy.
    let content = package.content_digest()?;
    println!("content digest: {content}");
    println!(
        "holdout ({} rows never trained on): accuracy {:.4}, AUC {:.4}, log loss {:.4}",
        scores.count,
        scores.accuracy,
        scores.roc_auc.unwrap_or(f64::NAN),
        scores.log_loss
    );
    // The gate: a candidate is registered only if it is no worse than the
    // current champion on the same holdout (the first run has no champion).
    let passed = match registry
        .resolve("loan-default", &VersionSelector::Alias("champion".into()))
        .await
    {
        Ok(current) => {
            let champion_package = registry.load("loan-default", current).await?;
            let door = ValidationConfig::default().with_missing_values(MissingValuePolicy::Impute);
            let champion_predictor =
                Predictor::from_package(&champion_package, PredictorConfig::default().with_validation(door))?;
            let theirs = holdout_metrics(&champion_predictor, &holdout)?;
            let (ours_auc, theirs_auc) = (scores.roc_auc.unwrap_or(0.0), theirs.roc_auc.unwrap_or(0.0));
            println!(
                "gate: candidate AUC {ours_auc:.4} against champion (version {current}) AUC {theirs_auc:.4} on the same holdout"
            );
            if ours_auc < theirs_auc {
                println!("gate: the candidate is worse; it is not registered and version {current} stays champion");
            }
            ours_auc >= theirs_auc
        }
        Err(mlops_core::Error::NotFound { .. }) => {
            println!("gate: no champion yet; the candidate passes");
            true
        }
        Err(e) => return Err(e.into()),
    };
    if passed {
        register_candidate(&registry, &package).await?;
    }
    let champion = registry
        .resolve("loan-default", &VersionSelector::Alias("champion".into()))
        .await?;
    let loaded = registry.load("loan-default", champion).await?;
    println!(
        "champion: loan-default version {champion} in {} ({}), loaded and verified {} files",
        registry_dir.display(),
        loaded.digest(),
        loaded.file_names().len()
    );
    let lineage = registry.lineage("loan-default", champion).await?;
    println!(
        "lineage: trained on {} ({} rows), code {:?}, metrics {:?}",
        lineage
            .datasets
            .first()
            .map_or("?".into(), |d| d.fingerprint.to_string()),
        lineage.datasets.first().map_or(0, |d| d.num_rows),
        lineage.code_version,
        lineage.metrics
    );
    let history = registry.alias_history("loan-default", "champion").await?;
    println!(
        "champion history: {} move(s); versions registered so far: {}",
        history.len(),
        registry.list_versions("loan-default").await?.len()
    );

    // 8. Serve: the champion from the registry, smoke-tested, answering today's traffic.
    // Missing incomes and credit scores go on to the package's transforms, which impute them
    // (the default policy would refuse those rows, since the training data had none).
    let door = ValidationConfig::default().with_missing_values(MissingValuePolicy::Impute);
    let config = PredictorConfig::default().with_version(champion).with_validation(door);
    let predictor = Predictor::from_package(&loaded, config)?;
    let serving_batches: Vec<RecordBatch> = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&serving)?)?
        .build()?
        .collect::<Result<_, _>>()?;
    let (mut answered, mut refused, mut flagged) = (0usize, 0usize, 0usize);
    let (mut predicted, mut actual) = (0.0f64, 0usize);
    for batch in &serving_batches {
        let answer = predictor.predict_detailed(batch)?;
        refused += answer.rejected_rows.len();
        flagged += answer.flagged.iter().map(|v| v.count).sum::<usize>();
        answered += batch.num_rows() - answer.rejected_rows.len();
        let p = answer
            .batch
            .column_by_name("proba_defaulted")
            .ok_or("no proba_defaulted column")?;
        predicted += p
            .as_primitive::<Float32Type>()
            .iter()
            .flatten()
            .map(f64::from)
            .sum::<f64>();
        let truth = batch.column_by_name("defaulted").ok_or("no label column")?.as_boolean();
        actual += truth.true_count();
    }
    println!(
        "\n== 8. Served version {champion}: {answered} rows answered, {refused} refused at the door, \
         {flagged} values flagged; mean predicted default probability {:.4}, observed default rate {:.4}",
        predicted / answered.max(1) as f64,
        actual as f64 / answered.max(1) as f64
    );

    // 9. Drift of today's traffic against the training data.
    println!("\n== 9. Drift of serving traffic against training data");
    // CPU-bound work on rayon: keep it off the async runtime's threads.
    let (reference, current) = (train.clone(), serving.clone());
    let drift =
        tokio::task::spawn_blocking(move || DataDrift::new(DriftConfig::default()).compare_parquet(reference, current))
            .await??;
    for c in drift.columns.iter().filter(|c| c.drifted) {
        println!(
            "drifted: {:<14} {:<14} score {:.4} (threshold {})",
            c.name,
            c.method.map_or("–", |m| m.name()),
            c.score.unwrap_or(f64::NAN),
            c.threshold.unwrap_or(f64::NAN)
        );
    }
    std::fs::write(out.join("drift.json"), drift.to_json_pretty()?)?;
    std::fs::write(
        out.join("drift.html"),
        drift_html::render(&drift, "Serving traffic vs training data"),
    )?;
    println!(
        "{} of {} columns drifted (dataset drift: {}); wrote {} and drift.html",
        drift.number_of_drifted_columns,
        drift.number_of_columns,
        drift.dataset_drift,
        out.join("drift.json").display()
    );

    // 10. A model card for the champion: what it is for, its data, how it
    // does per employment type (with fairness gaps), and what drives it.
    let explainer = Explainer::from_package(&loaded, ExplainConfig::default())?;
    let sample = serving_batches.first().ok_or("no serving batch")?;
    let sample = sample.slice(0, sample.num_rows().min(512));
    let importance = explainer.global_importance(&sample)?;
    let answers = labelled_answers(&predictor, &serving_batches, Some("employment"))?;
    let (y_true, y_pred, groups) = (answers.truth, answers.predicted, answers.segments);
    let card = ModelCard::from_package(&loaded)?
        .with_segments(SegmentMetrics::compute("employment", &y_true, &y_pred, &groups)?)
        .with_importance(importance.clone());
    std::fs::write(out.join("model-card.md"), card.to_markdown())?;
    std::fs::write(out.join("model-card.html"), card.to_html())?;
    let top: Vec<String> = importance
        .iter()
        .take(3)
        .map(|(f, v)| format!("{f} ({v:.4})"))
        .collect();
    println!(
        "\n== 10. Model card: wrote {} and model-card.html; top features by mean |attribution|: {}",
        out.join("model-card.md").display(),
        top.join(", ")
    );
    Ok(())
}

/// The transformed features as a `[rows, features]` tensor, and the label (1.0 for a default).
fn design_matrix(
    fitted: &mlops_data::FittedPipeline,
    batches: &[RecordBatch],
) -> Result<(Tensor, Tensor), Box<dyn std::error::Error>> {
    let (mut x, mut y) = (Vec::new(), Vec::new());
    let mut width = 0;
    for batch in batches {
        let t = fitted.transform(batch)?;
        width = t.num_columns();
        let cols: Vec<_> = t
            .columns()
            .iter()
            .map(|c| c.as_primitive::<Float64Type>().clone())
            .collect();
        let label = batch
            .column_by_name("defaulted")
            .ok_or("no label column")?
            .as_boolean()
            .clone();
        for row in 0..t.num_rows() {
            x.extend(
                cols.iter()
                    .map(|c| if c.is_null(row) { 0.0 } else { c.value(row) as f32 }),
            );
            y.push(if label.value(row) { 1.0f32 } else { 0.0 });
        }
    }
    let rows = y.len();
    Ok((
        Tensor::from_vec(x, (rows, width), &candle_core::Device::Cpu)?,
        Tensor::from_vec(y, rows, &candle_core::Device::Cpu)?,
    ))
}

/// Registers a candidate that passed the gate, unless its content is already
/// registered: a new version becomes `champion` and moves to production.
async fn register_candidate(
    registry: &StoreRegistry,
    package: &mlops_core::Package,
) -> Result<(), Box<dyn std::error::Error>> {
    let registration = registry
        .register_deduplicated(package, OnDuplicate::ReturnExisting)
        .await?;
    let version = registration.version;
    if registration.created {
        registry.set_alias("loan-default", "champion", version).await?;
        registry
            .transition("loan-default", version, Stage::Staging, None)
            .await?;
        registry
            .transition("loan-default", version, Stage::Production, None)
            .await?;
        println!("registered loan-default version {version}: alias champion, stage production");
    } else {
        println!("this content is already registered as loan-default version {version}: nothing new registered");
    }
    Ok(())
}

/// Rows `0, n, 2n, …` (counted across batches) as the holdout, the rest for training.
fn split_every_nth(
    batches: &[RecordBatch],
    n: usize,
) -> Result<(Vec<RecordBatch>, Vec<RecordBatch>), Box<dyn std::error::Error>> {
    let (mut fit, mut held) = (Vec::new(), Vec::new());
    let mut offset = 0usize;
    for batch in batches {
        let held_out = |r: usize| (offset + r).is_multiple_of(n);
        let keep: arrow_array::BooleanArray = (0..batch.num_rows()).map(|r| Some(held_out(r))).collect();
        let rest: arrow_array::BooleanArray = (0..batch.num_rows()).map(|r| Some(!held_out(r))).collect();
        held.push(arrow_select::filter::filter_record_batch(batch, &keep)?);
        fit.push(arrow_select::filter::filter_record_batch(batch, &rest)?);
        offset += batch.num_rows();
    }
    Ok((fit, held))
}

/// What a predictor answered for labelled rows (label: `defaulted`), rows it
/// refused left out; with a segment column, each row's segment too.
#[derive(Default)]
struct Labelled {
    truth: Vec<bool>,
    score: Vec<f64>,
    predicted: Vec<bool>,
    segments: Vec<String>,
}

fn labelled_answers(
    predictor: &Predictor,
    batches: &[RecordBatch],
    segment: Option<&str>,
) -> Result<Labelled, Box<dyn std::error::Error>> {
    let mut out = Labelled::default();
    for batch in batches {
        let answer = predictor.predict(batch)?;
        let labels = answer
            .column_by_name("label")
            .ok_or("no label column")?
            .as_string::<i32>()
            .clone();
        let proba = answer
            .column_by_name("proba_defaulted")
            .ok_or("no proba_defaulted column")?
            .as_primitive::<Float32Type>()
            .clone();
        let truth = batch
            .column_by_name("defaulted")
            .ok_or("no label column")?
            .as_boolean()
            .clone();
        let groups = match segment {
            Some(name) => {
                let column = batch.column_by_name(name).ok_or("no segment column")?;
                Some(arrow_cast::cast(column, &arrow_schema::DataType::Utf8)?)
            }
            None => None,
        };
        let groups = groups.as_ref().map(|g| g.as_string::<i32>());
        for row in 0..batch.num_rows() {
            let segment_known = groups.is_none_or(|g| g.is_valid(row));
            if labels.is_valid(row) && segment_known {
                out.truth.push(truth.value(row));
                out.score.push(f64::from(proba.value(row)));
                out.predicted.push(labels.value(row) == "defaulted");
                if let Some(g) = groups {
                    out.segments.push(g.value(row).to_owned());
                }
            }
        }
    }
    Ok(out)
}

/// Accuracy, AUC and log loss of `predictor` on the holdout.
fn holdout_metrics(
    predictor: &Predictor,
    holdout: &[RecordBatch],
) -> Result<mlops_monitor::performance::BinaryMetrics, Box<dyn std::error::Error>> {
    let a = labelled_answers(predictor, holdout, None)?;
    Ok(mlops_monitor::performance::metrics::binary_metrics(
        &a.truth,
        &a.score,
        &a.predicted,
    )?)
}

/// One input row as a JSON object of the raw feature values.
fn row_json(batch: &RecordBatch, columns: &[&str], row: usize) -> serde_json::Value {
    let options = arrow_cast::display::FormatOptions::default();
    let mut obj = serde_json::Map::new();
    for name in columns {
        let value = batch
            .column_by_name(name)
            .and_then(|a| {
                arrow_cast::display::ArrayFormatter::try_new(a.as_ref(), &options)
                    .ok()
                    .map(|f| f.value(row).to_string())
            })
            .map_or(serde_json::Value::Null, |text| {
                text.parse::<f64>()
                    .map_or(serde_json::Value::String(text.clone()), |n| serde_json::json!(n))
            });
        obj.insert((*name).to_owned(), value);
    }
    serde_json::Value::Object(obj)
}
