//! Model packages: a manifest pinning every file by SHA-256, the files
//! (safetensors weights, config, signatures, transforms, training profile,
//! example), an optional Ed25519 signature, and the [`ModelPackage`] contract.

mod builder;
mod bundle;
mod content;
mod manifest;
mod signing;

use bytes::Bytes;

pub use builder::{
    EXPECTED_OUTPUT_FILE, INPUT_EXAMPLE_FILE, PackageBuilder, TRAINING_PROFILE_FILE, TRANSFORMS_FILE, WEIGHTS_FILE,
};
pub use bundle::Package;
pub use manifest::{FileEntry, FileRole, MANIFEST_FILE, MANIFEST_VERSION, Manifest, ModelRef};
pub use signing::{PackageSignature, PackageSigner, SIGNATURE_FILE, TrustedKeys};

use crate::digest::Digest;
use crate::error::Result;
use crate::signature::Signature;

/// A verified, immutable model package.
///
/// Contract:
/// - every file named by the manifest has a recorded SHA-256, and an
///   implementation only hands out bytes that match it (loading fails with
///   [`Error::DigestMismatch`](crate::Error::DigestMismatch) or
///   [`Error::NotFound`](crate::Error::NotFound) naming the file);
/// - [`digest`](Self::digest) is the SHA-256 of the manifest's canonical bytes,
///   which pin every file digest, so equal digests mean byte-identical packages;
/// - nothing in a package executes code when it is loaded (weights are safetensors).
///
/// The trait is object-safe so `Box<dyn ModelPackage>` can pass between a
/// registry and serving.
pub trait ModelPackage: Send + Sync + std::fmt::Debug {
    /// The model's name.
    fn name(&self) -> &str;

    /// SHA-256 of the manifest bytes.
    fn digest(&self) -> Digest;

    /// What the package is, without when, by whom or with what description it
    /// was built: equal for two builds from the same data, seed and parameters
    /// (see [`Manifest::content_digest`]).
    fn content_digest(&self) -> Result<Digest> {
        self.manifest().content_digest()
    }

    /// The manifest.
    fn manifest(&self) -> &Manifest;

    /// The manifest's canonical bytes.
    fn manifest_bytes(&self) -> Bytes;

    /// The detached Ed25519 signature over the package digest, if any (not to be
    /// confused with [`input_signature`](Self::input_signature), the schema).
    fn package_signature(&self) -> Option<&PackageSignature>;

    /// Names of the files the package holds.
    fn file_names(&self) -> Vec<String>;

    /// One file's verified bytes.
    fn read_file(&self, name: &str) -> Result<Bytes>;

    /// What the model accepts.
    fn input_signature(&self) -> &Signature;

    /// What the model returns.
    fn output_signature(&self) -> &Signature;
}
