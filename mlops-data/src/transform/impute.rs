//! Imputation: replacing missing values by a statistic learnt in fit or a constant.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::{Array, ArrayRef, Float64Array};
use serde::{Deserialize, Serialize};

use super::input::{NUMERIC_TYPES, ValueKind, count_strings, finite_values, to_f64, with_strings};
use super::stats;
use crate::{Error, Result};

/// How [`Impute`] chooses its fill value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImputeStrategy {
    /// Mean of the finite values (numeric columns).
    Mean,
    /// Exact median of the finite values: the middle value, or the mean of the
    /// two middle values (numeric columns).
    Median,
    /// Most frequent value; equal counts go to the smallest value (numbers) or
    /// the lexically first string, as scikit-learn. Numeric or string columns.
    MostFrequent,
    /// A fixed finite number (numeric columns); fitting needs no data.
    Constant(f64),
    /// A fixed string (string columns); fitting needs no data.
    ConstantText(String),
}

impl ImputeStrategy {
    fn name(&self) -> &'static str {
        match self {
            ImputeStrategy::Mean => "mean",
            ImputeStrategy::Median => "median",
            ImputeStrategy::MostFrequent => "most_frequent",
            ImputeStrategy::Constant(_) => "constant",
            ImputeStrategy::ConstantText(_) => "constant_text",
        }
    }
}

/// The value an [`Impute`] writes into missing rows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FillValue {
    /// For numeric columns (always finite).
    Number(f64),
    /// For string columns.
    Text(String),
}

/// A fitted imputer.
///
/// # What is missing
///
/// - numeric columns: **null and NaN** (as scikit-learn's `SimpleImputer`,
///   which sees Arrow nulls as NaN). ±∞ is a value, not missing: it is kept
///   at transform time, but left out of the mean, median and mode in fit;
/// - string columns: **null**. The empty string is a value.
///
/// # Fitting
///
/// Mean, median and most-frequent are computed over the finite (numeric) or
/// non-null (string) values; when there are none the fit is
/// [`Error::NotEnoughData`]. Constants need no data (the column must still
/// exist and have a matching type).
///
/// # Transforming
///
/// Numeric columns of any width become non-null `Float64`; string columns of
/// any flavour (dictionaries included) become non-null `Utf8`. A strategy that
/// does not fit the column's type — [`ImputeStrategy::Mean`] on strings, a
/// numeric constant on strings, a text constant on numbers — is an
/// [`Error::TypeMismatch`], in fit and in transform.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ImputeWire")]
pub struct Impute {
    strategy: ImputeStrategy,
    fill: FillValue,
}

#[derive(Deserialize)]
struct ImputeWire {
    strategy: ImputeStrategy,
    fill: FillValue,
}

impl TryFrom<ImputeWire> for Impute {
    type Error = Error;

    fn try_from(w: ImputeWire) -> Result<Self> {
        Impute::from_parts(w.strategy, w.fill)
    }
}

/// The kind of values in the column and the type that decided it (`None` without arrays).
fn kind_of<'a>(arrays: &[&'a dyn Array], column: &str) -> Result<Option<(ValueKind, &'a dyn Array)>> {
    let mut kind: Option<(ValueKind, &dyn Array)> = None;
    for &array in arrays {
        match (ValueKind::of(array.data_type()), kind) {
            (None, _) => {
                return Err(Error::TypeMismatch {
                    column: column.to_owned(),
                    expected: format!("for impute, {NUMERIC_TYPES}, or {STRING_TYPES}"),
                    found: array.data_type().to_string(),
                });
            }
            (Some(k), Some((seen, _))) if k != seen => {
                return Err(Error::TypeMismatch {
                    column: column.to_owned(),
                    expected: "the same kind of type (numeric or string) in every batch".into(),
                    found: array.data_type().to_string(),
                });
            }
            (Some(k), None) => kind = Some((k, array)),
            (Some(_), Some(_)) => {}
        }
    }
    Ok(kind)
}

const STRING_TYPES: &str = "Utf8, LargeUtf8, Utf8View or a dictionary of them";

fn mismatch(column: &str, strategy: &str, expected: &str, found: &dyn Array) -> Error {
    Error::TypeMismatch {
        column: column.to_owned(),
        expected: format!("for impute `{strategy}`, {expected}"),
        found: found.data_type().to_string(),
    }
}

