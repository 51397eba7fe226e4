//! Standardisation: `z = (x − mean) / scale`.

use arrow_array::{Array, Float64Array};
use serde::{Deserialize, Serialize};

use super::input::{finite_values, to_f64};
use super::stats;
use crate::{Error, Result};

/// Which standard deviation [`Standardize`] divides by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StdDev {
    /// Population standard deviation (ddof = 0), as scikit-learn's
    /// `StandardScaler`: a model migrated from scikit-learn gets identical
    /// inputs. The default.
    #[default]
    Population,
    /// Sample standard deviation (ddof = 1), as the statistics in a
    /// [`Profile`](crate::Profile).
    Sample,
}

/// A fitted standardiser: `z = (x − mean) / scale`.
///
/// # Fitting
///
/// `mean` and the standard deviation are computed over the **finite,
/// non-null** values of the column: nulls, NaN and ±∞ are left out (and
/// counted in the [`Error::NotEnoughData`] message when nothing is left).
/// The mean uses compensated summation and the variance a corrected
/// two-pass formula (both over all batches at once, so batching does not
/// change a bit of the result).
///
/// `scale` is the standard deviation, **except** that it is `1.0` when the
/// standard deviation is zero (a constant column), numerically zero (below
/// scikit-learn's bound `n·ε·var + (n·mean·ε)²`), or undefined (one value
/// with [`StdDev::Sample`]). A constant column thus maps to `0.0`, not NaN,
/// exactly as scikit-learn's `StandardScaler`.
///
/// # Transforming
///
/// Output is `Float64`, row for row: a null stays null, NaN stays NaN, ±∞
/// stays ±∞, every finite `x` becomes `(x − mean) / scale`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "StandardizeWire")]
pub struct Standardize {
    mean: f64,
    scale: f64,
    std_dev: StdDev,
    count: u64,
}

#[derive(Deserialize)]
struct StandardizeWire {
    mean: f64,
    scale: f64,
    #[serde(default)]
    std_dev: StdDev,
    #[serde(default)]
    count: u64,
}

impl TryFrom<StandardizeWire> for Standardize {
    type Error = Error;

    fn try_from(w: StandardizeWire) -> Result<Self> {
        Standardize::from_parts(w.mean, w.scale, w.std_dev, w.count)
    }
}

fn overflow(column: &str, mean: f64, m2: f64) -> Error {
    Error::invalid_input(
        "fit data",
        format!("column `{column}` (standardize)"),
        format!("the mean ({mean}) or the sum of squared deviations ({m2}) overflows f64"),
        "finite values whose spread fits in f64 (|x| well below 1e154)",
    )
}

impl Standardize {
    /// Fits on the finite values of one column split over `arrays` (any
    /// numeric width; see [`TransformSpec`](super::TransformSpec) for the accepted types).
    ///
    /// Errors: [`Error::TypeMismatch`] for a non-numeric column,
    /// [`Error::NotEnoughData`] when no finite value is left,
    /// [`Error::InvalidInput`] when the statistics overflow `f64`.
    pub fn fit(column: &str, arrays: &[&dyn Array], std_dev: StdDev) -> Result<Self> {
        let (values, skipped) = finite_values(arrays, column)?;
        if values.is_empty() {
            return Err(Error::NotEnoughData {
                location: format!("column `{column}` (standardize)"),
                message: skipped.describe(),
            });
        }
        let n = values.len() as f64;
        let mean = stats::mean(&values);
        let m2 = stats::sum_squared_deviations(&values, mean);
        if !mean.is_finite() || !m2.is_finite() {
            return Err(overflow(column, mean, m2));
        }
        let population_var = m2 / n;
        let eps = f64::EPSILON;
        let near_constant = population_var <= n * eps * population_var + (n * mean * eps).powi(2);
        let dof = match std_dev {
            StdDev::Population => n,
            StdDev::Sample => n - 1.0,
        };
        let scale = if near_constant || dof <= 0.0 {
            1.0
        } else {
            (m2 / dof).sqrt()
        };
        if !scale.is_finite() || scale == 0.0 {
            return Err(overflow(column, mean, m2));
        }
        Ok(Standardize {
            mean,
            scale,
            std_dev,
            count: values.len() as u64,
        })
    }

    /// A standardiser with given parameters (e.g. carried over from another
    /// library). `mean` must be finite and `scale` finite and non-zero.
    pub fn from_parts(mean: f64, scale: f64, std_dev: StdDev, count: u64) -> Result<Self> {
        if !mean.is_finite() || !scale.is_finite() || scale == 0.0 {
            return Err(Error::invalid_input(
                "standardize parameters",
                "Standardize::from_parts",
                format!("mean = {mean}, scale = {scale}"),
                "a finite mean and a finite, non-zero scale",
            ));
        }
        Ok(Standardize {
            mean,
            scale,
            std_dev,
            count,
        })
    }

    /// The mean subtracted.
    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// The divisor: the standard deviation, or `1.0` for a (numerically)
    /// constant column or an undefined standard deviation.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// Which standard deviation was fitted.
    pub fn std_dev(&self) -> StdDev {
        self.std_dev
    }

    /// Number of finite values fitted on.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// `(x − mean) / scale` for one value.
    pub fn apply(&self, x: f64) -> f64 {
        (x - self.mean) / self.scale
    }

    /// Transforms one numeric column of any width into `Float64`, nulls kept.
    pub fn transform(&self, column: &str, array: &dyn Array) -> Result<Float64Array> {
        Ok(to_f64(array, column)?.unary(|x| self.apply(x)))
    }
}
