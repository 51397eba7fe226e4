//! Metrics per segment of a sensitive attribute, with fairness gaps.

use std::collections::BTreeMap;

use mlops_core::{Error, Result};
use serde::Serialize;

use crate::performance::FairnessGaps;
use crate::performance::metrics::fairness_gaps;

/// One segment's figures.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SegmentRow {
    /// The segment (the attribute's value).
    pub segment: String,
    /// Rows in it.
    pub count: usize,
    /// Share of correct predictions.
    pub accuracy: f64,
    /// Share predicted positive.
    pub selection_rate: f64,
    /// True positive rate; `None` without positive labels.
    pub true_positive_rate: Option<f64>,
}

/// Per-segment metrics of a binary decision over one sensitive attribute.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct SegmentMetrics {
    /// The sensitive attribute (a column name).
    pub attribute: String,
    /// One row per segment, by name.
    pub rows: Vec<SegmentRow>,
    /// Demographic parity and equal opportunity differences (as fairlearn computes them).
    pub gaps: FairnessGaps,
}

impl SegmentMetrics {
    /// Metrics of predictions `y_pred` against `y_true` per value of
    /// `attribute` in `groups` (one per row).
    pub fn compute<S: AsRef<str>>(
        attribute: &str,
        y_true: &[bool],
        y_pred: &[bool],
        groups: &[S],
    ) -> Result<SegmentMetrics> {
        let gaps = fairness_gaps(attribute, y_true, y_pred, groups)?;
        let mut correct: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        for ((&t, &p), g) in y_true.iter().zip(y_pred).zip(groups) {
            let e = correct.entry(g.as_ref()).or_default();
            e.0 += usize::from(t == p);
            e.1 += 1;
        }
        let rows = gaps
            .groups
            .iter()
            .map(|(segment, rates)| {
                let (ok, n) = correct.get(segment.as_str()).copied().unwrap_or((0, 0));
                if n == 0 {
                    return Err(Error::corrupt(
                        "segment metrics",
                        format!("segment `{segment}` has no rows"),
                    ));
                }
                Ok(SegmentRow {
                    segment: segment.clone(),
                    count: rates.count,
                    accuracy: ok as f64 / n as f64,
                    selection_rate: rates.selection_rate,
                    true_positive_rate: rates.true_positive_rate,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(SegmentMetrics {
            attribute: attribute.to_owned(),
            rows,
            gaps,
        })
    }
}
