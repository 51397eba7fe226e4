//! Stage 7 and every later model: one function trains, evaluates and
//! packages a candidate from a [`Recipe`] and its data, so the first model,
//! the canary candidates and the retrained model are built the same way.

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::{Array, RecordBatch};
use candle_core::Tensor;
use mlops_core::{
    DatasetRef, FieldConstraints, FieldSpec, ModelPackage, NumericRange, Package, PackageBuilder, PackageSigner,
    Signature, StoreRegistry,
};
use mlops_data::{ImputeStrategy, OneHotConfig, Profile, TransformPipeline, TransformSpec, UnseenCategory};
use mlops_monitor::performance::BinaryMetrics;
use mlops_serve::train::{TrainConfig, train_dense};
use mlops_serve::{ModelSpec, Predict, Predictor, batch_to_rows};

use super::data_checks::Checked;
use super::labels::{LABEL, holdout_metrics};
use super::{BoxError, MODEL, Settings, gate};

/// The model's input columns.
pub(crate) const FEATURES: [&str; 5] = ["age", "income", "credit_score", "loan_amount", "employment"];

/// The knobs that differ between candidates.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Recipe {
    /// Units of the one hidden layer.
    pub hidden: usize,
    /// Full-batch AdamW steps.
    pub epochs: usize,
    /// AdamW's learning rate.
    pub learning_rate: f64,
    /// The seed of the initial weights.
    pub seed: u64,
}

/// The first model's recipe; the retrained model reuses it on recent data.
pub(crate) const BASELINE_RECIPE: Recipe = Recipe {
    hidden: 16,
    epochs: 300,
    learning_rate: 0.02,
    seed: 7,
};

/// Data a candidate is trained on: rows to fit, rows held out to judge it,
/// and what goes into its lineage.
pub(crate) struct TrainingData<'a> {
    /// Rows the model and its transforms are fitted on.
    pub fit: &'a [RecordBatch],
    /// Rows it never sees in training; its metrics and the gate use them.
    pub holdout: &'a [RecordBatch],
    /// The profile shipped in the package (drift is measured against it).
    pub profile: &'a Profile,
    /// The data set's fingerprint.
    pub dataset: DatasetRef,
    /// The version this one is derived from, if any.
    pub parent: Option<u64>,
}

/// What every candidate shares: signatures, signing key, description.
pub(crate) struct Lab {
    /// Input signature: the features' rules from the training profile.
    pub input: Signature,
    /// Output signature: a label and two probabilities in [0, 1].
    pub output: Signature,
    /// The key packages are signed with.
    pub signer: PackageSigner,
    /// The training rows of the first model (four fifths of the data).
    pub fit: Vec<RecordBatch>,
    /// The rows held out from them (every fifth).
    pub holdout: Vec<RecordBatch>,
    /// The training data's profile and fingerprint.
    pub profile: Profile,
    /// The training data's fingerprint.
    pub dataset: DatasetRef,
    /// Today's serving traffic (labelled).
    pub serving: Vec<RecordBatch>,
}

impl Lab {
    /// Signatures from the inferred rules; every fifth training row held out.
    pub(crate) fn new(_settings: &Settings, checked: &Checked, signer: PackageSigner) -> Result<Lab, BoxError> {
        let input = Signature::new(
            checked
                .rules
                .fields
                .iter()
                .filter(|f| FEATURES.contains(&f.name.as_str()))
                .cloned()
                .collect(),
        )?;
        let probability = || NumericRange::new(0.0, 1.0).map(|r| FieldConstraints::none().with_range(r));
        let output = Signature::new(vec![
            FieldSpec::new("label", arrow_schema::DataType::Utf8, true),
            FieldSpec::new("proba_repaid", arrow_schema::DataType::Float32, true).with_constraints(probability()?),
            FieldSpec::new("proba_defaulted", arrow_schema::DataType::Float32, true).with_constraints(probability()?),
        ])?;
        // Every fifth row is held out: the model never sees it, the gate judges on it.
        let (fit, holdout) = split_every_nth(&checked.train_batches, 5)?;
        Ok(Lab {
            input,
            output,
            signer,
            fit,
            holdout,
            profile: checked.profile.clone(),
            dataset: checked.dataset.clone(),
            serving: checked.serving_batches.clone(),
        })
    }

