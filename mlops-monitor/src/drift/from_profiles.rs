//! Drift from two profiles alone, without raw data: how drift scales past one
//! machine's memory (profiles of partitions merge; see `mlops_data::Profile::merge`).
//!
//! How far each result can be from the exact one computed on the raw data:
//!
//! | method | computed from | bound |
//! |---|---|---|
//! | KS statistic | both KLL quantile sketches, at every retained item | `|D̂ − D| ≤ ε_ref + ε_cur` (the sketches' rank errors, 0.86 % each at the default k; reported as `error_bound`, `0` when both sketches hold every value); the p-value is the asymptotic Kolmogorov one at D̂ |
//! | normed Wasserstein | quantiles on a 1 000-point grid, normed by the exact reference std | quantile error of ε in rank; reported bound `(ε_ref + ε_cur) · (max − min) / std` |
//! | PSI, Jensen–Shannon, Hellinger (numeric) | shares in 20 equal-width bins over the combined exact range, from sketch ranks | each share within `2ε`; reported bound `2(ε_ref + ε_cur)` on each share |
//! | chi-square, Jensen–Shannon (categorical) | frequent items | exact while both columns' counts are exact (≤ 128 distinct values by default), otherwise counts are lower bounds and `error_bound` is the largest count error over the total |

use super::binning::fill_empty_bins;
use super::column::{ColumnDrift, ColumnStatus, unsupported};
use super::data::ColumnKind;
use super::methods::DriftMethod;
use super::methods::distances::{hellinger, jensen_shannon, psi};
use super::methods::proportions::chi_square;
use super::report::{DataDrift, DriftConfig, DriftReport};
use mlops_core::{Error, Result};
use mlops_data::{ColumnProfile, ColumnStats, Profile};