impl Impute {
    /// Fits `strategy` on one column split over `arrays`.
    ///
    /// Errors: [`Error::TypeMismatch`] for an unsupported type or a strategy
    /// that does not suit it, [`Error::NotEnoughData`] when a statistic has no
    /// value to learn from, [`Error::InvalidInput`] for a non-finite constant.
    pub fn fit(column: &str, arrays: &[&dyn Array], strategy: &ImputeStrategy) -> Result<Self> {
        let name = strategy.name();
        let location = || format!("column `{column}` (impute `{name}`)");
        let Some((kind, first)) = kind_of(arrays, column)? else {
            return Err(Error::NotEnoughData {
                location: location(),
                message: "no batches to fit on".into(),
            });
        };
        let expected = match (strategy, kind) {
            (ImputeStrategy::ConstantText(_), ValueKind::Numeric) => Some(STRING_TYPES),
            (ImputeStrategy::Mean | ImputeStrategy::Median | ImputeStrategy::Constant(_), ValueKind::Text) => {
                Some(NUMERIC_TYPES)
            }
            _ => None,
        };
        if let Some(expected) = expected {
            return Err(mismatch(column, name, expected, first));
        }
        let fill = match strategy {
            ImputeStrategy::Constant(c) => FillValue::Number(*c),
            ImputeStrategy::ConstantText(s) => FillValue::Text(s.clone()),
            _ if kind == ValueKind::Text => {
                let mut counts = HashMap::new();
                let nulls = count_strings(arrays, column, &mut counts)?;
                // Most frequent; equal counts: the lexically first.
                let best = counts
                    .into_iter()
                    .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
                    .map(|(value, _)| value);
                match best {
                    Some(v) => FillValue::Text(v),
                    None => {
                        return Err(Error::NotEnoughData {
                            location: location(),
                            message: format!("no non-null strings to learn from ({nulls} null rows)"),
                        });
                    }
                }
            }
            _ => {
                let (mut values, skipped) = finite_values(arrays, column)?;
                if values.is_empty() {
                    return Err(Error::NotEnoughData {
                        location: location(),
                        message: skipped.describe(),
                    });
                }
                FillValue::Number(match strategy {
                    ImputeStrategy::Mean => stats::mean(&values),
                    ImputeStrategy::Median => stats::median(&mut values),
                    _ => stats::mode(&values),
                })
            }
        };
        Impute::from_parts(strategy.clone(), fill).map_err(|_| {
            Error::invalid_input(
                "impute fill value",
                location(),
                "the fill value is not a finite number",
                "a finite constant, or finite values whose mean fits in f64",
            )
        })
    }

    /// An imputer with a given fill value; a numeric fill must be finite and
    /// the fill's kind must suit the strategy.
    pub fn from_parts(strategy: ImputeStrategy, fill: FillValue) -> Result<Self> {
        let ok = match (&strategy, &fill) {
            (_, FillValue::Number(x)) if !x.is_finite() => false,
            (ImputeStrategy::Constant(c), FillValue::Number(x)) => c.to_bits() == x.to_bits(),
            (ImputeStrategy::ConstantText(c), FillValue::Text(s)) => c == s,
            (ImputeStrategy::Mean | ImputeStrategy::Median, FillValue::Number(_)) => true,
            (ImputeStrategy::MostFrequent, _) => true,
            _ => false,
        };
        if !ok {
            return Err(Error::invalid_input(
                "impute parameters",
                "Impute::from_parts",
                format!("strategy {strategy:?} with fill {fill:?}"),
                "a finite numeric fill for mean/median/constant, the constant itself as fill",
            ));
        }
        Ok(Impute { strategy, fill })
    }

    /// The strategy fitted.
    pub fn strategy(&self) -> &ImputeStrategy {
        &self.strategy
    }

    /// The value written into missing rows.
    pub fn fill(&self) -> &FillValue {
        &self.fill
    }

    /// Fills the missing rows of one column: numeric → non-null `Float64`,
    /// strings → non-null `Utf8`.
    pub fn transform(&self, column: &str, array: &dyn Array) -> Result<ArrayRef> {
        let name = self.strategy.name();
        match (ValueKind::of(array.data_type()), &self.fill) {
            (Some(ValueKind::Numeric), FillValue::Number(fill)) => {
                let values = to_f64(array, column)?;
                let filled = Float64Array::from_iter_values(values.iter().map(|v| match v {
                    Some(x) if !x.is_nan() => x,
                    _ => *fill,
                }));
                Ok(Arc::new(filled))
            }
            (Some(ValueKind::Text), FillValue::Text(fill)) => with_strings(array, column, |strings| {
                let mut out = StringBuilder::with_capacity(strings.len(), strings.len() * 8);
                for row in 0..strings.len() {
                    out.append_value(strings.get(row).unwrap_or(fill));
                }
                Ok(Arc::new(out.finish()) as ArrayRef)
            }),
            (_, FillValue::Number(_)) => Err(mismatch(column, name, NUMERIC_TYPES, array)),
            (_, FillValue::Text(_)) => Err(mismatch(column, name, STRING_TYPES, array)),
        }
    }
}
