//! Learning the categories of a string column: counting, keeping the most
//! frequent, ordering. Shared by [`OneHot`](super::OneHot) and [`Ordinal`](super::Ordinal).

use std::collections::HashMap;

use arrow_array::Array;
use serde::{Deserialize, Serialize};

use super::input::count_strings;
use crate::{Error, Result};

/// The order in which learnt categories get their one-hot columns or ordinal codes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CategoryOrder {
    /// Sorted by value (Unicode code point order, which is also the byte order
    /// of UTF-8). This is scikit-learn's order, so encoders fitted on the same
    /// data produce the same columns and codes as `OneHotEncoder` and
    /// `OrdinalEncoder`.
    #[default]
    Lexical,
    /// Most frequent first; equal counts in lexical order.
    Frequency,
}

/// Each distinct non-null value of the columns with its count, in lexical order.
///
/// An all-null (or empty) input is [`Error::NotEnoughData`].
pub(super) fn count(arrays: &[&dyn Array], column: &str, what: &str) -> Result<Vec<(String, u64)>> {
    let mut counts = HashMap::new();
    let nulls = count_strings(arrays, column, &mut counts)?;
    if counts.is_empty() {
        return Err(Error::NotEnoughData {
            location: format!("column `{column}` ({what})"),
            message: format!("no non-null values to learn categories from ({nulls} null rows)"),
        });
    }
    let mut counts: Vec<(String, u64)> = counts.into_iter().collect();
    counts.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    Ok(counts)
}

/// Keeps the `keep` most frequent of `counts` (lexically sorted), in lexical order.
///
/// Ties at the cut-off are broken as scikit-learn breaks them (a stable
/// ascending sort of the counts, dropping from the front): among equally
/// frequent values the lexically greater ones are kept.
pub(super) fn most_frequent(counts: Vec<(String, u64)>, keep: usize) -> Vec<(String, u64)> {
    if counts.len() <= keep {
        return counts;
    }
    let mut order: Vec<usize> = (0..counts.len()).collect();
    order.sort_by_key(|&i| counts[i].1); // stable: equal counts stay in lexical order
    let mut kept = vec![false; counts.len()];
    for &i in &order[counts.len() - keep..] {
        kept[i] = true;
    }
    counts
        .into_iter()
        .zip(kept)
        .filter_map(|(c, k)| k.then_some(c))
        .collect()
}

/// Puts lexically sorted `counts` in `order`.
pub(super) fn arrange(mut counts: Vec<(String, u64)>, order: CategoryOrder) -> Vec<(String, u64)> {
    if order == CategoryOrder::Frequency {
        // Stable, so equal counts keep their lexical order.
        counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    }
    counts
}

/// Category → position, for lookups at transform time (never persisted).
pub(super) type CategoryIndex = HashMap<String, usize, foldhash::fast::RandomState>;

/// Position of each category; a duplicate is [`Error::Corrupt`] (it can only
/// come from a hand-edited or damaged document).
pub(super) fn index(categories: &[String], location: &str) -> Result<CategoryIndex> {
    let mut index = CategoryIndex::with_capacity_and_hasher(categories.len(), Default::default());
    for (i, c) in categories.iter().enumerate() {
        if index.insert(c.clone(), i).is_some() {
            return Err(Error::corrupt(location, format!("category `{c}` is listed twice")));
        }
    }
    Ok(index)
}
