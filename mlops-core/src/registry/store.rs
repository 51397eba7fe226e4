//! [`StoreRegistry`]: the registry over any `object_store` backend.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};

use super::Registry;
use super::backoff::{BackoffConfig, Jitter, RetryPolicy, Sleeper};
use super::records::{EventRecord, Layout, Op, VersionRecord, parse_seq_key, seq_key};
use super::types::{
    AliasEvent, AuditEntry, Cmp, Lineage, SearchQuery, Stage, StageEvent, VersionInfo, VersionSelector,
};
use crate::error::{Error, Result};
use crate::names::validate_name;
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
/// let package = PackageBuilder::new("fraud")?.weights(mlops_core::testing::tiny_safetensors())?.build()?;
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
    store: Arc<dyn ObjectStore>,
    layout: Layout,
    actor: String,
    trusted: Option<TrustedKeys>,
    /// Highest version seen per model: listing starts after it, so registering
    /// costs O(new versions) instead of O(all versions). Only a hint: the
    /// create-only write is what guarantees uniqueness.
    version_hints: Arc<std::sync::Mutex<BTreeMap<String, u64>>>,
    retry: RetryPolicy,
}

fn storage(path: &Path) -> impl FnOnce(object_store::Error) -> Error + '_ {
    move |e| Error::storage(path.to_string(), e)
}

