//! Wasserstein-1 distance (as `scipy.stats.wasserstein_distance`), normed by the
//! reference's population standard deviation (floor 0.001) as Evidently does.
//!
//! The distance is the area between the two empirical CDFs, `∫ |F(x) − G(x)| dx`.
//! SciPy sorts both samples and walks them in merge order; sorting two million
//! values per column was most of a drift report's time. Here the value range is
//! cut into equal-width buckets and one pass per sample counts each bucket and
//! sums each value's offset from the bucket's left edge. Wherever `F − G` keeps
//! one sign across a bucket — almost everywhere once samples are large, since
//! `F − G` moves by at most the bucket's share — the bucket's area is exactly
//! `|∫ (F − G)|`, which those counts and sums give. Only the few buckets where
//! the sign may change, or where that closed form would cancel (lose more than
//! 10 of its 53 bits), are sorted and walked value by value. `F − G` itself is
//! formed over one integer numerator, so equal CDFs give exactly zero, as in
//! SciPy. Every bucket's area is non-negative and carries a small relative
//! error, so the total does too: it equals the merge walk to within 1e-11
//! relative in the tests against SciPy and the merge walk, with no sort of the
//! whole data.
//!
//! Ranges too narrow for normal-sized buckets (below ~1e-304), samples over 2³²
//! values, and ranges so wide that count × range would overflow are sorted and
//! walked as SciPy does (the last with halved gaps, so no gap overflows).

/// Below this many values in total, sort both samples and walk them (cheaper than bucketing).
const EXACT_BELOW: usize = 4096;
/// Buckets per value range: enough that sign changes touch few of them, few enough
/// that the per-bucket counts and sums stay in a core's L2 cache.
const MAX_BUCKETS: usize = 1 << 17;
const MIN_BUCKETS: usize = 1 << 10;

/// ∫|F_ref − F_cur| over contiguous samples; see [`wasserstein_distance_chunked`].
pub fn wasserstein_distance(reference: &[f64], current: &[f64]) -> f64 {
    wasserstein_distance_chunked(&[reference], &[current])
}

/// ∫|F_ref − F_cur|, the area between the two empirical CDFs, for samples given
/// as chunks of finite values (as `scipy.stats.wasserstein_distance` with equal
/// weights). NaN when either sample is empty or holds NaN or ±infinity, as SciPy.
pub fn wasserstein_distance_chunked(reference: &[&[f64]], current: &[&[f64]]) -> f64 {
    let na: usize = reference.iter().map(|c| c.len()).sum();
    let nb: usize = current.iter().map(|c| c.len()).sum();
    if na == 0 || nb == 0 {
        return f64::NAN;
    }
    let Some((lo, hi)) = finite_range(reference.iter().chain(current)) else {
        return f64::NAN;
    };
    if hi <= lo {
        return 0.0;
    }
    let cdf = Cdfs::new(na, nb);
    // Bucket areas multiply counts by widths, which must stay finite. Past that
    // scale (ranges near f64::MAX), sort and walk with halved gaps: halving is
    // exact for all but subnormal values, and no gap overflows into 0 × ∞.
    let half_span = hi * 0.5 - lo * 0.5;
    if half_span * 2.0 * (na + nb) as f64 * 4.0 <= f64::MAX {
        return area(reference, current, (0, 0), (lo, hi), &cdf, 0);
    }
    let halved_gap = |x: f64, previous: f64| x * 0.5 - previous * 0.5;
    2.0 * cdf.walk_gaps(&sorted(reference), &sorted(current), (0, 0), lo, hi, halved_gap)
}

/// Levels of bucketing inside mixed buckets before sorting whatever is left.
const MAX_DEPTH: u32 = 3;
/// A closed-form bucket area smaller than this share of its terms' magnitudes
/// has lost more than 10 bits to cancellation, and is walked instead.
const CANCELLATION: f64 = 1.0 / 1024.0;

