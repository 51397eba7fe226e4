//! Batch metrics over joined pairs, with scikit-learn's and fairlearn's conventions.
//!
//! Every function validates its input (equal lengths, finite values,
//! probabilities in `[0, 1]`, at least one sample) and returns a typed
//! [`Error`] rather than panicking. A metric that is mathematically undefined
//! for valid input (recall with no positive labels, ROC AUC with one class, R²
//! with fewer than two samples) is `None` where scikit-learn would warn and
//! return `nan` or a `zero_division` placeholder.

use std::collections::BTreeMap;

use mlops_core::{Error, Result};
use serde::Serialize;

/// Metrics of a binary classifier over one set of joined pairs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct BinaryMetrics {
    /// Number of pairs.
    pub count: usize,
    /// Number of pairs whose true label is positive.
    pub positives: usize,
    /// Fraction of predicted labels equal to the true label.
    pub accuracy: f64,
    /// `tp / (tp + fp)`; `None` when nothing was predicted positive.
    pub precision: Option<f64>,
    /// `tp / (tp + fn)`; `None` when no true label is positive.
    pub recall: Option<f64>,
    /// `2 tp / (2 tp + fp + fn)`; `None` when there are neither true nor predicted positives.
    pub f1: Option<f64>,
    /// Exact ROC AUC of the scores (Mann–Whitney U with ties given their mean
    /// rank, equal to `sklearn.metrics.roc_auc_score`); `None` with one class.
    pub roc_auc: Option<f64>,
    /// Mean cross-entropy of the scores, each clipped to `[ε, 1 − ε]` with
    /// `ε = f64::EPSILON`, as `sklearn.metrics.log_loss` does.
    pub log_loss: f64,
}

/// Metrics of a regressor over one set of joined pairs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct RegressionMetrics {
    /// Number of pairs.
    pub count: usize,
    /// Mean absolute error.
    pub mae: f64,
    /// Root mean squared error.
    pub rmse: f64,
    /// Coefficient of determination with `sklearn.metrics.r2_score`'s
    /// conventions: `None` with fewer than two samples; for a constant
    /// `y_true`, `1.0` when the predictions are exact and `0.0` otherwise.
    pub r2: Option<f64>,
}

fn check_len(location: &str, a: usize, b: usize) -> Result<()> {
    if a != b {
        return Err(Error::invalid_input(
            "input lengths",
            location,
            format!("{a} true values but {b} predictions"),
            "as many predictions as true values",
        ));
    }
    if a == 0 {
        return Err(Error::NotEnoughData {
            location: location.to_owned(),
            message: "no samples".to_owned(),
        });
    }
    Ok(())
}

fn check_probabilities(location: &str, scores: &[f64]) -> Result<()> {
    match scores.iter().position(|s| !(0.0..=1.0).contains(s)) {
        Some(i) => Err(Error::invalid_input(
            "score",
            format!("{location}[{i}]"),
            format!("{} is not a probability", scores[i]),
            "a number in [0, 1]",
        )),
        None => Ok(()),
    }
}

fn check_finite(location: &str, values: &[f64]) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(Error::invalid_input(
            "value",
            format!("{location}[{i}]"),
            format!("{} is not finite", values[i]),
            "a finite number",
        )),
        None => Ok(()),
    }
}

fn ratio(num: usize, den: usize) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

