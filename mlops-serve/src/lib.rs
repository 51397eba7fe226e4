//! # mlops-serve: in-process model serving over Arrow
//!
//! The serving runtime is being built (issue 10): this release holds the
//! [`Predict`] contract that every serving mode is written against.
//!
//! ```
//! use std::sync::Arc;
//! use arrow_array::{Float32Array, RecordBatch};
//! use mlops_serve::Prediction;
//!
//! let batch = RecordBatch::try_from_iter([("prediction", Arc::new(Float32Array::from(vec![0.5, 1.5])) as _)])?;
//! let answer = Prediction::clean(batch);
//! assert_eq!(answer.slice(1, 1).batch.num_rows(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod predict;

pub use mlops_core::{Error, Result};
pub use predict::{Predict, Prediction};
mod cast;
mod columns;
mod device;
mod door;
mod example_rows;
mod head;
pub mod model;
mod predictor;
mod predictor_config;
pub mod train;
mod validate_config;

pub use device::{DeviceRequest, ServeDevice};
pub use example_rows::{batch_to_rows, rows_to_batch};
pub use head::{LABEL_COLUMN, PREDICTION_COLUMN, PROBA_PREFIX};
pub use model::{Model, ModelSpec};
pub use predictor::Predictor;
pub use predictor_config::PredictorConfig;
pub use validate_config::{MissingValuePolicy, RulePolicy, ValidationConfig};