fn json<T: serde::Serialize>(value: &T, what: &str) -> Result<Bytes> {
    serde_json::to_vec(value)
        .map(Bytes::from)
        .map_err(|e| Error::serialization(what, e))
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
            retry: RetryPolicy::default(),
        }
    }

    /// A registry in a local directory (created if missing).
    pub fn local(dir: impl AsRef<std::path::Path>) -> Result<Self> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            location: dir.display().to_string(),
            source,
        })?;
        let store = object_store::local::LocalFileSystem::new_with_prefix(dir)
            .map_err(|e| Error::storage(dir.display().to_string(), e))?;
        Ok(Self::new(Arc::new(store), Path::default()))
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
        let Some(prefixes) = cloud_env_prefixes(parsed.scheme()) else {
            return Err(Error::NotImplemented {
                operation: format!("registry on `{}://`", parsed.scheme()),
                implementer: "this build of mlops-core (enable the aws, gcp or azure feature)".into(),
            });
        };
        let options = std::env::vars().filter(|(k, _)| prefixes.iter().any(|p| k.starts_with(p)));
        let (store, root) = object_store::parse_url_opts(&parsed, options).map_err(|e| Error::storage(url, e))?;
        Ok(Self::new(Arc::from(store), root))
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

    async fn get_opt(&self, path: &Path) -> Result<Option<Bytes>> {
        match self.store.get(path).await {
            Ok(r) => r.bytes().await.map(Some).map_err(storage(path)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(Error::storage(path.to_string(), e)),
        }
    }

    /// Sequence numbers present under a prefix, ascending.
    async fn list_seqs(&self, prefix: &Path) -> Result<Vec<u64>> {
        self.list_seqs_after(prefix, None).await
    }

    /// Sequence numbers above `after` under a prefix, ascending.
    async fn list_seqs_after(&self, prefix: &Path, after: Option<u64>) -> Result<Vec<u64>> {
        let metas: Vec<_> = match after {
            Some(n) => {
                let offset = prefix.clone().join(seq_key(n));
                self.store
                    .list_with_offset(Some(prefix), &offset)
                    .try_collect()
                    .await
                    .map_err(storage(prefix))?
            }
            None => self
                .store
                .list(Some(prefix))
                .try_collect()
                .await
                .map_err(storage(prefix))?,
        };
        let mut seqs: Vec<u64> = metas
            .iter()
            .filter(|m| {
                m.location
                    .prefix_match(prefix)
                    .is_some_and(|mut rest| rest.next().is_some() && rest.next().is_none())
            })
            .filter_map(|m| m.location.filename().and_then(parse_seq_key))
            .collect();
        seqs.sort_unstable();
        Ok(seqs)
    }

    async fn read_json<T: serde::de::DeserializeOwned>(&self, path: &Path) -> Result<Option<T>> {
        match self.get_opt(path).await? {
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| Error::corrupt(path.to_string(), e.to_string())),
            None => Ok(None),
        }
    }

    async fn events(&self, stream: &Path) -> Result<Vec<EventRecord>> {
        let mut out = Vec::new();
        for seq in self.list_seqs(stream).await? {
            let path = stream.clone().join(seq_key(seq));
            if let Some(e) = self.read_json::<EventRecord>(&path).await? {
                out.push(e);
            }
        }
        Ok(out)
    }

    async fn last_event(&self, stream: &Path) -> Result<Option<EventRecord>> {
        match self.list_seqs(stream).await?.last() {
            Some(&seq) => self.read_json(&stream.clone().join(seq_key(seq))).await,
            None => Ok(None),
        }
    }

    /// Appends to an event stream with compare-and-append semantics: `decide`
    /// sees the stream's current events and returns the change (or refuses it);
    /// losing the create-only race re-reads and decides again.
    async fn append<F>(&self, stream: &Path, whole_stream: bool, decide: F) -> Result<EventRecord>
    where
        F: Fn(&[EventRecord]) -> Result<Op> + Send + Sync,
    {
        let mut attempt = 0;
        while self.retry.allows(attempt) {
            let events = if whole_stream {
                self.events(stream).await?
            } else {
                self.last_event(stream).await?.into_iter().collect()
            };
            let last = events.last();
            let change = decide(&events)?;
            let record = EventRecord {
                seq: last.map_or(1, |e| e.seq + 1),
                // Clocks of different writers disagree; history stays monotonic.
                at_ms: crate::time::now_ms().max(last.map_or(i64::MIN, |e| e.at_ms)),
                actor: self.actor.clone(),
                change,
            };
            let path = stream.clone().join(seq_key(record.seq));
            match self.put_create(&path, json(&record, "registry event")?).await {
                Ok(()) => return Ok(record),
                Err(Error::AlreadyExists { .. }) => self.retry.pause(attempt).await,
                Err(e) => return Err(e),
            }
            attempt += 1;
        }
        Err(self.retry.exhausted(format!("event stream {stream}")))
    }

    async fn put_create(&self, path: &Path, bytes: Bytes) -> Result<()> {
        let opts = PutOptions {
            mode: PutMode::Create,
            ..Default::default()
        };
        match self.store.put_opts(path, PutPayload::from(bytes), opts).await {
            Ok(_) => Ok(()),
            Err(object_store::Error::AlreadyExists { .. }) | Err(object_store::Error::Precondition { .. }) => {
                Err(Error::AlreadyExists { what: path.to_string() })
            }
            Err(e) => Err(Error::storage(path.to_string(), e)),
        }
    }

    async fn put_blob(&self, bytes: Bytes) -> Result<crate::Digest> {
        let digest = crate::Digest::of(&bytes);
        let path = self.layout.blob(&digest);
        // Content-addressed: an existing blob already has exactly these bytes.
        match self.put_create(&path, bytes).await {
            Ok(()) | Err(Error::AlreadyExists { .. }) => Ok(digest),
            Err(e) => Err(e),
        }
    }

    async fn version_record(&self, name: &str, version: u64) -> Result<VersionRecord> {
        validate_name("model name", name)?;
        self.read_json(&self.layout.version(name, version))
            .await?
            .ok_or_else(|| Error::NotFound {
                what: format!("model `{name}` version {version}"),
            })
    }

    async fn version_records(&self, name: &str) -> Result<Vec<VersionRecord>> {
        let mut out = Vec::new();
        for v in self.list_seqs(&self.layout.versions(name)).await? {
            if let Some(r) = self.read_json::<VersionRecord>(&self.layout.version(name, v)).await? {
                out.push(r);
            }
        }
        Ok(out)
    }

    async fn stage_of(&self, name: &str, version: u64) -> Result<(Stage, bool)> {
        let events = self.events(&self.layout.stage_stream(name, version)).await?;
        let mut stage = Stage::Registered;
        let mut purged = false;
        for e in events {
            match e.change {
                Op::Transition { to, .. } => stage = to,
                Op::Purge { .. } => purged = true,
                _ => {}
            }
        }
        Ok((stage, purged))
    }

    async fn alias_names(&self, name: &str) -> Result<Vec<String>> {
        let events = self.layout.events(name);
        let listing = self
            .store
            .list_with_delimiter(Some(&events))
            .await
            .map_err(storage(&events))?;
        Ok(listing
            .common_prefixes
            .iter()
            .filter_map(|p| p.filename().and_then(|f| f.strip_prefix("alias.")).map(str::to_owned))
            .collect())
    }

    /// Current alias → version map of a model.
    pub async fn aliases(&self, name: &str) -> Result<BTreeMap<String, u64>> {
        validate_name("model name", name)?;
        let mut out = BTreeMap::new();
        for alias in self.alias_names(name).await? {
            if let Some(e) = self.last_event(&self.layout.alias_stream(name, &alias)).await?
                && let Op::SetAlias { version, .. } = e.change
            {
                out.insert(alias, version);
            }
        }
        Ok(out)
    }

    fn fold_meta(events: &[EventRecord], version: Option<u64>) -> (BTreeMap<String, String>, Option<String>) {
        let mut tags = BTreeMap::new();
        let mut description = None;
        for e in events {
            match &e.change {
                Op::SetTag {
                    version: v, key, value, ..
                } if *v == version => match value {
                    Some(val) => {
                        tags.insert(key.clone(), val.clone());
                    }
                    None => {
                        tags.remove(key);
                    }
                },
                Op::SetDescription { version: v, text, .. } if *v == version => description = text.clone(),
                _ => {}
            }
        }
        (tags, description)
    }

    /// Tags and description of a model (`version = None`) or of one version.
    pub async fn tags(&self, name: &str, version: Option<u64>) -> Result<(BTreeMap<String, String>, Option<String>)> {
        validate_name("model name", name)?;
        let events = self.events(&self.layout.meta_stream(name)).await?;
        Ok(Self::fold_meta(&events, version))
    }

    async fn info(
        &self,
        name: &str,
        record: &VersionRecord,
        aliases: &BTreeMap<String, u64>,
        meta: &[EventRecord],
    ) -> Result<VersionInfo> {
        let (stage, purged) = self.stage_of(name, record.version).await?;
        let (tags, description) = Self::fold_meta(meta, Some(record.version));
        Ok(VersionInfo {
            name: name.to_owned(),
            version: record.version,
            digest: record.manifest,
            registered_at_ms: record.at_ms,
            actor: record.actor.clone(),
            stage,
            purged,
            aliases: aliases
                .iter()
                .filter(|(_, v)| **v == record.version)
                .map(|(a, _)| a.clone())
                .collect(),
            tags,
            description,
            metrics: record.metrics.clone(),
        })
    }

    async fn ensure_version(&self, name: &str, version: u64) -> Result<()> {
        self.version_record(name, version).await.map(|_| ())
    }
}