/// Exact ROC AUC of `y_score` against `y_true`, as `sklearn.metrics.roc_auc_score`.
///
/// Computed as the Mann–Whitney U statistic with tied scores given their mean
/// rank. `Ok(None)` when `y_true` holds only one class.
///
/// # Errors
/// [`Error::InvalidInput`] for unequal lengths or a non-finite score;
/// [`Error::NotEnoughData`] when empty.
pub fn roc_auc(y_true: &[bool], y_score: &[f64]) -> Result<Option<f64>> {
    check_len("roc_auc", y_true.len(), y_score.len())?;
    check_finite("roc_auc.y_score", y_score)?;
    let n_pos = y_true.iter().filter(|&&t| t).count();
    let n_neg = y_true.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return Ok(None);
    }
    let mut order: Vec<usize> = (0..y_score.len()).collect();
    order.sort_by(|&a, &b| y_score[a].total_cmp(&y_score[b]));
    // Sum of (1-based) ranks of the positives, ties at their mean rank. Ranks
    // are half-integers, so the sum is exact in f64 for any realistic n.
    let mut rank_sum = 0.0;
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && y_score[order[end]] == y_score[order[start]] {
            end += 1;
        }
        let mean_rank = (start + 1 + end) as f64 / 2.0;
        let positives_in_tie = order[start..end].iter().filter(|&&i| y_true[i]).count();
        rank_sum += mean_rank * positives_in_tie as f64;
        start = end;
    }
    let (p, n) = (n_pos as f64, n_neg as f64);
    Ok(Some((rank_sum - p * (p + 1.0) / 2.0) / (p * n)))
}

/// Mean log loss of positive-class probabilities, as `sklearn.metrics.log_loss`
/// (probabilities clipped to `[ε, 1 − ε]`, `ε = f64::EPSILON`, natural log).
///
/// # Errors
/// [`Error::InvalidInput`] for unequal lengths or a probability outside
/// `[0, 1]` (NaN included); [`Error::NotEnoughData`] when empty.
pub fn log_loss(y_true: &[bool], y_prob: &[f64]) -> Result<f64> {
    check_len("log_loss", y_true.len(), y_prob.len())?;
    check_probabilities("log_loss.y_prob", y_prob)?;
    let eps = f64::EPSILON;
    let total: f64 = y_true
        .iter()
        .zip(y_prob)
        .map(|(&t, &p)| {
            let q = if t { p } else { 1.0 - p };
            -q.clamp(eps, 1.0 - eps).ln()
        })
        .sum();
    Ok(total / y_true.len() as f64)
}

/// All [`BinaryMetrics`] of one set of pairs.
///
/// `y_score` is the positive-class probability and `y_pred` the predicted
/// label (the two are kept apart: the decision threshold is the model's).
///
/// # Errors
/// As [`log_loss`].
pub fn binary_metrics(y_true: &[bool], y_score: &[f64], y_pred: &[bool]) -> Result<BinaryMetrics> {
    check_len("binary_metrics", y_true.len(), y_score.len())?;
    check_len("binary_metrics", y_true.len(), y_pred.len())?;
    check_probabilities("binary_metrics.y_score", y_score)?;
    let (mut tp, mut fp, mut fn_, mut tn) = (0usize, 0usize, 0usize, 0usize);
    for (&t, &p) in y_true.iter().zip(y_pred) {
        match (t, p) {
            (true, true) => tp += 1,
            (false, true) => fp += 1,
            (true, false) => fn_ += 1,
            (false, false) => tn += 1,
        }
    }
    Ok(BinaryMetrics {
        count: y_true.len(),
        positives: tp + fn_,
        accuracy: (tp + tn) as f64 / y_true.len() as f64,
        precision: ratio(tp, tp + fp),
        recall: ratio(tp, tp + fn_),
        f1: ratio(2 * tp, 2 * tp + fp + fn_),
        roc_auc: roc_auc(y_true, y_score)?,
        log_loss: log_loss(y_true, y_score)?,
    })
}

/// Coefficient of determination, as `sklearn.metrics.r2_score` with its
/// default `force_finite=True`; `Ok(None)` with fewer than two samples.
///
/// # Errors
/// [`Error::InvalidInput`] for unequal lengths or non-finite values;
/// [`Error::NotEnoughData`] when empty.
pub fn r2_score(y_true: &[f64], y_pred: &[f64]) -> Result<Option<f64>> {
    check_len("r2_score", y_true.len(), y_pred.len())?;
    check_finite("r2_score.y_true", y_true)?;
    check_finite("r2_score.y_pred", y_pred)?;
    if y_true.len() < 2 {
        return Ok(None);
    }
    let mean = y_true.iter().sum::<f64>() / y_true.len() as f64;
    let numerator: f64 = y_true.iter().zip(y_pred).map(|(t, p)| (t - p) * (t - p)).sum();
    let denominator: f64 = y_true.iter().map(|t| (t - mean) * (t - mean)).sum();
    Ok(Some(if denominator != 0.0 {
        1.0 - numerator / denominator
    } else if numerator == 0.0 {
        1.0
    } else {
        0.0
    }))
}

