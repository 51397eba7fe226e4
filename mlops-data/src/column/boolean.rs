//! Statistics of boolean columns.

use serde::{Deserialize, Serialize};

/// True and false counts of a boolean column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BooleanStats {
    pub(crate) count: u64,
    pub(crate) null_count: u64,
    pub(crate) true_count: u64,
}

impl BooleanStats {
    pub(crate) fn update(&mut self, true_count: u64, false_count: u64, nulls: u64) {
        self.true_count += true_count;
        self.count += true_count + false_count;
        self.null_count += nulls;
    }

    pub(crate) fn merge(&mut self, other: &BooleanStats) {
        self.count += other.count;
        self.null_count += other.null_count;
        self.true_count += other.true_count;
    }

    /// `true` values.
    pub fn true_count(&self) -> u64 {
        self.true_count
    }

    /// `false` values.
    pub fn false_count(&self) -> u64 {
        self.count - self.true_count
    }
}
