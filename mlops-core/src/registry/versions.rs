//! Versions: register (files first, the publishing record last), resolve, load, lineage.

use std::collections::BTreeMap;

use bytes::Bytes;

use super::aliases::current_alias;
use super::io::json;
use super::local::Create;
use super::records::VersionRecord;
use super::snapshot::REGISTER_SNAPSHOT_EVERY;
use super::store::StoreRegistry;
use super::types::{Lineage, VersionSelector};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::names::validate_name;
use crate::package::{ModelPackage, Package};

impl StoreRegistry {
    pub(super) async fn version_record(&self, name: &str, version: u64) -> Result<VersionRecord> {
        validate_name("model name", name)?;
        self.read_json(&self.layout.version(name, version))
            .await?
            .ok_or_else(|| Error::NotFound {
                what: format!("model `{name}` version {version}"),
            })
    }

    pub(super) async fn version_records(&self, name: &str) -> Result<Vec<VersionRecord>> {
        Ok(self.model_records(name).await?.versions)
    }

    pub(super) async fn ensure_version(&self, name: &str, version: u64) -> Result<()> {
        self.version_record(name, version).await.map(|_| ())
    }
}

/// What register writes before the publishing record: checked name and
/// signature, and every file and the manifest as content-addressed blobs.
pub(super) struct Staged {
    pub(super) name: String,
    pub(super) files: BTreeMap<String, Digest>,
    pub(super) manifest: Digest,
    /// The blob writes, not yet made: every file, then the manifest.
    pub(super) blobs: Vec<Create>,
}

impl StoreRegistry {
    /// Checks the name and signature and hashes the package's content; writes nothing.
    pub(super) fn prepare_package(&self, package: &dyn ModelPackage) -> Result<Staged> {
        let name = package.name().to_owned();
        validate_name("model name", &name)?;
        if let Some(trusted) = &self.trusted {
            let sig = package.package_signature().ok_or_else(|| Error::SignatureRejected {
                reason: "the package is unsigned and signatures are required".into(),
            })?;
            trusted.verify(&package.digest(), sig)?;
        }
        let mut files = BTreeMap::new();
        let mut blobs = Vec::new();
        let mut blob = |bytes: Bytes| {
            // Content-addressed: an existing blob already has exactly these bytes.
            let digest = Digest::of(&bytes);
            blobs.push(Create {
                path: self.layout.blob(&digest),
                bytes,
                exists_ok: true,
            });
            digest
        };
        for file in package.file_names() {
            let digest = blob(package.read_file(&file)?);
            files.insert(file, digest);
        }
        let manifest = blob(package.manifest_bytes());
        Ok(Staged {
            name,
            files,
            manifest,
            blobs,
        })
    }

    /// [`prepare_package`](Self::prepare_package), then the blob writes.
    pub(super) async fn stage_package(&self, package: &dyn ModelPackage) -> Result<Staged> {
        let mut staged = self.prepare_package(package)?;
        self.put_create_all(std::mem::take(&mut staged.blobs)).await?;
        Ok(staged)
    }

    pub(super) fn version_record_for(
        &self,
        package: &dyn ModelPackage,
        staged: &Staged,
        version: u64,
        request_id: Option<&str>,
    ) -> VersionRecord {
        VersionRecord {
            version,
            at_ms: crate::time::now_ms(),
            actor: self.actor.clone(),
            manifest: staged.manifest,
            files: staged.files.clone(),
            signature: package.package_signature().cloned(),
            metrics: package.manifest().metrics.clone(),
            request_id: request_id.map(str::to_owned),
            content: package.content_digest().ok(),
        }
    }

    /// Records that this process saw `version` published (a hint only).
    pub(super) fn saw_version(&self, name: &str, version: u64) {
        if let Ok(mut h) = self.version_hints.lock() {
            let seen = h.entry(name.to_owned()).or_insert(version);
            *seen = (*seen).max(version);
        }
    }

    /// After publishing: log, and keep the listing snapshot from lagging far.
    pub(super) async fn published(&self, name: &str, version: u64, manifest: &Digest) {
        self.saw_version(name, version);
        tracing::info!(model = %name, version, digest = %manifest, actor = %self.actor, "registered model version");
        if version.is_multiple_of(REGISTER_SNAPSHOT_EVERY) {
            self.refresh_snapshot(name).await;
        }
    }
}