/// Environment-variable prefixes configuring a cloud scheme compiled into this build.
fn cloud_env_prefixes(scheme: &str) -> Option<&'static [&'static str]> {
    match scheme {
        #[cfg(feature = "aws")]
        "s3" | "s3a" => Some(&["AWS_"]),
        #[cfg(feature = "gcp")]
        "gs" => Some(&["GOOGLE_"]),
        #[cfg(feature = "azure")]
        "az" | "abfs" | "abfss" => Some(&["AZURE_"]),
        _ => None,
    }
}

fn default_actor() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into())
}

fn alias_event(e: &EventRecord) -> Option<AliasEvent> {
    match &e.change {
        Op::SetAlias { version, previous, .. } => Some(AliasEvent {
            seq: e.seq,
            version: Some(*version),
            previous: *previous,
            at_ms: e.at_ms,
            actor: e.actor.clone(),
        }),
        Op::DeleteAlias { previous, .. } => Some(AliasEvent {
            seq: e.seq,
            version: None,
            previous: *previous,
            at_ms: e.at_ms,
            actor: e.actor.clone(),
        }),
        _ => None,
    }
}

fn current_alias(events: &[EventRecord]) -> Option<u64> {
    events.last().and_then(|e| match e.change {
        Op::SetAlias { version, .. } => Some(version),
        _ => None,
    })
}

