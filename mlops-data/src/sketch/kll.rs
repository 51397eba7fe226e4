//! KLL quantile sketch (Karnin, Lang, Liberty, "Optimal Quantile Approximation
//! in Streams", FOCS 2016), the algorithm behind Apache DataSketches' KLL.
//!
//! Items live in levels; an item at level `h` stands for `2^h` inputs. When
//! the sketch outgrows its capacity, the lowest full level is sorted and every
//! other item (from a random offset) is promoted one level up. Capacities
//! shrink geometrically (factor 2/3) towards the lower levels, so space is
//! `O(k)` and the normalised rank error is about `2.446 / k^0.9433` with 99 %
//! confidence (the DataSketches characterisation; 0.86 % at the default
//! `k = 400`). Total weight is preserved exactly by every compaction, so the
//! item count is exact. A large batch is compacted on its own as it arrives,
//! under the same rule as the levels (only a run that fills its level is
//! compacted), so the schedule compacts no more often than the item-by-item
//! one and the bound holds; only the order statistics that survive those
//! compactions are computed, not a full sort of the batch.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Smallest level capacity (the `m` of the paper).
const MIN_LEVEL_CAPACITY: usize = 8;
/// Batches from this length on are compacted on their own as they arrive.
const LARGE_BATCH: usize = 1024;

/// A mergeable quantile sketch over finite `f64` values.
#[derive(Clone, Debug, PartialEq)]
pub struct KllSketch {
    k: u16,
    n: u64,
    /// `levels[h]` holds items of weight `2^h`; levels above 0 are always sorted.
    levels: Vec<Vec<f64>>,
    level0_sorted: bool,
    rng: u64,
    /// Boxed, so that the buffers do not make every `ColumnStats` variant as
    /// large as the numeric one.
    scratch: Box<Scratch>,
}

/// Buffers reused across compactions; never part of the sketch's value.
#[derive(Clone, Debug, Default)]
struct Scratch {
    radix: super::radix::RadixScratch,
    select: super::select::SelectScratch,
    promoted: Vec<f64>,
    merged: Vec<f64>,
    /// Items a batch leaves behind (level, sorted position in the batch).
    singles: Vec<(usize, usize)>,
    ranks: Vec<usize>,
    selected: Vec<f64>,
}

impl PartialEq for Scratch {
    /// Leftover buffer contents never make two sketches differ.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl KllSketch {
    /// A sketch with accuracy parameter `k` (8 ≤ k ≤ 65 535).
    pub fn new(k: u16) -> Result<Self> {
        if usize::from(k) < MIN_LEVEL_CAPACITY {
            return Err(Error::invalid_input(
                "KLL k",
                "KllSketch::new",
                k.to_string(),
                "8..=65535",
            ));
        }
        Ok(KllSketch {
            k,
            n: 0,
            levels: vec![Vec::new()],
            level0_sorted: true,
            rng: 0x9e37_79b9_7f4a_7c15,
            scratch: Box::default(),
        })
    }

    /// The accuracy parameter.
    pub fn k(&self) -> u16 {
        self.k
    }

    /// The normalised rank error bound (99 % confidence) for a given `k`.
    pub fn rank_error_for(k: u16) -> f64 {
        2.446 / f64::from(k).powf(0.9433)
    }

    /// This sketch's normalised rank error bound.
    pub fn rank_error(&self) -> f64 {
        Self::rank_error_for(self.k)
    }

    /// Number of values summarised (exact).
    pub fn count(&self) -> u64 {
        self.n
    }

    /// Whether no value was added.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Number of items retained.
    pub fn retained(&self) -> usize {
        self.levels.iter().map(Vec::len).sum()
    }

