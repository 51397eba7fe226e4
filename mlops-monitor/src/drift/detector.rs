//! The drift methods as [`DriftDetector`]s, and a user's own detector run on one column.

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, make_array, new_empty_array};
use arrow_schema::DataType;
use mlops_core::{DriftDetector, DriftResult, Error, Result};

use super::column::{ColumnDrift, ColumnStatus, measure};
use super::data::{kind_of, sample};
use super::methods::DriftMethod;

/// A built-in method at a threshold, as a [`DriftDetector`] on two Arrow arrays:
/// nulls, NaN and infinities are dropped; too little data is
/// [`Error::NotEnoughData`]. [`DataDrift`](super::DataDrift) computes the same
/// numbers for whole data sets, sharing the work between methods.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MethodDetector {
    method: DriftMethod,
    threshold: f64,
}

impl MethodDetector {
    /// `method` at its default threshold.
    pub fn new(method: DriftMethod) -> Self {
        MethodDetector {
            method,
            threshold: method.default_threshold(),
        }
    }

    /// The same method at another threshold.
    pub fn with_threshold(mut self, threshold: f64) -> Self {
        self.threshold = threshold;
        self
    }
}

impl DriftDetector for MethodDetector {
    fn method(&self) -> &str {
        self.method.name()
    }

    fn detect(&self, reference: &dyn Array, current: &dyn Array) -> Result<DriftResult> {
        let (rk, ck) = (kind_of(reference.data_type()), kind_of(current.data_type()));
        if rk.is_none() || rk != ck {
            return Err(Error::TypeMismatch {
                column: format!("the arrays given to the {} detector", self.method),
                expected: "two numeric or two categorical arrays".into(),
                found: format!("{} and {}", reference.data_type(), current.data_type()),
            });
        }
        let r = sample("reference", reference.data_type(), &[make_array(reference.to_data())])?;
        let c = sample("current", current.data_type(), &[make_array(current.to_data())])?;
        if r.is_empty() || c.is_empty() {
            return Err(Error::NotEnoughData {
                location: format!("{} detector", self.method),
                message: "no usable values on one side (nulls, NaN and infinities are dropped)".into(),
            });
        }
        let (statistic, p_value, score, _) = measure(self.method, &r, &c)?;
        Ok(DriftResult::new(
            self.method.name(),
            statistic.unwrap_or(score),
            p_value,
            score,
            self.threshold,
            self.method.drifted(score, self.threshold),
        ))
    }
}

/// One array of a column's chunks (empty of `data_type` when there are none).
fn concat(arrays: &[ArrayRef], data_type: &DataType, side: &str, name: &str) -> Result<ArrayRef> {
    match arrays {
        [] => Ok(new_empty_array(data_type)),
        [one] => Ok(Arc::clone(one)),
        many => {
            let refs: Vec<&dyn Array> = many.iter().map(AsRef::as_ref).collect();
            arrow_select::concat::concat(&refs).map_err(|e| Error::SchemaMismatch {
                location: format!("column `{name}`, {side} data"),
                message: format!("its batches cannot be joined for a plugged detector: {e}"),
            })
        }
    }
}

fn null_share(array: &dyn Array) -> f64 {
    if array.is_empty() {
        0.0
    } else {
        array.null_count() as f64 / array.len() as f64
    }
}

/// Runs a user's detector on one column. Too little data (the detector's
/// [`Error::NotEnoughData`]) becomes a `not_enough_data` result; any other
/// error is the report's, naming the column. The missing shares are the null shares.
pub(crate) fn run_plugged(
    detector: &dyn DriftDetector,
    name: &str,
    reference: (&DataType, &[ArrayRef]),
    current: (&DataType, &[ArrayRef]),
) -> Result<ColumnDrift> {
    let r = concat(reference.1, reference.0, "reference", name)?;
    let c = concat(current.1, current.0, "current", name)?;
    let mut out = ColumnDrift {
        name: name.to_owned(),
        column_type: kind_of(reference.0),
        method: Some(DriftMethod::Custom),
        statistic: None,
        p_value: None,
        score: None,
        threshold: None,
        drifted: false,
        status: ColumnStatus::Ok,
        message: None,
        reference_count: r.len() - r.null_count(),
        current_count: c.len() - c.null_count(),
        reference_missing_share: null_share(r.as_ref()),
        current_missing_share: null_share(c.as_ref()),
        missing_share_drifted: false,
        plot: None,
        detector: Some(detector.method().to_owned()),
        error_bound: None,
    };
    match detector.detect(r.as_ref(), c.as_ref()) {
        Ok(result) => {
            out.statistic = Some(result.statistic).filter(|s| s.is_finite());
            out.p_value = result.p_value;
            out.score = Some(result.score).filter(|s| !s.is_nan());
            out.threshold = Some(result.threshold);
            out.drifted = result.drifted;
            out.error_bound = result.error_bound;
        }
        Err(Error::NotEnoughData { message, .. }) => {
            out.status = ColumnStatus::NotEnoughData;
            out.message = Some(message);
        }
        Err(e) => {
            return Err(Error::invalid_input(
                "drift detector result",
                format!("column `{name}`, detector `{}`", detector.method()),
                e.to_string(),
                "a drift result, or NotEnoughData",
            ));
        }
    }
    Ok(out)
}
