//! Drift from two profiles alone, without raw data: how drift scales past one
//! machine's memory (profiles of partitions merge; see `mlops_data::Profile::merge`).
//!
//! How far each result can be from the exact one computed on the raw data:
//!
//! | method | computed from | bound |
//! |---|---|---|
//! | KS statistic | both KLL quantile sketches, at every retained item | `|D̂ − D| ≤ ε_ref + ε_cur` (the sketches' rank errors, 0.86 % each at the default k; reported as `error_bound`); the p-value is the asymptotic Kolmogorov one at D̂ |
//! | normed Wasserstein | quantiles on a 1 000-point grid, normed by the exact reference std | quantile error of ε in rank; reported bound `(ε_ref + ε_cur) · (max − min) / std` |
//! | PSI, Jensen–Shannon, Hellinger (numeric) | shares in 20 equal-width bins over the combined exact range, from sketch ranks | each share within `2ε`; reported bound `2(ε_ref + ε_cur)` on each share |
//! | chi-square, Jensen–Shannon (categorical) | frequent items | exact while both columns' counts are exact (≤ 128 distinct values by default), otherwise counts are lower bounds and `exact` is false |

use serde::{Deserialize, Serialize};

use super::binning::fill_empty_bins;
use super::methods::distances::{hellinger, jensen_shannon, psi};
use super::methods::proportions::chi_square;
use mlops_data::{ColumnStats, Profile};

/// A method computable from profiles.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProfileMethod {
    /// Two-sample KS from quantile sketches (p-value; drift if p ≤ 0.05).
    Ks,
    /// Wasserstein from quantiles, normed by the reference std (drift if ≥ 0.1).
    Wasserstein,
    /// PSI on sketch histograms or frequent items (drift if ≥ 0.1).
    Psi,
    /// Jensen–Shannon on sketch histograms or frequent items (drift if ≥ 0.1).
    JensenShannon,
    /// Hellinger on sketch histograms or frequent items (drift if ≥ 0.1).
    Hellinger,
    /// Chi-square on frequent items (categorical; drift if p < 0.05).
    ChiSquare,
}

/// One column's result from profiles.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProfileColumnDrift {
    /// Column name.
    pub name: String,
    /// Method used.
    pub method: ProfileMethod,
    /// Statistic or distance.
    pub statistic: Option<f64>,
    /// p-value for tests.
    pub p_value: Option<f64>,
    /// Compared with the threshold.
    pub score: Option<f64>,
    /// Threshold.
    pub threshold: f64,
    /// Verdict.
    pub drifted: bool,
    /// How far the statistic can be from the exact one (see the module table).
    pub error_bound: Option<f64>,
    /// Whether the inputs were exact (no sketch error at all).
    pub exact: bool,
    /// Why the column was not compared, if it was not.
    pub message: Option<String>,
}

const BINS: usize = 20;

/// Asymptotic Kolmogorov survival function Q(λ) = 2 Σ (−1)^{k−1} e^{−2k²λ²}.
fn kolmogorov_sf(lambda: f64) -> f64 {
    if lambda < 0.2 {
        return 1.0;
    }
    let mut sum = 0.0;
    for k in 1..=100 {
        let k = f64::from(k);
        let term = (-2.0 * k * k * lambda * lambda).exp();
        sum += if (k as i64) % 2 == 1 { term } else { -term };
        if term < 1e-17 {
            break;
        }
    }
    (2.0 * sum).clamp(0.0, 1.0)
}

fn numeric_shares(r: &mlops_data::NumericStats, c: &mlops_data::NumericStats) -> Option<(Vec<f64>, Vec<f64>)> {
    let lo = r.min()?.min(c.min()?);
    let hi = r.max()?.max(c.max()?);
    let (rv, cv) = (r.quantile_sketch().sorted_view(), c.quantile_sketch().sorted_view());
    if hi <= lo {
        return Some((vec![1.0], vec![1.0]));
    }
    let edges: Vec<f64> = (0..=BINS)
        .map(|i| {
            if i == BINS {
                hi
            } else {
                lo + (hi - lo) * i as f64 / BINS as f64
            }
        })
        .collect();
    let shares = |v: &mlops_data::sketch::SortedView| -> Vec<f64> {
        let ranks: Vec<f64> = edges
            .iter()
            .enumerate()
            .map(|(i, &e)| if i == 0 { 0.0 } else { v.rank(e) })
            .collect();
        ranks.windows(2).map(|w| (w[1] - w[0]).max(0.0)).collect()
    };
    Some((shares(&rv), shares(&cv)))
}

fn fill(v: &[f64]) -> Vec<f64> {
    fill_empty_bins(v)
}

