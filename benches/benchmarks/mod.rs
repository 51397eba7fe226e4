//! Benchmark modules.

pub(crate) mod profile;
pub(crate) mod sketches;