    /// The first model's data: the training file's fit rows and holdout.
    pub(crate) fn training_data(&self) -> TrainingData<'_> {
        TrainingData {
            fit: &self.fit,
            holdout: &self.holdout,
            profile: &self.profile,
            dataset: self.dataset.clone(),
            parent: None,
        }
    }
}

/// A trained, evaluated, signed package.
pub(crate) struct Candidate {
    /// The package, ready to register.
    pub package: Package,
    /// Its metrics on the holdout of its data.
    pub holdout: BinaryMetrics,
    /// Training loss before and after.
    pub loss: (f64, f64),
    /// Rows it was trained on.
    pub rows: usize,
}

/// Fits the transforms, trains the MLP, evaluates it on the holdout and packages it.
pub(crate) fn train(lab: &Lab, recipe: Recipe, data: &TrainingData<'_>) -> Result<Candidate, BoxError> {
    let mut pipeline = TransformPipeline::new().passthrough(false);
    for column in &FEATURES[..4] {
        pipeline = pipeline
            .step(*column, TransformSpec::impute(ImputeStrategy::Median))
            .step(*column, TransformSpec::standardize());
    }
    let one_hot = OneHotConfig::default().with_unseen(UnseenCategory::Ignore);
    let fitted = pipeline
        .step("employment", TransformSpec::one_hot(one_hot))
        .fit(data.fit)?;
    let (x, y) = design_matrix(&fitted, data.fit)?;
    let first_batch = data.fit.first().ok_or("no training rows")?;
    let schema = first_batch.schema();
    let names = fitted.output_names(&schema)?;
    // Described once: the same spec trains here and serves later.
    let spec = ModelSpec::from_json_value(&serde_json::json!({
        "architecture": "mlp", "layers": [names.len(), recipe.hidden, 1], "activation": "relu",
        "output": "sigmoid", "features": names, "classes": ["repaid", "defaulted"],
    }))?;
    let config = TrainConfig::default()
        .with_epochs(recipe.epochs)
        .with_learning_rate(recipe.learning_rate)
        .with_seed(recipe.seed);
    let trained = train_dense(&spec, &x, &y, &config)?;
    let first_loss = trained.losses.first().copied().unwrap_or(f64::NAN);
    let last_loss = trained.losses.last().copied().unwrap_or(f64::NAN);
    let predictor = Predictor::from_parts(
        MODEL,
        spec.clone(),
        &trained.weights,
        Some(fitted.clone()),
        lab.input.clone(),
        lab.output.clone(),
        gate::door_config(),
    )?;
    let scores = holdout_metrics(&predictor, data.holdout)?;
    // The example's expected output comes from the serving path itself.
    let head = first_batch.slice(0, first_batch.num_rows().min(3));
    let example_rows: Vec<serde_json::Value> = (0..head.num_rows()).map(|i| row_json(&head, &FEATURES, i)).collect();
    let expected = batch_to_rows(&predictor.predict(&head)?);
    let mut builder = PackageBuilder::new(MODEL)
        .weights(trained.safetensors.clone())
        .model_config(spec.to_json_value()?)
        .input_signature(lab.input.clone())
        .output_signature(lab.output.clone())
        .transforms_json(fitted.to_json()?.into_bytes())
        .training_profile(data.profile)
        .dataset(data.dataset.clone())
        .param("hidden_units", serde_json::json!(recipe.hidden))
        .param("epochs", serde_json::json!(recipe.epochs))
        .param("learning_rate", serde_json::json!(recipe.learning_rate))
        .param("seed", serde_json::json!(recipe.seed))
        .metric("train_log_loss", last_loss)
        .metric("holdout_accuracy", scores.accuracy)
        .metric("holdout_auc", scores.roc_auc.unwrap_or(f64::NAN))
        .metric("holdout_log_loss", scores.log_loss)
        .code_version(option_env!("GIT_COMMIT").unwrap_or("quickstart"))
        .creator("quickstart")
        .description(
            "Estimates the probability that a loan application defaults, for a credit officer's review \
             queue. Trained on the bundled synthetic applications; not for automatic refusals.",
        )
        .example(serde_json::to_vec(&example_rows)?, serde_json::to_vec(&expected)?);
    if let Some(parent) = data.parent {
        builder = builder.parent(MODEL, parent);
    }
    let mut package = builder.build()?;
    package.sign(&lab.signer);
    Ok(Candidate {
        package,
        holdout: scores,
        loss: (first_loss, last_loss),
        rows: y.dims()[0],
    })
}

