//! One-hot encoding: one `Float64` indicator column per learnt category.

use arrow_array::{Array, Float64Array};
use serde::{Deserialize, Serialize};

use super::categories::{self, CategoryIndex, CategoryOrder};
use super::input::with_strings;
use crate::{Error, Result};

/// The category name of the extra column that [`UnseenCategory::Infrequent`] adds.
pub const OTHER_CATEGORY: &str = "__other__";

/// What [`OneHot`] does with a value it did not learn (or dropped by `max_categories`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnseenCategory {
    /// Fail with [`Error::InvalidInput`] naming the column, row and value
    /// (scikit-learn's `handle_unknown='error'`). The default.
    #[default]
    Error,
    /// Encode the row as all zeros (`handle_unknown='ignore'`).
    Ignore,
    /// Set an extra `column=__other__` indicator, always the last column
    /// (`handle_unknown='infrequent_if_exist'`).
    Infrequent,
}

/// What a one-hot encoder learns and how it treats unseen values.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct OneHotConfig {
    /// Order of the indicator columns (lexical by default, as scikit-learn).
    #[serde(default)]
    pub order: CategoryOrder,
    /// At most this many output columns per input column, `__other__` included.
    #[serde(default)]
    pub max_categories: Option<usize>,
    /// Treatment of values not learnt in fit.
    #[serde(default)]
    pub unseen: UnseenCategory,
}

impl OneHotConfig {
    /// Sets the column order.
    pub fn with_order(mut self, order: CategoryOrder) -> Self {
        self.order = order;
        self
    }

    /// Caps the number of output columns (see [`OneHot`] for which categories stay).
    pub fn with_max_categories(mut self, max: usize) -> Self {
        self.max_categories = Some(max);
        self
    }

    /// Sets the treatment of unseen values.
    pub fn with_unseen(mut self, unseen: UnseenCategory) -> Self {
        self.unseen = unseen;
        self
    }
}

/// A fitted one-hot encoder.
///
/// # Fitting
///
/// The categories are the distinct **non-null** strings of the column (null
/// is never a category; scikit-learn would learn `None` as one). An all-null
/// column is [`Error::NotEnoughData`]. The columns follow
/// [`OneHotConfig::order`]: lexical by default, which is scikit-learn's order.
///
/// `max_categories = k` caps the output at `k` columns by keeping only the
/// most frequent categories (ties at the cut-off broken as scikit-learn: the
/// lexically greater value stays):
/// - [`UnseenCategory::Infrequent`]: the `k − 1` most frequent, the rest
///   going to `__other__` — exactly scikit-learn's `max_categories`, which
///   counts the infrequent column;
/// - [`UnseenCategory::Ignore`]: the `k` most frequent, the rest encoded as
///   all zeros, like unseen values;
/// - [`UnseenCategory::Error`]: refused at fit time ([`Error::InvalidInput`]),
///   since values seen in training would fail at serving time.
///
/// Unlike scikit-learn, the `__other__` column exists whenever the policy is
/// `Infrequent`, even when no category was dropped, so the output columns do
/// not depend on the training data's cardinality (scikit-learn adds its
/// `infrequent_sklearn` column only when some category is infrequent).
///
/// # Transforming
///
/// Output: one non-null `Float64` column per category, named
/// `column=category` (see [`OneHot::feature_names`]), then
/// `column=__other__` for `Infrequent`. A learnt value sets its column to
/// `1.0`; a **null row is all zeros** whatever the policy (missing is not
/// unseen — impute first to encode it); an unseen value follows
/// [`UnseenCategory`]. Integer and Boolean columns are read as their decimal
/// text (`"42"`, `"true"`), in fit and in transform.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "OneHotWire", into = "OneHotWire")]
pub struct OneHot {
    categories: Vec<String>,
    counts: Vec<u64>,
    unseen: UnseenCategory,
    index: CategoryIndex,
}

#[derive(Serialize, Deserialize)]
struct OneHotWire {
    categories: Vec<String>,
    counts: Vec<u64>,
    unseen: UnseenCategory,
}

impl TryFrom<OneHotWire> for OneHot {
    type Error = Error;

    fn try_from(w: OneHotWire) -> Result<Self> {
        OneHot::from_parts(w.categories, w.counts, w.unseen)
    }
}

impl From<OneHot> for OneHotWire {
    fn from(o: OneHot) -> Self {
        OneHotWire {
            categories: o.categories,
            counts: o.counts,
            unseen: o.unseen,
        }
    }
}

