//! The model description a package carries in its model config: a versioned
//! JSON contract (see [`ModelSpec`]).

use std::collections::BTreeMap;

use mlops_core::{Error, Result};
use serde::{Deserialize, Serialize};

use super::architecture::Architecture;
use super::mlp::{LinearSpec, MlpSpec};

/// The newest model-spec format this build reads and the one it writes.
pub const MODEL_SPEC_VERSION: u32 = 1;

/// What a package's model config says about the model: its architecture, its
/// head, its input features in order and its classes.
///
/// The JSON contract (format version 1):
///
/// ```json
/// {"format_version": 1, "architecture": "mlp", "layers": [13, 64, 32, 3], "activation": "relu",
///  "output": "softmax", "features": ["f0", "f1", "…"], "classes": ["0", "1", "2"]}
/// ```
///
/// - `format_version` (default 1): a newer version is refused with
///   [`Error::UnsupportedVersion`].
/// - `architecture`: `"mlp"` (`layers` = `[inputs, hidden…, outputs]`,
///   `activation` after every hidden layer), `"linear"` or `"logistic"`
///   (`inputs`, `outputs`). Unknown fields are refused, so a typo never passes
///   silently.
/// - `output`: `"softmax"` (multiclass), `"sigmoid"` (binary: one output unit,
///   the probability of the second class, as scikit-learn's binary
///   classifiers), `"identity"` (regression, one or more outputs).
/// - `features`: the model's input columns, in the order the first layer reads them.
/// - `classes`: class names of a classifier (two for `sigmoid`, one per unit for `softmax`).
/// - `tensor_names`: where the weights file uses names other than PyTorch's
///   `nn.Sequential` ones (`"0.weight"`, `"0.bias"`, `"2.weight"`, …), a map
///   from our name to the file's name.
///
/// Weights are `[out, in]` matrices as PyTorch's `nn.Linear` stores them, in
/// any float dtype (F16, BF16, F32, F64); they are cast to `f32`, the compute dtype.
///
/// ```
/// use mlops_serve::ModelSpec;
///
/// let spec = ModelSpec::from_json(r#"{"architecture": "mlp", "layers": [3, 8, 2], "activation": "gelu",
///     "output": "softmax", "features": ["a", "b", "c"], "classes": ["no", "yes"]}"#)?;
/// let names: Vec<String> = spec.architecture.architecture().tensors().into_iter().map(|t| t.name).collect();
/// assert_eq!(names, ["0.weight", "0.bias", "2.weight", "2.bias"]);
/// // A typo is refused, not ignored.
/// assert!(ModelSpec::from_json(r#"{"architecture": "mlp", "layer": [3, 2], "activation": "relu",
///     "output": "identity", "features": ["a", "b", "c"]}"#).is_err());
/// # Ok::<(), mlops_serve::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ModelSpec {
    /// Format version of this document.
    pub format_version: u32,
    /// The layers and how they connect.
    #[serde(flatten)]
    pub architecture: ArchitectureSpec,
    /// The head applied to the last layer's outputs.
    pub output: OutputKind,
    /// Input feature columns in the order the first layer reads them.
    pub features: Vec<String>,
    /// Class names of a classifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<Vec<String>>,
    /// Our tensor name → the name in the weights file, for other layouts than `nn.Sequential`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tensor_names: BTreeMap<String, String>,
}

/// The fields every architecture shares; the rest of the document is the
/// architecture's own, read by [`ArchitectureSpec`] whose variants refuse
/// unknown fields. (serde cannot refuse unknown fields through `flatten`,
/// hence the split by hand.)
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SharedFields {
    #[serde(default = "default_version")]
    format_version: u32,
    output: OutputKind,
    features: Vec<String>,
    #[serde(default)]
    classes: Option<Vec<String>>,
    #[serde(default)]
    tensor_names: BTreeMap<String, String>,
}

const SHARED_KEYS: [&str; 5] = ["format_version", "output", "features", "classes", "tensor_names"];

fn default_version() -> u32 {
    MODEL_SPEC_VERSION
}

impl<'de> Deserialize<'de> for ModelSpec {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        let serde_json::Value::Object(mut all) = serde_json::Value::deserialize(deserializer)? else {
            return Err(D::Error::custom("a model config is a JSON object"));
        };
        let mut shared = serde_json::Map::new();
        for key in SHARED_KEYS {
            if let Some(v) = all.remove(key) {
                shared.insert(key.to_owned(), v);
            }
        }
        let shared: SharedFields = serde_json::from_value(shared.into()).map_err(D::Error::custom)?;
        let architecture: ArchitectureSpec = serde_json::from_value(all.into()).map_err(D::Error::custom)?;
        Ok(ModelSpec {
            format_version: shared.format_version,
            architecture,
            output: shared.output,
            features: shared.features,
            classes: shared.classes,
            tensor_names: shared.tensor_names,
        })
    }
}

/// The architectures this build knows. Each variant's spec implements
/// [`Architecture`]; adding one is adding a file and a variant here.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "architecture", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ArchitectureSpec {
    /// A multilayer perceptron: dense layers with an activation between them.
    Mlp(MlpSpec),
    /// One dense layer (linear regression, or any affine map).
    Linear(LinearSpec),
    /// One dense layer read as class scores (logistic or multinomial regression).
    Logistic(LinearSpec),
}

impl ArchitectureSpec {
    /// The architecture behind the variant.
    pub fn architecture(&self) -> &dyn Architecture {
        match self {
            ArchitectureSpec::Mlp(spec) => spec,
            ArchitectureSpec::Linear(spec) | ArchitectureSpec::Logistic(spec) => spec,
        }
    }

