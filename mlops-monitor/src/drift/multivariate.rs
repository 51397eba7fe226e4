//! Multivariate drift: the MMD permutation test over several numeric columns at once.

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use mlops_core::{Error, Result};

use crate::stats::{MmdConfig, MmdResult, mmd_test};

fn rows(batches: &[RecordBatch], columns: &[String], side: &str) -> Result<Vec<Vec<f64>>> {
    let mut out = Vec::new();
    for batch in batches {
        let arrays = columns
            .iter()
            .map(|c| {
                let a = batch.column_by_name(c).ok_or_else(|| Error::SchemaMismatch {
                    location: format!("{side} data"),
                    message: format!("column `{c}` is missing"),
                })?;
                arrow_cast::cast(a, &DataType::Float64).map_err(|source| Error::Arrow {
                    location: format!("column `{c}`"),
                    source,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        for r in 0..batch.num_rows() {
            let row: Vec<f64> = arrays
                .iter()
                .map(|a| a.as_primitive::<Float64Type>())
                .map(|a| if a.is_valid(r) { a.value(r) } else { f64::NAN })
                .collect();
            // Rows with a missing or non-finite value are left out of the test.
            if row.iter().all(|v| v.is_finite()) {
                out.push(row);
            }
        }
    }
    Ok(out)
}

/// MMD drift over `columns` (numeric), each standardised by the reference's mean
/// and standard deviation so that no column dominates the kernel distance.
pub fn mmd_drift(
    reference: &[RecordBatch],
    current: &[RecordBatch],
    columns: &[String],
    config: &MmdConfig,
) -> Result<MmdResult> {
    if columns.is_empty() {
        return Err(Error::invalid_input(
            "MMD columns",
            "mmd_drift",
            "no column given",
            "one or more numeric columns",
        ));
    }
    let mut r = rows(reference, columns, "reference")?;
    let mut c = rows(current, columns, "current")?;
    let n = r.len().max(1) as f64;
    for d in 0..columns.len() {
        let mean = r.iter().map(|row| row[d]).sum::<f64>() / n;
        let std = (r.iter().map(|row| (row[d] - mean).powi(2)).sum::<f64>() / n).sqrt();
        let scale = if std > 0.0 { std } else { 1.0 };
        for row in r.iter_mut().chain(c.iter_mut()) {
            row[d] = (row[d] - mean) / scale;
        }
    }
    mmd_test(&r, &c, config)
}
