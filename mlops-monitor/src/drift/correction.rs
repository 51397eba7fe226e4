//! Multiple-testing correction of a data set's column verdicts.

use serde::{Deserialize, Serialize};

use super::column::{ColumnDrift, ColumnStatus};

/// How p-value thresholds are adjusted when many columns are tested at once.
/// Distance methods are never adjusted.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Correction {
    /// Each column at its own threshold (Evidently's behaviour).
    #[default]
    None,
    /// Each threshold divided by the number of tested columns (family-wise error).
    Bonferroni,
    /// Benjamini–Hochberg step-up at the columns' common threshold (false discovery rate).
    BenjaminiHochberg,
}

pub(crate) fn apply(correction: Correction, columns: &mut [ColumnDrift]) {
    let tests: Vec<usize> = (0..columns.len())
        .filter(|&i| columns[i].status == ColumnStatus::Ok && columns[i].p_value.is_some())
        .collect();
    let m = tests.len();
    if m == 0 {
        return;
    }
    match correction {
        Correction::None => {}
        Correction::Bonferroni => {
            for &i in &tests {
                let c = &mut columns[i];
                if let Some(t) = c.threshold.as_mut() {
                    *t /= m as f64;
                }
                c.drifted = matches!((c.p_value, c.threshold), (Some(p), Some(t)) if p <= t);
            }
        }
        Correction::BenjaminiHochberg => {
            let mut order = tests.clone();
            order.sort_by(|&a, &b| {
                columns[a]
                    .p_value
                    .unwrap_or(1.0)
                    .total_cmp(&columns[b].p_value.unwrap_or(1.0))
            });
            // Largest rank k with p_(k) ≤ k/m·α; every p ≤ p_(k) is a discovery.
            let mut cutoff = None;
            for (rank, &i) in order.iter().enumerate() {
                let Some(alpha) = columns[i].threshold else { continue };
                if columns[i].p_value.unwrap_or(1.0) <= (rank + 1) as f64 / m as f64 * alpha {
                    cutoff = columns[i].p_value;
                }
            }
            for &i in &tests {
                let c = &mut columns[i];
                c.drifted = match (cutoff, c.p_value) {
                    (Some(cut), Some(p)) => p <= cut,
                    _ => false,
                };
                if let Some(cut) = cutoff {
                    c.threshold = Some(cut);
                }
            }
        }
    }
}
