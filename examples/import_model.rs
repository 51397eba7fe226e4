//! Import a model trained elsewhere (PyTorch-style safetensors weights and an
//! architecture description) as a verified model package.
//!
//! ```text
//! cargo run --release --example import_model -- --weights model.safetensors --architecture arch.json \
//!     --name churn --out churn-pkg [--sample train.parquet] [--registry file:///tmp/registry]
//! ```
//!
//! - `--architecture` is the model spec (`mlops_serve::ModelSpec`), e.g.
//!   `{"architecture":"mlp","layers":[13,64,32,3],"activation":"relu","output":"softmax","features":[…],"classes":[…]}`.
//! - `--sample` gives the input signature (rules inferred from its profile),
//!   the training profile, an input example (its first rows) and the expected
//!   output, computed here by the same predictor that serves the package.
//! - `--out DIR` writes the package as plain files; `--registry URL` also
//!   registers it and prints the version last.
//!
//! The weights are checked against the spec (every tensor present, every
//! shape right) before anything is written. Copy this file to import your own models.

#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use mlops_core::{Error, FieldSpec, ModelPackage, PackageBuilder, Registry, Signature, StoreRegistry};
use mlops_data::{InferConfig, ParquetProfiler, ProfileConfig, infer_signature};
use mlops_serve::model::Weights;
use mlops_serve::{ModelSpec, Predict, Predictor, PredictorConfig, batch_to_rows};

/// Build a model package from safetensors weights and an architecture description.
#[derive(Parser, Debug)]
#[command(name = "import_model", version, about)]
struct Cli {
    /// Safetensors weights (PyTorch `nn.Sequential` names, or mapped by the spec's `tensor_names`).
    #[arg(long)]
    weights: PathBuf,
    /// The architecture description (JSON model spec).
    #[arg(long)]
    architecture: PathBuf,
    /// The model's name.
    #[arg(long)]
    name: String,
    /// Directory to write the package into, as plain files.
    #[arg(long)]
    out: PathBuf,
    /// A Parquet sample of the training data: signature, profile, example.
    #[arg(long)]
    sample: Option<PathBuf>,
    /// A registry URL (file:///dir, s3://bucket/prefix…) to register the package in.
    #[arg(long)]
    registry: Option<String>,
    /// Rows of the sample kept as the input example.
    #[arg(long, default_value_t = 5)]
    example_rows: usize,
}

fn main() -> ExitCode {
    mlops_examples::run_main(run(Cli::parse()))
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let spec_json = std::fs::read_to_string(&cli.architecture).map_err(|e| Error::Io {
        location: cli.architecture.display().to_string(),
        source: e,
    })?;
    let spec = ModelSpec::from_json(&spec_json)?;
    let weights_bytes = std::fs::read(&cli.weights).map_err(|e| Error::Io {
        location: cli.weights.display().to_string(),
        source: e,
    })?;
    // Refuse a file that does not fit the spec before writing anything.
    let weights = Weights::from_safetensors(&weights_bytes, &spec.architecture.architecture().tensors(), &spec)?;
    let mut builder = PackageBuilder::new(&cli.name)
        .weights(weights_bytes)
        .model_config(spec.to_json_value()?)
        .param("imported_from", serde_json::json!(cli.weights.display().to_string()));
    if let Some(sample) = &cli.sample {
        let profile = ParquetProfiler::new(ProfileConfig::default()).profile(sample.as_path())?;
        let inferred = infer_signature(&profile, &InferConfig::default())?;
        let fields: Vec<FieldSpec> = spec
            .features
            .iter()
            .map(|f| {
                inferred.field(f).cloned().ok_or_else(|| Error::SchemaMismatch {
                    location: sample.display().to_string(),
                    message: format!("the model reads feature `{f}`, which the sample does not have"),
                })
            })
            .collect::<Result<_, _>>()?;
        let signature = Signature::new(fields)?;
        let rows = mlops_examples::tables::read(sample, &signature, cli.example_rows.max(1))?;
        let head = rows
            .first()
            .map(|b| b.slice(0, b.num_rows().min(cli.example_rows)))
            .ok_or_else(|| Error::NotEnoughData {
                location: sample.display().to_string(),
                message: "no rows for an input example".into(),
            })?;
        let predictor = Predictor::from_parts(
            &cli.name,
            spec.clone(),
            &weights,
            None,
            signature.clone(),
            Signature::default(),
            PredictorConfig::default(),
        )?;
        let expected = batch_to_rows(&predictor.predict(&head)?);
        let example = example_rows(&head, &spec.features)?;
        builder = builder
            .input_signature(signature)
            .training_profile(&profile)
            .example(serde_json::to_vec(&example)?, serde_json::to_vec(&expected)?);
        eprintln!(
            "sample {}: {} rows profiled; example of {} rows",
            sample.display(),
            profile.num_rows(),
            head.num_rows()
        );
    }
    let package = builder.build()?;
    // Read back through the serving path: the package must load and pass its own smoke test.
    Predictor::from_package(&package, PredictorConfig::default())?;
    mlops_examples::package_dir::write(&package, &cli.out).await?;
    eprintln!(
        "package {} written to {} (digest {})",
        cli.name,
        cli.out.display(),
        package.digest()
    );
    if let Some(url) = &cli.registry {
        let registry = StoreRegistry::from_url(url)?;
        let version = registry.register(&package).await?;
        eprintln!("registered {} version {version} in {url}", cli.name);
        println!("{version}");
    }
    Ok(())
}

/// The batch's feature columns as JSON rows (integers stay integers, so the
/// example reads back with the same signature).
fn example_rows(batch: &arrow_array::RecordBatch, features: &[String]) -> Result<Vec<serde_json::Value>, Error> {
    use arrow_array::Array;
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float64Type, Int64Type};
    use arrow_schema::DataType;
    let mut columns = Vec::new();
    for name in features {
        let Some(c) = batch.column_by_name(name) else { continue };
        let integer = mlops_core::TypeFamily::of(c.data_type()) == mlops_core::TypeFamily::Integer;
        let to = if integer { DataType::Int64 } else { DataType::Float64 };
        let cast = arrow_cast::cast(c, &to).map_err(|e| Error::Arrow {
            location: format!("example column `{name}`"),
            source: e,
        })?;
        columns.push((name.clone(), integer, cast));
    }
    Ok((0..batch.num_rows())
        .map(|row| {
            let object: serde_json::Map<String, serde_json::Value> = columns
                .iter()
                .map(|(n, integer, c)| {
                    let value = if c.is_null(row) {
                        serde_json::Value::Null
                    } else if *integer {
                        serde_json::json!(c.as_primitive::<Int64Type>().value(row))
                    } else {
                        serde_json::json!(c.as_primitive::<Float64Type>().value(row))
                    };
                    (n.clone(), value)
                })
                .collect();
            serde_json::Value::Object(object)
        })
        .collect())
}
