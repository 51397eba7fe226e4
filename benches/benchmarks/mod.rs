//! Benchmark modules.

pub(crate) mod deployment;
pub(crate) mod drift;
pub(crate) mod online;
pub(crate) mod profile;
pub(crate) mod registry;
pub(crate) mod serve;
pub(crate) mod sketches;