/// ∫|F − G| over `[lo, hi]` for the values `a` and `b` (all inside it), with
/// `before` values of each sample below `lo`. Buckets the interval; a mixed
/// bucket holding many values is bucketed again, a small one sorted and walked.
fn area(a: &[&[f64]], b: &[&[f64]], before: (usize, usize), (lo, hi): (f64, f64), cdf: &Cdfs, depth: u32) -> f64 {
    let na: usize = a.iter().map(|c| c.len()).sum();
    let nb: usize = b.iter().map(|c| c.len()).sum();
    // Counts are u32 (half the cache of u64); a sample that large is sorted instead.
    let countable = na.max(nb) <= u32::MAX as usize;
    if na + nb < EXACT_BELOW || depth >= MAX_DEPTH || !countable {
        return cdf.walk(&sorted(a), &sorted(b), before, lo, hi);
    }
    // Edges must be at least a few ulps apart for each value to be placed exactly.
    let ulp = (f64::EPSILON * lo.abs().max(hi.abs())).max(f64::from_bits(1));
    let resolvable = ((hi - lo) / (4.0 * ulp)).min(MAX_BUCKETS as f64) as usize;
    let buckets = ((na + nb) / 64)
        .next_power_of_two()
        .clamp(MIN_BUCKETS, MAX_BUCKETS)
        .min(resolvable);
    // A subnormal step would place values inexactly (and its inverse can overflow).
    if buckets < MIN_BUCKETS || (hi - lo) / (buckets as f64) < f64::MIN_POSITIVE {
        return cdf.walk(&sorted(a), &sorted(b), before, lo, hi);
    }
    let grid = Grid::new(lo, hi, buckets);
    let sa = grid.accumulate(a);
    let sb = grid.accumulate(b);

    let mut total = 0.0;
    // Buckets where F − G may change sign: (bucket, counts before it).
    let mut mixed: Vec<(usize, (usize, usize))> = Vec::new();
    let (mut before_a, mut before_b) = before;
    for k in 0..buckets {
        let (ma, mb) = (sa.counts[k] as usize, sb.counts[k] as usize);
        // Within the bucket F − G lies between these two values (exact signs).
        let lowest = cdf.diff(before_a, before_b + mb);
        let highest = cdf.diff(before_a + ma, before_b);
        let closed_form = if lowest >= 0.0 || highest <= 0.0 {
            let d0 = cdf.diff(before_a, before_b);
            let width = grid.edge(k + 1) - grid.edge(k);
            // ∫ over the bucket of #(values ≤ x) = Σ (right edge − value).
            let (full_a, full_b) = (ma as f64 * width, mb as f64 * width);
            let area_a = (full_a - sa.offsets[k]) * cdf.inv_a;
            let area_b = (full_b - sb.offsets[k]) * cdf.inv_b;
            let signed = d0 * width + area_a - area_b;
            // Where F − G comes near zero, or values crowd a bucket's right
            // edge, these terms cancel; such buckets are walked.
            let magnitude =
                (d0 * width).abs() + (full_a + sa.offsets[k]) * cdf.inv_a + (full_b + sb.offsets[k]) * cdf.inv_b;
            (signed.abs() >= magnitude * CANCELLATION).then_some(signed.abs())
        } else {
            None
        };
        match closed_form {
            Some(bucket_area) => total += bucket_area,
            None => mixed.push((k, (before_a, before_b))),
        }
        before_a += ma;
        before_b += mb;
    }
    if !mixed.is_empty() {
        total += grid.walk_mixed(&mixed, a, b, &sa.counts, &sb.counts, cdf, depth);
    }
    total
}

