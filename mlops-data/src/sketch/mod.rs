//! Mergeable sketches: quantiles (KLL), distinct counts (HyperLogLog) and
//! frequent items (Misra–Gries). Each is deterministic, serialisable, and
//! merges so that sketching partitions separately and merging stays within
//! the sketch's stated error bound.

pub(crate) mod frequent;
pub(crate) mod hash;
pub(crate) mod hll;
pub(crate) mod kll;
pub(crate) mod radix;
pub(crate) mod select;

pub use frequent::FrequentItems;
pub use hll::HyperLogLog;
pub use kll::{KllSketch, SortedView};

/// Sorts floats ascending by IEEE total order with an allocation-reusing radix
/// sort (several times faster than a comparison sort on large arrays).
pub fn sort_f64(values: &mut [f64]) {
    radix::sort_f64(values, &mut radix::RadixScratch::default());
}
