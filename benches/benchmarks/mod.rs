//! Benchmark modules.

pub(crate) mod profile;
pub(crate) mod registry;
pub(crate) mod sketches;
