//! [`PackageBuilder`]: assembles a package and computes every digest.

use std::collections::BTreeMap;

use bytes::Bytes;

use super::bundle::Package;
use super::manifest::{FileEntry, FileRole, Manifest, ModelRef};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::lineage::DatasetRef;
use crate::names::validate_name;
use crate::profile::DataProfile;
use crate::signature::Signature;

/// File names the builder uses for well-known parts.
pub const WEIGHTS_FILE: &str = "weights.safetensors";
/// The fitted preprocessing pipeline.
pub const TRANSFORMS_FILE: &str = "transforms.json";
/// The training data profile.
pub const TRAINING_PROFILE_FILE: &str = "training_profile.json";
/// The input example.
pub const INPUT_EXAMPLE_FILE: &str = "input_example.json";
/// The expected output of the input example.
pub const EXPECTED_OUTPUT_FILE: &str = "expected_output.json";

/// Builds a [`Package`].
///
/// Like `object_store`'s builders, setters only store what they are given and
/// cannot fail; [`build`](Self::build) checks everything and its error names
/// the field that was wrong (`name`, `weights`, `file \`x\``, `metric \`auc\``…).
///
/// ```
/// use mlops_core::{PackageBuilder, ModelPackage};
/// # let weights = mlops_core::testing::tiny_safetensors();
/// let package = PackageBuilder::new("fraud")
///     .weights(weights)
///     .model_config(serde_json::json!({"architecture": "mlp", "classes": ["ok", "fraud"]}))
///     .metric("auc", 0.93)
///     .code_version("3f2c1e9")
///     .build()?;
/// assert_eq!(package.name(), "fraud");
/// assert_eq!(package.manifest().metrics["auc"], 0.93);
/// # Ok::<(), mlops_core::Error>(())
/// ```
#[derive(Debug)]
pub struct PackageBuilder {
    name: String,
    manifest: Manifest,
    files: BTreeMap<String, (FileRole, Bytes)>,
    metrics: Vec<(String, f64)>,
    /// A training profile that could not be serialised: reported by `build`.
    profile_error: Option<Error>,
}

impl PackageBuilder {
    /// Starts a package for model `name` (checked by [`build`](Self::build)).
    pub fn new(name: impl Into<String>) -> Self {
        let name = name.into();
        PackageBuilder {
            manifest: Manifest::new(&name, crate::time::now_ms()),
            name,
            files: BTreeMap::new(),
            metrics: Vec::new(),
            profile_error: None,
        }
    }

    /// Sets the weights: a safetensors file (checked by [`build`](Self::build)).
    pub fn weights(self, bytes: impl Into<Bytes>) -> Self {
        self.file(WEIGHTS_FILE, FileRole::Weights, bytes)
    }

    /// Adds any file under a valid, non-reserved name (checked by [`build`](Self::build)).
    pub fn file(mut self, name: &str, role: FileRole, bytes: impl Into<Bytes>) -> Self {
        self.files.insert(name.to_owned(), (role, bytes.into()));
        self
    }

    /// Sets the runtime configuration (opaque to the registry).
    pub fn model_config(mut self, config: serde_json::Value) -> Self {
        self.manifest.model_config = config;
        self
    }

    /// Sets the input signature.
    pub fn input_signature(mut self, signature: Signature) -> Self {
        self.manifest.input_signature = signature;
        self
    }

    /// Sets the output signature.
    pub fn output_signature(mut self, signature: Signature) -> Self {
        self.manifest.output_signature = signature;
        self
    }

    /// Adds the fitted preprocessing pipeline (its JSON form).
    pub fn transforms_json(self, json: impl Into<Bytes>) -> Self {
        self.file(TRANSFORMS_FILE, FileRole::Transforms, json)
    }

    /// Adds the training data profile (a profile that fails to serialise is reported by `build`).
    pub fn training_profile(mut self, profile: &dyn DataProfile) -> Self {
        match profile.to_json() {
            Ok(json) => self.file(TRAINING_PROFILE_FILE, FileRole::TrainingProfile, json.into_bytes()),
            Err(e) => {
                self.profile_error = Some(e);
                self
            }
        }
    }

