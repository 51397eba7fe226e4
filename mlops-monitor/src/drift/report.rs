//! [`DataDrift`]: compare a current data set with a reference, column by column.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Schema};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::axis::AxisScale;
use super::column::{ColumnDrift, ColumnStatus, evaluate, unsupported};
use super::correction::{Correction, apply};
use super::data::{kind_of, sample};
use super::detector::run_plugged;
use super::methods::DriftMethod;
use super::selection::default_method;
use mlops_core::{DriftDetector, Error, Result};

/// Per-column choice of method and threshold, or a user's own detector,
/// overriding the defaults.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ColumnDriftConfig {
    /// The method; `None` keeps the default selection.
    pub method: Option<DriftMethod>,
    /// The threshold; `None` keeps the method's default.
    pub threshold: Option<f64>,
    /// A user's detector for this column, in place of any method: it gets the
    /// column's reference and current arrays (nulls included) and decides the
    /// verdict. Not serialized: code plugs it in.
    #[serde(skip)]
    pub detector: Option<Arc<dyn DriftDetector>>,
}

impl PartialEq for ColumnDriftConfig {
    fn eq(&self, other: &Self) -> bool {
        // Detectors are equal when they are the same object.
        let same_detector = match (&self.detector, &other.detector) {
            (None, None) => true,
            (Some(a), Some(b)) => std::ptr::addr_eq(Arc::as_ptr(a), Arc::as_ptr(b)),
            _ => false,
        };
        self.method == other.method && self.threshold == other.threshold && same_detector
    }
}

/// Options of a data drift comparison.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DriftConfig {
    /// Share of drifted columns at which the data set counts as drifted (default 0.5).
    pub drift_share: f64,
    /// Multiple-testing correction (default none, as Evidently).
    pub correction: Correction,
    /// Overrides by column name.
    pub columns: BTreeMap<String, ColumnDriftConfig>,
    /// Method for every column without an override (default: Evidently's selection).
    pub method: Option<DriftMethod>,
}

impl Default for DriftConfig {
    fn default() -> Self {
        DriftConfig {
            drift_share: 0.5,
            correction: Correction::None,
            columns: BTreeMap::new(),
            method: None,
        }
    }
}

impl DriftConfig {
    /// Overrides one column.
    pub fn with_column(mut self, name: &str, method: Option<DriftMethod>, threshold: Option<f64>) -> Self {
        self.columns.insert(
            name.to_owned(),
            ColumnDriftConfig {
                method,
                threshold,
                detector: None,
            },
        );
        self
    }

    /// Tests one column with a user's own detector instead of a built-in method.
    pub fn with_detector(mut self, name: &str, detector: Arc<dyn DriftDetector>) -> Self {
        self.columns.insert(
            name.to_owned(),
            ColumnDriftConfig {
                method: None,
                threshold: None,
                detector: Some(detector),
            },
        );
        self
    }

    /// Sets the correction.
    pub fn with_correction(mut self, correction: Correction) -> Self {
        self.correction = correction;
        self
    }

    /// Sets the drifted-column share for the data set verdict.
    pub fn with_drift_share(mut self, share: f64) -> Self {
        self.drift_share = share;
        self
    }

    /// Uses one method for every column without an override.
    pub fn with_method(mut self, method: DriftMethod) -> Self {
        self.method = Some(method);
        self
    }
}

/// The result of comparing two data sets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DriftReport {
    /// Whether the share of drifted columns reached `drift_share_threshold`.
    pub dataset_drift: bool,
    /// Drifted columns / tested columns.
    pub drift_share: f64,
    /// The share at which the data set counts as drifted.
    pub drift_share_threshold: f64,
    /// Columns tested (status ok).
    pub number_of_columns: usize,
    /// Columns that drifted.
    pub number_of_drifted_columns: usize,
    /// The correction applied.
    pub correction: Correction,
    /// Reference rows.
    pub reference_rows: usize,
    /// Current rows.
    pub current_rows: usize,
    /// Per-column results, in reference schema order.
    pub columns: Vec<ColumnDrift>,
}

impl DriftReport {
    /// The documented JSON form.
    pub fn to_json_pretty(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| Error::serialization("drift report", e))
    }

    /// The column with this name.
    pub fn column(&self, name: &str) -> Option<&ColumnDrift> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// Compares current data with reference data, as Evidently's `DataDriftPreset`
/// does by default (KS, chi-square or Z up to 1000 values, Wasserstein or Jensen–Shannon above), columns in parallel.
///
/// An empty, all-null or all-NaN column yields a `not_enough_data` result for
/// that column and never aborts the report; a column missing from the current
/// data, or a column name that appears twice, is an error naming it.
#[derive(Clone, Debug, Default)]
pub struct DataDrift {
    options: DriftConfig,
}

fn column_arrays(batches: &[RecordBatch], name: &str, side: &str) -> Result<Vec<ArrayRef>> {
    batches
        .iter()
        .map(|b| {
            b.column_by_name(name).cloned().ok_or_else(|| Error::SchemaMismatch {
                location: format!("{side} data"),
                message: format!("column `{name}` is missing"),
            })
        })
        .collect()
}

