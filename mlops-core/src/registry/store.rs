//! [`StoreRegistry`]: the registry over any `object_store` backend.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use object_store::ObjectStore;
use object_store::path::Path;

use super::backoff::{BackoffConfig, Jitter, RetryPolicy, Sleeper};
use super::local::LocalStore;
use super::records::{EventRecord, Layout};
use super::types::{AliasEvent, AuditEntry, Lineage, SearchQuery, Stage, StageEvent, VersionInfo, VersionSelector};
use super::{Registry, aliases, audit, idempotent, meta, purge, search, stages, versions};
use crate::error::{Error, Result};
use crate::package::{ModelPackage, Package, TrustedKeys};

/// A model registry on plain object storage: no database, no lock server.
///
/// Local disk is the embedded default ([`StoreRegistry::local`]); S3,
/// GCS and Azure work through [`StoreRegistry::from_url`] with the
/// `aws`, `gcp` and `azure` features. Every mutation is a create-only write of
/// an immutable record (see the layout in this module's source), so concurrent
/// writers in any number of processes never receive the same version number,
/// never lose an alias move, and a writer killed at any moment never leaves a
/// partially visible version.
///
/// ```
/// # tokio_test_block_on(async {
/// use mlops_core::{StoreRegistry, PackageBuilder, Registry, VersionSelector};
///
/// let dir = tempfile::tempdir()?;
/// let registry = StoreRegistry::local(dir.path())?.with_actor("alice");
/// let package = PackageBuilder::new("fraud").weights(mlops_core::testing::tiny_safetensors()).build()?;
/// let v = registry.register(&package).await?;
/// registry.set_alias("fraud", "champion", v).await?;
/// assert_eq!(registry.resolve("fraud", &VersionSelector::Alias("champion".into())).await?, 1);
/// let loaded = registry.load("fraud", v).await?; // every digest verified
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct StoreRegistry {
    pub(super) store: Arc<dyn ObjectStore>,
    pub(super) layout: Layout,
    pub(super) actor: String,
    pub(super) trusted: Option<TrustedKeys>,
    /// Highest version seen per model: listing starts after it, so registering
    /// costs O(new versions) instead of O(all versions). Only a hint: the
    /// create-only write is what guarantees uniqueness.
    pub(super) version_hints: Arc<std::sync::Mutex<BTreeMap<String, u64>>>,
    /// Last event this process saw per stream. Streams are dense, so if
    /// `seq + 1` does not exist the cached event is still the last one: one
    /// GET of a missing key instead of listing the whole history. Only a hint.
    pub(super) heads: Arc<std::sync::Mutex<BTreeMap<String, EventRecord>>>,
    pub(super) retry: RetryPolicy,
    /// The same store as `store` when the registry is a local directory: register
    /// then writes its objects in one blocking task (see `local.rs`).
    pub(super) local: Option<LocalStore>,
}

impl StoreRegistry {
    /// A registry rooted at `root` in `store`.
    pub fn new(store: Arc<dyn ObjectStore>, root: Path) -> Self {
        StoreRegistry {
            store,
            layout: Layout { root },
            actor: default_actor(),
            trusted: None,
            version_hints: Arc::default(),
            heads: Arc::default(),
            retry: RetryPolicy::default(),
            local: None,
        }
    }

