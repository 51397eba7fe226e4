//! The [`Predict`] contract: a batch of rows in, a batch of answers out.
//!
//! A [`Predictor`](crate::Predictor) implements it; the micro-batcher, the
//! batch and stream scorers and (later) deployments are written against the
//! trait, so a user can put their own model runtime behind the same machinery.

use std::fmt::Debug;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use mlops_core::{Result, RowViolation};

/// Answers batches of rows.
///
/// Contract:
/// - the answer has one row per input row, in the input's order;
/// - rows refused by a row-level policy get null outputs and are listed in
///   [`Prediction::rejected_rows`]; a batch-level refusal is an `Err`;
/// - an empty batch (0 rows) gets an empty answer with the output schema;
/// - implementations are `Send + Sync` and may be called from many threads at once.
pub trait Predict: Send + Sync + Debug {
    /// The model's name, for errors, logs and events.
    fn model_name(&self) -> &str;

    /// The registry version this predictor serves, when it knows it: a
    /// deployment refuses to put it live under another version number.
    fn version(&self) -> Option<u64> {
        None
    }

    /// The columns a request must carry (others are ignored).
    fn input_schema(&self) -> SchemaRef;

    /// The columns of every answer.
    fn output_schema(&self) -> SchemaRef;

    /// Answers every row of `batch`, with what validation found.
    fn predict_detailed(&self, batch: &RecordBatch) -> Result<Prediction>;

    /// Answers every row of `batch` (rows refused by a row-level policy get nulls).
    fn predict(&self, batch: &RecordBatch) -> Result<RecordBatch> {
        self.predict_detailed(batch).map(|p| p.batch)
    }
}

/// An answer with what validation at the door found.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Prediction {
    /// One output row per input row, in order.
    pub batch: RecordBatch,
    /// Rows refused by a row-level policy (their outputs are null), ascending.
    pub rejected_rows: Vec<usize>,
    /// Rules broken by the refused rows.
    pub rejected: Vec<RowViolation>,
    /// Rules broken by rows that were answered anyway (policy: flag).
    pub flagged: Vec<RowViolation>,
}

impl Prediction {
    /// An answer where every row passed.
    pub fn clean(batch: RecordBatch) -> Self {
        Prediction {
            batch,
            rejected_rows: Vec::new(),
            rejected: Vec::new(),
            flagged: Vec::new(),
        }
    }

    /// The part of this answer for input rows `offset..offset + len`, with row
    /// indices renumbered from 0 (how a micro-batch is split back into its requests).
    pub fn slice(&self, offset: usize, len: usize) -> Prediction {
        let end = offset + len;
        let in_range = |r: &usize| (offset..end).contains(r);
        // A violation records only its first rows; where that list was cut short,
        // the count for this range is the rows known to fall in it (a lower bound).
        let part = |vs: &[RowViolation]| -> Vec<RowViolation> {
            vs.iter()
                .filter_map(|v| {
                    let rows: Vec<usize> = v.rows.iter().copied().filter(in_range).map(|r| r - offset).collect();
                    (!rows.is_empty()).then(|| {
                        let mut v = v.clone();
                        v.count = rows.len();
                        v.rows = rows;
                        v
                    })
                })
                .collect()
        };
        Prediction {
            batch: self.batch.slice(offset, len),
            rejected_rows: self
                .rejected_rows
                .iter()
                .copied()
                .filter(in_range)
                .map(|r| r - offset)
                .collect(),
            rejected: part(&self.rejected),
            flagged: part(&self.flagged),
        }
    }
}
