//! Mergeable sketches: quantiles (KLL), distinct counts (HyperLogLog) and
//! frequent items (Misra–Gries). Each is deterministic, serialisable, and
//! merges so that sketching partitions separately and merging stays within
//! the sketch's stated error bound.

pub(crate) mod frequent;
pub(crate) mod hash;
pub(crate) mod hll;
pub(crate) mod kll;
pub(crate) mod radix;

pub use frequent::FrequentItems;
pub use hll::HyperLogLog;
pub use kll::{KllSketch, SortedView};
