//! One column's profile: which statistics its type gets and how they merge.

mod boolean;
pub(crate) mod ingest;
pub(crate) mod moments;
mod numeric;
mod string;

use arrow_array::Array;
use arrow_array::cast::AsArray;
use arrow_schema::DataType;
use mlops_core::{ColumnSummary, SemanticKind};
use serde::{Deserialize, Serialize};

pub use boolean::BooleanStats;
pub use numeric::{Histogram, NumericStats};
pub use string::StringStats;

pub(crate) use numeric::NumericWire;
pub(crate) use string::StringWire;

use crate::config::ProfileConfig;
use crate::{Error, Result};
use ingest::StatsKind;
use string::BatchCounts;

/// Counts of a column whose type is not profiled (nested, binary...).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UnsupportedStats {
    pub(crate) count: u64,
    pub(crate) null_count: u64,
}

/// The statistics of one column, by kind of type.
#[non_exhaustive]
#[derive(Clone, Debug)]
pub enum ColumnStats {
    /// Integers, floats, decimals, dates, times and timestamps.
    Numeric(NumericStats),
    /// Strings and string dictionaries.
    String(StringStats),
    /// Booleans.
    Boolean(BooleanStats),
    /// Types that are counted but not profiled.
    Unsupported(UnsupportedStats),
}

/// A column's name, type and statistics.
#[derive(Clone, Debug)]
pub struct ColumnProfile {
    pub(crate) name: String,
    pub(crate) data_type: DataType,
    pub(crate) stats: ColumnStats,
}

impl ColumnProfile {
    pub(crate) fn new(name: &str, data_type: &DataType, config: &ProfileConfig) -> Result<Self> {
        let stats = match StatsKind::of(data_type) {
            StatsKind::Numeric => ColumnStats::Numeric(NumericStats::new(config)?),
            StatsKind::String => ColumnStats::String(StringStats::new(config)?),
            StatsKind::Boolean => ColumnStats::Boolean(BooleanStats::default()),
            StatsKind::Unsupported => ColumnStats::Unsupported(UnsupportedStats::default()),
        };
        Ok(ColumnProfile {
            name: name.to_owned(),
            data_type: data_type.clone(),
            stats,
        })
    }

    /// Column name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Arrow type of the first batch that carried the column.
    pub fn data_type(&self) -> &DataType {
        &self.data_type
    }

    /// The statistics.
    pub fn stats(&self) -> &ColumnStats {
        &self.stats
    }

    /// Non-null values (NaN and infinities included).
    pub fn count(&self) -> u64 {
        match &self.stats {
            ColumnStats::Numeric(s) => s.count,
            ColumnStats::String(s) => s.count,
            ColumnStats::Boolean(s) => s.count,
            ColumnStats::Unsupported(s) => s.count,
        }
    }

    /// Null values.
    pub fn null_count(&self) -> u64 {
        match &self.stats {
            ColumnStats::Numeric(s) => s.null_count,
            ColumnStats::String(s) => s.null_count,
            ColumnStats::Boolean(s) => s.null_count,
            ColumnStats::Unsupported(s) => s.null_count,
        }
    }

    /// Estimated distinct non-null (for numbers: finite) values.
    pub fn distinct(&self) -> Option<f64> {
        match &self.stats {
            ColumnStats::Numeric(s) => Some(s.distinct.estimate()),
            ColumnStats::String(s) => Some(s.distinct.estimate()),
            ColumnStats::Boolean(s) => Some(f64::from(u8::from(s.true_count > 0) + u8::from(s.false_count() > 0))),
            ColumnStats::Unsupported(_) => None,
        }
    }