    /// Adds finite values. Callers filter NaN and infinities out first.
    ///
    /// A batch too large for level 0 is compacted on its own, level after
    /// level, while it alone fills its level and the sketch is over capacity:
    /// the same rule [`compress`](Self::compress) applies, so each compaction
    /// still consumes at least a level's capacity and the error bound is that
    /// of the standard schedule. Which sorted positions survive depends only
    /// on the batch length and the random offsets, so they are chosen first
    /// and only those order statistics are computed (`select::select_ranks`).
    pub(crate) fn update_batch(&mut self, values: &[f64]) {
        if values.is_empty() {
            return;
        }
        debug_assert!(values.iter().all(|v| v.is_finite()));
        self.n += values.len() as u64;
        if values.len() < LARGE_BATCH {
            self.levels[0].extend_from_slice(values);
            self.level0_sorted = false;
            self.compress();
            return;
        }
        // The batch as a run of sorted positions: first, first + step, ...
        let (mut first, mut step, mut len, mut level) = (0usize, 1usize, values.len(), 0usize);
        let mut others = self.retained();
        let mut singles = std::mem::take(&mut self.scratch.singles);
        singles.clear();
        loop {
            let capacity: usize = (0..self.levels.len()).map(|h| self.capacity(h)).sum();
            if others + len <= capacity || len < self.capacity(level) {
                break;
            }
            if level + 1 == self.levels.len() {
                self.levels.push(Vec::new());
            }
            // An odd item stays behind so that total weight is preserved exactly.
            if len % 2 == 1 {
                singles.push((level, first));
                others += 1;
                first += step;
                len -= 1;
            }
            first += self.next_bit() * step;
            len /= 2;
            step *= 2;
            level += 1;
        }
        if level == 0 {
            // Not compacted: the batch waits in level 0 like a small one.
            self.scratch.singles = singles;
            self.levels[0].extend_from_slice(values);
            self.level0_sorted = false;
            self.compress();
            return;
        }
        let ranks = &mut self.scratch.ranks;
        ranks.clear();
        ranks.extend(singles.iter().map(|&(_, r)| r));
        ranks.extend((0..len).map(|i| first + i * step));
        let mut selected = std::mem::take(&mut self.scratch.selected);
        super::select::select_ranks(values, ranks, &mut selected, &mut self.scratch.select);
        let (kept, run) = selected.split_at(singles.len().min(selected.len()));
        for (&(h, _), &v) in singles.iter().zip(kept) {
            self.insert_sorted(h, v);
        }
        merge_sorted_into(&self.levels[level], run, &mut self.scratch.merged);
        std::mem::swap(&mut self.levels[level], &mut self.scratch.merged);
        self.scratch.selected = selected;
        self.scratch.singles = singles;
        self.compress();
    }

    /// Adds one item to a level, keeping levels above 0 sorted.
    fn insert_sorted(&mut self, level: usize, v: f64) {
        let items = &mut self.levels[level];
        if level == 0 {
            items.push(v);
            self.level0_sorted = false;
        } else {
            let at = items.partition_point(|&x| x <= v);
            items.insert(at, v);
        }
    }

    fn capacity(&self, level: usize) -> usize {
        let depth = self.levels.len() - 1 - level;
        let cap = f64::from(self.k) * (2.0f64 / 3.0).powi(depth as i32);
        (cap.ceil() as usize).max(MIN_LEVEL_CAPACITY)
    }

    fn compress(&mut self) {
        loop {
            let total: usize = self.retained();
            let capacity: usize = (0..self.levels.len()).map(|h| self.capacity(h)).sum();
            if total <= capacity {
                return;
            }
            let Some(level) = (0..self.levels.len()).find(|&h| self.levels[h].len() >= self.capacity(h)) else {
                return;
            };
            self.compact(level);
        }
    }

    fn next_bit(&mut self) -> usize {
        // xorshift64*: cheap, deterministic (profiles are reproducible), persisted with the sketch.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        (self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 63) as usize
    }

    fn compact(&mut self, level: usize) {
        if level == 0 && !self.level0_sorted {
            super::radix::sort_f64(&mut self.levels[0], &mut self.scratch.radix);
            self.level0_sorted = true;
        }
        if level + 1 == self.levels.len() {
            self.levels.push(Vec::new());
        }
        let offset = self.next_bit();
        let Scratch { promoted, merged, .. } = &mut *self.scratch;
        let items = &self.levels[level];
        // An odd item stays behind so that total weight is preserved exactly.
        let (keep, rest) = if items.len() % 2 == 1 {
            (items.first().copied(), &items[1..])
        } else {
            (None, &items[..])
        };
        promoted.clear();
        promoted.extend(rest.iter().skip(offset).step_by(2));
        merge_sorted_into(&self.levels[level + 1], promoted, merged);
        // Swapping keeps every buffer's capacity for the next compaction.
        std::mem::swap(&mut self.levels[level + 1], merged);
        self.levels[level].clear();
        if let Some(item) = keep {
            self.levels[level].push(item);
        }
    }

    /// Adds every value of `other`. Sketches of different `k` merge to the smaller `k`.
    pub fn merge(&mut self, other: &KllSketch) {
        if other.n == 0 {
            return;
        }
        self.k = self.k.min(other.k);
        while self.levels.len() < other.levels.len() {
            self.levels.push(Vec::new());
        }
        for (h, theirs) in other.levels.iter().enumerate() {
            if h == 0 {
                self.levels[0].extend_from_slice(theirs);
                self.level0_sorted = false;
            } else {
                merge_sorted_into(&self.levels[h], theirs, &mut self.scratch.merged);
                std::mem::swap(&mut self.levels[h], &mut self.scratch.merged);
            }
        }
        self.n += other.n;
        self.rng ^= other.rng.rotate_left(17);
        if self.rng == 0 {
            self.rng = 0x9e37_79b9_7f4a_7c15;
        }
        self.compress();
    }

