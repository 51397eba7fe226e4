//! What a Parquet read decodes: which columns, which row groups, in what batch size.

use arrow_array::RecordBatch;

use crate::Result;

/// Which columns and row groups to read, and in what batch size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scan {
    pub(crate) columns: Option<Vec<usize>>,
    pub(crate) row_groups: Option<Vec<usize>>,
    pub(crate) batch_size: usize,
}

impl Default for Scan {
    fn default() -> Self {
        Scan {
            columns: None,
            row_groups: None,
            batch_size: 8192,
        }
    }
}

impl Scan {
    /// Every column of every row group, in batches of 8192 rows.
    pub fn all() -> Self {
        Self::default()
    }

    /// Only these top-level columns (indices into the Arrow schema), in schema order.
    pub fn columns(mut self, columns: impl IntoIterator<Item = usize>) -> Self {
        self.columns = Some(columns.into_iter().collect());
        self
    }

    /// Only these row groups (indices in the file), in the order given; an index
    /// past the file's last row group makes the read fail with
    /// [`Error::InvalidInput`](crate::Error::InvalidInput). A caller that keeps
    /// what it maps (a scorer writing a new file) reads a window of row groups
    /// at a time this way, so memory holds at most that window.
    pub fn row_groups(mut self, row_groups: impl IntoIterator<Item = usize>) -> Self {
        self.row_groups = Some(row_groups.into_iter().collect());
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
