//! Score a file with a model package: from a package directory or a registry.
//!
//! ```text
//! cargo run --release --example predict -- --package churn-pkg --input requests.csv --output scores.jsonl
//! cargo run --release --example predict -- --registry file:///tmp/registry --name churn --alias champion \
//!     --input requests.parquet --output scores.parquet
//! ```
//!
//! - Parquet to Parquet streams the input row group by row group (bounded
//!   memory, output rows in input order) and draws a progress bar on stderr.
//! - IN is `.parquet` or `.csv`. A CSV is parsed with the package's input
//!   schema: each declared column as its declared type, never guessed.
//! - OUT is `.parquet`, `.csv` or `.jsonl`, chosen by its extension. A
//!   classifier writes `label` and one `proba_<class>` column per class; a
//!   regressor writes `prediction` (or `prediction_<i>`).
//! - A missing column, a value that is not a number, or a package whose
//!   files were altered is refused: exit status 1 and a message on stderr
//!   naming the column, the row or the file. Nothing is written then.
//!
//! - `--explain` adds one `attr_<feature>` column per model feature and
//!   `explained_output` (Integrated Gradients, 32 steps by default, against
//!   the training profile's averages); Parquet to Parquet then reads whole
//!   batches instead of streaming.
//!
//! Copy this file as the starting point of a batch-scoring job.

use std::path::PathBuf;
use std::process::ExitCode;

use arrow_array::RecordBatch;
use clap::{ArgGroup, Parser};
use mlops_core::{Error, ModelPackage, Registry, StoreRegistry, VersionSelector};
use mlops_serve::explain::{ExplainConfig, Explainer};
use mlops_serve::{Carry, Predict, Predictor, PredictorConfig, ScoreConfig, ScoreProgress, score_parquet};

/// Score a Parquet or CSV file with a model package.
#[derive(Parser, Debug)]
#[command(name = "predict", about)]
#[command(group(ArgGroup::new("source").required(true).args(["package", "registry"])))]
#[command(group(ArgGroup::new("selector").args(["alias", "version"])))]
struct Cli {
    /// A package directory (as written by `import_model --out`).
    #[arg(long)]
    package: Option<PathBuf>,
    /// A registry URL (file:///dir, s3://bucket/prefix…).
    #[arg(long, requires = "name")]
    registry: Option<String>,
    /// The model's name in the registry.
    #[arg(long)]
    name: Option<String>,
    /// The alias to serve (e.g. `champion`); default: the latest version.
    #[arg(long, requires = "registry")]
    alias: Option<String>,
    /// The version to serve.
    #[arg(long, requires = "registry")]
    version: Option<u64>,
    /// The rows to score: `.parquet` or `.csv`.
    #[arg(long)]
    input: PathBuf,
    /// Where to write the answers: `.parquet`, `.csv` or `.jsonl`.
    #[arg(long)]
    output: PathBuf,
    /// Rows per batch.
    #[arg(long, default_value_t = 65_536)]
    batch_rows: usize,
    /// Also write one `attr_<feature>` column per model feature (Integrated
    /// Gradients against the training profile's averages) and
    /// `explained_output`: for a classifier, the predicted class's
    /// probability is explained; for a regressor, the prediction.
    #[arg(long)]
    explain: bool,
    /// Integration steps of `--explain`.
    #[arg(long, default_value_t = 32, requires = "explain")]
    explain_steps: usize,
}

