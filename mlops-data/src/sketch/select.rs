//! A few order statistics of a large batch without sorting all of it.
//!
//! The KLL sketch compacts each large batch down to a few hundred items, and
//! those items are order statistics at ranks that are known before any value
//! is read. Bucketing the values by linear interpolation between the batch's
//! extrema (a monotone map, so the buckets are ordered) and sorting only the
//! buckets that hold a wanted rank costs two light passes, where the radix
//! sort costs a counting pass and up to six scatter passes. A skewed batch
//! that crowds the wanted buckets falls back to the radix sort, so the worst
//! case stays the radix sort's. Either way the values are exactly those of a
//! full sort by IEEE total order.

use super::radix::{RadixScratch, sort_f64};

/// Below this length a full sort is as cheap as bucketing.
const MIN_LEN: usize = 1024;
/// Marks a bucket that holds no wanted rank.
const SKIP: u32 = u32::MAX;
/// 2⁵²: added to a value in `0..2³¹`, it leaves the value rounded to an integer
/// in the low bits of the sum's mantissa.
const ROUNDING: f64 = 4_503_599_627_370_496.0;

/// Buffers reused between calls, so a hot loop does not allocate.
#[derive(Default)]
pub(crate) struct SelectScratch {
    ids: Vec<u32>,
    counts: Vec<u32>,
    slots: Vec<u32>,
    wanted: Vec<Wanted>,
    gathered: Vec<f64>,
    sorted: Vec<f64>,
    radix: RadixScratch,
}

/// A bucket that holds wanted ranks: where its values start in the sorted
/// batch and in the gather buffer.
#[derive(Clone, Copy)]
struct Wanted {
    first_rank: usize,
    len: usize,
    offset: usize,
}

impl Clone for SelectScratch {
    fn clone(&self) -> Self {
        SelectScratch::default()
    }
}

impl std::fmt::Debug for SelectScratch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SelectScratch")
    }
}