/// Stage 7: the first model, trained on four fifths of the training data,
/// evaluated on the rest, gated against the champion and registered.
/// Returns the version the gate left in production.
pub(crate) async fn first_model(lab: &Lab, registry: &StoreRegistry) -> Result<u64, BoxError> {
    let recipe = BASELINE_RECIPE;
    let candidate = train(lab, recipe, &lab.training_data())?;
    println!(
        "\n== 7. Trained an MLP [{} features, {}, 1] with candle-nn (AdamW, seed {}) on {} rows: log loss {:.4} -> {:.4}",
        candidate.package.manifest().model_config["layers"][0],
        recipe.hidden,
        recipe.seed,
        candidate.rows,
        candidate.loss.0,
        candidate.loss.1,
    );
    // The content digest leaves out build time and creator: two runs on the
    // same data, seed and parameters print the same line, and the second
    // finds its model already registered instead of adding a copy.
    println!("content digest: {}", candidate.package.content_digest()?);
    let s = &candidate.holdout;
    println!(
        "holdout ({} rows never trained on): accuracy {:.4}, AUC {:.4}, log loss {:.4}",
        s.count,
        s.accuracy,
        s.roc_auc.unwrap_or(f64::NAN),
        s.log_loss
    );
    let verdict = gate::against_champion(registry, &candidate, &lab.holdout).await?;
    gate::register_if_passed(registry, &candidate, &verdict).await?;
    gate::champion(registry).await
}

/// Rows `0, n, 2n, …` (counted across batches) as the holdout, the rest for training.
pub(crate) fn split_every_nth(
    batches: &[RecordBatch],
    n: usize,
) -> Result<(Vec<RecordBatch>, Vec<RecordBatch>), BoxError> {
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

/// The transformed features as a `[rows, features]` tensor, and the label (1.0 for a default).
fn design_matrix(fitted: &mlops_data::FittedPipeline, batches: &[RecordBatch]) -> Result<(Tensor, Tensor), BoxError> {
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
            .column_by_name(LABEL)
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

/// Lineage for rows that are not one file: a fingerprint of their values,
/// named by `uri` (informative only).
pub(crate) fn dataset_of(uri: &str, batches: &[RecordBatch]) -> Result<DatasetRef, BoxError> {
    let first = batches.first().ok_or("no rows to fingerprint")?;
    Ok(DatasetRef {
        uri: uri.to_owned(),
        fingerprint: mlops_data::fingerprint_batches(batches)?,
        schema: first.schema().as_ref().clone(),
        num_rows: batches.iter().map(|b| b.num_rows() as u64).sum(),
    })
}

/// The profile shipped with a model trained on `batches`.
pub(crate) fn profile_of(batches: &[RecordBatch]) -> Result<Profile, BoxError> {
    Ok(mlops_data::Profiler::profile_batches(
        mlops_data::ProfileConfig::default(),
        batches,
    )?)
}