    /// The variant's name as written in the JSON (`"mlp"`, `"linear"`, `"logistic"`).
    pub fn name(&self) -> &'static str {
        match self {
            ArchitectureSpec::Mlp(_) => "mlp",
            ArchitectureSpec::Linear(_) => "linear",
            ArchitectureSpec::Logistic(_) => "logistic",
        }
    }
}

/// The head: how the last layer's values become the answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum OutputKind {
    /// Probabilities over classes (multiclass).
    Softmax,
    /// The probability of the positive (second) class from one unit (binary).
    Sigmoid,
    /// The values as they are (regression).
    Identity,
}

/// Hidden-layer activations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Activation {
    /// max(0, x).
    Relu,
    /// x·Φ(x), the exact (erf) form, as PyTorch's default `nn.GELU()`.
    Gelu,
    /// tanh(x).
    Tanh,
    /// 1 / (1 + e^−x) (scikit-learn's `"logistic"`).
    Sigmoid,
    /// x·sigmoid(x).
    Silu,
    /// x.
    Identity,
}

impl ModelSpec {
    /// Parses the JSON form and checks it (see [`validate`](Self::validate)).
    pub fn from_json_value(value: &serde_json::Value) -> Result<ModelSpec> {
        // Read the version first, so a newer document is reported as such and not as a field error.
        if let Some(found) = value.get("format_version").and_then(serde_json::Value::as_u64)
            && found > u64::from(MODEL_SPEC_VERSION)
        {
            return Err(Error::UnsupportedVersion {
                location: "model config".into(),
                found: u32::try_from(found).unwrap_or(u32::MAX),
                supported: MODEL_SPEC_VERSION,
            });
        }
        let spec: ModelSpec =
            serde_json::from_value(value.clone()).map_err(|e| Error::serialization("model config", e))?;
        spec.validate()?;
        Ok(spec)
    }

    /// Parses a JSON document.
    pub fn from_json(json: &str) -> Result<ModelSpec> {
        let value: serde_json::Value =
            serde_json::from_str(json).map_err(|e| Error::serialization("model config", e))?;
        Self::from_json_value(&value)
    }

    /// The JSON form.
    pub fn to_json_value(&self) -> Result<serde_json::Value> {
        serde_json::to_value(self).map_err(|e| Error::serialization("model config", e))
    }

    /// Checks that the parts agree: widths are positive, the feature count is
    /// the input width, the head fits the output width and the classes.
    pub fn validate(&self) -> Result<()> {
        let bad = |location: &str, message: String, expected: &str| {
            Err(Error::invalid_input("model config", location, message, expected))
        };
        if self.format_version == 0 || self.format_version > MODEL_SPEC_VERSION {
            return Err(Error::UnsupportedVersion {
                location: "model config".into(),
                found: self.format_version,
                supported: MODEL_SPEC_VERSION,
            });
        }
        let arch = self.architecture.architecture();
        arch.validate()?;
        let (inputs, outputs) = (arch.input_width(), arch.output_width());
        if self.features.len() != inputs {
            return bad(
                "features",
                format!("{} feature names for {inputs} inputs", self.features.len()),
                "one name per input of the first layer",
            );
        }
        let mut seen = std::collections::BTreeSet::new();
        if let Some(dup) = self.features.iter().find(|f| !seen.insert(f.as_str())) {
            return bad("features", format!("`{dup}` appears twice"), "unique feature names");
        }
        match (self.output, &self.classes) {
            (OutputKind::Softmax, Some(classes)) if classes.len() != outputs => bad(
                "classes",
                format!("{} classes for {outputs} softmax outputs", classes.len()),
                "one class per output unit",
            ),
            (OutputKind::Softmax, _) if outputs < 2 => bad(
                "output",
                format!("softmax over {outputs} output"),
                "at least 2 outputs (use sigmoid for one)",
            ),
            (OutputKind::Sigmoid, Some(classes)) if classes.len() != 2 => bad(
                "classes",
                format!("{} classes for a sigmoid output", classes.len()),
                "two classes: [negative, positive]",
            ),
            (OutputKind::Sigmoid, _) if outputs != 1 => bad(
                "output",
                format!("sigmoid over {outputs} outputs"),
                "exactly one output unit (the positive class's probability)",
            ),
            (OutputKind::Identity, Some(_)) => bad(
                "classes",
                "classes on a regression head".into(),
                "no classes with `output: identity`",
            ),
            _ => Ok(()),
        }?;
        if matches!(self.architecture, ArchitectureSpec::Logistic(_)) && self.output == OutputKind::Identity {
            return bad(
                "output",
                "identity head on a logistic model".into(),
                "softmax or sigmoid",
            );
        }
        if let Some(classes) = &self.classes {
            let mut seen = std::collections::BTreeSet::new();
            if let Some(dup) = classes.iter().find(|c| !seen.insert(c.as_str())) {
                return bad("classes", format!("`{dup}` appears twice"), "unique class names");
            }
        }
        Ok(())
    }

    /// Class names of a classifier: the given ones, or `"0"`, `"1"`, … when none are given.
    pub fn class_names(&self) -> Option<Vec<String>> {
        let n = match self.output {
            OutputKind::Identity => return None,
            OutputKind::Sigmoid => 2,
            OutputKind::Softmax => self.architecture.architecture().output_width(),
        };
        Some(
            self.classes
                .clone()
                .unwrap_or_else(|| (0..n).map(|i| i.to_string()).collect()),
        )
    }

    /// The name of a tensor in the weights file (our name, unless mapped).
    pub fn file_tensor_name<'a>(&'a self, ours: &'a str) -> &'a str {
        self.tensor_names.get(ours).map_or(ours, String::as_str)
    }
}