impl PartialEq for SelectScratch {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// Appends to `out`, cleared first, the values of `values` at `ranks` (ascending,
/// each below `values.len()`) in the order of a sort by IEEE total order.
/// `values` must be finite.
pub(crate) fn select_ranks(values: &[f64], ranks: &[usize], out: &mut Vec<f64>, scratch: &mut SelectScratch) {
    out.clear();
    let m = values.len();
    if ranks.is_empty() {
        return;
    }
    if m < MIN_LEN || ranks.len() * 8 > m || !bucketed(values, ranks, out, scratch) {
        out.clear();
        sort_and_pick(values, ranks, out, scratch);
    }
}

fn sort_and_pick(values: &[f64], ranks: &[usize], out: &mut Vec<f64>, scratch: &mut SelectScratch) {
    let sorted = &mut scratch.sorted;
    sorted.clear();
    sorted.extend_from_slice(values);
    sort_f64(sorted, &mut scratch.radix);
    out.extend(ranks.iter().filter_map(|&r| sorted.get(r).copied()));
}

/// Smallest and largest value; lanes let the compiler keep several in flight.
fn extrema(values: &[f64]) -> (f64, f64) {
    const LANES: usize = 8;
    let mut lo = [f64::INFINITY; LANES];
    let mut hi = [f64::NEG_INFINITY; LANES];
    let chunks = values.chunks_exact(LANES);
    let rest = chunks.remainder();
    for c in chunks {
        for j in 0..LANES {
            lo[j] = if c[j] < lo[j] { c[j] } else { lo[j] };
            hi[j] = if c[j] > hi[j] { c[j] } else { hi[j] };
        }
    }
    let mut l = lo.iter().copied().fold(f64::INFINITY, f64::min);
    let mut h = hi.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    for &x in rest {
        l = l.min(x);
        h = h.max(x);
    }
    (l, h)
}

/// The bucketed selection; `false` when the batch is too skewed for it (nothing
/// useful is left in `out` then).
fn bucketed(values: &[f64], ranks: &[usize], out: &mut Vec<f64>, scratch: &mut SelectScratch) -> bool {
    let m = values.len();
    let (lo, hi) = extrema(values);
    let buckets = m.next_power_of_two();
    let width = hi - lo;
    let scale = buckets as f64 / width;
    // Equal values (width 0) and ranges wider than f64 go to the radix sort.
    if !(width > 0.0 && width.is_finite() && scale.is_finite()) || buckets > 1 << 31 {
        return false;
    }
    let SelectScratch {
        ids,
        counts,
        slots,
        wanted,
        gathered,
        ..
    } = scratch;
    // Bucket of x: (x − lo)·scale rounded to an integer in 0..=buckets, read
    // from the low mantissa bits of (x − lo)·scale + 2⁵². Each step rounds
    // monotonically, so bucket order is value order; and unlike a float to
    // integer cast, this vectorises.
    ids.clear();
    ids.extend(values.iter().map(|&x| ((x - lo) * scale + ROUNDING).to_bits() as u32));
    counts.clear();
    counts.resize(buckets + 1, 0);
    for &b in ids.iter() {
        if let Some(c) = counts.get_mut(b as usize) {
            *c += 1;
        }
    }
    // Every value must have landed in a bucket for the ranks to line up.
    if counts.iter().map(|&c| c as usize).sum::<usize>() != m {
        return false;
    }
    slots.clear();
    slots.resize(buckets + 1, SKIP);
    wanted.clear();
    let (mut bucket, mut first_rank, mut gathered_len) = (0usize, 0usize, 0usize);
    for &r in ranks {
        // Eight buckets at a time first: most buckets hold no wanted rank.
        while let Some(chunk) = counts.get(bucket..bucket + 8) {
            let in_chunk = chunk.iter().sum::<u32>() as usize;
            if first_rank + in_chunk > r {
                break;
            }
            first_rank += in_chunk;
            bucket += 8;
        }
        while bucket < counts.len() && first_rank + counts[bucket] as usize <= r {
            first_rank += counts[bucket] as usize;
            bucket += 1;
        }
        let Some(&len) = counts.get(bucket) else {
            return false;
        };
        if wanted.last().is_none_or(|w| w.first_rank != first_rank) {
            wanted.push(Wanted {
                first_rank,
                len: len as usize,
                offset: gathered_len,
            });
            slots[bucket] = gathered_len as u32;
            gathered_len += len as usize;
        }
    }
    // Skewed data crowds the wanted buckets; then a full radix sort is cheaper.
    if gathered_len > m / 4 {
        return false;
    }
    gathered.clear();
    gathered.resize(gathered_len, 0.0);
    for (&x, &b) in values.iter().zip(ids.iter()) {
        if let Some(slot) = slots.get_mut(b as usize)
            && *slot != SKIP
        {
            if let Some(g) = gathered.get_mut(*slot as usize) {
                *g = x;
            }
            *slot += 1;
        }
    }
    let mut wanted_iter = wanted.iter().peekable();
    let mut current: Option<Wanted> = None;
    for &r in ranks {
        while current.is_none_or(|w| r >= w.first_rank + w.len) {
            let Some(&w) = wanted_iter.next() else {
                return false;
            };
            if let Some(slice) = gathered.get_mut(w.offset..w.offset + w.len) {
                slice.sort_unstable_by(f64::total_cmp);
            }
            current = Some(w);
        }
        let Some(w) = current else {
            return false;
        };
        let Some(&v) = gathered.get(w.offset + (r - w.first_rank)) else {
            return false;
        };
        out.push(v);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sketch::hash::mix64;

    fn picks_of_sorted(values: &[f64], ranks: &[usize]) -> Vec<u64> {
        let mut sorted = values.to_vec();
        sorted.sort_unstable_by(f64::total_cmp);
        ranks.iter().map(|&r| sorted[r].to_bits()).collect()
    }

    fn bits(values: &[f64]) -> Vec<u64> {
        values.iter().map(|v| v.to_bits()).collect()
    }

    #[test]
    fn matches_a_full_sort_on_any_distribution() {
        let mut s = 7u64;
        let mut next = || {
            s = mix64(s.wrapping_add(0x9e37_79b9_7f4a_7c15));
            s
        };
        let shapes: [&dyn Fn(u64) -> f64; 6] = [
            &|u| (u >> 11) as f64 / (1u64 << 53) as f64,
            &|u| -((u >> 11) as f64 / (1u64 << 53) as f64).max(1e-300).ln().powi(3) * 1e3,
            &|u| (u % 7) as f64 - 3.0,
            &|u| if u % 1000 == 0 { 1e300 } else { (u % 1000) as f64 * 1e-3 },
            &|u| if u % 2 == 0 { 0.0 } else { -0.0 },
            &|u| f64::from_bits(u >> 2) - f64::from_bits(u >> 3),
        ];
        let mut scratch = SelectScratch::default();
        let mut out = Vec::new();
        for (i, shape) in shapes.iter().enumerate() {
            for n in [1usize, 1000, 1024, 8192, 8191, 50_000] {
                let values: Vec<f64> = (0..n).map(|_| shape(next())).filter(|v| v.is_finite()).collect();
                let n = values.len();
                for step in [1usize, 7, 32, 64, 5000] {
                    let first = (next() as usize) % step.min(n);
                    let mut ranks: Vec<usize> = vec![0, 1, 3].into_iter().filter(|&r| r < first).collect();
                    ranks.extend((first..n).step_by(step));
                    select_ranks(&values, &ranks, &mut out, &mut scratch);
                    assert_eq!(
                        bits(&out),
                        picks_of_sorted(&values, &ranks),
                        "shape {i}, n {n}, step {step}"
                    );
                }
            }
        }
    }
}
