//! Permutation importance: a model-agnostic check of what a model relies on.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type};
use arrow_array::{Array, RecordBatch, UInt32Array};
use mlops_core::{Error, Result};

use crate::Predict;

/// For each input column: shuffle it (seeded, `repeats` times) and measure the
/// mean absolute change of the model's first score column (a class
/// probability or the prediction). Works on any [`Predict`]; largest first.
///
/// Needs no labels: it measures how much the answers depend on a column,
/// which is what attributions claim to measure too.
pub fn permutation_importance(
    predictor: &dyn Predict,
    batch: &RecordBatch,
    repeats: usize,
    seed: u64,
) -> Result<Vec<(String, f64)>> {
    let rows = batch.num_rows();
    if rows < 2 || repeats == 0 {
        return Err(Error::NotEnoughData {
            location: "permutation importance".into(),
            message: format!("{rows} rows and {repeats} repeats; needs at least 2 rows and 1 repeat"),
        });
    }
    let score = |b: &RecordBatch| -> Result<Vec<f64>> {
        let answer = predictor.predict(b)?;
        let column = answer
            .columns()
            .iter()
            .find(|c| {
                matches!(
                    c.data_type(),
                    arrow_schema::DataType::Float32 | arrow_schema::DataType::Float64
                )
            })
            .ok_or_else(|| Error::SchemaMismatch {
                location: format!("model `{}` output", predictor.model_name()),
                message: "no numeric output column to measure".into(),
            })?;
        Ok(match column.as_primitive_opt::<Float32Type>() {
            Some(a) => a.iter().map(|v| v.map_or(f64::NAN, f64::from)).collect(),
            None => column
                .as_primitive::<Float64Type>()
                .iter()
                .map(|v| v.unwrap_or(f64::NAN))
                .collect(),
        })
    };
    let reference = score(batch)?;
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut out = Vec::new();
    for name in predictor.input_schema().fields().iter().map(|f| f.name().clone()) {
        let Ok(index) = batch.schema().index_of(&name) else {
            continue;
        };
        let mut total = 0.0;
        let mut counted = 0usize;
        for _ in 0..repeats {
            let mut order: Vec<u32> = (0..rows as u32).collect();
            rng.shuffle(&mut order);
            let shuffled = arrow_select::take::take(batch.column(index).as_ref(), &UInt32Array::from(order), None)
                .map_err(|e| Error::Arrow {
                    location: format!("permutation of column `{name}`"),
                    source: e,
                })?;
            let mut columns: Vec<Arc<dyn Array>> = batch.columns().to_vec();
            columns[index] = shuffled;
            let permuted = RecordBatch::try_new(batch.schema(), columns).map_err(|e| Error::Arrow {
                location: format!("permutation of column `{name}`"),
                source: e,
            })?;
            for (a, b) in score(&permuted)?.iter().zip(&reference) {
                if a.is_finite() && b.is_finite() {
                    total += (a - b).abs();
                    counted += 1;
                }
            }
        }
        out.push((name, if counted == 0 { 0.0 } else { total / counted as f64 }));
    }
    out.sort_by(|a, b| b.1.total_cmp(&a.1));
    Ok(out)
}
