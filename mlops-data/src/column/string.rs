//! Statistics of string and categorical columns.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::config::ProfileConfig;
use crate::sketch::frequent::FrequentWire;
use crate::sketch::hash::hash_str;
use crate::sketch::hll::HllWire;
use crate::sketch::{FrequentItems, HyperLogLog};
use crate::{Error, Result};

/// Frequent values, distinct count and lengths (in Unicode scalar values) of a string column.
#[derive(Clone, Debug)]
pub struct StringStats {
    pub(crate) count: u64,
    pub(crate) null_count: u64,
    pub(crate) frequent: FrequentItems,
    pub(crate) distinct: HyperLogLog,
    pub(crate) min_len: u64,
    pub(crate) max_len: u64,
    pub(crate) total_len: u64,
}

/// Per-batch counts of each distinct value: the expensive work (hashing,
/// length, sketch updates) then happens once per distinct value, not per row.
pub(crate) type BatchCounts<'a> = HashMap<&'a str, u64, foldhash::fast::RandomState>;

impl StringStats {
    pub(crate) fn new(config: &ProfileConfig) -> Result<Self> {
        Ok(StringStats {
            count: 0,
            null_count: 0,
            frequent: FrequentItems::new(config.frequent_items)?,
            distinct: HyperLogLog::new(config.hll_precision)?,
            min_len: u64::MAX,
            max_len: 0,
            total_len: 0,
        })
    }

    pub(crate) fn update(&mut self, counts: &BatchCounts<'_>, nulls: u64) {
        self.null_count += nulls;
        let mut hashes = Vec::with_capacity(counts.len());
        for (&value, &c) in counts {
            let len = value.chars().count() as u64;
            self.count += c;
            self.min_len = self.min_len.min(len);
            self.max_len = self.max_len.max(len);
            self.total_len += len * c;
            self.frequent.add(value, c);
            hashes.push(hash_str(value));
        }
        self.distinct.insert_hashes(&hashes);
    }

    pub(crate) fn merge(&mut self, other: &StringStats) -> Result<()> {
        self.count += other.count;
        self.null_count += other.null_count;
        self.min_len = self.min_len.min(other.min_len);
        self.max_len = self.max_len.max(other.max_len);
        self.total_len += other.total_len;
        self.frequent.merge(&other.frequent);
        self.distinct.merge(&other.distinct)
    }

    /// The frequent-items summary.
    pub fn frequent_items(&self) -> &FrequentItems {
        &self.frequent
    }

    /// The distinct-count sketch.
    pub fn distinct_sketch(&self) -> &HyperLogLog {
        &self.distinct
    }

    /// Shortest value length in characters.
    pub fn min_len(&self) -> Option<u64> {
        (self.count > 0).then_some(self.min_len)
    }

    /// Longest value length in characters.
    pub fn max_len(&self) -> Option<u64> {
        (self.count > 0).then_some(self.max_len)
    }

    /// Mean value length in characters.
    pub fn mean_len(&self) -> Option<f64> {
        (self.count > 0).then(|| self.total_len as f64 / self.count as f64)
    }

    pub(crate) fn to_wire(&self) -> StringWire {
        StringWire {
            min_len: self.min_len(),
            max_len: self.max_len(),
            total_len: self.total_len,
            frequent: self.frequent.to_wire(),
            hll: self.distinct.to_wire(),
        }
    }

    pub(crate) fn from_wire(w: StringWire, count: u64, null_count: u64, location: &str) -> Result<Self> {
        let frequent = FrequentItems::from_wire(w.frequent, location)?;
        let distinct = HyperLogLog::from_wire(w.hll, location)?;
        let lens_ok = match (w.min_len, w.max_len) {
            (Some(lo), Some(hi)) => count > 0 && lo <= hi,
            (None, None) => count == 0 && w.total_len == 0,
            _ => false,
        };
        if !lens_ok || frequent.total() != count {
            return Err(Error::corrupt(
                location,
                "string statistics are inconsistent with the column's counts",
            ));
        }
        Ok(StringStats {
            count,
            null_count,
            frequent,
            distinct,
            min_len: w.min_len.unwrap_or(u64::MAX),
            max_len: w.max_len.unwrap_or(0),
            total_len: w.total_len,
        })
    }
}

/// Serialised string state.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StringWire {
    min_len: Option<u64>,
    max_len: Option<u64>,
    total_len: u64,
    frequent: FrequentWire,
    hll: HllWire,
}
