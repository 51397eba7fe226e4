//! # mlops-core: the contracts of mlops-rs
//!
//! This crate is small and slow to change. It holds what every other crate
//! of the SDK agrees on:
//!
//! - [`Error`] and [`Result`]: one `#[non_exhaustive]` error type whose variants say
//!   what was wrong, where, and what was expected;
//! - [`Signature`], [`FieldSpec`], [`FieldConstraints`]: an Arrow schema plus the
//!   per-field constraints (nullability, numeric range, allowed categories) that a
//!   profile produces and a validator checks;
//! - [`Digest`] (SHA-256) and [`DatasetRef`] for lineage;
//! - the traits [`DataProfile`], [`ModelPackage`], [`Registry`],
//!   [`DeploymentStrategy`] and [`DriftDetector`], each object-safe so that
//!   applications can plug in their own implementation behind an `Arc<dyn _>`.
//!
//! Compute traits are synchronous and `Send + Sync`; only [`Registry`], which
//! talks to storage, is asynchronous.
//!
//! ```
//! use arrow_schema::DataType;
//! use mlops_core::{Digest, FieldConstraints, FieldSpec, NumericRange, Signature};
//!
//! let signature = Signature::new(vec![
//!     FieldSpec::new("age", DataType::Int64, false).with_constraints(
//!         FieldConstraints::none().with_range(NumericRange::new(0.0, 120.0)?),
//!     ),
//!     FieldSpec::new("country", DataType::Utf8, true).with_constraints(
//!         FieldConstraints::none().with_allowed_values(["fr", "it"]).with_max_null_fraction(0.05),
//!     ),
//! ])?;
//! let json = signature.to_json()?;
//! assert_eq!(Signature::from_json(&json)?, signature);
//! println!("{}", Digest::of(json.as_bytes()));
//! # Ok::<(), mlops_core::Error>(())
//! ```

#[cfg(feature = "conformance")]
pub mod conformance;
mod deployment;
mod digest;
mod drift;
mod error;
mod events;
mod kind;
mod lineage;
mod names;
mod package;
mod profile;
mod registry;
mod signature;
pub mod store;
pub mod testing;
pub mod time;
mod violation;
pub mod weights;

pub use deployment::{DeploymentStrategy, Route};
pub use digest::{Digest, Hasher};
pub use drift::{DriftDetector, DriftResult};
pub use error::{BoxError, Error, Result};
pub use events::{LabelValue, PredictionEvent, PredictionSink};
pub use kind::{SemanticKind, TypeFamily};
pub use lineage::DatasetRef;
pub use names::{MAX_NAME_LEN, validate_name};
pub use package::{
    EXPECTED_OUTPUT_FILE, FileEntry, FileRole, INPUT_EXAMPLE_FILE, MANIFEST_FILE, MANIFEST_VERSION, Manifest,
    ModelPackage, ModelRef, Package, PackageBuilder, PackageSignature, PackageSigner, SIGNATURE_FILE,
    TRAINING_PROFILE_FILE, TRANSFORMS_FILE, TrustedKeys, WEIGHTS_FILE,
};
pub use profile::{ColumnSummary, DataProfile, ItemCount};
pub use registry::{
    AliasEvent, AuditEntry, BackoffConfig, Cmp, DUPLICATE_OF_TAG, Jitter, Lineage, OnDuplicate, RandomJitter,
    Registration, Registry, SearchQuery, Sleeper, Stage, StageEvent, StoreRegistry, TokioSleeper, VersionInfo,
    VersionSelector,
};
pub use signature::{FieldConstraints, FieldSpec, NumericRange, Signature};
pub use violation::{RowViolation, RuleKind};

#[cfg(test)]
mod object_safety {
    use super::*;
    use std::sync::Arc;

    // Compile-time proof that every plug-in trait can live behind a pointer.
    #[allow(dead_code)]
    struct Holders {
        profile: Arc<dyn DataProfile>,
        package: Box<dyn ModelPackage>,
        registry: Arc<dyn Registry>,
        strategy: Arc<dyn DeploymentStrategy>,
        drift: Arc<dyn DriftDetector>,
        sink: Arc<dyn PredictionSink>,
    }

    #[test]
    fn traits_are_object_safe() {
        assert!(std::mem::size_of::<Option<Holders>>() > 0);
    }
}
