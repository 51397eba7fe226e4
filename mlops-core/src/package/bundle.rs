//! [`Package`]: a manifest, its files and an optional signature, verified.

use std::collections::BTreeMap;

use bytes::Bytes;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use super::ModelPackage;
use super::manifest::{MANIFEST_FILE, Manifest};
use super::signing::{PackageSignature, PackageSigner, SIGNATURE_FILE, TrustedKeys};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::signature::Signature;

/// A verified model package held in memory (its accessors are those of [`ModelPackage`]).
///
/// Every way of obtaining one ([`PackageBuilder::build`](super::PackageBuilder::build),
/// [`Package::from_parts`], [`Package::read_from`]) checks every file against
/// the manifest, so a `Package` value is always consistent.
#[derive(Clone, Debug)]
pub struct Package {
    manifest: Manifest,
    manifest_bytes: Bytes,
    digest: Digest,
    files: BTreeMap<String, Bytes>,
    signature: Option<PackageSignature>,
}

impl Package {
    /// Assembles a package from stored parts, verifying every digest.
    ///
    /// Fails with [`Error::NotFound`] naming a file the manifest lists but
    /// `files` lacks, [`Error::DigestMismatch`] naming a file whose size or
    /// content differs (truncated, altered), and [`Error::Corrupt`] for a file
    /// the manifest does not list.
    pub fn from_parts(
        manifest_bytes: Bytes,
        mut files: BTreeMap<String, Bytes>,
        signature: Option<PackageSignature>,
    ) -> Result<Package> {
        let manifest = Manifest::from_bytes(&manifest_bytes)?;
        for (name, entry) in &manifest.files {
            let bytes = files.get(name).ok_or_else(|| Error::NotFound {
                what: format!("package file `{name}`"),
            })?;
            if bytes.len() as u64 != entry.size {
                return Err(Error::DigestMismatch {
                    location: format!("package file `{name}`"),
                    expected: format!("{} ({} bytes)", entry.sha256, entry.size),
                    found: format!("{} ({} bytes)", Digest::of(bytes), bytes.len()),
                });
            }
            let found = Digest::of(bytes);
            if found != entry.sha256 {
                return Err(Error::DigestMismatch {
                    location: format!("package file `{name}`"),
                    expected: entry.sha256.to_string(),
                    found: found.to_string(),
                });
            }
        }
        if let Some(extra) = files.keys().find(|n| !manifest.files.contains_key(*n)) {
            return Err(Error::corrupt(
                format!("package file `{extra}`"),
                "the manifest does not list it",
            ));
        }
        files.retain(|n, _| manifest.files.contains_key(n));
        let digest = Digest::of(&manifest_bytes);
        Ok(Package {
            manifest,
            manifest_bytes,
            digest,
            files,
            signature,
        })
    }

    pub(crate) fn from_verified(manifest: Manifest, manifest_bytes: Bytes, files: BTreeMap<String, Bytes>) -> Package {
        let digest = Digest::of(&manifest_bytes);
        Package {
            manifest,
            manifest_bytes,
            digest,
            files,
            signature: None,
        }
    }

    /// Signs the package digest.
    pub fn sign(&mut self, signer: &PackageSigner) {
        self.signature = Some(signer.sign(&self.digest));
    }

    /// Fails unless the package carries a valid signature by a trusted key.
    pub fn verify_signature(&self, trusted: &TrustedKeys) -> Result<()> {
        let signature = self.signature.as_ref().ok_or_else(|| Error::SignatureRejected {
            reason: "the package is unsigned and signatures are required".into(),
        })?;
        trusted.verify(&self.digest, signature)
    }

    /// Writes the package under `prefix`: every file, then the signature, then
    /// the manifest last, so a reader never sees a manifest without its files.
    pub async fn write_to(&self, store: &dyn ObjectStore, prefix: &Path) -> Result<()> {
        for (name, bytes) in &self.files {
            let path = prefix.clone().join(name.as_str());
            store
                .put(&path, PutPayload::from(bytes.clone()))
                .await
                .map_err(|e| Error::storage(path.to_string(), e))?;
        }
        if let Some(sig) = &self.signature {
            let path = prefix.clone().join(SIGNATURE_FILE);
            store
                .put(&path, PutPayload::from(sig.to_bytes()?))
                .await
                .map_err(|e| Error::storage(path.to_string(), e))?;
        }
        let path = prefix.clone().join(MANIFEST_FILE);
        store
            .put(&path, PutPayload::from(self.manifest_bytes.clone()))
            .await
            .map_err(|e| Error::storage(path.to_string(), e))?;
        Ok(())
    }

    /// Reads and verifies a package written by [`write_to`](Self::write_to).
    pub async fn read_from(store: &dyn ObjectStore, prefix: &Path) -> Result<Package> {
        let get = |name: String| {
            let path = prefix.clone().join(name.as_str());
            async move {
                match store.get(&path).await {
                    Ok(r) => r
                        .bytes()
                        .await
                        .map(Some)
                        .map_err(|e| Error::storage(path.to_string(), e)),
                    Err(object_store::Error::NotFound { .. }) => Ok(None),
                    Err(e) => Err(Error::storage(path.to_string(), e)),
                }
            }
        };
        let manifest_bytes = get(MANIFEST_FILE.into()).await?.ok_or_else(|| Error::NotFound {
            what: format!("package manifest at {prefix}"),
        })?;
        let manifest = Manifest::from_bytes(&manifest_bytes)?;
        let mut files = BTreeMap::new();
        for name in manifest.files.keys() {
            if let Some(bytes) = get(name.clone()).await? {
                files.insert(name.clone(), bytes);
            }
        }
        let signature = match get(SIGNATURE_FILE.into()).await? {
            Some(b) => Some(PackageSignature::from_bytes(&b)?),
            None => None,
        };
        Package::from_parts(manifest_bytes, files, signature)
    }
}

impl ModelPackage for Package {
    fn name(&self) -> &str {
        &self.manifest.name
    }

    fn digest(&self) -> Digest {
        self.digest
    }

    fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    fn manifest_bytes(&self) -> Bytes {
        self.manifest_bytes.clone()
    }

    fn package_signature(&self) -> Option<&PackageSignature> {
        self.signature.as_ref()
    }

    fn file_names(&self) -> Vec<String> {
        self.files.keys().cloned().collect()
    }

    fn read_file(&self, name: &str) -> Result<Bytes> {
        // Contents were verified on construction; the map is private and immutable.
        self.files.get(name).cloned().ok_or_else(|| Error::NotFound {
            what: format!("package file `{name}`"),
        })
    }

    fn input_signature(&self) -> &Signature {
        &self.manifest.input_signature
    }

    fn output_signature(&self) -> &Signature {
        &self.manifest.output_signature
    }
}
