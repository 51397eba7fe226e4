//! # mlops-monitor: drift and performance monitoring (not yet implemented)
//!
//! This crate will hold the [`mlops_core::DriftDetector`] family (batch tests,
//! drift from profiles, online detectors), performance metrics with delayed
//! labels, JSON/HTML reports, metrics export and alert hooks.
//!
//! Today it exposes nothing but this documentation: the monitoring release has
//! not landed. Profiles to monitor from are built with `mlops-data` already.
//!
//! ```
//! fn assert_object_safe(_: Option<&dyn mlops_core::DriftDetector>) {}
//! assert_object_safe(None);
//! ```