    /// Adds an input example and its expected output (JSON documents).
    pub fn example(self, input: impl Into<Bytes>, expected_output: impl Into<Bytes>) -> Self {
        self.file(INPUT_EXAMPLE_FILE, FileRole::InputExample, input).file(
            EXPECTED_OUTPUT_FILE,
            FileRole::ExpectedOutput,
            expected_output,
        )
    }

    /// Records a data set the model was trained or evaluated on.
    pub fn dataset(mut self, dataset: DatasetRef) -> Self {
        self.manifest.datasets.push(dataset);
        self
    }

    /// Records a training parameter.
    pub fn param(mut self, key: &str, value: serde_json::Value) -> Self {
        self.manifest.params.insert(key.to_owned(), value);
        self
    }

    /// Records an evaluation metric (must be finite; checked by [`build`](Self::build)).
    pub fn metric(mut self, key: &str, value: f64) -> Self {
        self.metrics.push((key.to_owned(), value));
        self
    }

    /// Records the code version (e.g. a git commit).
    pub fn code_version(mut self, version: &str) -> Self {
        self.manifest.code_version = Some(version.to_owned());
        self
    }

    /// Records who built the package.
    pub fn creator(mut self, creator: &str) -> Self {
        self.manifest.creator = Some(creator.to_owned());
        self
    }

    /// Records the version this one derives from.
    pub fn parent(mut self, name: &str, version: u64) -> Self {
        self.manifest.parent = Some(ModelRef {
            name: name.to_owned(),
            version,
        });
        self
    }

    /// Sets a description.
    pub fn description(mut self, text: &str) -> Self {
        self.manifest.description = Some(text.to_owned());
        self
    }

    /// Overrides the creation time (milliseconds since the epoch); defaults to now.
    pub fn created_at_ms(mut self, ms: i64) -> Self {
        self.manifest.created_at_ms = ms;
        self
    }

    /// Checks every field, computes every digest and returns the package.
    ///
    /// Errors ([`Error::InvalidInput`] naming the field): an invalid model name,
    /// no weights, weights that are not safetensors, an invalid or reserved file
    /// name, a metric that is not finite; a profile's own serialisation error.
    pub fn build(mut self) -> Result<Package> {
        validate_name("model name", &self.name)?;
        if let Some(e) = self.profile_error {
            return Err(e);
        }
        let Some((_, weights)) = self.files.values().find(|(role, _)| *role == FileRole::Weights) else {
            return Err(Error::invalid_input(
                "package",
                format!("PackageBuilder::weights of `{}`", self.name),
                "no weights were added",
                "a call to `weights`",
            ));
        };
        safetensors::SafeTensors::deserialize(weights).map_err(|e| {
            Error::invalid_input(
                "model weights",
                format!("PackageBuilder::weights ({WEIGHTS_FILE})"),
                format!("not a valid safetensors file: {e}"),
                "safetensors (packages never carry pickles or other executable formats)",
            )
        })?;
        for name in self.files.keys() {
            validate_name("package file name", name)?;
            if name == super::MANIFEST_FILE || name == super::SIGNATURE_FILE {
                return Err(Error::invalid_input(
                    "package file name",
                    format!("PackageBuilder::file `{name}`"),
                    "the name is reserved",
                    "another file name",
                ));
            }
        }
        for (key, value) in self.metrics {
            if !value.is_finite() {
                return Err(Error::invalid_input(
                    "metric",
                    format!("PackageBuilder::metric `{key}`"),
                    value.to_string(),
                    "a finite number",
                ));
            }
            self.manifest.metrics.insert(key, value);
        }
        let mut files = BTreeMap::new();
        for (name, (role, bytes)) in self.files {
            self.manifest.files.insert(
                name.clone(),
                FileEntry {
                    role,
                    sha256: Digest::of(&bytes),
                    size: bytes.len() as u64,
                },
            );
            files.insert(name, bytes);
        }
        let manifest_bytes = Bytes::from(self.manifest.to_bytes()?);
        // Re-parse so a built package obeys exactly the rules a loaded one does.
        let manifest = Manifest::from_bytes(&manifest_bytes)?;
        Ok(Package::from_verified(manifest, manifest_bytes, files))
    }
}