impl OneHot {
    /// Learns the categories of one column split over `arrays`.
    ///
    /// Errors: [`Error::TypeMismatch`] for a type that is not a string, integer
    /// or Boolean column; [`Error::NotEnoughData`] for no non-null value;
    /// [`Error::InvalidInput`] for `max_categories = 0`, `max_categories`
    /// with [`UnseenCategory::Error`], or a learnt category named `__other__`
    /// alongside the `__other__` column.
    pub fn fit(column: &str, arrays: &[&dyn Array], options: &OneHotConfig) -> Result<Self> {
        let location = || format!("column `{column}` (one_hot)");
        let counts = categories::count(arrays, column, "one_hot")?;
        let counts = match (options.max_categories, options.unseen) {
            (None, _) => counts,
            (Some(0), _) => {
                return Err(Error::invalid_input(
                    "one-hot options",
                    location(),
                    "max_categories is 0",
                    "max_categories ≥ 1",
                ));
            }
            (Some(_), UnseenCategory::Error) => {
                return Err(Error::invalid_input(
                    "one-hot options",
                    location(),
                    "max_categories with unseen = error would reject categories seen in training",
                    "unseen = ignore or infrequent when max_categories is set",
                ));
            }
            (Some(k), UnseenCategory::Infrequent) => categories::most_frequent(counts, k - 1),
            (Some(k), UnseenCategory::Ignore) => categories::most_frequent(counts, k),
        };
        let (categories, counts): (Vec<String>, Vec<u64>) =
            categories::arrange(counts, options.order).into_iter().unzip();
        if options.unseen == UnseenCategory::Infrequent && categories.iter().any(|c| c == OTHER_CATEGORY) {
            return Err(Error::invalid_input(
                "category",
                location(),
                format!("`{OTHER_CATEGORY}` is both a learnt category and the infrequent column"),
                format!("no category named `{OTHER_CATEGORY}` with unseen = infrequent (impute or rename it)"),
            ));
        }
        OneHot::from_parts(categories, counts, options.unseen)
    }

    /// An encoder with given categories (in column order), their training
    /// counts (same length, or empty) and unseen policy.
    pub fn from_parts(categories: Vec<String>, counts: Vec<u64>, unseen: UnseenCategory) -> Result<Self> {
        const LOCATION: &str = "one-hot encoder";
        if !counts.is_empty() && counts.len() != categories.len() {
            return Err(Error::corrupt(
                LOCATION,
                format!("{} categories but {} counts", categories.len(), counts.len()),
            ));
        }
        if unseen == UnseenCategory::Infrequent && categories.iter().any(|c| c == OTHER_CATEGORY) {
            return Err(Error::corrupt(
                LOCATION,
                format!("`{OTHER_CATEGORY}` is both a category and the infrequent column"),
            ));
        }
        let index = categories::index(&categories, LOCATION)?;
        Ok(OneHot {
            categories,
            counts,
            unseen,
            index,
        })
    }

    /// The learnt categories, in column order (without `__other__`).
    pub fn categories(&self) -> &[String] {
        &self.categories
    }

    /// Training count of each category (empty when built without counts).
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// The unseen-value policy.
    pub fn unseen(&self) -> UnseenCategory {
        self.unseen
    }

    /// Whether the output ends with a `column=__other__` column.
    pub fn has_other_column(&self) -> bool {
        self.unseen == UnseenCategory::Infrequent
    }

    /// Names of the output columns: `column=category` for each category, then
    /// `column=__other__` for [`UnseenCategory::Infrequent`].
    pub fn feature_names(&self, column: &str) -> Vec<String> {
        let mut names: Vec<String> = self.categories.iter().map(|c| format!("{column}={c}")).collect();
        if self.has_other_column() {
            names.push(format!("{column}={OTHER_CATEGORY}"));
        }
        names
    }

    /// Encodes one column: one non-null `Float64` array per
    /// [`feature_names`](Self::feature_names) entry.
    pub fn transform(&self, column: &str, array: &dyn Array) -> Result<Vec<Float64Array>> {
        let width = self.categories.len() + usize::from(self.has_other_column());
        with_strings(array, column, |strings| {
            let rows = strings.len();
            let mut columns = vec![vec![0.0f64; rows]; width];
            for row in 0..rows {
                let Some(value) = strings.get(row) else { continue };
                let hot = match self.index.get(value) {
                    Some(&i) => Some(i),
                    None => match self.unseen {
                        UnseenCategory::Error => return Err(unseen_error(column, row, value, &self.categories)),
                        UnseenCategory::Ignore => None,
                        UnseenCategory::Infrequent => Some(self.categories.len()),
                    },
                };
                if let Some(slot) = hot.and_then(|i| columns.get_mut(i)).and_then(|c| c.get_mut(row)) {
                    *slot = 1.0;
                }
            }
            Ok(columns.into_iter().map(Float64Array::from).collect())
        })
    }
}

/// The error for a value the encoder did not learn: names the column, row and value.
pub(super) fn unseen_error(column: &str, row: usize, value: &str, categories: &[String]) -> Error {
    const SHOWN: usize = 5;
    let mut known = categories
        .iter()
        .take(SHOWN)
        .map(|c| format!("`{c}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if categories.len() > SHOWN {
        known.push_str(&format!(", … ({} in all)", categories.len()));
    }
    Error::invalid_input(
        "category",
        format!("column `{column}`, row {row}"),
        format!("`{value}` was not seen when the encoder was fitted"),
        format!("one of the fitted categories [{known}], or an unseen-value policy other than `error`"),
    )
}
