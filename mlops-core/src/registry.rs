//! The [`Registry`] contract: immutable, numbered model versions and movable aliases.

use async_trait::async_trait;

use crate::error::Result;
use crate::package::ModelPackage;

/// How a caller names a version.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VersionSelector {
    /// An exact version number (1, 2, 3 … per model).
    Version(u64),
    /// The version an alias (e.g. `champion`) points to now.
    Alias(String),
    /// The highest registered version.
    Latest,
}

/// A model registry.
///
/// Contract:
/// - [`register`](Self::register) assigns the next integer version of the model and
///   publishes it atomically: concurrent writers, in any process, never receive the
///   same number and never expose a half-written version;
/// - versions are immutable once registered;
/// - alias moves are atomic and every move is kept in the alias's history.
///
/// Storage is asynchronous, so the trait is; it is object-safe (`Arc<dyn Registry>`)
/// so that applications can plug in their own backends.
#[async_trait]
pub trait Registry: Send + Sync + std::fmt::Debug {
    /// Registers a package as the next version of `name`; returns the version number.
    async fn register(&self, name: &str, package: &dyn ModelPackage) -> Result<u64>;

    /// Resolves a selector to a version number.
    async fn resolve(&self, name: &str, selector: &VersionSelector) -> Result<u64>;

    /// Loads and verifies a version.
    async fn load(&self, name: &str, version: u64) -> Result<Box<dyn ModelPackage>>;

    /// Points `alias` at `version`, recording the move.
    async fn set_alias(&self, name: &str, alias: &str, version: u64) -> Result<()>;

    /// Registered versions of `name`, ascending.
    async fn list_versions(&self, name: &str) -> Result<Vec<u64>>;
}