    /// The semantic kind: strings are categorical while they have at most
    /// 1 000 distinct values or at most 5 % of their values are distinct, text otherwise.
    pub fn kind(&self) -> SemanticKind {
        match &self.stats {
            ColumnStats::String(s) => {
                let distinct = s.distinct.estimate();
                if distinct <= 1000.0 || distinct <= 0.05 * s.count as f64 {
                    SemanticKind::Categorical
                } else {
                    SemanticKind::Text
                }
            }
            ColumnStats::Numeric(_) if SemanticKind::from_type(&self.data_type) == SemanticKind::Time => {
                SemanticKind::Time
            }
            ColumnStats::Numeric(_) => SemanticKind::Numeric,
            ColumnStats::Boolean(_) => SemanticKind::Boolean,
            ColumnStats::Unsupported(_) => SemanticKind::Unsupported,
        }
    }

    /// Exact counts and moments, as the [`mlops_core::DataProfile`] contract exposes them.
    pub fn summary(&self) -> ColumnSummary {
        let mut s = ColumnSummary::new(&self.name, self.data_type.clone(), self.kind());
        s.count = self.count();
        s.null_count = self.null_count();
        s.distinct = self.distinct();
        match &self.stats {
            ColumnStats::Numeric(n) => {
                s.nan_count = n.nan_count;
                s.pos_inf_count = n.pos_inf_count;
                s.neg_inf_count = n.neg_inf_count;
                s.min = n.min();
                s.max = n.max();
                s.mean = n.mean();
                s.std = n.std();
            }
            ColumnStats::Boolean(b) => {
                s.true_count = Some(b.true_count());
                s.false_count = Some(b.false_count());
            }
            ColumnStats::String(_) | ColumnStats::Unsupported(_) => {}
        }
        s
    }

    /// Whether a batch column of type `found` may be added to this profile.
    pub(crate) fn accepts(&self, found: &DataType) -> bool {
        let expected = match &self.stats {
            ColumnStats::Numeric(_) => StatsKind::Numeric,
            ColumnStats::String(_) => StatsKind::String,
            ColumnStats::Boolean(_) => StatsKind::Boolean,
            ColumnStats::Unsupported(_) => StatsKind::Unsupported,
        };
        StatsKind::of(found) == expected
    }

    /// Adds one batch's column. The caller has checked [`accepts`](Self::accepts).
    pub(crate) fn update(&mut self, array: &dyn Array) -> Result<()> {
        match &mut self.stats {
            ColumnStats::Numeric(s) => s.update_array(array, &self.name)?,
            ColumnStats::String(s) => {
                let mut counts = BatchCounts::default();
                let nulls = ingest::string_counts(array, &self.name, &mut counts)?;
                s.update(&counts, nulls);
            }
            ColumnStats::Boolean(s) => {
                let Some(b) = array.as_boolean_opt() else {
                    return Err(Error::TypeMismatch {
                        column: self.name.clone(),
                        expected: "Boolean".into(),
                        found: array.data_type().to_string(),
                    });
                };
                let trues = b.true_count() as u64;
                let nulls = b.null_count() as u64;
                s.update(trues, b.len() as u64 - nulls - trues, nulls);
            }
            ColumnStats::Unsupported(s) => {
                let nulls = array.logical_null_count() as u64;
                s.count += array.len() as u64 - nulls;
                s.null_count += nulls;
            }
        }
        Ok(())
    }

    pub(crate) fn merge(&mut self, other: &ColumnProfile) -> Result<()> {
        let mismatch = || Error::SchemaMismatch {
            location: format!("column `{}`", self.name),
            message: format!(
                "cannot merge a {} column into a {} column",
                other.data_type, self.data_type
            ),
        };
        match (&mut self.stats, &other.stats) {
            (ColumnStats::Numeric(a), ColumnStats::Numeric(b)) => a.merge(b),
            (ColumnStats::String(a), ColumnStats::String(b)) => a.merge(b),
            (ColumnStats::Boolean(a), ColumnStats::Boolean(b)) => {
                a.merge(b);
                Ok(())
            }
            (ColumnStats::Unsupported(a), ColumnStats::Unsupported(b)) => {
                a.count += b.count;
                a.null_count += b.null_count;
                Ok(())
            }
            _ => Err(mismatch()),
        }
    }
}

/// An empty per-batch value-count map (for validators that count categories).
pub(crate) fn string_counts_map<'a>() -> BatchCounts<'a> {
    BatchCounts::default()
}
