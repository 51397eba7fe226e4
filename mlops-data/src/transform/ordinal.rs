//! Ordinal encoding: each learnt category becomes an integer code.

use arrow_array::{Array, Int64Array};
use serde::{Deserialize, Serialize};

use super::categories::{self, CategoryIndex, CategoryOrder};
use super::input::with_strings;
use super::one_hot::unseen_error;
use crate::{Error, Result};

/// What [`Ordinal`] does with a value it did not learn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnseenCode {
    /// Fail with [`Error::InvalidInput`] naming the column, row and value. The default.
    #[default]
    Error,
    /// Encode as this code, which must not be one of the learnt codes
    /// `0..n` (scikit-learn's `handle_unknown='use_encoded_value'`, typically `-1`).
    Code(i64),
}

/// What an ordinal encoder learns and how it treats unseen values.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct OrdinalConfig {
    /// Which category gets code 0, 1, … (lexical by default, as scikit-learn).
    #[serde(default)]
    pub order: CategoryOrder,
    /// Treatment of values not learnt in fit.
    #[serde(default)]
    pub unseen: UnseenCode,
}

impl OrdinalConfig {
    /// Sets the code order.
    pub fn with_order(mut self, order: CategoryOrder) -> Self {
        self.order = order;
        self
    }

    /// Sets the treatment of unseen values.
    pub fn with_unseen(mut self, unseen: UnseenCode) -> Self {
        self.unseen = unseen;
        self
    }
}

/// A fitted ordinal encoder: category *i* of [`categories`](Self::categories) becomes `i`.
///
/// # Fitting
///
/// The categories are the distinct **non-null** strings of the column,
/// ordered by [`OrdinalConfig::order`] (lexical by default: the codes of
/// scikit-learn's `OrdinalEncoder`). An all-null column is
/// [`Error::NotEnoughData`]; an [`UnseenCode::Code`] inside `0..n` is
/// [`Error::InvalidInput`].
///
/// # Transforming
///
/// Output is `Int64`, row for row: a learnt value becomes its code, a **null
/// stays null** (scikit-learn writes NaN), an unseen value follows
/// [`UnseenCode`]. Integer and Boolean columns are read as their decimal text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "OrdinalWire", into = "OrdinalWire")]
pub struct Ordinal {
    categories: Vec<String>,
    unseen: UnseenCode,
    index: CategoryIndex,
}

#[derive(Serialize, Deserialize)]
struct OrdinalWire {
    categories: Vec<String>,
    unseen: UnseenCode,
}

impl TryFrom<OrdinalWire> for Ordinal {
    type Error = Error;

    fn try_from(w: OrdinalWire) -> Result<Self> {
        Ordinal::from_parts(w.categories, w.unseen)
    }
}

impl From<Ordinal> for OrdinalWire {
    fn from(o: Ordinal) -> Self {
        OrdinalWire {
            categories: o.categories,
            unseen: o.unseen,
        }
    }
}

fn collides(categories: usize, unseen: UnseenCode) -> bool {
    matches!(unseen, UnseenCode::Code(c) if usize::try_from(c).is_ok_and(|c| c < categories))
}

impl Ordinal {
    /// Learns the categories of one column split over `arrays`.
    ///
    /// Errors: [`Error::TypeMismatch`] for a type that is not a string, integer
    /// or Boolean column; [`Error::NotEnoughData`] for no non-null value;
    /// [`Error::InvalidInput`] when the unseen code collides with a learnt code.
    pub fn fit(column: &str, arrays: &[&dyn Array], options: &OrdinalConfig) -> Result<Self> {
        let counts = categories::count(arrays, column, "ordinal")?;
        let categories: Vec<String> = categories::arrange(counts, options.order)
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        if collides(categories.len(), options.unseen) {
            return Err(Error::invalid_input(
                "ordinal options",
                format!("column `{column}` (ordinal)"),
                format!(
                    "the unseen code {:?} is also the code of a learnt category",
                    options.unseen
                ),
                format!("a code outside 0..{} (e.g. -1)", categories.len()),
            ));
        }
        Ordinal::from_parts(categories, options.unseen)
    }

    /// An encoder with given categories (code `i` for the `i`-th) and unseen policy.
    pub fn from_parts(categories: Vec<String>, unseen: UnseenCode) -> Result<Self> {
        const LOCATION: &str = "ordinal encoder";
        if collides(categories.len(), unseen) {
            return Err(Error::corrupt(
                LOCATION,
                format!("the unseen code {unseen:?} is also a category's code"),
            ));
        }
        let index = categories::index(&categories, LOCATION)?;
        Ok(Ordinal {
            categories,
            unseen,
            index,
        })
    }

    /// The learnt categories; the position of each is its code.
    pub fn categories(&self) -> &[String] {
        &self.categories
    }

    /// The unseen-value policy.
    pub fn unseen(&self) -> UnseenCode {
        self.unseen
    }

    /// The code of a value (`None` for an unseen value with [`UnseenCode::Error`]).
    pub fn code(&self, value: &str) -> Option<i64> {
        match (self.index.get(value), self.unseen) {
            (Some(&i), _) => i64::try_from(i).ok(),
            (None, UnseenCode::Code(c)) => Some(c),
            (None, UnseenCode::Error) => None,
        }
    }

    /// Encodes one column into `Int64`, nulls kept.
    pub fn transform(&self, column: &str, array: &dyn Array) -> Result<Int64Array> {
        with_strings(array, column, |strings| {
            (0..strings.len())
                .map(|row| match strings.get(row) {
                    None => Ok(None),
                    Some(value) => match self.code(value) {
                        Some(code) => Ok(Some(code)),
                        None => Err(unseen_error(column, row, value, &self.categories)),
                    },
                })
                .collect::<Result<Int64Array>>()
        })
    }
}
