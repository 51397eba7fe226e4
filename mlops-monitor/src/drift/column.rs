//! One column's drift result and how it is computed.

use serde::{Deserialize, Serialize};

use super::axis::AxisScale;
use super::binning::{category_shares, fill_empty_bins, histogram_chunked, shares, sturges_edges_for};
use super::data::{ColumnKind, ColumnSample};
use super::methods::DriftMethod;
use super::methods::distances::{hellinger, jensen_shannon, psi};
use super::methods::proportions::{chi_square, two_proportion_z};
use super::methods::wasserstein::normed_wasserstein_chunked;
use mlops_core::{Error, Result};

/// Numeric columns with more reference values than this are binned; fewer are compared as categories.
pub const BIN_ABOVE_UNIQUE: usize = super::data::FEW_DISTINCT;

/// Whether a column could be tested.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnStatus {
    /// Tested.
    Ok,
    /// Empty, all-null or all-NaN in one of the samples: nothing to test.
    NotEnoughData,
    /// A type the drift methods do not handle (nested, binary).
    Unsupported,
}

/// Reference and current shares per bin (or category), for plots.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SharePlot {
    /// Bin edges (numeric, `bins + 1` values) or empty for categories.
    pub edges: Vec<f64>,
    /// Category labels (categorical) or empty for bins.
    pub labels: Vec<String>,
    /// Reference share per bin.
    pub reference: Vec<f64>,
    /// Current share per bin.
    pub current: Vec<f64>,
    /// How to read the edges (and numeric labels): numbers, dates, times of day.
    #[serde(default)]
    pub axis: AxisScale,
}

/// The drift verdict for one column.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ColumnDrift {
    /// Column name.
    pub name: String,
    /// How the column was compared; `None` for a type no method handles.
    pub column_type: Option<ColumnKind>,
    /// The method used; `None` when the column could not be tested at all
    /// (an unsupported type). Serialized under its report name (`ks`, `wasserstein`…).
    pub method: Option<DriftMethod>,
    /// Test statistic or distance.
    pub statistic: Option<f64>,
    /// p-value, for tests.
    pub p_value: Option<f64>,
    /// What was compared with the threshold: the p-value for tests, the distance otherwise
    /// (Evidently's `drift_score`). `None` when the column could not be tested.
    pub score: Option<f64>,
    /// The threshold in force (after any multiple-testing correction); `None`
    /// when no method applies.
    pub threshold: Option<f64>,
    /// The verdict.
    pub drifted: bool,
    /// Whether it could be tested.
    pub status: ColumnStatus,
    /// Why not, when it could not.
    pub message: Option<String>,
    /// Usable reference values.
    pub reference_count: usize,
    /// Usable current values.
    pub current_count: usize,
    /// Share of reference rows that were null, NaN or ±inf.
    pub reference_missing_share: f64,
    /// Share of current rows that were null, NaN or ±inf.
    pub current_missing_share: f64,
    /// Whether the missing share changed (two-proportion Z-test, p < 0.05).
    pub missing_share_drifted: bool,
    /// Shares per bin or category, for the report's plots.
    pub plot: Option<SharePlot>,
    /// The name of the user detector that tested the column (its
    /// [`DriftDetector::method`](mlops_core::DriftDetector::method)), when
    /// `method` is [`DriftMethod::Custom`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detector: Option<String>,
    /// How far the statistic can be from the one computed exactly on the raw
    /// data: `None` when it was (drift on data), a bound when it was estimated
    /// (drift from profiles; `0` when the estimate is exact).
    #[serde(default)]
    pub error_bound: Option<f64>,
}