#[async_trait]
impl Registry for StoreRegistry {
    async fn register(&self, package: &dyn ModelPackage) -> Result<u64> {
        let name = package.name().to_owned();
        validate_name("model name", &name)?;
        if let Some(trusted) = &self.trusted {
            let sig = package.package_signature().ok_or_else(|| Error::SignatureRejected {
                reason: "the package is unsigned and signatures are required".into(),
            })?;
            trusted.verify(&package.digest(), sig)?;
        }
        // 1. Content first: every file and the manifest as content-addressed blobs.
        let mut files = BTreeMap::new();
        for file in package.file_names() {
            let digest = self.put_blob(package.read_file(&file)?).await?;
            files.insert(file, digest);
        }
        let manifest = self.put_blob(package.manifest_bytes()).await?;
        // 2. Publish last: the first create of versions/<n> wins number n.
        let versions = self.layout.versions(&name);
        let mut attempt = 0;
        while self.retry.allows(attempt) {
            let hint = self.version_hints.lock().ok().and_then(|h| h.get(&name).copied());
            let listed = self.list_seqs_after(&versions, hint).await?.last().copied();
            let next = listed.max(hint).map_or(1, |v| v + 1);
            let record = VersionRecord {
                version: next,
                at_ms: crate::time::now_ms(),
                actor: self.actor.clone(),
                manifest,
                files: files.clone(),
                signature: package.package_signature().cloned(),
                metrics: package.manifest().metrics.clone(),
            };
            match self
                .put_create(&self.layout.version(&name, next), json(&record, "version record")?)
                .await
            {
                Ok(()) => {
                    if let Ok(mut h) = self.version_hints.lock() {
                        h.insert(name.clone(), next);
                    }
                    tracing::info!(model = %name, version = next, digest = %manifest, actor = %self.actor, "registered model version");
                    return Ok(next);
                }
                Err(Error::AlreadyExists { .. }) => {
                    // Version `next` is taken: the next listing can start after it.
                    if let Ok(mut h) = self.version_hints.lock() {
                        let seen = h.entry(name.clone()).or_insert(next);
                        *seen = (*seen).max(next);
                    }
                    self.retry.pause(attempt).await;
                }
                Err(e) => return Err(e),
            }
            attempt += 1;
        }
        Err(self
            .retry
            .exhausted(format!("version record of model `{name}` under {versions}")))
    }

    async fn resolve(&self, name: &str, selector: &VersionSelector) -> Result<u64> {
        validate_name("model name", name)?;
        match selector {
            VersionSelector::Version(v) => self.ensure_version(name, *v).await.map(|_| *v),
            VersionSelector::Latest => self
                .list_seqs(&self.layout.versions(name))
                .await?
                .last()
                .copied()
                .ok_or_else(|| Error::NotFound {
                    what: format!("model `{name}`"),
                }),
            VersionSelector::Alias(alias) => {
                validate_name("alias", alias)?;
                let last = self.last_event(&self.layout.alias_stream(name, alias)).await?;
                current_alias(&last.into_iter().collect::<Vec<_>>()).ok_or_else(|| Error::NotFound {
                    what: format!("alias `{alias}` of model `{name}`"),
                })
            }
        }
    }