fn main() -> ExitCode {
    mlops_examples::run_main(run(Cli::parse()))
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let package = match (&cli.package, &cli.registry, &cli.name) {
        (Some(dir), _, _) => mlops_examples::package_dir::read(dir).await?,
        (None, Some(url), Some(name)) => {
            let registry = StoreRegistry::from_url(url)?;
            let selector = match (&cli.alias, cli.version) {
                (Some(alias), _) => VersionSelector::Alias(alias.clone()),
                (None, Some(v)) => VersionSelector::Version(v),
                (None, None) => VersionSelector::Latest,
            };
            let version = registry.resolve(name, &selector).await?;
            eprintln!("serving {name} version {version} from {url}");
            registry.load(name, version).await?
        }
        _ => return Err("give --package DIR, or --registry URL with --name".into()),
    };
    let predictor = Predictor::from_package(&package, PredictorConfig::default())?;
    let started = std::time::Instant::now();
    let is = |p: &std::path::Path, ext: &str| p.extension().is_some_and(|e| e.eq_ignore_ascii_case(ext));
    if is(&cli.input, "parquet") && is(&cli.output, "parquet") && !cli.explain {
        // Parquet to Parquet streams row groups (bounded memory, in order) with a progress bar.
        let config = ScoreConfig::default()
            .with_carry(Carry::None)
            .with_progress(progress_bar);
        let report = score_parquet(&predictor, cli.input.as_path(), &cli.output, config)?;
        eprintln!(
            "\nscored {} rows ({} refused) in {} row groups with {} in {:.2?} → {}",
            report.rows,
            report.rejected_rows,
            report.row_groups,
            package.name(),
            started.elapsed(),
            cli.output.display()
        );
        return Ok(());
    }
    let explainer = if cli.explain {
        let config = ExplainConfig::default().with_steps(cli.explain_steps);
        Some(Explainer::from_package(&package, config)?)
    } else {
        None
    };
    let batches = mlops_examples::tables::read(&cli.input, package.input_signature(), cli.batch_rows.max(1))?;
    let mut answers = Vec::with_capacity(batches.len());
    let (mut rows, mut refused) = (0usize, 0usize);
    for batch in &batches {
        let answer = predictor
            .predict_detailed(batch)
            .map_err(|e| with_row_offset(e, rows))?;
        if !answer.rejected.is_empty() {
            for v in &answer.rejected {
                eprintln!("refused: {v}");
            }
        }
        refused += answer.rejected_rows.len();
        rows += batch.num_rows();
        answers.push(match &explainer {
            Some(explainer) => with_columns(&answer.batch, &explainer.explain(batch)?.batch)?,
            None => answer.batch,
        });
    }
    let schema = answers
        .first()
        .map_or_else(|| predictor.output_schema(), RecordBatch::schema);
    mlops_examples::tables::write(&cli.output, &answers, schema)?;
    eprintln!(
        "scored {rows} rows ({refused} refused) with {} in {:.2?} → {}",
        package.name(),
        started.elapsed(),
        cli.output.display()
    );
    Ok(())
}

/// The columns of `a`, then those of `b` (the same rows).
fn with_columns(a: &RecordBatch, b: &RecordBatch) -> Result<RecordBatch, arrow_schema::ArrowError> {
    let fields: Vec<_> = a.schema().fields().iter().chain(b.schema().fields()).cloned().collect();
    let columns = a.columns().iter().chain(b.columns()).cloned().collect();
    RecordBatch::try_new(std::sync::Arc::new(arrow_schema::Schema::new(fields)), columns)
}

/// A one-line progress bar on stderr, redrawn in place.
fn progress_bar(p: ScoreProgress) {
    const WIDTH: usize = 30;
    let done = if p.rows_total == 0 {
        1.0
    } else {
        p.rows_done as f64 / p.rows_total as f64
    };
    let filled = ((done * WIDTH as f64).round() as usize).min(WIDTH);
    eprint!(
        "\r[{}{}] {:>5.1}% {} / {} rows, row group {} / {}",
        "#".repeat(filled),
        " ".repeat(WIDTH - filled),
        done * 100.0,
        p.rows_done,
        p.rows_total,
        p.row_groups_done,
        p.row_groups_total
    );
}

/// Row numbers in a refusal are within the batch; say where the batch starts.
fn with_row_offset(e: Error, offset: usize) -> Error {
    match e {
        Error::Rejected { location, violations } if offset > 0 => Error::Rejected {
            location: format!("{location} (row indices counted from input row {offset})"),
            violations,
        },
        e => e,
    }
}