/// All [`RegressionMetrics`] of one set of pairs.
///
/// # Errors
/// As [`r2_score`].
pub fn regression_metrics(y_true: &[f64], y_pred: &[f64]) -> Result<RegressionMetrics> {
    let r2 = r2_score(y_true, y_pred)?;
    let n = y_true.len() as f64;
    let mae = y_true.iter().zip(y_pred).map(|(t, p)| (t - p).abs()).sum::<f64>() / n;
    let mse = y_true.iter().zip(y_pred).map(|(t, p)| (t - p) * (t - p)).sum::<f64>() / n;
    Ok(RegressionMetrics {
        count: y_true.len(),
        mae,
        rmse: mse.sqrt(),
        r2,
    })
}

/// Per-group rates behind the fairness gaps.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct GroupRates {
    /// Pairs in the group.
    pub count: usize,
    /// Fraction of the group predicted positive.
    pub selection_rate: f64,
    /// True positive rate of the group; `None` when it has no positive label.
    pub true_positive_rate: Option<f64>,
}

/// Group fairness gaps over one sensitive attribute, as fairlearn's
/// `demographic_parity_difference` and `equal_opportunity_difference` with
/// `method="between_groups"` (max − min over groups).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct FairnessGaps {
    /// The segment key used as the sensitive attribute.
    pub key: String,
    /// Rates per group (segment value).
    pub groups: BTreeMap<String, GroupRates>,
    /// Max − min selection rate; `None` with fewer than two groups.
    pub demographic_parity_difference: Option<f64>,
    /// Max − min true positive rate; `None` with fewer than two groups or when
    /// a group has no positive label (fairlearn would count that group's rate as 0).
    pub equal_opportunity_difference: Option<f64>,
}

fn spread(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (mut lo, mut hi, mut n) = (f64::INFINITY, f64::NEG_INFINITY, 0usize);
    for v in values {
        lo = lo.min(v);
        hi = hi.max(v);
        n += 1;
    }
    (n >= 2).then_some(hi - lo)
}

/// Fairness gaps of predicted labels `y_pred` against `y_true` over `groups`
/// (the sensitive attribute's value per pair); `key` names the attribute.
///
/// # Errors
/// [`Error::InvalidInput`] for unequal lengths; [`Error::NotEnoughData`] when empty.
pub fn fairness_gaps<S: AsRef<str>>(key: &str, y_true: &[bool], y_pred: &[bool], groups: &[S]) -> Result<FairnessGaps> {
    check_len("fairness_gaps", y_true.len(), y_pred.len())?;
    check_len("fairness_gaps", y_true.len(), groups.len())?;
    // (count, predicted positive, true positive, label positive)
    let mut tallies: BTreeMap<&str, [usize; 4]> = BTreeMap::new();
    for ((&t, &p), g) in y_true.iter().zip(y_pred).zip(groups) {
        let e = tallies.entry(g.as_ref()).or_default();
        e[0] += 1;
        e[1] += usize::from(p);
        e[2] += usize::from(t && p);
        e[3] += usize::from(t);
    }
    let groups: BTreeMap<String, GroupRates> = tallies
        .into_iter()
        .map(|(g, [n, pp, tp, lp])| {
            let rates = GroupRates {
                count: n,
                selection_rate: pp as f64 / n as f64,
                true_positive_rate: ratio(tp, lp),
            };
            (g.to_owned(), rates)
        })
        .collect();
    let dpd = spread(groups.values().map(|r| r.selection_rate));
    let eod = if groups.values().all(|r| r.true_positive_rate.is_some()) {
        spread(groups.values().filter_map(|r| r.true_positive_rate))
    } else {
        None
    };
    Ok(FairnessGaps {
        key: key.to_owned(),
        groups,
        demographic_parity_difference: dpd,
        equal_opportunity_difference: eod,
    })
}