    async fn load(&self, name: &str, version: u64) -> Result<Package> {
        let record = self.version_record(name, version).await?;
        let (_, purged) = self.stage_of(name, version).await?;
        if purged {
            return Err(Error::NotFound {
                what: format!("model `{name}` version {version}: its files were purged"),
            });
        }
        let manifest_path = self.layout.blob(&record.manifest);
        let manifest_bytes = self.get_opt(&manifest_path).await?.ok_or_else(|| Error::NotFound {
            what: format!("manifest.json of `{name}` version {version}"),
        })?;
        let found = crate::Digest::of(&manifest_bytes);
        if found != record.manifest {
            return Err(Error::DigestMismatch {
                location: format!("manifest.json of `{name}` version {version}"),
                expected: record.manifest.to_string(),
                found: found.to_string(),
            });
        }
        let mut files = BTreeMap::new();
        for (file, digest) in &record.files {
            if let Some(bytes) = self.get_opt(&self.layout.blob(digest)).await? {
                files.insert(file.clone(), bytes);
            }
        }
        let package = Package::from_parts(manifest_bytes, files, record.signature.clone())?;
        if let Some(trusted) = &self.trusted {
            package.verify_signature(trusted)?;
        }
        Ok(package)
    }

    async fn list_models(&self) -> Result<Vec<String>> {
        let models = self.layout.models();
        let listing = self
            .store
            .list_with_delimiter(Some(&models))
            .await
            .map_err(storage(&models))?;
        let mut names: Vec<String> = listing
            .common_prefixes
            .iter()
            .filter_map(|p| p.filename().map(str::to_owned))
            .collect();
        names.sort();
        Ok(names)
    }

    async fn list_versions(&self, name: &str) -> Result<Vec<VersionInfo>> {
        validate_name("model name", name)?;
        let aliases = self.aliases(name).await?;
        let meta = self.events(&self.layout.meta_stream(name)).await?;
        let mut out = Vec::new();
        for record in self.version_records(name).await? {
            out.push(self.info(name, &record, &aliases, &meta).await?);
        }
        Ok(out)
    }

    async fn set_alias(&self, name: &str, alias: &str, version: u64) -> Result<AliasEvent> {
        validate_name("alias", alias)?;
        self.ensure_version(name, version).await?;
        let alias_owned = alias.to_owned();
        let e = self
            .append(&self.layout.alias_stream(name, alias), false, move |events| {
                Ok(Op::SetAlias {
                    alias: alias_owned.clone(),
                    version,
                    previous: current_alias(events),
                })
            })
            .await?;
        alias_event(&e).ok_or_else(|| Error::corrupt("alias stream", "appended event is not an alias move"))
    }

    async fn delete_alias(&self, name: &str, alias: &str) -> Result<AliasEvent> {
        validate_name("model name", name)?;
        validate_name("alias", alias)?;
        let alias_owned = alias.to_owned();
        let model = name.to_owned();
        let e = self
            .append(
                &self.layout.alias_stream(name, alias),
                false,
                move |events| match current_alias(events) {
                    Some(previous) => Ok(Op::DeleteAlias {
                        alias: alias_owned.clone(),
                        previous: Some(previous),
                    }),
                    None => Err(Error::NotFound {
                        what: format!("alias `{alias_owned}` of model `{model}`"),
                    }),
                },
            )
            .await?;
        alias_event(&e).ok_or_else(|| Error::corrupt("alias stream", "appended event is not an alias move"))
    }

    async fn alias_history(&self, name: &str, alias: &str) -> Result<Vec<AliasEvent>> {
        validate_name("model name", name)?;
        validate_name("alias", alias)?;
        Ok(self
            .events(&self.layout.alias_stream(name, alias))
            .await?
            .iter()
            .filter_map(alias_event)
            .collect())
    }

    async fn alias_at(&self, name: &str, alias: &str, at_ms: i64) -> Result<Option<u64>> {
        let history = self.alias_history(name, alias).await?;
        Ok(history
            .iter()
            .take_while(|e| e.at_ms <= at_ms)
            .last()
            .and_then(|e| e.version))
    }