/// Smallest and largest value over the chunks; `None` if any value is NaN or ±infinity.
fn finite_range<'a>(chunks: impl Iterator<Item = &'a &'a [f64]>) -> Option<(f64, f64)> {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    // x × 0 is ±0 for every finite x and NaN otherwise, so the sum flags any non-finite value.
    let mut flag = 0.0;
    for chunk in chunks {
        // Eight independent lanes so the compiler can keep the loop in vector registers.
        let mut l = [f64::INFINITY; 8];
        let mut h = [f64::NEG_INFINITY; 8];
        let mut f = [0.0; 8];
        let mut blocks = chunk.chunks_exact(8);
        for block in &mut blocks {
            for i in 0..8 {
                l[i] = if block[i] < l[i] { block[i] } else { l[i] };
                h[i] = if block[i] > h[i] { block[i] } else { h[i] };
                f[i] += block[i] * 0.0;
            }
        }
        for &x in blocks.remainder() {
            lo = lo.min(x);
            hi = hi.max(x);
            flag += x * 0.0;
        }
        lo = l.iter().fold(lo, |m, &x| m.min(x));
        hi = h.iter().fold(hi, |m, &x| m.max(x));
        flag += f.iter().sum::<f64>();
    }
    (flag == 0.0).then_some((lo, hi))
}

fn sorted(chunks: &[&[f64]]) -> Vec<f64> {
    let mut v: Vec<f64> = chunks.concat();
    v.sort_unstable_by(f64::total_cmp);
    v
}

/// The two empirical CDFs: sample sizes and scale factors.
struct Cdfs {
    na: usize,
    nb: usize,
    /// `na × nb`, the common denominator of F − G.
    denominator: f64,
    /// Whether `na × nb` fits an i64 (else i128 arithmetic).
    narrow: bool,
    inv_a: f64,
    inv_b: f64,
}

impl Cdfs {
    fn new(na: usize, nb: usize) -> Self {
        Cdfs {
            na,
            nb,
            denominator: na as f64 * nb as f64,
            narrow: (na as u128) * (nb as u128) <= i64::MAX as u128,
            inv_a: 1.0 / na as f64,
            inv_b: 1.0 / nb as f64,
        }
    }

    /// F − G after `count_a` and `count_b` values, over a common integer
    /// numerator: exactly zero where the two CDFs are equal (as SciPy's
    /// `i/na − j/nb`), and correctly rounded below 2^53.
    #[inline]
    fn diff(&self, count_a: usize, count_b: usize) -> f64 {
        let numerator = if self.narrow {
            (count_a as i64 * self.nb as i64 - count_b as i64 * self.na as i64) as f64
        } else {
            (count_a as i128 * self.nb as i128 - count_b as i128 * self.na as i128) as f64
        };
        numerator / self.denominator
    }

    /// ∫|F − G| over `[start, end]` for sorted values `a` and `b` lying in that
    /// interval, with `before` values of each sample below `start`: scipy's
    /// merge walk, branch-free in the merge step.
    fn walk(&self, a: &[f64], b: &[f64], before: (usize, usize), start: f64, end: f64) -> f64 {
        self.walk_gaps(a, b, before, start, end, |x, previous| x - previous)
    }

    /// [`walk`](Self::walk) with the gap between consecutive values computed by `gap`.
    #[inline]
    fn walk_gaps(
        &self,
        a: &[f64],
        b: &[f64],
        before: (usize, usize),
        start: f64,
        end: f64,
        gap: impl Fn(f64, f64) -> f64,
    ) -> f64 {
        let (mut i, mut j) = (0usize, 0usize);
        let mut previous = start;
        let mut total = 0.0;
        while i < a.len() && j < b.len() {
            let take_a = a[i] <= b[j];
            let x = if take_a { a[i] } else { b[j] };
            total += self.diff(before.0 + i, before.1 + j).abs() * gap(x, previous);
            previous = x;
            i += usize::from(take_a);
            j += usize::from(!take_a);
        }
        for &x in &a[i..] {
            total += self.diff(before.0 + i, before.1 + j).abs() * gap(x, previous);
            previous = x;
            i += 1;
        }
        for &x in &b[j..] {
            total += self.diff(before.0 + i, before.1 + j).abs() * gap(x, previous);
            previous = x;
            j += 1;
        }
        total + self.diff(before.0 + i, before.1 + j).abs() * gap(end, previous)
    }
}

