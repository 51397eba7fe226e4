//! [`Profile`]: the merged statistics of a data set, column by column.

use arrow_schema::{Field, Schema};
use mlops_core::{ColumnSummary, DataProfile, ItemCount};

use crate::column::{ColumnProfile, ColumnStats};
use crate::config::ProfileConfig;
use crate::{Error, Result};

/// The quantiles every report carries.
pub const REPORT_QUANTILES: [f64; 7] = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99];

/// A mergeable profile of a data set.
///
/// Build one with a [`Profiler`](crate::Profiler) (from Arrow batches) or
/// [`ParquetProfiler`](crate::ParquetProfiler) (from files and object stores);
/// combine partitions with [`merge`](Self::merge); persist with
/// [`to_json`](Self::to_json) or [`to_bytes`](Self::to_bytes).
#[derive(Clone, Debug)]
pub struct Profile {
    pub(crate) config: ProfileConfig,
    pub(crate) num_rows: u64,
    pub(crate) columns: Vec<ColumnProfile>,
}

impl Profile {
    /// A profile of no data. It is the identity of [`merge`](Self::merge).
    pub fn empty(config: ProfileConfig) -> Self {
        Profile {
            config,
            num_rows: 0,
            columns: Vec::new(),
        }
    }

    /// A profile with the schema's columns and no rows.
    pub(crate) fn with_schema(config: ProfileConfig, schema: &Schema) -> Result<Self> {
        let columns = schema
            .fields()
            .iter()
            .map(|f| ColumnProfile::new(f.name(), f.data_type(), &config))
            .collect::<Result<Vec<_>>>()?;
        Ok(Profile {
            config,
            num_rows: 0,
            columns,
        })
    }

    /// Rows seen, nulls included.
    pub fn num_rows(&self) -> u64 {
        self.num_rows
    }

    /// The configuration the sketches were built with.
    pub fn config(&self) -> &ProfileConfig {
        &self.config
    }

    /// Columns in schema order.
    pub fn columns(&self) -> &[ColumnProfile] {
        &self.columns
    }

    /// The column with this name.
    pub fn column(&self, name: &str) -> Option<&ColumnProfile> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The Arrow schema of the profiled data (every field nullable).
    pub fn schema(&self) -> Schema {
        Schema::new(
            self.columns
                .iter()
                .map(|c| Field::new(&c.name, c.data_type.clone(), true))
                .collect::<Vec<_>>(),
        )
    }

    /// Adds the data of `other`: the result is the profile of both data sets.
    ///
    /// Counts, min and max are exact; moments agree with a single pass to
    /// about 1e-12 relative; sketches stay within their bounds. Columns are
    /// matched by name and must have the same kind of type. On error `self`
    /// is unchanged.
    pub fn merge(&mut self, other: &Profile) -> Result<()> {
        if other.columns.is_empty() && other.num_rows == 0 {
            return Ok(());
        }
        if self.columns.is_empty() && self.num_rows == 0 {
            *self = other.clone();
            return Ok(());
        }
        if self.config.hll_precision != other.config.hll_precision {
            return Err(Error::invalid_input(
                "profile merge",
                "Profile::merge",
                format!(
                    "HyperLogLog precision {} vs {}",
                    self.config.hll_precision, other.config.hll_precision
                ),
                "profiles built with the same hll_precision",
            ));
        }
        fn names(p: &Profile) -> Vec<&str> {
            let mut v: Vec<&str> = p.columns.iter().map(|c| c.name.as_str()).collect();
            v.sort_unstable();
            v
        }
        if names(self) != names(other) {
            return Err(Error::SchemaMismatch {
                location: "Profile::merge".into(),
                message: format!("columns {:?} cannot merge with columns {:?}", names(self), names(other)),
            });
        }
        let mut merged = self.columns.clone();
        for column in &mut merged {
            let theirs = other.column(&column.name).ok_or_else(|| Error::SchemaMismatch {
                location: "Profile::merge".into(),
                message: format!("column `{}` is missing on one side", column.name),
            })?;
            column.merge(theirs)?;
        }
        self.columns = merged;
        self.num_rows += other.num_rows;
        self.config.kll_k = self.config.kll_k.min(other.config.kll_k);
        self.config.frequent_items = self.config.frequent_items.min(other.config.frequent_items);
        Ok(())
    }

    /// Drops surplus frequent-item counters; done before persisting.
    pub(crate) fn compact(&mut self) {
        for c in &mut self.columns {
            if let ColumnStats::String(s) = &mut c.stats {
                s.frequent.shrink();
            }
        }
    }
}

impl DataProfile for Profile {
    fn num_rows(&self) -> u64 {
        self.num_rows
    }

    fn column_names(&self) -> Vec<String> {
        self.columns.iter().map(|c| c.name.clone()).collect()
    }

    fn summary(&self, column: &str) -> Option<ColumnSummary> {
        self.column(column).map(ColumnProfile::summary)
    }

    fn quantile(&self, column: &str, q: f64) -> Option<f64> {
        match &self.column(column)?.stats {
            ColumnStats::Numeric(s) => s.quantile(q),
            _ => None,
        }
    }

    fn rank(&self, column: &str, value: f64) -> Option<f64> {
        match &self.column(column)?.stats {
            ColumnStats::Numeric(s) if s.finite_count() > 0 => Some(s.quantiles.sorted_view().rank(value)),
            _ => None,
        }
    }

    fn rank_error(&self, column: &str) -> Option<f64> {
        match &self.column(column)?.stats {
            ColumnStats::Numeric(s) => Some(s.quantiles.rank_error()),
            _ => None,
        }
    }

    fn frequent_items(&self, column: &str) -> Option<Vec<ItemCount>> {
        match &self.column(column)?.stats {
            ColumnStats::String(s) => Some(s.frequent.items()),
            _ => None,
        }
    }

    fn to_json(&self) -> Result<String> {
        Profile::to_json(self)
    }
}
