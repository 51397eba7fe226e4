//! The [`DataProfile`] contract: a read-only, mergeable summary of a data set.

use arrow_schema::DataType;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::kind::SemanticKind;

/// Exact counts and moments of one column, as a consumer of a profile sees them.
///
/// Numeric statistics cover finite values only: NaN and ±infinity are counted
/// separately and never enter `min`, `max`, `mean` or `std`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ColumnSummary {
    /// Column name.
    pub name: String,
    /// Arrow type of the column (of the first batch that carried it).
    pub data_type: DataType,
    /// Inferred semantic kind.
    pub kind: SemanticKind,
    /// Non-null values (NaN and ±inf included).
    pub count: u64,
    /// Null values.
    pub null_count: u64,
    /// NaN values (numeric columns).
    pub nan_count: u64,
    /// +infinity values (numeric columns).
    pub pos_inf_count: u64,
    /// −infinity values (numeric columns).
    pub neg_inf_count: u64,
    /// Smallest finite value, exact.
    pub min: Option<f64>,
    /// Largest finite value, exact.
    pub max: Option<f64>,
    /// Mean of the finite values.
    pub mean: Option<f64>,
    /// Sample standard deviation (ddof = 1) of the finite values.
    pub std: Option<f64>,
    /// Estimated number of distinct non-null values.
    pub distinct: Option<f64>,
    /// `true` values (boolean columns).
    pub true_count: Option<u64>,
    /// `false` values (boolean columns).
    pub false_count: Option<u64>,
}

impl ColumnSummary {
    /// An empty summary for a column; profilers fill in the rest.
    pub fn new(name: impl Into<String>, data_type: DataType, kind: SemanticKind) -> Self {
        ColumnSummary {
            name: name.into(),
            data_type,
            kind,
            count: 0,
            null_count: 0,
            nan_count: 0,
            pos_inf_count: 0,
            neg_inf_count: 0,
            min: None,
            max: None,
            mean: None,
            std: None,
            distinct: None,
            true_count: None,
            false_count: None,
        }
    }

    /// Finite numeric values: the population of `min`, `max`, `mean`, `std`.
    pub fn finite_count(&self) -> u64 {
        self.count
            .saturating_sub(self.nan_count + self.pos_inf_count + self.neg_inf_count)
    }

    /// Share of nulls among all rows (0 for an empty column).
    pub fn null_fraction(&self) -> f64 {
        let rows = self.count + self.null_count;
        if rows == 0 {
            0.0
        } else {
            self.null_count as f64 / rows as f64
        }
    }
}

/// A frequent value with bounds on its true count: `lower ≤ true count ≤ upper`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemCount {
    /// The value, as text.
    pub value: String,
    /// Guaranteed lower bound of the count (exact when `lower == upper`).
    pub lower: u64,
    /// Guaranteed upper bound of the count.
    pub upper: u64,
}

/// A read-only view of a data profile.
///
/// The contract every implementation keeps:
/// - counts and `min`/`max` are exact; moments are computed stably over finite values;
/// - [`quantile`](Self::quantile) and [`rank`](Self::rank) come from a sketch whose
///   normalised rank error is at most [`rank_error`](Self::rank_error) (with high probability);
/// - [`frequent_items`](Self::frequent_items) returns bounds that always contain the true count;
/// - the view is `Send + Sync` and object-safe, so monitors and packages can hold
///   `Arc<dyn DataProfile>` without knowing the concrete profiler.
pub trait DataProfile: Send + Sync + std::fmt::Debug {
    /// Rows seen, nulls included.
    fn num_rows(&self) -> u64;

    /// Column names in the order they first appeared.
    fn column_names(&self) -> Vec<String>;

    /// Exact counts and moments of a column.
    fn summary(&self, column: &str) -> Option<ColumnSummary>;

    /// Estimated `q`-quantile (0 ≤ q ≤ 1) of a numeric or time column's finite values.
    fn quantile(&self, column: &str, q: f64) -> Option<f64>;

    /// Estimated share of finite values ≤ `value` (the empirical CDF).
    fn rank(&self, column: &str, value: f64) -> Option<f64>;

    /// The normalised rank error bound of the column's quantile sketch.
    fn rank_error(&self, column: &str) -> Option<f64>;

    /// Frequent values of a string column, most frequent first, with count bounds.
    fn frequent_items(&self, column: &str) -> Option<Vec<ItemCount>>;

    /// The profile in its documented JSON form.
    fn to_json(&self) -> Result<String>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_shares_and_finite_counts() {
        let mut s = ColumnSummary::new("x", DataType::Float64, SemanticKind::Numeric);
        assert_eq!(s.null_fraction(), 0.0);
        s.count = 8;
        s.null_count = 2;
        s.nan_count = 1;
        s.pos_inf_count = 1;
        assert_eq!(s.finite_count(), 6);
        assert!((s.null_fraction() - 0.2).abs() < 1e-15);
    }
}
