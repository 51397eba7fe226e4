//! The [`ModelPackage`] contract: a model and everything needed to run and watch it.

use bytes::Bytes;

use crate::digest::Digest;
use crate::error::Result;
use crate::signature::Signature;

/// A verified, immutable model package.
///
/// Contract:
/// - every file named by the package has a recorded SHA-256; [`read_file`](Self::read_file)
///   returns bytes that match it or fails with [`Error::DigestMismatch`](crate::Error::DigestMismatch)
///   naming the file;
/// - [`digest`](Self::digest) covers the manifest and every file digest, so two packages
///   with the same digest are byte-identical;
/// - nothing in a package executes code when it is loaded (weights are safetensors).
///
/// The object-store registry and the package builder that implement this trait
/// ship with the registry release; the trait is object-safe so that
/// `Box<dyn ModelPackage>` can be passed between the registry and serving.
pub trait ModelPackage: Send + Sync + std::fmt::Debug {
    /// The model's name.
    fn name(&self) -> &str;

    /// Digest over the manifest and every file digest.
    fn digest(&self) -> Digest;

    /// Names of the files the package holds (weights, config, profile...).
    fn file_names(&self) -> Vec<String>;

    /// Reads one file, verifying it against its recorded digest.
    fn read_file(&self, name: &str) -> Result<Bytes>;

    /// What the model accepts.
    fn input_signature(&self) -> &Signature;

    /// What the model returns.
    fn output_signature(&self) -> &Signature;
}