    /// A registry in a local directory (created if missing).
    pub fn local(dir: impl AsRef<std::path::Path>) -> Result<Self> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            location: dir.display().to_string(),
            source,
        })?;
        let store = Arc::new(
            object_store::local::LocalFileSystem::new_with_prefix(dir)
                .map_err(|e| Error::storage(dir.display().to_string(), e))?,
        );
        Ok(StoreRegistry {
            local: Some(store.clone()),
            ..Self::new(store, Path::default())
        })
    }

    /// A registry named by URL: `file:///abs/dir`, or `s3://bucket/prefix`,
    /// `gs://…`, `az://…` with the matching feature (configuration from the
    /// usual environment variables, e.g. `AWS_ENDPOINT`, `AWS_ACCESS_KEY_ID`).
    pub fn from_url(url: &str) -> Result<Self> {
        let parsed = url::Url::parse(url).map_err(|e| {
            Error::invalid_input(
                "registry URL",
                url,
                e.to_string(),
                "file:///abs/dir or s3://bucket/prefix",
            )
        })?;
        if parsed.scheme() == "file" {
            let dir = parsed.to_file_path().map_err(|_| {
                Error::invalid_input("registry URL", url, "not an absolute local path", "file:///abs/dir")
            })?;
            return Self::local(dir);
        }
        let (store, root) = crate::store::open_url(&parsed)?;
        Ok(Self::new(store, root))
    }

    /// Who mutations are attributed to in records and the audit log (default: `$USER` or `unknown`).
    pub fn with_actor(mut self, actor: &str) -> Self {
        self.actor = actor.to_owned();
        self
    }

    /// Refuses to register or load packages not signed by one of these keys.
    pub fn require_signatures(mut self, trusted: TrustedKeys) -> Self {
        self.trusted = Some(trusted);
        self
    }

    /// How writers that lost a create-only race wait before retrying, and how
    /// often they retry (default: [`BackoffConfig::default`]).
    pub fn with_backoff(mut self, config: BackoffConfig) -> Self {
        self.retry.config = config;
        self
    }

    /// The sleep used between retries (default: [`TokioSleeper`](super::TokioSleeper));
    /// pass one built on your executor's timer if you do not run Tokio.
    pub fn with_sleeper(mut self, sleeper: Arc<dyn Sleeper>) -> Self {
        self.retry.sleeper = sleeper;
        self
    }

    /// The randomness that spreads retry delays (default: [`RandomJitter`](super::RandomJitter)).
    pub fn with_jitter(mut self, jitter: Arc<dyn Jitter>) -> Self {
        self.retry.jitter = jitter;
        self
    }
}

fn default_actor() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into())
}

#[async_trait]
impl Registry for StoreRegistry {
    async fn register(&self, package: &dyn ModelPackage) -> Result<u64> {
        versions::register(self, package).await
    }

    async fn register_idempotent(&self, package: &dyn ModelPackage, request_id: &str) -> Result<u64> {
        idempotent::register_idempotent(self, package, request_id).await
    }

    async fn resolve(&self, name: &str, selector: &VersionSelector) -> Result<u64> {
        versions::resolve(self, name, selector).await
    }

    async fn load(&self, name: &str, version: u64) -> Result<Package> {
        versions::load(self, name, version).await
    }

    async fn list_models(&self) -> Result<Vec<String>> {
        search::list_models(self).await
    }

    async fn list_versions(&self, name: &str) -> Result<Vec<VersionInfo>> {
        search::list_versions(self, name).await
    }

    async fn set_alias(&self, name: &str, alias: &str, version: u64) -> Result<AliasEvent> {
        aliases::set_alias(self, name, alias, version).await
    }

    async fn delete_alias(&self, name: &str, alias: &str) -> Result<AliasEvent> {
        aliases::delete_alias(self, name, alias).await
    }

    async fn alias_history(&self, name: &str, alias: &str) -> Result<Vec<AliasEvent>> {
        aliases::alias_history(self, name, alias).await
    }

    async fn alias_at(&self, name: &str, alias: &str, at_ms: i64) -> Result<Option<u64>> {
        aliases::alias_at(self, name, alias, at_ms).await
    }

    async fn transition(&self, name: &str, version: u64, to: Stage, reason: Option<&str>) -> Result<StageEvent> {
        stages::transition(self, name, version, to, reason).await
    }

    async fn stage_history(&self, name: &str, version: u64) -> Result<Vec<StageEvent>> {
        stages::stage_history(self, name, version).await
    }

    async fn set_tag(&self, name: &str, version: Option<u64>, key: &str, value: Option<&str>) -> Result<()> {
        meta::set_tag(self, name, version, key, value).await
    }

    async fn set_description(&self, name: &str, version: Option<u64>, text: Option<&str>) -> Result<()> {
        meta::set_description(self, name, version, text).await
    }

    async fn search(&self, query: &SearchQuery) -> Result<Vec<VersionInfo>> {
        search::search(self, query).await
    }

    async fn lineage(&self, name: &str, version: u64) -> Result<Lineage> {
        versions::lineage(self, name, version).await
    }

    async fn audit_log(&self, name: &str) -> Result<Vec<AuditEntry>> {
        audit::audit_log(self, name).await
    }

    async fn purge(&self, name: &str, version: u64, reason: Option<&str>) -> Result<()> {
        purge::purge(self, name, version, reason).await
    }
}
