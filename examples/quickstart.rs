//! The end-to-end job on the bundled loan-application data, with embedded
//! defaults (local disk, no server):
//!
//! 1. profile the training data (Parquet row groups in parallel);
//! 2. fingerprint it for lineage;
//! 3. infer validation rules from the profile;
//! 4. validate today's serving traffic batch by batch, and again from its
//!    profile alone (no raw data needed);
//! 5. show that profiles of partitions merge into the profile of the whole;
//! 6. persist profile, rules and lineage, and read them back.
//!
//! ```text
//! cargo run --release --example quickstart
//! cargo run --release --example quickstart -- TRAIN.parquet SERVING.parquet --out DIR
//! ```

// A program whose output is the point: printing is its job.
#![allow(clippy::print_stdout)]

use std::path::{Path, PathBuf};

use mlops_core::{DataProfile, Signature};
use mlops_data::{
    InferOptions, ParquetProfiler, Profile, ProfileConfig, fingerprint_parquet_file, infer_signature, validate_batch,
    validate_profile,
};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

fn bundled(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data").join(name)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut positional = Vec::new();
    let mut out = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/quickstart");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--out" {
            out = args.next().ok_or("--out needs a directory")?.into();
        } else {
            positional.push(PathBuf::from(a));
        }
    }
    let train = positional.first().cloned().unwrap_or_else(|| bundled("train.parquet"));
    let serving = positional.get(1).cloned().unwrap_or_else(|| bundled("serving.parquet"));
    std::fs::create_dir_all(&out)?;

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
            fmt(s.distinct)
        );
    }

    // 2. Lineage: a fingerprint of the values, independent of file name and layout.
    let dataset = fingerprint_parquet_file(&train)?;
    println!(
        "\n== 2. Dataset fingerprint: {} ({} rows)",
        dataset.fingerprint, dataset.num_rows
    );

    // 3. Rules inferred from the profile.
    let rules = infer_signature(&profile, &InferOptions::default())?;
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
    Ok(())
}