/// Compares every column the two profiles share.
pub fn compare_profiles(
    reference: &Profile,
    current: &Profile,
    method: Option<ProfileMethod>,
) -> Vec<ProfileColumnDrift> {
    reference
        .columns()
        .iter()
        .map(|rc| {
            let name = rc.name().to_owned();
            let mut out = ProfileColumnDrift {
                name: name.clone(),
                method: method.unwrap_or(ProfileMethod::JensenShannon),
                statistic: None,
                p_value: None,
                score: None,
                threshold: 0.1,
                drifted: false,
                error_bound: None,
                exact: false,
                message: None,
            };
            let Some(cc) = current.column(&name) else {
                out.message = Some("missing from the current profile".into());
                return out;
            };
            match (rc.stats(), cc.stats()) {
                (ColumnStats::Numeric(r), ColumnStats::Numeric(c)) => {
                    out.method = method.unwrap_or(ProfileMethod::Wasserstein);
                    if r.finite_count() == 0 || c.finite_count() == 0 {
                        out.message = Some("no finite values on one side".into());
                        return out;
                    }
                    let eps = r.quantile_sketch().rank_error() + c.quantile_sketch().rank_error();
                    let exact_sketches = r.quantile_sketch().retained() as u64 == r.finite_count()
                        && c.quantile_sketch().retained() as u64 == c.finite_count();
                    out.exact = exact_sketches;
                    match out.method {
                        ProfileMethod::Ks => {
                            let (rv, cv) = (r.quantile_sketch().sorted_view(), c.quantile_sketch().sorted_view());
                            let d = rv
                                .points()
                                .iter()
                                .chain(cv.points())
                                .map(|&x| (rv.rank(x) - cv.rank(x)).abs())
                                .fold(0.0, f64::max);
                            let (n, m) = (r.finite_count() as f64, c.finite_count() as f64);
                            let en = (n * m / (n + m)).sqrt();
                            let p = kolmogorov_sf((en + 0.12 + 0.11 / en) * d);
                            out.statistic = Some(d);
                            out.p_value = Some(p);
                            out.score = Some(p);
                            out.threshold = 0.05;
                            out.drifted = p <= 0.05;
                            out.error_bound = Some(if exact_sketches { 0.0 } else { eps });
                        }
                        ProfileMethod::Wasserstein => {
                            let std = r.variance().map_or(0.0, |v| {
                                (v * (r.finite_count() - 1) as f64 / r.finite_count() as f64).sqrt()
                            });
                            let grid = 1000;
                            let qs: Vec<f64> = (0..grid).map(|i| (i as f64 + 0.5) / grid as f64).collect();
                            let (a, b) = (
                                r.quantiles_at(&qs).unwrap_or_default(),
                                c.quantiles_at(&qs).unwrap_or_default(),
                            );
                            let w = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).sum::<f64>() / grid as f64;
                            let normed = w / std.max(0.001);
                            out.statistic = Some(normed);
                            out.score = Some(normed);
                            out.drifted = normed >= 0.1;
                            let range = r.max().unwrap_or(0.0).max(c.max().unwrap_or(0.0))
                                - r.min().unwrap_or(0.0).min(c.min().unwrap_or(0.0));
                            out.error_bound = Some(eps * range / std.max(0.001));
                        }
                        m => {
                            let Some((rs, cs)) = numeric_shares(r, c) else {
                                return out;
                            };
                            let d = match m {
                                ProfileMethod::Psi => psi(&fill(&rs), &fill(&cs)),
                                ProfileMethod::Hellinger => hellinger(&rs, &cs),
                                _ => jensen_shannon(&rs, &cs),
                            };
                            out.statistic = Some(d);
                            out.score = Some(d);
                            out.drifted = d >= 0.1;
                            out.error_bound = Some(2.0 * eps);
                        }
                    }
                }
                (ColumnStats::String(r), ColumnStats::String(c)) => {
                    out.method = method
                        .filter(|m| !matches!(m, ProfileMethod::Ks | ProfileMethod::Wasserstein))
                        .unwrap_or(ProfileMethod::JensenShannon);
                    let (ri, ci) = (r.frequent_items().items(), c.frequent_items().items());
                    out.exact = r.frequent_items().is_exact() && c.frequent_items().is_exact();
                    let (nr, nc) = (r.frequent_items().total() as f64, c.frequent_items().total() as f64);
                    if nr == 0.0 || nc == 0.0 {
                        out.message = Some("no values on one side".into());
                        return out;
                    }
                    let keys: std::collections::BTreeSet<&str> =
                        ri.iter().chain(&ci).map(|i| i.value.as_str()).collect();
                    let count = |items: &[mlops_core::ItemCount], k: &str| {
                        items.iter().find(|i| i.value == k).map_or(0, |i| i.lower) as f64
                    };
                    let rs: Vec<f64> = keys.iter().map(|k| count(&ri, k) / nr).collect();
                    let cs: Vec<f64> = keys.iter().map(|k| count(&ci, k) / nc).collect();
                    match out.method {
                        ProfileMethod::ChiSquare => {
                            let observed: Vec<f64> = keys.iter().map(|k| count(&ci, k)).collect();
                            let expected: Vec<f64> = keys.iter().map(|k| count(&ri, k) * nc / nr).collect();
                            let (s, p) = chi_square(&observed, &expected);
                            out.statistic = Some(s).filter(|s| s.is_finite());
                            out.p_value = Some(p);
                            out.score = Some(p);
                            out.threshold = 0.05;
                            out.drifted = p < 0.05;
                        }
                        m => {
                            let d = match m {
                                ProfileMethod::Psi => psi(&fill(&rs), &fill(&cs)),
                                ProfileMethod::Hellinger => hellinger(&rs, &cs),
                                _ => jensen_shannon(&rs, &cs),
                            };
                            out.statistic = Some(d);
                            out.score = Some(d);
                            out.drifted = d >= 0.1;
                        }
                    }
                    let err =
                        (r.frequent_items().max_error() as f64 / nr).max(c.frequent_items().max_error() as f64 / nc);
                    out.error_bound = Some(err);
                }
                _ => out.message = Some(format!("{} columns are not compared from profiles", rc.data_type())),
            }
            out
        })
        .collect()
}
