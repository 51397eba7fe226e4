//! Evidently's `DataDriftPreset` default choice of method per column.
//!
//! Let n be the reference's count of usable values and u the number of
//! unique values over reference ∪ current:
//!
//! | n | column | method |
//! |---|---|---|
//! | ≤ 1000 | numeric, u > 5 | KS (p ≤ 0.05) |
//! | ≤ 1000 | numeric, 3 ≤ u ≤ 5 | chi-square (p < 0.05) |
//! | ≤ 1000 | numeric, u ≤ 2 | Z-test (p < 0.05) |
//! | ≤ 1000 | categorical | chi-square if u > 2, else Z-test |
//! | > 1000 | numeric, u > 5 | normed Wasserstein (≥ 0.1) |
//! | > 1000 | otherwise | Jensen–Shannon (≥ 0.1) |

use super::data::{ColumnKind, ColumnSample};
use super::methods::DriftMethod;

/// Unique values over both samples, counted up to 21 (past every threshold used here).
pub(crate) fn unique_count(reference: &ColumnSample, current: &ColumnSample) -> usize {
    reference.distinct_capped(Some(current))
}

/// The default method for a column.
pub(crate) fn default_method(reference: &ColumnSample, current: &ColumnSample) -> DriftMethod {
    let n = reference.len();
    let u = unique_count(reference, current);
    match (reference.kind, n <= 1000) {
        (ColumnKind::Numeric, true) if u > 5 => DriftMethod::Ks,
        (ColumnKind::Numeric, true) if u >= 3 => DriftMethod::ChiSquare,
        (ColumnKind::Numeric, true) => DriftMethod::ZTest,
        (ColumnKind::Categorical, true) if u > 2 => DriftMethod::ChiSquare,
        (ColumnKind::Categorical, true) => DriftMethod::ZTest,
        (ColumnKind::Numeric, false) if u > 5 => DriftMethod::Wasserstein,
        (_, false) => DriftMethod::JensenShannon,
    }
}
