//! Min–max scaling to `[0, 1]`: `(x − min) / (max − min)`.

use arrow_array::{Array, Float64Array};
use serde::{Deserialize, Serialize};

use super::input::{finite_values, to_f64};
use super::stats;
use crate::{Error, Result};

/// A fitted min–max scaler: `(x − min) / (max − min)`.
///
/// # Fitting
///
/// `min` and `max` are taken over the **finite, non-null** values: nulls, NaN
/// and ±∞ are left out ([`Error::NotEnoughData`] when nothing is left).
///
/// # Transforming
///
/// Output is `Float64`, row for row: a null stays null, NaN stays NaN, ±∞
/// stays ±∞. Training values land in `[0, 1]`; values outside the fitted
/// range land outside it unless `clip` is set, which clamps to `[0, 1]`
/// (NaN stays NaN). A **constant** column (`min == max`) divides by `1.0`
/// instead of `0.0`: the training value maps to `0.0` and any other `x` to
/// `x − min`, exactly as scikit-learn's `MinMaxScaler`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "MinMaxWire")]
pub struct MinMax {
    min: f64,
    max: f64,
    clip: bool,
}

#[derive(Deserialize)]
struct MinMaxWire {
    min: f64,
    max: f64,
    #[serde(default)]
    clip: bool,
}

impl TryFrom<MinMaxWire> for MinMax {
    type Error = Error;

    fn try_from(w: MinMaxWire) -> Result<Self> {
        MinMax::from_parts(w.min, w.max, w.clip)
    }
}

impl MinMax {
    /// Fits on the finite values of one column split over `arrays`.
    ///
    /// Errors: [`Error::TypeMismatch`] for a non-numeric column,
    /// [`Error::NotEnoughData`] when no finite value is left,
    /// [`Error::InvalidInput`] when `max − min` overflows `f64`.
    pub fn fit(column: &str, arrays: &[&dyn Array], clip: bool) -> Result<Self> {
        let (values, skipped) = finite_values(arrays, column)?;
        if values.is_empty() {
            return Err(Error::NotEnoughData {
                location: format!("column `{column}` (min_max)"),
                message: skipped.describe(),
            });
        }
        let (min, max) = stats::min_max(&values);
        MinMax::from_parts(min, max, clip).map_err(|_| {
            Error::invalid_input(
                "fit data",
                format!("column `{column}` (min_max)"),
                format!("the range {min}..{max} overflows f64"),
                "finite values whose range fits in f64",
            )
        })
    }

    /// A scaler with given bounds; both finite, `min ≤ max`, `max − min` finite.
    pub fn from_parts(min: f64, max: f64, clip: bool) -> Result<Self> {
        if !(min.is_finite() && max.is_finite() && min <= max && (max - min).is_finite()) {
            return Err(Error::invalid_input(
                "min_max parameters",
                "MinMax::from_parts",
                format!("min = {min}, max = {max}"),
                "finite min ≤ max with a finite difference",
            ));
        }
        Ok(MinMax { min, max, clip })
    }

    /// Smallest finite training value.
    pub fn min(&self) -> f64 {
        self.min
    }

    /// Largest finite training value.
    pub fn max(&self) -> f64 {
        self.max
    }

    /// Whether outputs are clamped to `[0, 1]`.
    pub fn clip(&self) -> bool {
        self.clip
    }

    /// The scaled value of one `x`.
    pub fn apply(&self, x: f64) -> f64 {
        let range = self.max - self.min;
        let range = if range == 0.0 { 1.0 } else { range };
        let y = (x - self.min) / range;
        if self.clip { y.clamp(0.0, 1.0) } else { y }
    }

    /// Transforms one numeric column of any width into `Float64`, nulls kept.
    pub fn transform(&self, column: &str, array: &dyn Array) -> Result<Float64Array> {
        Ok(to_f64(array, column)?.unary(|x| self.apply(x)))
    }
}
