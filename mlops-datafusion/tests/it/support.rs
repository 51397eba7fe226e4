//! Shared fixtures: the bundled training data cut into several Parquet
//! files, its single-machine profile, and checks of one profile against another.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::RecordBatch;
use mlops_core::DataProfile;
use mlops_data::{Profile, ProfileConfig, Profiler};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

/// The bundled loan applications (20 000 rows, 4 row groups).
pub(crate) fn bundled() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/data/train.parquet")
}

/// Every batch of the bundled data, as our Arrow reads it.
pub(crate) fn bundled_batches() -> Vec<RecordBatch> {
    ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(bundled()).unwrap())
        .unwrap()
        .build()
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// The bundled data written as `files` Parquet files in `dir` (rows dealt in
/// contiguous slices), so a query has several files to spread.
pub(crate) fn write_parts(dir: &Path, files: usize) -> Vec<RecordBatch> {
    let batches = bundled_batches();
    let schema = batches[0].schema();
    let all = arrow_select::concat::concat_batches(&schema, &batches).unwrap();
    let per = all.num_rows().div_ceil(files);
    for i in 0..files {
        let start = i * per;
        let part = all.slice(start, per.min(all.num_rows() - start));
        let file = std::fs::File::create(dir.join(format!("part-{i}.parquet"))).unwrap();
        let mut writer = ArrowWriter::try_new(file, Arc::clone(&schema), None).unwrap();
        writer.write(&part).unwrap();
        writer.close().unwrap();
    }
    batches
}

/// The profile our own profiler computes on one machine.
pub(crate) fn single_machine(batches: &[RecordBatch]) -> Profile {
    let mut profiler = Profiler::new(ProfileConfig::default()).unwrap();
    for b in batches {
        profiler.update(b).unwrap();
    }
    profiler.finish()
}

fn close(a: Option<f64>, b: Option<f64>, rel: f64) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => a == b || (a - b).abs() <= rel * a.abs().max(b.abs()),
        _ => false,
    }
}

/// `got` describes the same data as `expected`: counts, min and max exact,
/// moments to 1e-12 relative, quantiles within the sketches' rank error
/// (checked against the exact quantiles of `raw`), distinct counts within 3 %.
pub(crate) fn assert_same_data(got: &Profile, expected: &Profile, raw: &[RecordBatch]) {
    assert_eq!(got.num_rows(), expected.num_rows());
    let mut names = got.column_names();
    names.sort();
    let mut want = expected.column_names();
    want.sort();
    assert_eq!(names, want);
    for name in &names {
        let (g, e) = (got.summary(name).unwrap(), expected.summary(name).unwrap());
        assert_eq!(
            (g.count, g.null_count, g.nan_count, g.true_count, g.false_count),
            (e.count, e.null_count, e.nan_count, e.true_count, e.false_count),
            "{name}: counts"
        );
        assert_eq!((g.min, g.max), (e.min, e.max), "{name}: min and max");
        assert!(
            close(g.mean, e.mean, 1e-12),
            "{name}: mean {:?} vs {:?}",
            g.mean,
            e.mean
        );
        assert!(close(g.std, e.std, 1e-12), "{name}: std {:?} vs {:?}", g.std, e.std);
        if let (Some(gd), Some(ed)) = (g.distinct, e.distinct) {
            assert!((gd - ed).abs() <= 0.03 * ed.max(1.0), "{name}: distinct {gd} vs {ed}");
        }
    }
    // Quantiles: the rank of each estimate in the exact data is within ε of q.
    let eps = ProfileConfig::default().rank_error();
    for name in ["income", "loan_amount", "age"] {
        let mut values: Vec<f64> = raw
            .iter()
            .flat_map(|b| {
                let c = arrow_cast::cast(b.column_by_name(name).unwrap(), &arrow_schema::DataType::Float64).unwrap();
                let c = c.as_any().downcast_ref::<arrow_array::Float64Array>().unwrap().clone();
                c.iter().flatten().filter(|v| !v.is_nan()).collect::<Vec<_>>()
            })
            .collect();
        values.sort_by(f64::total_cmp);
        let n = values.len() as f64;
        for q in [0.01, 0.1, 0.5, 0.9, 0.99] {
            let estimate = got.quantile(name, q).unwrap();
            let below = values.partition_point(|v| *v < estimate) as f64 / n;
            let at_most = values.partition_point(|v| *v <= estimate) as f64 / n;
            assert!(
                below - eps <= q && q <= at_most + eps,
                "{name} q{q}: estimate {estimate} has rank [{below}, {at_most}], ε {eps}"
            );
        }
    }
}
