//! What a Parquet read decodes: which columns, in what batch size.

use arrow_array::RecordBatch;

use crate::Result;

/// Which columns to read and in what batch size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scan {
    pub(crate) columns: Option<Vec<usize>>,
    pub(crate) batch_size: usize,
}

impl Default for Scan {
    fn default() -> Self {
        Scan {
            columns: None,
            batch_size: 8192,
        }
    }
}

impl Scan {
    /// Every column, in batches of 8192 rows.
    pub fn all() -> Self {
        Self::default()
    }

    /// Only these top-level columns (indices into the Arrow schema), in schema order.
    pub fn columns(mut self, columns: impl IntoIterator<Item = usize>) -> Self {
        self.columns = Some(columns.into_iter().collect());
        self
    }

    /// Rows per decoded batch (≥ 1).
    pub fn batch_size(mut self, rows: usize) -> Self {
        self.batch_size = rows.max(1);
        self
    }
}

/// The decoded batches of one row group, errors already naming the file and row group.
pub type RowGroupBatches<'a> = &'a mut dyn Iterator<Item = Result<RecordBatch>>;