/// Equal-width buckets over `[lo, hi]`.
struct Grid {
    lo: f64,
    hi: f64,
    step: f64,
    scale: f64,
    buckets: usize,
}

/// One sample's values per bucket: how many, and the sum of their offsets from the left edge.
struct Accumulated {
    counts: Vec<u32>,
    offsets: Vec<f64>,
}

impl Grid {
    fn new(lo: f64, hi: f64, buckets: usize) -> Self {
        Grid {
            lo,
            hi,
            step: (hi - lo) / buckets as f64,
            scale: buckets as f64 / (hi - lo),
            buckets,
        }
    }

    /// The bucket `k` with `edge(k) ≤ x < edge(k + 1)` (the last one closed). The
    /// scaled index is off by at most one near an edge, as edges are at least
    /// four ulps apart; one correction step, as numpy's histogram does, makes the
    /// placement exact, so every area below splits exactly at the edges.
    #[inline]
    fn bucket(&self, x: f64) -> usize {
        // i32 conversions are single instructions on every x86-64; usize ones are not.
        let last = self.buckets as i32 - 1;
        let k = (((x - self.lo) * self.scale) as i32).clamp(0, last);
        let k = if k > 0 && x < self.left_edge(k) {
            k - 1
        } else if k < last && x >= self.left_edge(k + 1) {
            k + 1
        } else {
            k
        };
        k as usize
    }

    /// Left edge of bucket `k < buckets`.
    #[inline]
    fn left_edge(&self, k: i32) -> f64 {
        self.lo + f64::from(k) * self.step
    }

    /// Left edge of bucket `k` (`hi` for `k = buckets`).
    #[inline]
    fn edge(&self, k: usize) -> f64 {
        if k >= self.buckets {
            self.hi
        } else {
            self.left_edge(k as i32)
        }
    }

    fn accumulate(&self, chunks: &[&[f64]]) -> Accumulated {
        let mut counts = vec![0u32; self.buckets];
        let mut offsets = vec![0f64; self.buckets];
        for chunk in chunks {
            for &x in *chunk {
                let k = self.bucket(x);
                counts[k] += 1;
                offsets[k] += x - self.left_edge(k as i32);
            }
        }
        Accumulated { counts, offsets }
    }

    /// Exact areas of the `mixed` buckets: gathers their values (one pass per
    /// sample), then sorts and walks each bucket's values, or buckets them
    /// again when there are many.
    #[allow(clippy::too_many_arguments)]
    fn walk_mixed(
        &self,
        mixed: &[(usize, (usize, usize))],
        reference: &[&[f64]],
        current: &[&[f64]],
        counts_a: &[u32],
        counts_b: &[u32],
        cdf: &Cdfs,
        depth: u32,
    ) -> f64 {
        // A bit per bucket (fits in L1) says whether it is mixed; slot[k] is its position in `mixed`.
        let mut is_mixed = vec![0u64; self.buckets.div_ceil(64)];
        let mut slot = vec![0u32; self.buckets];
        for (i, &(k, _)) in mixed.iter().enumerate() {
            is_mixed[k / 64] |= 1 << (k % 64);
            slot[k] = i as u32;
        }
        let gather = |chunks: &[&[f64]], counts: &[u32]| -> (Vec<f64>, Vec<usize>) {
            let mut starts = Vec::with_capacity(mixed.len() + 1);
            let mut total = 0usize;
            for &(k, _) in mixed {
                starts.push(total);
                total += counts[k] as usize;
            }
            starts.push(total);
            let mut fill = starts.clone();
            let mut values = vec![0f64; total];
            for chunk in chunks {
                for &x in *chunk {
                    let k = self.bucket(x);
                    if (is_mixed[k / 64] >> (k % 64)) & 1 == 1 {
                        let at = &mut fill[slot[k] as usize];
                        values[*at] = x;
                        *at += 1;
                    }
                }
            }
            (values, starts)
        };
        let (mut va, sa) = gather(reference, counts_a);
        let (mut vb, sb) = gather(current, counts_b);
        let mut total = 0.0;
        for (i, &(k, before)) in mixed.iter().enumerate() {
            let a = &mut va[sa[i]..sa[i + 1]];
            let b = &mut vb[sb[i]..sb[i + 1]];
            let span = (self.edge(k), self.edge(k + 1));
            total += if a.len() + b.len() < EXACT_BELOW {
                a.sort_unstable_by(f64::total_cmp);
                b.sort_unstable_by(f64::total_cmp);
                cdf.walk(a, b, before, span.0, span.1)
            } else {
                area(&[a], &[b], before, span, cdf, depth + 1)
            };
        }
        total
    }
}

