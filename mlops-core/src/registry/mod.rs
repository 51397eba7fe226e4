//! The [`Registry`] contract and [`StoreRegistry`], its implementation
//! on plain object storage.

mod aliases;
mod audit;
mod backoff;
mod event_log;
mod idempotent;
mod io;
mod local;
mod meta;
mod purge;
mod records;
mod search;
mod snapshot;
mod stages;
mod store;
mod types;
mod versions;

use async_trait::async_trait;

pub use backoff::{BackoffConfig, Jitter, RandomJitter, Sleeper, TokioSleeper};
pub use store::StoreRegistry;
pub use types::{
    AliasEvent, AuditEntry, Cmp, DUPLICATE_OF_TAG, Lineage, OnDuplicate, Registration, SearchQuery, Stage, StageEvent,
    VersionInfo, VersionSelector,
};

use crate::error::Result;
use crate::package::{ModelPackage, Package};

/// A model registry.
///
/// Contract:
/// - [`register`](Self::register) assigns the next integer version of the model
///   (1, 2, 3 …) and publishes it atomically: concurrent writers in any process
///   never receive the same number and never expose a half-written version;
/// - versions are immutable; [`load`](Self::load) verifies every digest;
/// - alias moves, stage transitions, tags and descriptions are appended to
///   histories that are never rewritten, so "which version held alias A at
///   time T" and the audit log are always answerable;
/// - invalid names (path traversal, empty, too long, odd characters) are
///   [`Error::InvalidInput`](crate::Error::InvalidInput), unknown versions
///   [`Error::NotFound`](crate::Error::NotFound).
///
/// Storage is asynchronous, so the trait is; it is object-safe
/// (`Arc<dyn Registry>`) so applications can plug in their own backends.
#[async_trait]
pub trait Registry: Send + Sync + std::fmt::Debug {
    /// Registers a package as the next version of its model; returns the version number.
    async fn register(&self, package: &dyn ModelPackage) -> Result<u64>;

    /// Registers like [`register`](Self::register), idempotently: every call
    /// with the same `request_id` (a retry after a timeout or a crash, or a
    /// concurrent duplicate) returns the one version the first successful
    /// attempt created. Reusing a request id for another package is
    /// [`Error::InvalidInput`](crate::Error::InvalidInput).
    ///
    /// The default refuses with [`Error::NotImplemented`](crate::Error::NotImplemented).
    async fn register_idempotent(&self, package: &dyn ModelPackage, request_id: &str) -> Result<u64> {
        let _ = (package, request_id);
        Err(crate::Error::NotImplemented {
            operation: "register_idempotent".into(),
            implementer: format!("{self:?}"),
        })
    }

    /// Registers `package` unless a live (unpurged) version of its model has
    /// the same [content digest](crate::ModelPackage::content_digest); then,
    /// by `on_duplicate`, returns that version, or registers anyway with the
    /// tag `duplicate_of = <version>`.
    ///
    /// Two concurrent registers of the same content may both register: the
    /// check and the register are not one atomic step.
    async fn register_deduplicated(
        &self,
        package: &dyn ModelPackage,
        on_duplicate: OnDuplicate,
    ) -> Result<Registration> {
        let content = package.content_digest()?;
        let existing = match self.list_versions(package.name()).await {
            Ok(versions) => versions
                .into_iter()
                .filter(|v| !v.purged && v.content_digest == Some(content))
                .map(|v| v.version)
                .min(),
            // A model with no versions yet has nothing to duplicate.
            Err(crate::Error::NotFound { .. }) => None,
            Err(e) => return Err(e),
        };
        match (existing, on_duplicate) {
            (Some(version), OnDuplicate::ReturnExisting) => Ok(Registration {
                version,
                created: false,
                duplicate_of: Some(version),
                content_digest: content,
            }),
            (existing, _) => {
                let version = self.register(package).await?;
                if let Some(original) = existing {
                    self.set_tag(
                        package.name(),
                        Some(version),
                        DUPLICATE_OF_TAG,
                        Some(&original.to_string()),
                    )
                    .await?;
                }
                Ok(Registration {
                    version,
                    created: true,
                    duplicate_of: existing,
                    content_digest: content,
                })
            }
        }
    }

    /// Resolves a selector to a version number.
    async fn resolve(&self, name: &str, selector: &VersionSelector) -> Result<u64>;

    /// Loads a version, verifying every file against its digest.
    async fn load(&self, name: &str, version: u64) -> Result<Package>;

    /// Model names, sorted.
    async fn list_models(&self) -> Result<Vec<String>>;

    /// Versions of a model, ascending, with stage, aliases, tags and metrics.
    async fn list_versions(&self, name: &str) -> Result<Vec<VersionInfo>>;

    /// Points `alias` at `version` (creating or moving it).
    async fn set_alias(&self, name: &str, alias: &str, version: u64) -> Result<AliasEvent>;

    /// Deletes an alias (its history is kept).
    async fn delete_alias(&self, name: &str, alias: &str) -> Result<AliasEvent>;

    /// Every move of an alias, oldest first.
    async fn alias_history(&self, name: &str, alias: &str) -> Result<Vec<AliasEvent>>;

    /// The version an alias pointed to at an instant (milliseconds since the epoch).
    async fn alias_at(&self, name: &str, alias: &str, at_ms: i64) -> Result<Option<u64>>;

    /// Moves a version to another lifecycle stage (archiving needs a reason).
    async fn transition(&self, name: &str, version: u64, to: Stage, reason: Option<&str>) -> Result<StageEvent>;

    /// Every stage transition of a version, oldest first.
    async fn stage_history(&self, name: &str, version: u64) -> Result<Vec<StageEvent>>;

    /// Sets (`Some`) or removes (`None`) a tag on a model (`version = None`) or a version.
    async fn set_tag(&self, name: &str, version: Option<u64>, key: &str, value: Option<&str>) -> Result<()>;

    /// Sets or clears the description of a model or a version.
    async fn set_description(&self, name: &str, version: Option<u64>, text: Option<&str>) -> Result<()>;

    /// Versions matching every given filter.
    async fn search(&self, query: &SearchQuery) -> Result<Vec<VersionInfo>>;

    /// Data sets, parent, parameters, metrics and code version of a version.
    async fn lineage(&self, name: &str, version: u64) -> Result<Lineage>;

    /// Every mutation of a model: who, when, what, before and after.
    async fn audit_log(&self, name: &str) -> Result<Vec<AuditEntry>>;

    /// Deletes the files of an archived version that no other live version uses.
    async fn purge(&self, name: &str, version: u64, reason: Option<&str>) -> Result<()>;
}
