//! # mlops-serve: in-process model serving (not yet implemented)
//!
//! This crate will hold Candle inference on CPU (CUDA behind a `cuda` feature),
//! input/output validation against a model package's [`mlops_core::Signature`],
//! batching, and the [`mlops_core::DeploymentStrategy`] implementations
//! (blue/green, canary, shadow, A/B) with hot swap and rollback.
//!
//! Today it exposes nothing but this documentation: the serving release has
//! not landed. Depend on `mlops-core` for the contracts it will implement.
//!
//! ```
//! // The contract serving will implement already exists in core:
//! fn assert_object_safe(_: Option<&dyn mlops_core::DeploymentStrategy>) {}
//! assert_object_safe(None);
//! ```