/// Population standard deviation (`numpy.std`, ddof = 0).
pub fn population_std(values: &[f64]) -> f64 {
    population_std_chunked(&[values])
}

/// Population standard deviation over chunks, as `numpy.std` computes it:
/// the mean, then the mean of squared deviations, each summed pairwise in
/// NumPy's order within a chunk (bit-identical to NumPy for one chunk).
pub fn population_std_chunked(chunks: &[&[f64]]) -> f64 {
    use crate::stats::numeric::numpy_sum;
    let n: usize = chunks.iter().map(|c| c.len()).sum();
    if n == 0 {
        return 0.0;
    }
    let mean = chunks.iter().map(|c| numpy_sum(c)).sum::<f64>() / n as f64;
    let mut squares = Vec::new();
    let mut total = 0.0;
    for chunk in chunks {
        squares.clear();
        squares.extend(chunk.iter().map(|v| (v - mean) * (v - mean)));
        total += numpy_sum(&squares);
    }
    (total / n as f64).sqrt()
}

/// The distance divided by `max(std(reference), 0.001)`.
pub fn normed_wasserstein(reference: &[f64], current: &[f64]) -> f64 {
    normed_wasserstein_chunked(&[reference], &[current])
}

/// [`normed_wasserstein`] over chunks of finite values.
pub fn normed_wasserstein_chunked(reference: &[&[f64]], current: &[&[f64]]) -> f64 {
    wasserstein_distance_chunked(reference, current) / population_std_chunked(reference).max(0.001)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// scipy's algorithm, written out: sort the union, CDFs by binary search.
    fn reference_walk(a: &[f64], b: &[f64]) -> f64 {
        let mut a = a.to_vec();
        let mut b = b.to_vec();
        a.sort_by(f64::total_cmp);
        b.sort_by(f64::total_cmp);
        let mut all: Vec<f64> = a.iter().chain(&b).copied().collect();
        all.sort_by(f64::total_cmp);
        let cdf = |s: &[f64], x: f64| s.partition_point(|&v| v <= x) as f64 / s.len() as f64;
        all.windows(2)
            .map(|w| (cdf(&a, w[0]) - cdf(&b, w[0])).abs() * (w[1] - w[0]))
            .sum()
    }

    fn splitmix(seed: &mut u64) -> f64 {
        *seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 * 2f64.powi(-53)
    }

    #[test]
    fn bucketed_matches_the_merge_walk() {
        let mut s = 7u64;
        type Shape = (&'static str, fn(f64) -> f64);
        let shapes: [Shape; 8] = [
            ("uniform", |u| u),
            ("integers", |u| (u * 30.0).floor()),
            ("heavy tail", |u| 1.0 / (1.0 - u).max(1e-9)),
            ("two spikes", |u| if u < 0.5 { 0.0 } else { 1e6 + u }),
            ("narrow", |u| 1e9 + u * 1e-3),
            // Nearly everything in the first bucket: bucketed again inside it.
            ("cluster and outlier", |u| if u > 0.9999 { 1e6 } else { u }),
            // Tiny but normal bucket widths: bucketed.
            ("tiny range", |u| 1e-290 * (1.0 + u * 1e-3)),
            // Bucket widths would be subnormal: sorted and walked.
            ("subnormal steps", |u| 1e-300 * (1.0 + u * 1e-7)),
        ];
        for (name, f) in shapes {
            for (na, nb, shift) in [(5000usize, 7000usize, 0.0), (20_000, 20_000, 0.01), (3000, 9000, 0.3)] {
                let a: Vec<f64> = (0..na).map(|_| f(splitmix(&mut s))).collect();
                let b: Vec<f64> = (0..nb).map(|_| f((splitmix(&mut s) + shift).min(0.999_999))).collect();
                let expected = reference_walk(&a, &b);
                let got = wasserstein_distance(&a, &b);
                let tolerance = 1e-11 * expected.abs().max(1e-300);
                assert!(
                    (got - expected).abs() <= tolerance,
                    "{name} {na}/{nb}: {got} vs {expected}"
                );
                // Chunking does not change the result.
                let (a1, a2) = a.split_at(na / 3);
                let chunked = wasserstein_distance_chunked(&[a1, a2], &[&b]);
                assert!(
                    (chunked - expected).abs() <= tolerance,
                    "{name} chunked: {chunked} vs {expected}"
                );
            }
        }
    }

    #[test]
    fn small_and_degenerate_samples() {
        // scipy.stats.wasserstein_distance([0, 1, 3], [5, 6, 8]) == 5.0
        assert_eq!(wasserstein_distance(&[0.0, 1.0, 3.0], &[5.0, 6.0, 8.0]), 5.0);
        // scipy.stats.wasserstein_distance([3.4, 3.9, 7.5, 7.8], [4.5, 1.4]) == 2.7
        assert!((wasserstein_distance(&[3.4, 3.9, 7.5, 7.8], &[4.5, 1.4]) - 2.7).abs() < 1e-12);
        assert_eq!(wasserstein_distance(&[2.0; 5000], &[2.0; 3000]), 0.0);
        assert!(wasserstein_distance(&[], &[1.0]).is_nan());
        let same: Vec<f64> = (0..10_000).map(|i| (i % 97) as f64).collect();
        assert_eq!(wasserstein_distance(&same, &same), 0.0);
        // Ranges at the ends of f64: subnormal spacing, and a span that overflows.
        let tiny = |k: usize| -> Vec<f64> { (0..6000).map(|i| f64::from_bits((i % k) as u64)).collect() };
        let w = wasserstein_distance(&tiny(3), &tiny(7));
        assert!(w.is_finite() && w >= 0.0 && w <= 6.0 * f64::from_bits(1), "{w:e}");
        let huge = |s: f64| -> Vec<f64> { (0..5000).map(|i| if i % 2 == 0 { -1e308 } else { s * 1e308 }).collect() };
        assert_eq!(wasserstein_distance(&huge(1.0), &huge(1.0)), 0.0);
        // Half of each sample at -1e308; the other halves differ by 0.5e308.
        let w = wasserstein_distance(&huge(1.0), &huge(0.5));
        assert!((w - 0.25e308).abs() <= 1e-12 * 0.25e308, "{w:e}");
        let mut wide = huge(1.0);
        wide.push(0.0);
        assert!(wasserstein_distance(&wide, &huge(1.0)).is_finite());
        // Not finite in, NaN out, as SciPy.
        let mut bad: Vec<f64> = (0..5000).map(f64::from).collect();
        assert!(!wasserstein_distance(&bad, &same).is_nan());
        bad[4321] = f64::NAN;
        assert!(wasserstein_distance(&bad, &same).is_nan());
        bad[4321] = f64::INFINITY;
        assert!(wasserstein_distance(&same, &bad).is_nan());
        assert!(wasserstein_distance(&[f64::NEG_INFINITY], &[1.0]).is_nan());
    }

    /// Where F − G nearly touches zero inside a bucket, the closed form would
    /// cancel; such buckets are walked, keeping the relative error small even
    /// when the distance is far below the range's rounding.
    #[test]
    fn nearly_equal_samples_keep_relative_accuracy() {
        // Both samples: 0, 1024 and five copies of the centres of buckets 2, 4, …,
        // so the grid is [0, 1024] in unit buckets and bucket 1 is empty.
        let mut common = vec![0.0, 1024.0];
        for k in (2..1024).step_by(2) {
            common.extend([k as f64 + 0.5; 5]);
        }
        for gap in [1e-9, 1e-6, 1e-3] {
            let mut a = common.clone();
            let mut b = common.clone();
            // F − G = 1/n on [1 − gap, 1 + gap]: in bucket 1 only b's value
            // brings it back to exactly zero, where the closed form would cancel.
            a.push(1.0 - gap);
            b.push(1.0 + gap);
            let expected = reference_walk(&a, &b);
            let got = wasserstein_distance(&a, &b);
            assert!((expected - 2.0 * gap / a.len() as f64).abs() <= 1e-6 * expected);
            assert!(
                (got - expected).abs() <= 1e-11 * expected,
                "{gap}: {got:e} vs {expected:e}"
            );
        }
        // Values crowding a bucket's right edge: Σ (edge − x) cancels in the
        // closed form, so the bucket is walked.
        for m in [5, 20, 1000] {
            let mut a = common.clone();
            let mut b = common.clone();
            a.extend(std::iter::repeat_n(4.0 - 2f64.powi(-51), m));
            b.extend(std::iter::repeat_n(4.0, m));
            let expected = reference_walk(&a, &b);
            let got = wasserstein_distance(&a, &b);
            assert!(
                (got - expected).abs() <= 1e-11 * expected,
                "{m}: {got:e} vs {expected:e}"
            );
        }
        // Equal CDFs are exactly equal: a sample against itself three times over.
        let mut s = 5u64;
        let once: Vec<f64> = (0..3000).map(|_| 100.0 * splitmix(&mut s)).collect();
        let thrice: Vec<f64> = once.iter().chain(&once).chain(&once).copied().collect();
        assert_eq!(wasserstein_distance(&once, &thrice), 0.0);
        // Samples a few ulps apart: every bucket holds both, so all are walked.
        let mut s = 11u64;
        let a: Vec<f64> = (0..50_000).map(|_| 1e6 + splitmix(&mut s)).collect();
        for moved in [1usize, 40] {
            let mut b = a.clone();
            for x in b.iter_mut().take(moved) {
                *x = f64::from_bits(x.to_bits() + 3);
            }
            let expected = reference_walk(&a, &b);
            let got = wasserstein_distance(&a, &b);
            assert!(expected > 0.0);
            assert!(
                (got - expected).abs() <= 1e-11 * expected,
                "{moved}: {got:e} vs {expected:e}"
            );
        }
        // Count × range past f64::MAX: computed on scaled values.
        let spread: Vec<f64> = (0..10_000).map(|i| if i % 2 == 0 { -5e305 } else { 5e305 }).collect();
        let mut shifted = spread.clone();
        shifted[1] = 0.0;
        let expected = 5e305 / 10_000.0;
        let got = wasserstein_distance(&spread, &shifted);
        assert!((got - expected).abs() <= 1e-12 * expected, "{got:e} vs {expected:e}");
        // ... keeping small values' precision: the distance comes from values near 1e-290.
        let mut a = spread.clone();
        let mut b = spread.clone();
        a.extend([1e-290; 10]);
        b.extend([1.000_000_1e-290; 10]);
        let expected = reference_walk(&a, &b);
        let got = wasserstein_distance(&a, &b);
        assert!(
            expected > 0.0 && (got - expected).abs() <= 1e-11 * expected,
            "{got:e} vs {expected:e}"
        );
    }
}
