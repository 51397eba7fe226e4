//! The package manifest: a versioned JSON document naming every file and its digest.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::lineage::DatasetRef;
use crate::signature::Signature;

/// The manifest format this build writes and the newest it reads.
pub const MANIFEST_VERSION: u32 = 1;
/// The manifest's file name inside a package.
pub const MANIFEST_FILE: &str = "manifest.json";
const FORMAT_NAME: &str = "mlops-package";

/// What a file in a package is for.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileRole {
    /// Model weights (safetensors).
    Weights,
    /// The fitted preprocessing pipeline the model expects (JSON).
    Transforms,
    /// The profile of the training data (JSON), the reference for monitoring.
    TrainingProfile,
    /// An input example (JSON), run as a smoke test before traffic is routed.
    InputExample,
    /// The output expected for the input example (JSON).
    ExpectedOutput,
    /// Anything else the runtime needs (tokenizer, vocabulary...).
    Other,
}

/// One file of a package.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// What the file is for.
    pub role: FileRole,
    /// SHA-256 of its bytes.
    pub sha256: Digest,
    /// Its length in bytes.
    pub size: u64,
}

/// A reference to a registered model version (e.g. the parent of a fine-tune).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelRef {
    /// Model name.
    pub name: String,
    /// Version number.
    pub version: u64,
}

/// Everything a package says about itself. Its canonical JSON bytes are what
/// the package digest covers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always `"mlops-package"`.
    pub format: String,
    /// [`MANIFEST_VERSION`] when written by this build.
    pub format_version: u32,
    /// Model name.
    pub name: String,
    /// Files by name, with role, digest and size.
    pub files: BTreeMap<String, FileEntry>,
    /// Runtime configuration (architecture, task, classes...): opaque to the registry.
    pub model_config: serde_json::Value,
    /// What the model accepts.
    pub input_signature: Signature,
    /// What the model returns (names, types, allowed ranges or class sets).
    pub output_signature: Signature,
    /// Data sets the model was trained or evaluated on.
    pub datasets: Vec<DatasetRef>,
    /// Training parameters.
    pub params: BTreeMap<String, serde_json::Value>,
    /// Evaluation metrics.
    pub metrics: BTreeMap<String, f64>,
    /// Code version (e.g. a git commit), as given by the caller.
    pub code_version: Option<String>,
    /// Who built the package.
    pub creator: Option<String>,
    /// When it was built, in milliseconds since the epoch.
    pub created_at_ms: i64,
    /// The version this one derives from.
    pub parent: Option<ModelRef>,
    /// Free text.
    pub description: Option<String>,
}

impl Manifest {
    pub(crate) fn new(name: &str, created_at_ms: i64) -> Self {
        Manifest {
            format: FORMAT_NAME.into(),
            format_version: MANIFEST_VERSION,
            name: name.into(),
            files: BTreeMap::new(),
            model_config: serde_json::Value::Null,
            input_signature: Signature::default(),
            output_signature: Signature::default(),
            datasets: Vec::new(),
            params: BTreeMap::new(),
            metrics: BTreeMap::new(),
            code_version: None,
            creator: None,
            created_at_ms,
            parent: None,
            description: None,
        }
    }

    /// The canonical bytes: compact JSON with sorted maps, so equal manifests have equal bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        serde_json::to_vec(self).map_err(|e| Error::serialization(MANIFEST_FILE, e))
    }

    /// Parses and checks a manifest: format, version, names, and metrics that are numbers.
    pub fn from_bytes(bytes: &[u8]) -> Result<Manifest> {
        #[derive(Deserialize)]
        struct Probe {
            format: Option<String>,
            format_version: Option<u32>,
        }
        let probe: Probe = serde_json::from_slice(bytes).map_err(|e| Error::serialization(MANIFEST_FILE, e))?;
        if probe.format.as_deref() != Some(FORMAT_NAME) {
            return Err(Error::corrupt(
                MANIFEST_FILE,
                format!("`format` is {:?}, expected \"{FORMAT_NAME}\"", probe.format),
            ));
        }
        match probe.format_version {
            Some(v) if v == 0 || v > MANIFEST_VERSION => {
                return Err(Error::UnsupportedVersion {
                    location: MANIFEST_FILE.into(),
                    found: v,
                    supported: MANIFEST_VERSION,
                });
            }
            None => return Err(Error::corrupt(MANIFEST_FILE, "missing `format_version`")),
            Some(_) => {}
        }
        let m: Manifest = serde_json::from_slice(bytes).map_err(|e| Error::serialization(MANIFEST_FILE, e))?;
        crate::names::validate_name("model name", &m.name)?;
        for file in m.files.keys() {
            crate::names::validate_name("package file name", file)?;
        }
        if let Some((k, v)) = m.metrics.iter().find(|(_, v)| !v.is_finite()) {
            return Err(Error::corrupt(
                MANIFEST_FILE,
                format!("metric `{k}` is {v}, expected a finite number"),
            ));
        }
        Signature::new(m.input_signature.fields.clone())?;
        Signature::new(m.output_signature.fields.clone())?;
        Ok(m)
    }

    /// The name of the first file with this role.
    pub fn file_with_role(&self, role: FileRole) -> Option<&str> {
        self.files.iter().find(|(_, e)| e.role == role).map(|(n, _)| n.as_str())
    }
}