pub(super) async fn register(reg: &StoreRegistry, package: &dyn ModelPackage) -> Result<u64> {
    // 1. Content first: every file and the manifest as content-addressed blobs,
    // before any record refers to them (below: in the same batch as the record,
    // ahead of it, or before a listing).
    let mut staged = reg.prepare_package(package)?;
    let mut blobs = std::mem::take(&mut staged.blobs);
    let (name, manifest) = (staged.name.clone(), staged.manifest);
    // 2. Publish last: the first create of versions/<n> wins number n.
    let versions = reg.layout.versions(&name);
    let mut attempt = 0;
    while reg.retry.allows(attempt) {
        let hint = reg.version_hints.lock().ok().and_then(|h| h.get(&name).copied());
        let next = match hint {
            // Optimistic: this process registered or saw `hint` last; if another writer
            // has gone further, the create fails and the next attempt lists.
            Some(h) if attempt == 0 => h + 1,
            _ => {
                // The blobs before a listing, so that the number listed is as fresh
                // as it can be when the record is written.
                reg.put_create_all(std::mem::take(&mut blobs)).await?;
                let listed = match hint {
                    Some(_) => reg.list_seqs_after(&versions, hint).await?.last().copied(),
                    None => reg.latest_version(&name).await?,
                };
                listed.max(hint).map_or(1, |v| v + 1)
            }
        };
        let record = reg.version_record_for(package, &staged, next, None);
        let mut batch = std::mem::take(&mut blobs);
        batch.push(Create {
            path: reg.layout.version(&name, next),
            bytes: json(&record, "version record")?,
            exists_ok: false,
        });
        match reg.put_create_all(batch).await {
            Ok(()) => {
                reg.published(&name, next, &manifest).await;
                return Ok(next);
            }
            Err(Error::AlreadyExists { .. }) => {
                // Version `next` is taken: the next listing can start after it.
                reg.saw_version(&name, next);
                reg.retry.pause(attempt).await;
            }
            Err(e) => return Err(e),
        }
        attempt += 1;
    }
    Err(reg
        .retry
        .exhausted(format!("version record of model `{name}` under {versions}")))
}

pub(super) async fn resolve(reg: &StoreRegistry, name: &str, selector: &VersionSelector) -> Result<u64> {
    validate_name("model name", name)?;
    match selector {
        VersionSelector::Version(v) => reg.ensure_version(name, *v).await.map(|_| *v),
        VersionSelector::Latest => reg.latest_version(name).await?.ok_or_else(|| Error::NotFound {
            what: format!("model `{name}`"),
        }),
        VersionSelector::Alias(alias) => {
            validate_name("alias", alias)?;
            let last = reg.last_event(&reg.layout.alias_stream(name, alias)).await?;
            current_alias(&last.into_iter().collect::<Vec<_>>()).ok_or_else(|| Error::NotFound {
                what: format!("alias `{alias}` of model `{name}`"),
            })
        }
    }
}

pub(super) async fn load(reg: &StoreRegistry, name: &str, version: u64) -> Result<Package> {
    let record = reg.version_record(name, version).await?;
    // One read: purge writes this marker before it deletes anything.
    if reg.get_opt(&reg.layout.purged(name, version)).await?.is_some() {
        return Err(Error::NotFound {
            what: format!("model `{name}` version {version}: its files were purged"),
        });
    }
    let manifest_path = reg.layout.blob(&record.manifest);
    let manifest_bytes = reg.get_opt(&manifest_path).await?.ok_or_else(|| Error::NotFound {
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
        if let Some(bytes) = reg.get_opt(&reg.layout.blob(digest)).await? {
            files.insert(file.clone(), bytes);
        }
    }
    let package = Package::from_parts(manifest_bytes, files, record.signature.clone())?;
    if let Some(trusted) = &reg.trusted {
        package.verify_signature(trusted)?;
    }
    Ok(package)
}

pub(super) async fn lineage(reg: &StoreRegistry, name: &str, version: u64) -> Result<Lineage> {
    let record = reg.version_record(name, version).await?;
    let path = reg.layout.blob(&record.manifest);
    let bytes = reg.get_opt(&path).await?.ok_or_else(|| Error::NotFound {
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