/// Whether `method` can be computed from profiles on a column of `kind`.
fn computable(method: DriftMethod, kind: ColumnKind) -> bool {
    match kind {
        ColumnKind::Numeric => matches!(
            method,
            DriftMethod::Ks
                | DriftMethod::Wasserstein
                | DriftMethod::Psi
                | DriftMethod::JensenShannon
                | DriftMethod::Hellinger
        ),
        ColumnKind::Categorical => matches!(
            method,
            DriftMethod::ChiSquare | DriftMethod::Psi | DriftMethod::JensenShannon | DriftMethod::Hellinger
        ),
    }
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

/// Compares every column of the reference profile with the current one and
/// returns the same [`DriftReport`] as drift on the data, with each column's
/// [`error_bound`](ColumnDrift::error_bound) (see the module table).
///
/// `config` chooses methods and thresholds as for data (per column, or one
/// for all); by default numbers use normed Wasserstein and categories
/// Jensen–Shannon, each at its default threshold. A method that profiles
/// cannot compute for a column (Anderson–Darling, Cramér–von Mises, Z, a
/// plugged detector, or KS/Wasserstein on categories) is an error naming the
/// column. Types other than numbers and strings are reported as unsupported.
pub fn compare_profiles(reference: &Profile, current: &Profile, config: &DriftConfig) -> Result<DriftReport> {
    let drift = DataDrift::new(config.clone());
    drift.validate()?;
    let columns = reference
        .columns()
        .iter()
        .map(|rc| column(rc, current, config))
        .collect::<Result<Vec<_>>>()?;
    Ok(drift.report(
        columns,
        usize::try_from(reference.num_rows()).unwrap_or(usize::MAX),
        usize::try_from(current.num_rows()).unwrap_or(usize::MAX),
    ))
}

/// The share of a column's rows that were null, NaN or ±inf.
fn missing_share(c: &ColumnProfile) -> (u64, f64) {
    let rows = c.count() + c.null_count();
    let usable = match c.stats() {
        ColumnStats::Numeric(n) => n.finite_count(),
        _ => c.count(),
    };
    let share = if rows == 0 {
        0.0
    } else {
        (rows - usable.min(rows)) as f64 / rows as f64
    };
    (rows, share)
}

fn column(rc: &ColumnProfile, current: &Profile, config: &DriftConfig) -> Result<ColumnDrift> {
    let name = rc.name();
    let kind = match rc.stats() {
        ColumnStats::Numeric(_) => ColumnKind::Numeric,
        ColumnStats::String(_) => ColumnKind::Categorical,
        _ => {
            return Ok(unsupported(
                name,
                format!("{} columns are not compared from profiles", rc.data_type()),
            ));
        }
    };
    let overrides = config.columns.get(name);
    let chosen = overrides.and_then(|o| o.method).or(config.method);
    let method = chosen.unwrap_or(match kind {
        ColumnKind::Numeric => DriftMethod::Wasserstein,
        ColumnKind::Categorical => DriftMethod::JensenShannon,
    });
    if !computable(method, kind) || overrides.is_some_and(|o| o.detector.is_some()) {
        return Err(Error::invalid_input(
            format!("column `{name}`"),
            "DriftConfig",
            format!("{method} on a {kind:?} column"),
            "a method computable from profiles: KS, Wasserstein, PSI, Jensen–Shannon or Hellinger for numbers; chi-square, PSI, Jensen–Shannon or Hellinger for categories",
        ));
    }
    let threshold = overrides
        .and_then(|o| o.threshold)
        .unwrap_or_else(|| method.default_threshold());
    let (reference_rows, reference_missing_share) = missing_share(rc);
    let mut out = ColumnDrift {
        name: name.to_owned(),
        column_type: Some(kind),
        method: Some(method),
        detector: None,
        statistic: None,
        p_value: None,
        score: None,
        threshold: Some(threshold),
        drifted: false,
        status: ColumnStatus::Ok,
        message: None,
        reference_count: 0,
        current_count: 0,
        reference_missing_share,
        current_missing_share: 0.0,
        missing_share_drifted: false,
        plot: None,
        error_bound: None,
    };
    let Some(cc) = current.column(name) else {
        out.status = ColumnStatus::NotEnoughData;
        out.message = Some("missing from the current profile".into());
        return Ok(out);
    };
    let (current_rows, current_missing_share) = missing_share(cc);
    out.current_missing_share = current_missing_share;
    if reference_rows > 0 && current_rows > 0 {
        let (_, p) = super::methods::proportions::two_proportion_z(
            reference_missing_share * reference_rows as f64,
            reference_rows as f64,
            current_missing_share * current_rows as f64,
            current_rows as f64,
        );
        out.missing_share_drifted = p < 0.05;
    }
    let not_enough = |out: &mut ColumnDrift, why: &str| {
        out.status = ColumnStatus::NotEnoughData;
        out.message = Some(why.to_owned());
    };
    match (rc.stats(), cc.stats()) {
        (ColumnStats::Numeric(r), ColumnStats::Numeric(c)) => {
            out.reference_count = usize::try_from(r.finite_count()).unwrap_or(usize::MAX);
            out.current_count = usize::try_from(c.finite_count()).unwrap_or(usize::MAX);
            if r.finite_count() == 0 || c.finite_count() == 0 {
                not_enough(&mut out, "no finite values on one side");
                return Ok(out);
            }
            let eps = r.quantile_sketch().rank_error() + c.quantile_sketch().rank_error();
            let exact_sketches = r.quantile_sketch().retained() as u64 == r.finite_count()
                && c.quantile_sketch().retained() as u64 == c.finite_count();
            match method {
                DriftMethod::Ks => {
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
                    out.error_bound = Some(if exact_sketches { 0.0 } else { eps });
                }
                DriftMethod::Wasserstein => {
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
                    let range = r.max().unwrap_or(0.0).max(c.max().unwrap_or(0.0))
                        - r.min().unwrap_or(0.0).min(c.min().unwrap_or(0.0));
                    out.error_bound = Some(eps * range / std.max(0.001));
                }
                m => {
                    let Some((rs, cs)) = numeric_shares(r, c) else {
                        not_enough(&mut out, "no range on one side");
                        return Ok(out);
                    };
                    let d = match m {
                        DriftMethod::Psi => psi(&fill(&rs), &fill(&cs)),
                        DriftMethod::Hellinger => hellinger(&rs, &cs),
                        _ => jensen_shannon(&rs, &cs),
                    };
                    out.statistic = Some(d);
                    out.score = Some(d);
                    out.error_bound = Some(2.0 * eps);
                }
            }
        }
        (ColumnStats::String(r), ColumnStats::String(c)) => {
            let (ri, ci) = (r.frequent_items().items(), c.frequent_items().items());
            let (nr, nc) = (r.frequent_items().total() as f64, c.frequent_items().total() as f64);
            out.reference_count = usize::try_from(r.frequent_items().total()).unwrap_or(usize::MAX);
            out.current_count = usize::try_from(c.frequent_items().total()).unwrap_or(usize::MAX);
            if nr == 0.0 || nc == 0.0 {
                not_enough(&mut out, "no values on one side");
                return Ok(out);
            }
            let keys: std::collections::BTreeSet<&str> = ri.iter().chain(&ci).map(|i| i.value.as_str()).collect();
            let count = |items: &[mlops_core::ItemCount], k: &str| {
                items.iter().find(|i| i.value == k).map_or(0, |i| i.lower) as f64
            };
            let rs: Vec<f64> = keys.iter().map(|k| count(&ri, k) / nr).collect();
            let cs: Vec<f64> = keys.iter().map(|k| count(&ci, k) / nc).collect();
            match method {
                DriftMethod::ChiSquare => {
                    let observed: Vec<f64> = keys.iter().map(|k| count(&ci, k)).collect();
                    let expected: Vec<f64> = keys.iter().map(|k| count(&ri, k) * nc / nr).collect();
                    let (s, p) = chi_square(&observed, &expected);
                    out.statistic = Some(s).filter(|s| s.is_finite());
                    out.p_value = Some(p);
                    out.score = Some(p);
                }
                m => {
                    let d = match m {
                        DriftMethod::Psi => psi(&fill(&rs), &fill(&cs)),
                        DriftMethod::Hellinger => hellinger(&rs, &cs),
                        _ => jensen_shannon(&rs, &cs),
                    };
                    out.statistic = Some(d);
                    out.score = Some(d);
                }
            }
            let err = (r.frequent_items().max_error() as f64 / nr).max(c.frequent_items().max_error() as f64 / nc);
            out.error_bound = Some(err);
        }
        _ => {
            return Err(Error::SchemaMismatch {
                location: format!("column `{name}`"),
                message: format!(
                    "{} in the reference profile, {} in the current one",
                    rc.data_type(),
                    cc.data_type()
                ),
            });
        }
    }
    out.drifted = out.score.is_some_and(|s| method.drifted(s, threshold));
    Ok(out)
}
