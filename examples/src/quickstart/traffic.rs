//! Simulated serving traffic: one labelled application per request, drawn
//! from a pool of real rows, and the drift the quickstart injects into it.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::{Array, ArrayRef, Float64Array, Int64Array, RecordBatch};

use super::BoxError;
use super::labels::LABEL;
use super::training::FEATURES;

/// Requests to draw from: the features as serving receives them, and each
/// row's true outcome, kept aside until its label "arrives".
pub(crate) struct Pool {
    features: RecordBatch,
    truth: Vec<bool>,
}

impl Pool {
    /// The feature columns and labels of `batches`.
    pub(crate) fn from_batches(batches: &[RecordBatch]) -> Result<Pool, BoxError> {
        let first = batches.first().ok_or("no rows for the traffic pool")?;
        let all = arrow_select::concat::concat_batches(&first.schema(), batches)?;
        let indices: Vec<usize> = FEATURES
            .iter()
            .map(|name| all.schema().index_of(name))
            .collect::<Result<_, _>>()?;
        let truth = all.column_by_name(LABEL).ok_or("no label column")?.as_boolean();
        if truth.null_count() > 0 {
            return Err("the traffic pool has rows without a label".into());
        }
        Ok(Pool {
            features: all.project(&indices)?,
            truth: truth.values().iter().collect(),
        })
    }

    /// Rows in the pool.
    pub(crate) fn len(&self) -> usize {
        self.truth.len()
    }

    /// Row `i` as a one-row request, and its outcome.
    pub(crate) fn request(&self, i: usize) -> (RecordBatch, bool) {
        (self.features.slice(i, 1), self.truth[i])
    }

    /// The rows in `indices`, with the label column back, for training.
    pub(crate) fn labelled(&self, indices: &[usize]) -> Result<RecordBatch, BoxError> {
        let take = arrow_array::UInt32Array::from_iter_values(indices.iter().map(|&i| i as u32));
        let rows = arrow_select::take::take_record_batch(&self.features, &take)?;
        let label: ArrayRef = Arc::new(arrow_array::BooleanArray::from(
            indices.iter().map(|&i| self.truth[i]).collect::<Vec<_>>(),
        ));
        let mut fields: Vec<_> = rows.schema().fields().iter().cloned().collect();
        fields.push(Arc::new(arrow_schema::Field::new(
            LABEL,
            arrow_schema::DataType::Boolean,
            false,
        )));
        let mut columns = rows.columns().to_vec();
        columns.push(label);
        Ok(RecordBatch::try_new(
            Arc::new(arrow_schema::Schema::new(fields)),
            columns,
        )?)
    }

    /// The feature columns only, for a monitor's reference.
    pub(crate) fn features(&self) -> &RecordBatch {
        &self.features
    }

    /// The same applications after a downturn: incomes halve, credit scores
    /// fall by 90 points (within 300–850), loans grow by 60 %, while the
    /// outcomes stay as they were. A model trained before it reads these
    /// applicants as far riskier than they turn out to be.
    pub(crate) fn drifted(&self) -> Result<Pool, BoxError> {
        let schema = self.features.schema();
        let mut columns = self.features.columns().to_vec();
        let scale = |name: &str, factor: f64, columns: &mut Vec<ArrayRef>| -> Result<(), BoxError> {
            let i = schema.index_of(name)?;
            let values = columns[i]
                .as_primitive_opt::<Float64Type>()
                .ok_or("expected a float column")?;
            columns[i] = Arc::new(values.iter().map(|v| v.map(|v| v * factor)).collect::<Float64Array>());
            Ok(())
        };
        scale("income", 0.5, &mut columns)?;
        scale("loan_amount", 1.6, &mut columns)?;
        let i = schema.index_of("credit_score")?;
        let scores = columns[i]
            .as_primitive_opt::<Int64Type>()
            .ok_or("expected an integer credit score")?;
        columns[i] = Arc::new(
            scores
                .iter()
                .map(|v| v.map(|v| (v - 90).clamp(300, 850)))
                .collect::<Int64Array>(),
        );
        Ok(Pool {
            features: RecordBatch::try_new(schema, columns)?,
            truth: self.truth.clone(),
        })
    }
}

/// Which rows the requests carry: a seeded SplitMix64, so every run sends
/// the same traffic in the same order.
pub(crate) struct Draw(u64);

impl Draw {
    /// A sequence fixed by `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        Draw(seed)
    }

    /// The next index below `n` (`n > 0`).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        // Multiply-shift maps 64 random bits onto 0..n without modulo bias worth noting here.
        ((u128::from(z) * n as u128) >> 64) as usize
    }

    /// `0..n` in a shuffled order (Fisher–Yates).
    pub(crate) fn shuffled(&mut self, n: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            order.swap(i, self.below(i + 1));
        }
        order
    }
}
