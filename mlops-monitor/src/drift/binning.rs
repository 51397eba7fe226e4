//! Shared binning, exactly as Evidently prepares data for its distance methods:
//! numpy's `histogram_bin_edges(reference ∪ current, bins="sturges")` (bin
//! width `ptp / (log2 n + 1)`, at least 1 for integer data), bin counts as
//! `numpy.histogram` computes them, shares per sample, and — for PSI — empty
//! bins replaced per sample by `m / 10⁶` when that sample's smallest non-zero
//! share `m` is ≤ 0.0001, else by 0.0001, so logarithms and ratios stay finite.

use std::collections::BTreeMap;

/// What an empty bin's share becomes (Evidently's `feel_zeroes`).
pub(crate) const EMPTY_BIN_SHARE: f64 = 0.0001;

#[cfg(test)]
/// numpy's "sturges" edges over the combined range; `integer` data gets bins at least 1 wide.
pub(crate) fn sturges_edges(reference: &[f64], current: &[f64], integer: bool) -> Vec<f64> {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for &v in reference.iter().chain(current) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    let n = reference.len() + current.len();
    sturges_edges_for((n > 0).then_some((lo, hi)), n, integer)
}

/// numpy's "sturges" edges for `n` values spanning `range` (`None`: no values).
pub(crate) fn sturges_edges_for(range: Option<(f64, f64)>, n: usize, integer: bool) -> Vec<f64> {
    let Some((mut lo, mut hi)) = range.filter(|_| n > 0) else {
        return vec![0.0, 1.0];
    };
    if lo == hi {
        lo -= 0.5;
        hi += 0.5;
    }
    let ptp = hi - lo;
    let mut width = ptp / ((n as f64).log2() + 1.0);
    if integer {
        width = width.max(1.0);
    }
    let bins = ((ptp / width).ceil() as usize).max(1);
    // numpy.linspace: start + i * step, with the last edge exactly `hi`.
    let step = ptp / bins as f64;
    (0..=bins)
        .map(|i| if i == bins { hi } else { lo + i as f64 * step })
        .collect()
}

/// [`histogram`] over chunks of values.
pub(crate) fn histogram_chunked(chunks: &[&[f64]], edges: &[f64]) -> Vec<u64> {
    let mut total = vec![0u64; edges.len().saturating_sub(1)];
    for chunk in chunks {
        for (t, c) in total.iter_mut().zip(histogram(chunk, edges)) {
            *t += c;
        }
    }
    total
}

/// Counts per bin as `numpy.histogram(values, edges)` (uniform edges): the
/// last bin is closed, values outside are ignored.
pub(crate) fn histogram(values: &[f64], edges: &[f64]) -> Vec<u64> {
    let bins = edges.len().saturating_sub(1);
    let mut counts = vec![0u64; bins];
    if bins == 0 {
        return counts;
    }
    let (first, last) = (edges[0], edges[bins]);
    let norm = bins as f64 / (last - first);
    let last_bin = (bins - 1).min(i32::MAX as usize) as i32;
    for &x in values {
        if !(x >= first && x <= last) {
            continue;
        }
        // Through i32: a single conversion instruction on every x86-64 (usize's is not).
        let mut i = (((x - first) * norm) as i32).clamp(0, last_bin) as usize;
        // numpy corrects the float index against the actual edges.
        if x < edges[i] && i > 0 {
            i -= 1;
        } else if i + 1 < bins && x >= edges[i + 1] {
            i += 1;
        }
        counts[i] += 1;
    }
    counts
}

/// Shares per bin; with `fill_empty`, empty bins get Evidently's fill value.
pub(crate) fn shares(counts: &[u64], total: usize, fill_empty: bool) -> Vec<f64> {
    let raw: Vec<f64> = counts
        .iter()
        .map(|&c| if total == 0 { 0.0 } else { c as f64 / total as f64 })
        .collect();
    if fill_empty { fill_empty_bins(&raw) } else { raw }
}

/// Evidently's `feel_zeroes` for one sample's shares.
pub(crate) fn fill_empty_bins(shares: &[f64]) -> Vec<f64> {
    let smallest = shares
        .iter()
        .copied()
        .filter(|&s| s > 0.0)
        .fold(f64::INFINITY, f64::min);
    let fill = if smallest <= EMPTY_BIN_SHARE {
        smallest / 1e6
    } else {
        EMPTY_BIN_SHARE
    };
    shares.iter().map(|&s| if s == 0.0 { fill } else { s }).collect()
}

/// Shares of each category over the union of categories (sorted), for both samples.
pub(crate) fn category_shares(
    reference: &BTreeMap<String, u64>,
    current: &BTreeMap<String, u64>,
    fill_empty: bool,
) -> (Vec<String>, Vec<f64>, Vec<f64>) {
    let keys: Vec<String> = reference
        .keys()
        .chain(current.keys())
        .cloned()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let (nr, nc) = (
        reference.values().sum::<u64>() as usize,
        current.values().sum::<u64>() as usize,
    );
    let r: Vec<u64> = keys.iter().map(|k| reference.get(k).copied().unwrap_or(0)).collect();
    let c: Vec<u64> = keys.iter().map(|k| current.get(k).copied().unwrap_or(0)).collect();
    (keys, shares(&r, nr, fill_empty), shares(&c, nc, fill_empty))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_numpy_histogram() {
        // numpy.histogram([1, 2, 2, 3, 4, 5], bins=np.histogram_bin_edges([...], "sturges"))
        // n = 6 → ceil(log2 6) + 1 = 4 bins over [1, 5]: edges 1, 2, 3, 4, 5 → counts [1, 2, 1, 2].
        let edges = sturges_edges(&[1.0, 2.0, 2.0], &[3.0, 4.0, 5.0], false);
        assert_eq!(edges, vec![1.0, 2.0, 3.0, 4.0, 5.0]);
        // Integer data: width at least 1, so 0/1 data gets one bin.
        assert_eq!(
            sturges_edges(&[0.0, 1.0, 1.0, 0.0], &[1.0, 0.0, 1.0, 1.0], true),
            vec![0.0, 1.0]
        );
        assert_eq!(histogram(&[1.0, 2.0, 2.0, 3.0, 4.0, 5.0], &edges), vec![1, 2, 1, 2]);
        let same = sturges_edges(&[7.0], &[7.0], false);
        assert_eq!((same[0], *same.last().unwrap()), (6.5, 7.5));
        assert_eq!(shares(&[0, 2], 2, true), vec![EMPTY_BIN_SHARE, 1.0]);
        assert_eq!(
            fill_empty_bins(&[0.0, 0.00005, 0.99995]),
            vec![0.00005 / 1e6, 0.00005, 0.99995]
        );
    }
}