/// Reports key columns by name, so a name that appears twice is ambiguous.
pub(crate) fn require_unique_names(schema: &Schema, location: &str) -> Result<()> {
    let mut seen = HashSet::with_capacity(schema.fields().len());
    match schema.fields().iter().find(|f| !seen.insert(f.name().as_str())) {
        Some(f) => Err(Error::SchemaMismatch {
            location: location.to_owned(),
            message: format!(
                "column `{}` appears more than once; drift compares columns by name",
                f.name()
            ),
        }),
        None => Ok(()),
    }
}

impl DataDrift {
    /// A comparison with these options.
    pub fn new(options: DriftConfig) -> Self {
        DataDrift { options }
    }

    /// Compares the columns of the reference schema (names must be unique).
    pub fn compare(&self, reference: &[RecordBatch], current: &[RecordBatch]) -> Result<DriftReport> {
        let schema = reference
            .first()
            .map(|b| b.schema())
            .ok_or_else(|| Error::NotEnoughData {
                location: "reference data".into(),
                message: "no batches".into(),
            })?;
        self.validate()?;
        for (side, batches) in [("reference", reference), ("current", current)] {
            for (i, batch) in batches.iter().enumerate() {
                require_unique_names(&batch.schema(), &format!("{side} data, batch {i}"))?;
            }
        }
        let columns: Vec<ColumnDrift> = schema
            .fields()
            .par_iter()
            .map(|field| {
                let name = field.name();
                let current_arrays = column_arrays(current, name, "current")?;
                // The current side's declared type: a batch without rows still has one.
                let current_type = current
                    .first()
                    .and_then(|b| b.schema().field_with_name(name).ok().map(|f| f.data_type().clone()))
                    .unwrap_or_else(|| field.data_type().clone());
                self.column(
                    name,
                    field.data_type(),
                    || column_arrays(reference, name, "reference"),
                    &current_type,
                    current_arrays,
                )
            })
            .collect::<Result<_>>()?;
        Ok(self.report(
            columns,
            reference.iter().map(RecordBatch::num_rows).sum(),
            current.iter().map(RecordBatch::num_rows).sum(),
        ))
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if !(self.options.drift_share > 0.0 && self.options.drift_share <= 1.0) {
            return Err(Error::invalid_input(
                "drift share",
                "DriftConfig",
                self.options.drift_share.to_string(),
                "a share in (0, 1]",
            ));
        }
        Ok(())
    }

    /// One column's result; `reference` is only read for supported types.
    /// The declared types decide each side's kind even when it has no rows.
    pub(crate) fn column(
        &self,
        name: &str,
        data_type: &DataType,
        reference: impl FnOnce() -> Result<Vec<ArrayRef>>,
        current_type: &DataType,
        current: Vec<ArrayRef>,
    ) -> Result<ColumnDrift> {
        let overrides = self.options.columns.get(name);
        if let Some(detector) = overrides.and_then(|o| o.detector.as_deref()) {
            return run_plugged(detector, name, (data_type, &reference()?), (current_type, &current));
        }
        if kind_of(data_type).is_none() {
            return Ok(unsupported(
                name,
                format!("type {data_type} is not supported by drift methods"),
            ));
        }
        let r = sample(name, data_type, &reference()?)?;
        // The current side's kind follows from its declared type, so check it before reading.
        if kind_of(current_type) != Some(r.kind) {
            return Err(Error::SchemaMismatch {
                location: format!("column `{name}`"),
                message: format!("{data_type} in the reference, {current_type} in the current data"),
            });
        }
        let c = sample(name, current_type, &current)?;
        let method = overrides
            .and_then(|o| o.method)
            .or(self.options.method)
            .unwrap_or_else(|| default_method(&r, &c));
        let threshold = overrides
            .and_then(|o| o.threshold)
            .unwrap_or_else(|| method.default_threshold());
        let mut out = evaluate(name, method, threshold, &r, &c);
        if let Some(plot) = out.plot.as_mut() {
            plot.axis = AxisScale::of(data_type);
        }
        Ok(out)
    }

    /// The data set verdict over the column results.
    pub(crate) fn report(
        &self,
        mut columns: Vec<ColumnDrift>,
        reference_rows: usize,
        current_rows: usize,
    ) -> DriftReport {
        apply(self.options.correction, &mut columns);
        let tested = columns.iter().filter(|c| c.status == ColumnStatus::Ok).count();
        let drifted = columns.iter().filter(|c| c.drifted).count();
        let share = if tested == 0 {
            0.0
        } else {
            drifted as f64 / tested as f64
        };
        DriftReport {
            dataset_drift: tested > 0 && share >= self.options.drift_share,
            drift_share: share,
            drift_share_threshold: self.options.drift_share,
            number_of_columns: tested,
            number_of_drifted_columns: drifted,
            correction: self.options.correction,
            reference_rows,
            current_rows,
            columns,
        }
    }
}
