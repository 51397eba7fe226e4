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
//! 7. fit the preprocessing, train a small logistic-regression model, package
//!    it (safetensors weights, signatures, transforms, training profile,
//!    lineage, example, Ed25519 signature) and register it in a local
//!    registry: alias `champion`, stage `production`, verified load, history;
//! 8. measure drift of the serving traffic against the training data
//!    (Evidently's default methods), writing `drift.json` and `drift.html`.
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
use arrow_array::types::Float64Type;
use arrow_array::{Array, RecordBatch};
use mlops_core::{
    DataProfile, FieldConstraints, FieldSpec, ModelPackage, NumericRange, PackageBuilder, PackageSigner, Registry,
    Signature, Stage, StoreRegistry, TrustedKeys, VersionSelector,
};
use mlops_data::{
    ImputeStrategy, InferConfig, OneHotConfig, ParquetProfiler, Profile, ProfileConfig, TransformPipeline,
    TransformSpec, UnseenCategory, fingerprint_parquet_file, infer_signature, validate_batch, validate_profile,
};
use mlops_monitor::drift::{DataDrift, DriftConfig, html as drift_html};
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
    let batches: Vec<RecordBatch> = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&train)?)?
        .build()?
        .collect::<Result<_, _>>()?;
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
    let (weights, bias, log_loss, accuracy) = train_logistic(&x, &y, 300, 0.5);
    let names = fitted.output_names(&batches.first().ok_or("no training batch")?.schema())?;
    println!(
        "\n== 7. Trained logistic regression on {} rows x {} features: log loss {log_loss:.4}, accuracy {accuracy:.4}",
        y.len(),
        names.len()
    );

    let input_signature = Signature::new(
        rules
            .fields
            .iter()
            .filter(|f| features.contains(&f.name.as_str()))
            .cloned()
            .collect(),
    )?;
    let output_signature = Signature::new(vec![
        FieldSpec::new("p_default", arrow_schema::DataType::Float64, false)
            .with_constraints(FieldConstraints::none().with_range(NumericRange::new(0.0, 1.0)?)),
    ])?;
    let example_rows: Vec<serde_json::Value> = (0..3).map(|i| row_json(&batches[0], &features, i)).collect();
    let expected: Vec<f64> = (0..3).map(|i| predict(&weights, bias, &x[i])).collect();
    let mut package = PackageBuilder::new("loan-default")
        .weights(mlops_core::weights::encode_f32(&[("w", &[weights.len()], &weights), ("b", &[1], &[bias])])?)
        .model_config(serde_json::json!({"architecture": "logistic_regression", "features": names, "classes": ["repaid", "defaulted"]}))
        .input_signature(input_signature)
        .output_signature(output_signature)
        .transforms_json(fitted.to_json()?.into_bytes())
        .training_profile(&profile)
        .dataset(dataset.clone())
        .param("epochs", serde_json::json!(300))
        .param("learning_rate", serde_json::json!(0.5))
        .metric("train_log_loss", log_loss)
        .metric("train_accuracy", accuracy)
        .code_version(option_env!("GIT_COMMIT").unwrap_or("quickstart"))
        .creator("quickstart")
        .example(serde_json::to_vec(&example_rows)?, serde_json::to_vec(&expected)?)
        .build()?;
    // A demo key: real deployments load the secret from their key store.
    let signer = PackageSigner::from_secret(*b"mlops-rs quickstart demo key!!!!");
    package.sign(&signer);

    let registry_dir = out.join("registry");
    let registry = StoreRegistry::local(&registry_dir)?
        .with_actor("quickstart")
        .require_signatures(TrustedKeys::new().with_key(&signer.key_id())?);
    let version = registry.register(&package).await?;
    registry.set_alias("loan-default", "champion", version).await?;
    registry
        .transition("loan-default", version, Stage::Staging, None)
        .await?;
    registry
        .transition("loan-default", version, Stage::Production, None)
        .await?;
    let champion = registry
        .resolve("loan-default", &VersionSelector::Alias("champion".into()))
        .await?;
    let loaded = registry.load("loan-default", champion).await?;
    println!(
        "registered loan-default version {version} in {} ({}), alias champion -> {champion}, loaded and verified {} files",
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

    // 8. Drift of today's traffic against the training data.
    println!("\n== 8. Drift of serving traffic against training data");
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
    Ok(())
}

/// Feature rows after the fitted transforms.
type Features = Vec<Vec<f64>>;
/// 1.0 for a default, 0.0 otherwise.
type Labels = Vec<f64>;

/// The transformed features as rows, and the label.
fn design_matrix(
    fitted: &mlops_data::FittedPipeline,
    batches: &[RecordBatch],
) -> Result<(Features, Labels), Box<dyn std::error::Error>> {
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for batch in batches {
        let t = fitted.transform(batch)?;
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
            x.push(
                cols.iter()
                    .map(|c| if c.is_null(row) { 0.0 } else { c.value(row) })
                    .collect(),
            );
            y.push(if label.value(row) { 1.0 } else { 0.0 });
        }
    }
    Ok((x, y))
}

fn predict(w: &[f32], b: f32, row: &[f64]) -> f64 {
    let z: f64 = row.iter().zip(w).map(|(x, w)| x * f64::from(*w)).sum::<f64>() + f64::from(b);
    1.0 / (1.0 + (-z).exp())
}

/// Full-batch gradient descent on the log loss; returns weights, bias, log loss, accuracy.
fn train_logistic(x: &[Vec<f64>], y: &[f64], epochs: usize, lr: f64) -> (Vec<f32>, f32, f64, f64) {
    let d = x.first().map_or(0, Vec::len);
    let (mut w, mut b) = (vec![0.0f64; d], 0.0f64);
    let n = y.len().max(1) as f64;
    for _ in 0..epochs {
        let (mut gw, mut gb) = (vec![0.0; d], 0.0);
        for (row, &label) in x.iter().zip(y) {
            let z: f64 = row.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>() + b;
            let err = 1.0 / (1.0 + (-z).exp()) - label;
            for (g, a) in gw.iter_mut().zip(row) {
                *g += err * a;
            }
            gb += err;
        }
        for (wi, g) in w.iter_mut().zip(&gw) {
            *wi -= lr * g / n;
        }
        b -= lr * gb / n;
    }
    let w32: Vec<f32> = w.iter().map(|&v| v as f32).collect();
    let (mut loss, mut correct) = (0.0, 0.0);
    for (row, &label) in x.iter().zip(y) {
        let p = predict(&w32, b as f32, row).clamp(1e-12, 1.0 - 1e-12);
        loss -= label * p.ln() + (1.0 - label) * (1.0 - p).ln();
        correct += f64::from(u8::from((p >= 0.5) == (label == 1.0)));
    }
    (w32, b as f32, loss / n, correct / n)
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
