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

mod batch_score;
mod batcher;
mod predict;
mod stream_score;

pub use batch_score::{Carry, ScoreConfig, ScoreProgress, ScoreReport, score_parquet};
pub use batcher::{Batcher, BatcherConfig, BatcherStats, Request, Ticket};
pub use mlops_core::{Error, Result};
pub use predict::{Predict, Prediction};
pub use stream_score::{StreamConfig, score_stream};
