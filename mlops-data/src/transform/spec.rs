//! What a pipeline step asks for ([`TransformSpec`]) and what it learnt ([`FittedTransform`]).

use std::sync::Arc;

use arrow_array::{Array, ArrayRef};
use arrow_schema::{DataType, Field};
use serde::{Deserialize, Serialize};

use super::impute::{FillValue, Impute, ImputeStrategy};
use super::min_max::MinMax;
use super::one_hot::{OneHot, OneHotConfig};
use super::ordinal::{Ordinal, OrdinalConfig};
use super::standardize::{Standardize, StdDev};
use crate::Result;

/// An unfitted transform: what to learn from a column.
///
/// Accepted input types: numeric transforms ([`Standardize`](Self::Standardize),
/// [`MinMax`](Self::MinMax), numeric [`Impute`](Self::Impute)) read
/// `Int8`..`Int64`, `UInt8`..`UInt64`, `Float16`/`32`/`64`, decimals and
/// dictionaries of them, widened to `f64` (integers beyond 2^53 round);
/// categorical transforms ([`OneHot`](Self::OneHot), [`Ordinal`](Self::Ordinal),
/// string [`Impute`](Self::Impute)) read `Utf8`, `LargeUtf8`, `Utf8View` and
/// dictionaries of them (encoders also integers and Booleans, as text).
/// Anything else — temporal types included — is an
/// [`Error::TypeMismatch`](crate::Error::TypeMismatch).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum TransformSpec {
    /// Learn a [`Standardize`].
    Standardize {
        /// Population (default, as scikit-learn) or sample standard deviation.
        #[serde(default)]
        std_dev: StdDev,
    },
    /// Learn a [`MinMax`].
    MinMax {
        /// Clamp outputs to `[0, 1]`.
        #[serde(default)]
        clip: bool,
    },
    /// Learn an [`Impute`].
    Impute {
        /// How the fill value is chosen.
        strategy: ImputeStrategy,
    },
    /// Learn a [`OneHot`].
    OneHot(OneHotConfig),
    /// Learn an [`Ordinal`].
    Ordinal(OrdinalConfig),
}

impl TransformSpec {
    /// Standardisation with the population standard deviation (as scikit-learn).
    pub fn standardize() -> Self {
        TransformSpec::Standardize {
            std_dev: StdDev::Population,
        }
    }

    /// Min–max scaling to `[0, 1]`, without clipping.
    pub fn min_max() -> Self {
        TransformSpec::MinMax { clip: false }
    }

    /// Imputation with `strategy`.
    pub fn impute(strategy: ImputeStrategy) -> Self {
        TransformSpec::Impute { strategy }
    }

    /// One-hot encoding with `options`.
    pub fn one_hot(options: OneHotConfig) -> Self {
        TransformSpec::OneHot(options)
    }

    /// Ordinal encoding with `options`.
    pub fn ordinal(options: OrdinalConfig) -> Self {
        TransformSpec::Ordinal(options)
    }

    /// The transform's name as written in JSON (`"standardize"`, `"one_hot"`...).
    pub fn kind(&self) -> &'static str {
        match self {
            TransformSpec::Standardize { .. } => "standardize",
            TransformSpec::MinMax { .. } => "min_max",
            TransformSpec::Impute { .. } => "impute",
            TransformSpec::OneHot(_) => "one_hot",
            TransformSpec::Ordinal(_) => "ordinal",
        }
    }

    /// Fits on one column split over `arrays` (one per batch).
    pub fn fit(&self, column: &str, arrays: &[&dyn Array]) -> Result<FittedTransform> {
        Ok(match self {
            TransformSpec::Standardize { std_dev } => {
                FittedTransform::Standardize(Standardize::fit(column, arrays, *std_dev)?)
            }
            TransformSpec::MinMax { clip } => FittedTransform::MinMax(MinMax::fit(column, arrays, *clip)?),
            TransformSpec::Impute { strategy } => FittedTransform::Impute(Impute::fit(column, arrays, strategy)?),
            TransformSpec::OneHot(options) => FittedTransform::OneHot(OneHot::fit(column, arrays, options)?),
            TransformSpec::Ordinal(options) => FittedTransform::Ordinal(Ordinal::fit(column, arrays, options)?),
        })
    }
}

/// A fitted transform: the parameters learnt from a column, ready to apply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum FittedTransform {
    /// `(x − mean) / scale`.
    Standardize(Standardize),
    /// `(x − min) / (max − min)`.
    MinMax(MinMax),
    /// Missing values replaced.
    Impute(Impute),
    /// One indicator column per category.
    OneHot(OneHot),
    /// One integer code per category.
    Ordinal(Ordinal),
}

impl FittedTransform {
    /// The transform's name as written in JSON (`"standardize"`, `"one_hot"`...).
    pub fn kind(&self) -> &'static str {
        match self {
            FittedTransform::Standardize(_) => "standardize",
            FittedTransform::MinMax(_) => "min_max",
            FittedTransform::Impute(_) => "impute",
            FittedTransform::OneHot(_) => "one_hot",
            FittedTransform::Ordinal(_) => "ordinal",
        }
    }

    /// Names of the columns that replace `column`: `column=category` for
    /// each one-hot column, `column` itself for every other transform.
    pub fn output_names(&self, column: &str) -> Vec<String> {
        match self {
            FittedTransform::OneHot(o) => o.feature_names(column),
            _ => vec![column.to_owned()],
        }
    }

    /// Applies to one column (`input` is its field); returns the columns that
    /// replace it, with their fields.
    ///
    /// Output types: `Float64` for standardize and min–max, `Float64` or
    /// `Utf8` for impute, `Float64` for each one-hot column, `Int64` for
    /// ordinal. Impute and one-hot outputs are declared non-null; the others
    /// are nullable exactly when `input` is (they keep nulls as nulls).
    pub fn transform(&self, input: &Field, array: &dyn Array) -> Result<Vec<(Field, ArrayRef)>> {
        let column = input.name().as_str();
        let same = |data_type| Field::new(column, data_type, input.is_nullable());
        Ok(match self {
            FittedTransform::Standardize(t) => {
                vec![(
                    same(DataType::Float64),
                    Arc::new(t.transform(column, array)?) as ArrayRef,
                )]
            }
            FittedTransform::MinMax(t) => vec![(
                same(DataType::Float64),
                Arc::new(t.transform(column, array)?) as ArrayRef,
            )],
            FittedTransform::Impute(t) => {
                let data_type = match t.fill() {
                    FillValue::Number(_) => DataType::Float64,
                    FillValue::Text(_) => DataType::Utf8,
                };
                vec![(Field::new(column, data_type, false), t.transform(column, array)?)]
            }
            FittedTransform::OneHot(t) => t
                .feature_names(column)
                .into_iter()
                .zip(t.transform(column, array)?)
                .map(|(name, a)| (Field::new(name, DataType::Float64, false), Arc::new(a) as ArrayRef))
                .collect(),
            FittedTransform::Ordinal(t) => {
                vec![(same(DataType::Int64), Arc::new(t.transform(column, array)?) as ArrayRef)]
            }
        })
    }
}