    /// Items with their weights, sorted by value, and cumulative weights.
    pub fn sorted_view(&self) -> SortedView {
        let mut weighted: Vec<(f64, u64)> = Vec::with_capacity(self.retained());
        for (h, items) in self.levels.iter().enumerate() {
            weighted.extend(items.iter().map(|&v| (v, 1u64 << h)));
        }
        weighted.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        let mut cumulative = 0u64;
        let (values, cum) = weighted
            .into_iter()
            .map(|(v, w)| {
                cumulative += w;
                (v, cumulative)
            })
            .unzip();
        SortedView {
            values,
            cumulative: cum,
            total: self.n,
        }
    }

    pub(crate) fn to_wire(&self) -> KllWire {
        let mut levels = self.levels.clone();
        if !self.level0_sorted {
            levels[0].sort_unstable_by(f64::total_cmp);
        }
        KllWire {
            k: self.k,
            n: self.n,
            rng: self.rng,
            levels,
        }
    }

    pub(crate) fn from_wire(wire: KllWire, location: &str) -> Result<Self> {
        let bad = |m: &str| Error::corrupt(location, format!("KLL sketch: {m}"));
        if usize::from(wire.k) < MIN_LEVEL_CAPACITY {
            return Err(bad("k below 8"));
        }
        if wire.levels.is_empty() || wire.levels.len() > 64 {
            return Err(bad("level count outside 1..=64"));
        }
        let mut weight: u128 = 0;
        for (h, items) in wire.levels.iter().enumerate() {
            if items.iter().any(|v| !v.is_finite()) {
                return Err(bad("non-finite item"));
            }
            if items.windows(2).any(|w| w[0] > w[1]) {
                return Err(bad("level not sorted"));
            }
            weight += (items.len() as u128) << h;
        }
        if weight != u128::from(wire.n) {
            return Err(bad("item weights do not add up to the count"));
        }
        Ok(KllSketch {
            k: wire.k,
            n: wire.n,
            levels: wire.levels,
            level0_sorted: true,
            rng: wire.rng.max(1),
            scratch: Box::default(),
        })
    }
}

/// Serialised KLL sketch: the levels as sorted arrays.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct KllWire {
    k: u16,
    n: u64,
    rng: u64,
    levels: Vec<Vec<f64>>,
}

/// A sorted, weighted snapshot of a sketch for answering many queries.
#[derive(Clone, Debug)]
pub struct SortedView {
    values: Vec<f64>,
    cumulative: Vec<u64>,
    total: u64,
}

impl SortedView {
    /// The retained values, ascending (each stands for one or more inputs).
    pub fn points(&self) -> &[f64] {
        &self.values
    }

    /// Estimated share of values ≤ `x`.
    pub fn rank(&self, x: f64) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        let idx = self.values.partition_point(|&v| v <= x);
        let below = if idx == 0 { 0 } else { self.cumulative[idx - 1] };
        below as f64 / self.total as f64
    }

    /// Estimated `q`-quantile: the smallest retained value whose rank reaches `q`
    /// (the inverse of the empirical CDF, numpy's `inverted_cdf`). `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.values.is_empty() || !(0.0..=1.0).contains(&q) {
            return None;
        }
        let target = (q * self.total as f64).ceil().max(1.0) as u64;
        let idx = self
            .cumulative
            .partition_point(|&c| c < target)
            .min(self.values.len() - 1);
        self.values.get(idx).copied()
    }
}