    async fn transition(&self, name: &str, version: u64, to: Stage, reason: Option<&str>) -> Result<StageEvent> {
        self.ensure_version(name, version).await?;
        if to == Stage::Archived && reason.is_none_or(str::is_empty) {
            return Err(Error::invalid_input(
                "transition",
                format!("`{name}` version {version}"),
                "archiving needs a reason",
                "a non-empty reason",
            ));
        }
        let reason = reason.map(str::to_owned);
        let e = self
            .append(&self.layout.stage_stream(name, version), true, move |events| {
                let mut from = Stage::Registered;
                for e in events {
                    if let Op::Transition { to, .. } = e.change {
                        from = to;
                    }
                }
                if !from.can_move_to(to) {
                    return Err(Error::invalid_input(
                        "stage transition",
                        format!("version {version}"),
                        format!("{from:?} → {to:?} is not allowed"),
                        "registered → staging → production → archived (see Stage)",
                    ));
                }
                Ok(Op::Transition {
                    version,
                    from,
                    to,
                    reason: reason.clone(),
                })
            })
            .await?;
        match e.change {
            Op::Transition { from, to, reason, .. } => Ok(StageEvent {
                seq: e.seq,
                from,
                to,
                reason,
                at_ms: e.at_ms,
                actor: e.actor,
            }),
            _ => Err(Error::corrupt("stage stream", "appended event is not a transition")),
        }
    }

    async fn stage_history(&self, name: &str, version: u64) -> Result<Vec<StageEvent>> {
        self.ensure_version(name, version).await?;
        Ok(self
            .events(&self.layout.stage_stream(name, version))
            .await?
            .into_iter()
            .filter_map(|e| match e.change {
                Op::Transition { from, to, reason, .. } => Some(StageEvent {
                    seq: e.seq,
                    from,
                    to,
                    reason,
                    at_ms: e.at_ms,
                    actor: e.actor,
                }),
                _ => None,
            })
            .collect())
    }

    async fn set_tag(&self, name: &str, version: Option<u64>, key: &str, value: Option<&str>) -> Result<()> {
        validate_name("model name", name)?;
        validate_name("tag key", key)?;
        if let Some(v) = version {
            self.ensure_version(name, v).await?;
        }
        let (key, value) = (key.to_owned(), value.map(str::to_owned));
        self.append(&self.layout.meta_stream(name), true, move |events| {
            let (tags, _) = Self::fold_meta(events, version);
            Ok(Op::SetTag {
                version,
                key: key.clone(),
                value: value.clone(),
                previous: tags.get(&key).cloned(),
            })
        })
        .await
        .map(|_| ())
    }

    async fn set_description(&self, name: &str, version: Option<u64>, text: Option<&str>) -> Result<()> {
        validate_name("model name", name)?;
        if let Some(v) = version {
            self.ensure_version(name, v).await?;
        }
        let text = text.map(str::to_owned);
        self.append(&self.layout.meta_stream(name), true, move |events| {
            let (_, previous) = Self::fold_meta(events, version);
            Ok(Op::SetDescription {
                version,
                text: text.clone(),
                previous,
            })
        })
        .await
        .map(|_| ())
    }

    async fn search(&self, query: &SearchQuery) -> Result<Vec<VersionInfo>> {
        let mut out = Vec::new();
        for name in self.list_models().await? {
            if query.name_contains.as_ref().is_some_and(|n| !name.contains(n.as_str())) {
                continue;
            }
            for info in self.list_versions(&name).await? {
                let tag_ok = query.tag.as_ref().is_none_or(|(k, v)| info.tags.get(k) == Some(v));
                let stage_ok = query.stage.is_none_or(|s| s == info.stage);
                let metric_ok = query.metric.as_ref().is_none_or(|(m, cmp, t)| {
                    info.metrics.get(m).is_some_and(|x| match cmp {
                        Cmp::AtLeast => *x >= *t,
                        Cmp::AtMost => *x <= *t,
                    })
                });
                if tag_ok && stage_ok && metric_ok {
                    out.push(info);
                }
            }
        }
        Ok(out)
    }

    async fn lineage(&self, name: &str, version: u64) -> Result<Lineage> {
        let record = self.version_record(name, version).await?;
        let path = self.layout.blob(&record.manifest);
        let bytes = self.get_opt(&path).await?.ok_or_else(|| Error::NotFound {
            what: format!("manifest of `{name}` version {version}"),
        })?;
        let m = crate::package::Manifest::from_bytes(&bytes)?;
        Ok(Lineage {
            name: name.to_owned(),
            version,
            digest: record.manifest,
            datasets: m.datasets,
            parent: m.parent,
            params: m.params,
            metrics: m.metrics,
            code_version: m.code_version,
            creator: m.creator,
        })
    }