/// Shares per bin (numbers with more than [`BIN_ABOVE_UNIQUE`] distinct
/// reference values) or per category, unfilled.
fn shares_for(reference: &ColumnSample, current: &ColumnSample) -> SharePlot {
    if reference.kind == ColumnKind::Numeric && !reference.has_few_numbers() {
        let range = match (reference.number_range(), current.number_range()) {
            (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
            (one, other) => one.or(other),
        };
        let edges = sturges_edges_for(
            range,
            reference.len() + current.len(),
            reference.integer && current.integer,
        );
        let r = shares(
            &histogram_chunked(&reference.number_chunks(), &edges),
            reference.len(),
            false,
        );
        let c = shares(
            &histogram_chunked(&current.number_chunks(), &edges),
            current.len(),
            false,
        );
        SharePlot {
            edges,
            labels: vec![],
            reference: r,
            current: c,
            axis: AxisScale::Number,
        }
    } else {
        let (labels, r, c) = category_shares(&reference.label_counts(), &current.label_counts(), false);
        SharePlot {
            edges: vec![],
            labels,
            reference: r,
            current: c,
            axis: AxisScale::Number,
        }
    }
}

/// One column's statistic, p-value and score, and the shares it was computed
/// from when the method bins (reused for the report's plot).
type Measured = (Option<f64>, Option<f64>, f64, Option<SharePlot>);

/// Computes one column's statistic and score with `method`.
pub(crate) fn measure(method: DriftMethod, reference: &ColumnSample, current: &ColumnSample) -> Result<Measured> {
    let tested = |t: (Option<f64>, Option<f64>, f64)| (t.0, t.1, t.2, None);
    Ok(match method {
        DriftMethod::Ks => {
            let t = crate::stats::ks_2samp(&reference.numbers(), &current.numbers())?;
            tested((Some(t.statistic), Some(t.p_value), t.p_value))
        }
        DriftMethod::AndersonDarling => {
            let t = crate::stats::anderson_ksamp(&[&reference.numbers(), &current.numbers()])?;
            tested((Some(t.statistic), Some(t.significance_level), t.significance_level))
        }
        DriftMethod::CramerVonMises => {
            let t = crate::stats::cramervonmises_2samp(&reference.numbers(), &current.numbers())?;
            tested((Some(t.statistic), Some(t.p_value), t.p_value))
        }
        DriftMethod::ChiSquare => {
            let (r, c) = (reference.label_counts(), current.label_counts());
            let keys: std::collections::BTreeSet<&String> = r.keys().chain(c.keys()).collect();
            let scale = current.len() as f64 / reference.len() as f64;
            let observed: Vec<f64> = keys.iter().map(|k| c.get(*k).copied().unwrap_or(0) as f64).collect();
            let expected: Vec<f64> = keys
                .iter()
                .map(|k| r.get(*k).copied().unwrap_or(0) as f64 * scale)
                .collect();
            let (s, p) = chi_square(&observed, &expected);
            tested((Some(s), Some(p), p))
        }
        DriftMethod::ZTest => {
            let (r, c) = (reference.label_counts(), current.label_counts());
            let first = r.keys().chain(c.keys()).min().cloned().unwrap_or_default();
            let x1 = reference.len() as f64 - r.get(&first).copied().unwrap_or(0) as f64;
            let x2 = current.len() as f64 - c.get(&first).copied().unwrap_or(0) as f64;
            let (z, p) = two_proportion_z(x1, reference.len() as f64, x2, current.len() as f64);
            tested((Some(z), Some(p), p))
        }
        DriftMethod::Wasserstein => {
            let d = normed_wasserstein_chunked(&reference.number_chunks(), &current.number_chunks());
            tested((Some(d), None, d))
        }
        DriftMethod::JensenShannon => {
            let s = shares_for(reference, current);
            let d = jensen_shannon(&s.reference, &s.current);
            (Some(d), None, d, Some(s))
        }
        DriftMethod::Psi => {
            let s = shares_for(reference, current);
            let d = psi(&fill_empty_bins(&s.reference), &fill_empty_bins(&s.current));
            (Some(d), None, d, Some(s))
        }
        DriftMethod::Hellinger => {
            let s = shares_for(reference, current);
            let d = hellinger(&s.reference, &s.current);
            (Some(d), None, d, Some(s))
        }
        DriftMethod::Custom => {
            return Err(Error::invalid_input(
                "drift method",
                "DriftConfig",
                "custom",
                "a built-in method; a user detector is plugged in with DriftConfig::with_detector",
            ));
        }
    })
}

/// The result for a column whose type no drift method handles: no method, no
/// threshold, no verdict, only the reason.
pub(crate) fn unsupported(name: &str, reason: String) -> ColumnDrift {
    ColumnDrift {
        name: name.to_owned(),
        column_type: None,
        method: None,
        statistic: None,
        p_value: None,
        score: None,
        threshold: None,
        drifted: false,
        status: ColumnStatus::Unsupported,
        message: Some(reason),
        reference_count: 0,
        current_count: 0,
        reference_missing_share: 0.0,
        current_missing_share: 0.0,
        missing_share_drifted: false,
        plot: None,
        detector: None,
        error_bound: None,
    }
}

/// Evaluates one column; too little data becomes a `NotEnoughData` result, never an error.
pub(crate) fn evaluate(
    name: &str,
    method: DriftMethod,
    threshold: f64,
    reference: &ColumnSample,
    current: &ColumnSample,
) -> ColumnDrift {
    let (missing_z, missing_p) = two_proportion_z(
        reference.missing as f64,
        reference.rows.max(1) as f64,
        current.missing as f64,
        current.rows.max(1) as f64,
    );
    let _ = missing_z;
    let mut out = ColumnDrift {
        name: name.to_owned(),
        column_type: Some(reference.kind),
        method: Some(method),
        statistic: None,
        p_value: None,
        score: None,
        threshold: Some(threshold),
        drifted: false,
        status: ColumnStatus::Ok,
        message: None,
        reference_count: reference.len(),
        current_count: current.len(),
        reference_missing_share: reference.missing_share(),
        current_missing_share: current.missing_share(),
        missing_share_drifted: reference.rows > 0 && current.rows > 0 && missing_p < 0.05,
        plot: None,
        detector: None,
        error_bound: None,
    };
    if reference.is_empty() || current.is_empty() {
        out.status = ColumnStatus::NotEnoughData;
        out.message = Some(format!(
            "no usable values in the {} data (nulls, NaN and infinities are dropped)",
            if reference.is_empty() { "reference" } else { "current" }
        ));
        return out;
    }
    match measure(method, reference, current) {
        Ok((statistic, p_value, score, plot)) => {
            out.statistic = statistic.filter(|s| s.is_finite());
            out.p_value = p_value;
            out.score = Some(score).filter(|s| !s.is_nan());
            out.drifted = out.score.is_some_and(|s| method.drifted(s, threshold));
            out.plot = Some(plot.unwrap_or_else(|| shares_for(reference, current)));
        }
        Err(e) => {
            out.status = ColumnStatus::NotEnoughData;
            out.message = Some(e.to_string());
        }
    }
    out
}
