//! Stages 1–6: what the data says before any model sees it. Profile,
//! fingerprint, rules inferred from the profile, today's serving traffic
//! validated batch by batch and from its profile alone, partition profiles
//! merged into the whole, and everything persisted and read back.

use arrow_array::RecordBatch;
use mlops_core::{DataProfile, DatasetRef, Signature};
use mlops_data::{
    InferConfig, ParquetProfiler, Profile, ProfileConfig, fingerprint_parquet_file, infer_signature, validate_batch,
    validate_profile,
};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::{BoxError, Settings};

/// What the data checks found, for the stages that train on the data.
pub(crate) struct Checked {
    /// The training data's profile.
    pub profile: Profile,
    /// The training data's fingerprint and shape.
    pub dataset: DatasetRef,
    /// The rules inferred from the profile (the input signature is cut from them).
    pub rules: Signature,
    /// The training data, as read.
    pub train_batches: Vec<RecordBatch>,
    /// Today's serving traffic, as read.
    pub serving_batches: Vec<RecordBatch>,
}

/// Runs stages 1–6.
pub(crate) fn run(settings: &Settings) -> Result<Checked, BoxError> {
    // 1. Profile the training data.
    let profiler = ParquetProfiler::new(ProfileConfig::default());
    let profile = profiler.profile_file(&settings.train)?;
    println!(
        "== 1. Training profile: {} rows from {}",
        profile.num_rows(),
        settings.train.display()
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
    let dataset = fingerprint_parquet_file(&settings.train)?;
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
    println!("\n== 4. Validating serving traffic from {}", settings.serving.display());
    let reader = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&settings.serving)?)?
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
    let serving_profile = profiler.profile_file(&settings.serving)?;
    let report = validate_profile(&rules, &serving_profile);
    println!("from the serving profile alone:");
    for v in &report.violations {
        println!("  {:<14} {:?}: {}", v.column, v.rule, v.message);
    }

    // 5. Profiles merge: row groups profiled separately equal the whole.
    let halves: Vec<Profile> = (0..2)
        .map(|half| -> Result<Profile, BoxError> {
            let file = std::fs::File::open(&settings.train)?;
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
    std::fs::write(settings.out.join("train.profile.json"), profile.to_json_pretty()?)?;
    std::fs::write(settings.out.join("train.profile.bin"), profile.to_bytes()?)?;
    std::fs::write(settings.out.join("rules.json"), rules.to_json()?)?;
    std::fs::write(
        settings.out.join("dataset.json"),
        serde_json::to_string_pretty(&dataset)?,
    )?;
    let reloaded = Profile::from_bytes(&std::fs::read(settings.out.join("train.profile.bin"))?)?;
    let rules_back = Signature::from_json(&std::fs::read_to_string(settings.out.join("rules.json"))?)?;
    let same = reloaded.to_json()? == profile.to_json()? && rules_back == rules;
    println!(
        "\n== 6. Wrote profile (JSON + binary), rules and lineage to {}; read back identical: {same}",
        settings.out.display()
    );
    if !same {
        return Err("persisted profile did not read back identically".into());
    }

    let read = |path: &std::path::Path| -> Result<Vec<RecordBatch>, BoxError> {
        Ok(ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(path)?)?
            .build()?
            .collect::<Result<_, _>>()?)
    };
    Ok(Checked {
        train_batches: read(&settings.train)?,
        serving_batches: read(&settings.serving)?,
        profile,
        dataset,
        rules,
    })
}