    async fn audit_log(&self, name: &str) -> Result<Vec<AuditEntry>> {
        validate_name("model name", name)?;
        let mut out = Vec::new();
        for r in self.version_records(name).await? {
            out.push(AuditEntry {
                at_ms: r.at_ms,
                actor: r.actor.clone(),
                operation: "register".into(),
                target: format!("version {}", r.version),
                before: serde_json::Value::Null,
                after: serde_json::json!({"version": r.version, "digest": r.manifest.to_string()}),
            });
        }
        let events_root = self.layout.events(name);
        let listing = self
            .store
            .list_with_delimiter(Some(&events_root))
            .await
            .map_err(storage(&events_root))?;
        for stream in listing.common_prefixes {
            for e in self.events(&stream).await? {
                use serde_json::json;
                let (operation, target, before, after) = match &e.change {
                    Op::SetAlias {
                        alias,
                        version,
                        previous,
                    } => ("set_alias", format!("alias {alias}"), json!(previous), json!(version)),
                    Op::DeleteAlias { alias, previous } => {
                        ("delete_alias", format!("alias {alias}"), json!(previous), json!(null))
                    }
                    Op::Transition {
                        version,
                        from,
                        to,
                        reason,
                    } => (
                        "transition",
                        format!("version {version}"),
                        json!(from),
                        json!({"stage": to, "reason": reason}),
                    ),
                    Op::Purge { version, reason } => (
                        "purge",
                        format!("version {version}"),
                        json!("archived"),
                        json!({"purged": true, "reason": reason}),
                    ),
                    Op::SetTag {
                        version,
                        key,
                        value,
                        previous,
                    } => (
                        "set_tag",
                        version.map_or("model".to_owned(), |v| format!("version {v}")),
                        json!({ key.as_str(): previous }),
                        json!({ key.as_str(): value }),
                    ),
                    Op::SetDescription {
                        version,
                        text,
                        previous,
                    } => (
                        "set_description",
                        version.map_or("model".to_owned(), |v| format!("version {v}")),
                        json!(previous),
                        json!(text),
                    ),
                };
                out.push(AuditEntry {
                    at_ms: e.at_ms,
                    actor: e.actor,
                    operation: operation.into(),
                    target,
                    before,
                    after,
                });
            }
        }
        out.sort_by_key(|a| a.at_ms);
        Ok(out)
    }

    async fn purge(&self, name: &str, version: u64, reason: Option<&str>) -> Result<()> {
        let record = self.version_record(name, version).await?;
        let (stage, purged) = self.stage_of(name, version).await?;
        if stage != Stage::Archived {
            return Err(Error::invalid_input(
                "purge",
                format!("`{name}` version {version}"),
                format!("the version is {stage:?}"),
                "an archived version",
            ));
        }
        if !purged {
            let reason = reason.map(str::to_owned);
            self.append(&self.layout.stage_stream(name, version), true, move |_| {
                Ok(Op::Purge {
                    version,
                    reason: reason.clone(),
                })
            })
            .await?;
        }
        // Blobs still used by any version not purged (of any model) are kept.
        let mut keep = BTreeSet::new();
        for model in self.list_models().await? {
            for r in self.version_records(&model).await? {
                if (model != name || r.version != version) && !self.stage_of(&model, r.version).await?.1 {
                    keep.insert(r.manifest);
                    keep.extend(r.files.values().copied());
                }
            }
        }
        for digest in std::iter::once(&record.manifest).chain(record.files.values()) {
            if !keep.contains(digest) {
                let path = self.layout.blob(digest);
                match self.store.delete(&path).await {
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                    Err(e) => return Err(Error::storage(path.to_string(), e)),
                }
            }
        }
        Ok(())
    }
}
