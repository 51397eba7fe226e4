//! # mlops-serve: in-process model serving over Arrow
//!
//! A model package in, a [`Predictor`] out: Arrow batches in, Arrow batches
//! out, on the CPU (or a CUDA GPU behind the `cuda` feature), with the
//! package's transforms, validation at the door and checks on every answer.
//!
//! ```
//! use std::sync::Arc;
//! use arrow_array::cast::AsArray;
//! use arrow_array::{Float64Array, RecordBatch};
//! use mlops_core::PackageBuilder;
//! use mlops_serve::{Predict, Predictor, PredictorConfig};
//!
//! // A package as a training job (or `import_model`) writes it: safetensors
//! // weights in PyTorch `nn.Sequential` naming and the model spec.
//! let weights = mlops_core::weights::encode_f32(&[
//!     ("0.weight", &[2, 2], &[1.0, 0.0, 0.0, 1.0]),
//!     ("0.bias", &[2], &[0.0, 0.0]),
//!     ("2.weight", &[2, 2], &[2.0, -2.0, -2.0, 2.0]),
//!     ("2.bias", &[2], &[0.0, 0.0]),
//! ])?;
//! let package = PackageBuilder::new("churn")
//!     .weights(weights)
//!     .model_config(serde_json::json!({
//!         "architecture": "mlp", "layers": [2, 2, 2], "activation": "relu",
//!         "output": "softmax", "features": ["tenure", "spend"], "classes": ["stays", "leaves"]
//!     }))
//!     .build()?;
//!
//! let predictor = Predictor::from_package(&package, PredictorConfig::default())?;
//! // Columns are matched by name, in any order; extra columns are ignored.
//! let batch = RecordBatch::try_from_iter([
//!     ("spend", Arc::new(Float64Array::from(vec![0.0, 3.0])) as _),
//!     ("tenure", Arc::new(Float64Array::from(vec![2.0, 0.0])) as _),
//! ])?;
//! let answer = predictor.predict(&batch)?;
//! let labels = answer.column_by_name("label").unwrap().as_string::<i32>();
//! assert_eq!((labels.value(0), labels.value(1)), ("stays", "leaves"));
//! assert!(answer.column_by_name("proba_leaves").is_some());
//!
//! // A batch missing a column is refused, naming it.
//! let partial = RecordBatch::try_from_iter([("spend", Arc::new(Float64Array::from(vec![1.0])) as _)])?;
//! assert!(predictor.predict(&partial).unwrap_err().to_string().contains("`tenure`"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## How a request travels
//!
//! door ([`ValidationConfig`]: columns by name, lossless casts, per-row rules
//! with policies) → the package's fitted transforms → one copy of the feature
//! columns into a feature-major buffer → the [`Model`] (a dense stack on
//! `gemm` directly on CPU, Candle tensors on a GPU) → answer columns that
//! share the model's output buffer → answer checks (finite, probabilities in
//! [0, 1] summing to 1, declared ranges). Large batches are cut into pieces
//! spread over threads, each running the model single-threaded. A small
//! batch of float inputs for a model without transforms that breaks no rule
//! takes a short way through the door: checked and copied into the feature
//! buffer in one typed pass, with the same answer (anything the door would
//! report sends it the full way).
//!
//! ## Models
//!
//! [`ModelSpec`] is the versioned JSON contract a package's model config
//! holds: `mlp`, `linear` and `logistic` architectures, `softmax`, `sigmoid`
//! and `identity` heads. Weights trained elsewhere (scikit-learn, PyTorch)
//! load exactly: the tests reproduce scikit-learn's outputs to 1e-5
//! (`tests/fixtures/`). [`train::train_dense`] trains the same architectures
//! with candle-nn.
//!
//! ## Serving modes
//!
//! - Real time: a [`Batcher`] in front of a predictor merges concurrent
//!   requests (Triton's dynamic batching): a bounded queue that answers
//!   [`Error::Overloaded`] when full, `max_batch_rows`, `max_delay` (default
//!   0: a free worker takes what is queued), per-request deadlines, one-shot
//!   replies, blocking and `async` entry points.
//! - Batch: [`score_parquet`] scores a Parquet file or object-store URL into
//!   a Parquet file, row groups in parallel with bounded memory, in order.
//! - Stream: [`score_stream`] turns a stream of batches into a stream of
//!   answers with backpressure.
//!
//! ## CUDA
//!
//! The `cuda` feature builds Candle's CUDA backend; ask for it with
//! [`DeviceRequest::Cuda`]. Without a GPU at run time the predictor serves
//! on the CPU and logs a warning; the API is the same with the feature off.
//! Building needs `nvcc` and the CUDA headers; without a system CUDA,
//! `.ci/cuda-check.sh` installs CUDA 13.0's from PyPI (`nvidia-cuda-nvcc`,
//! `-runtime`, `-cccl`, `-crt`, `nvidia-nvvm`; the `nvidia-cuda-nvcc-cu12`
//! wheels carry `ptxas` but not `nvcc`) and type-checks the crate with
//! `--features cuda`. Linking and running need the NVIDIA driver's
//! `libcuda.so`, so a `cuda` binary starts only on a machine with a GPU driver.

mod batch_score;
mod batcher;
mod cast;
mod clean_path;
mod columns;
pub mod deployment;
mod device;
mod door;
mod example_rows;
pub mod explain;
mod head;
mod helper_pool;
pub mod model;
mod pieces;
mod predict;
mod predictor;
mod predictor_config;
mod scratch;
mod stream_score;
pub mod train;
mod validate_config;

pub use batch_score::{Carry, ScoreConfig, ScoreProgress, ScoreReport, score_parquet};
pub use batcher::{Batcher, BatcherConfig, BatcherStats, Request, Ticket};
pub use device::{DeviceRequest, ServeDevice};
pub use example_rows::{batch_to_rows, rows_to_batch};
pub use head::{LABEL_COLUMN, PREDICTION_COLUMN, PROBA_PREFIX};
pub use mlops_core::{Error, Result};
pub use model::{Model, ModelSpec};
pub use predict::{Predict, Prediction};
pub use predictor::Predictor;
pub use predictor_config::PredictorConfig;
pub use stream_score::{StreamConfig, score_stream};
pub use validate_config::{MissingValuePolicy, RulePolicy, ValidationConfig};
