//! Explanations: per-prediction attributions by Integrated Gradients (through
//! Candle's autodiff), global importance, and permutation importance as a
//! model-agnostic check.
//!
//! ```
//! use std::sync::Arc;
//! use arrow_array::{Float64Array, RecordBatch};
//! use mlops_core::{FieldSpec, Signature};
//! use mlops_serve::explain::Explainer;
//! use mlops_serve::model::Weights;
//! use mlops_serve::{ModelSpec, Predictor, PredictorConfig};
//!
//! // y = 3a − 2b: attributions against a zero baseline are exactly 3a and −2b.
//! let spec = ModelSpec::from_json(r#"{"architecture": "linear", "inputs": 2, "outputs": 1,
//!     "output": "identity", "features": ["a", "b"]}"#)?;
//! let st = mlops_core::weights::encode_f32(&[("0.weight", &[1, 2], &[3.0, -2.0]), ("0.bias", &[1], &[0.5])])?;
//! let weights = Weights::from_safetensors(&st, &spec.architecture.architecture().tensors(), &spec)?;
//! let signature = Signature::new(vec![FieldSpec::new("a", arrow_schema::DataType::Float64, false),
//!     FieldSpec::new("b", arrow_schema::DataType::Float64, false)])?;
//! let predictor = Predictor::from_parts("m", spec, &weights, None, signature, Signature::default(),
//!     PredictorConfig::default())?;
//! let explainer = Explainer::from_parts(predictor, &weights, vec![0.0, 0.0], 8)?;
//! let batch = RecordBatch::try_from_iter([("a", Arc::new(Float64Array::from(vec![1.0])) as _),
//!     ("b", Arc::new(Float64Array::from(vec![2.0])) as _)])?;
//! let e = explainer.explain(&batch)?;
//! let attr_a = arrow_array::cast::AsArray::as_primitive::<arrow_array::types::Float32Type>(e.batch.column(0).as_ref());
//! assert!((attr_a.value(0) - 3.0).abs() < 1e-5);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod baseline;
mod explainer;
mod gradient_model;
mod integrated_gradients;
mod permutation;

pub use baseline::Baseline;
pub use explainer::{ATTRIBUTION_PREFIX, EXPLAINED_COLUMN, ExplainConfig, Explainer, Explanation};
pub use permutation::permutation_importance;