fn merge_sorted_into(a: &[f64], b: &[f64], out: &mut Vec<f64>) {
    out.clear();
    out.reserve(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i] <= b[j] {
            out.push(a[i]);
            i += 1;
        } else {
            out.push(b[j]);
            j += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pseudo_random(n: usize, seed: u64) -> Vec<f64> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = crate::sketch::hash::mix64(s.wrapping_add(0x9e37_79b9_7f4a_7c15));
                // A skewed, heavy-tailed distribution.
                let u = (s >> 11) as f64 / (1u64 << 53) as f64;
                (-u.max(1e-300).ln()).powf(1.5) * 100.0
            })
            .collect()
    }

    fn max_rank_error(sketch: &KllSketch, data: &[f64]) -> f64 {
        let mut sorted = data.to_vec();
        sorted.sort_unstable_by(f64::total_cmp);
        let view = sketch.sorted_view();
        let n = sorted.len() as f64;
        (1..100)
            .map(|i| {
                let q = i as f64 / 100.0;
                let est = view.quantile(q).unwrap();
                let true_rank = sorted.partition_point(|&v| v <= est) as f64 / n;
                let true_rank_below = sorted.partition_point(|&v| v < est) as f64 / n;
                // The estimate is right if q lies in [rank below, rank at] of the returned value.
                if q < true_rank_below {
                    true_rank_below - q
                } else if q > true_rank {
                    q - true_rank
                } else {
                    0.0
                }
            })
            .fold(0.0, f64::max)
    }

    #[test]
    fn exact_when_small() {
        let mut s = KllSketch::new(400).unwrap();
        s.update_batch(&[3.0, 1.0, 2.0, 5.0, 4.0]);
        let v = s.sorted_view();
        assert_eq!(v.quantile(0.0), Some(1.0));
        assert_eq!(v.quantile(0.5), Some(3.0));
        assert_eq!(v.quantile(1.0), Some(5.0));
        assert_eq!(v.rank(2.5), 0.4);
        assert_eq!(s.count(), 5);
    }

    #[test]
    fn default_k_keeps_rank_error_under_one_percent() {
        assert!(KllSketch::rank_error_for(400) < 0.01);
        for seed in 1..=5u64 {
            let data = pseudo_random(300_000, seed);
            let mut s = KllSketch::new(400).unwrap();
            for chunk in data.chunks(8192) {
                s.update_batch(chunk);
            }
            assert_eq!(s.count(), data.len() as u64);
            assert!(s.retained() < 3 * 400 + 64 * 8, "retained {}", s.retained());
            let err = max_rank_error(&s, &data);
            assert!(err <= 0.01, "seed {seed}: rank error {err}");
        }
    }

    #[test]
    fn large_batches_are_compacted_within_the_bound() {
        // One huge batch, large ones, and a mix with small ones (the two paths of update_batch).
        let data = pseudo_random(1_000_000, 11);
        let sizes: [&[usize]; 3] = [&[1_000_000], &[65_536], &[8192, 3, 1000, 1024, 1023, 20_000]];
        for pattern in sizes {
            let mut s = KllSketch::new(400).unwrap();
            let (mut at, mut i) = (0, 0);
            while at < data.len() {
                let end = (at + pattern[i % pattern.len()]).min(data.len());
                s.update_batch(&data[at..end]);
                (at, i) = (end, i + 1);
            }
            assert_eq!(s.count(), data.len() as u64, "{pattern:?}");
            let weight: u64 = s.levels.iter().enumerate().map(|(h, l)| (l.len() as u64) << h).sum();
            assert_eq!(weight, s.count(), "{pattern:?}: compaction lost weight");
            assert!(
                s.retained() < 3 * 400 + 64 * 8,
                "{pattern:?}: retained {}",
                s.retained()
            );
            assert!(s.levels[1..].iter().all(|l| l.is_sorted()), "{pattern:?}");
            let err = max_rank_error(&s, &data);
            assert!(err <= KllSketch::rank_error_for(400), "{pattern:?}: rank error {err}");
        }
    }

    #[test]
    fn merged_partitions_stay_within_bound() {
        let data = pseudo_random(200_000, 42);
        let mut merged = KllSketch::new(400).unwrap();
        for part in data.chunks(13_337) {
            let mut s = KllSketch::new(400).unwrap();
            for chunk in part.chunks(1000) {
                s.update_batch(chunk);
            }
            merged.merge(&s);
        }
        assert_eq!(merged.count(), 200_000);
        assert!(max_rank_error(&merged, &data) <= 0.01);
    }

    #[test]
    fn wire_round_trip_and_validation() {
        let mut s = KllSketch::new(64).unwrap();
        s.update_batch(&pseudo_random(10_000, 7));
        let back = KllSketch::from_wire(s.to_wire(), "t").unwrap();
        assert_eq!(back.sorted_view().quantile(0.5), s.sorted_view().quantile(0.5));
        assert_eq!(back.to_wire().levels, s.to_wire().levels);
        let mut wire = s.to_wire();
        wire.n += 1;
        assert!(KllSketch::from_wire(wire, "t").is_err());
        let mut wire = s.to_wire();
        let level = wire
            .levels
            .iter()
            .position(|l| l.len() >= 2 && l[0] < l[l.len() - 1])
            .unwrap();
        wire.levels[level].reverse();
        assert!(KllSketch::from_wire(wire, "t").is_err());
        assert!(KllSketch::new(3).is_err());
    }
}
