//! Models: the [`Model`] trait (a forward pass over feature columns), the
//! versioned [`ModelSpec`] contract a package carries, and the dense
//! architectures (`mlp`, `linear`, `logistic`) with their two kernels:
//! direct `gemm` calls on CPU and Candle tensors on any device.

mod activation;
mod architecture;
mod candle_dense;
mod cpu_dense;
mod dense;
pub(crate) mod gemm_call;
mod mlp;
mod row_kernel;
mod spec;
mod weights;

pub use architecture::{Architecture, TensorSlot};
pub use candle_dense::CandleDense;
pub use cpu_dense::CpuDense;
pub use dense::{DenseLayer, DenseStack};
pub use mlp::{LinearSpec, MlpSpec};
pub use spec::{Activation, ArchitectureSpec, MODEL_SPEC_VERSION, ModelSpec, OutputKind};
pub use weights::Weights;

use mlops_core::{Error, Result};

/// Checks that `features` holds `rows` rows of `inputs` values (the
/// [`Model::forward_columns`] contract).
pub(crate) fn check_feature_matrix(features: &[f32], inputs: usize, rows: usize) -> Result<()> {
    if Some(features.len()) == inputs.checked_mul(rows) {
        return Ok(());
    }
    Err(Error::invalid_input(
        "feature matrix",
        "model input",
        format!("{} values for {rows} rows of {inputs} features", features.len()),
        "features × rows values, feature-major",
    ))
}

/// A forward pass from feature columns to output columns, head applied.
///
/// Layouts are column-major because Arrow is: `features[j * rows + i]` is
/// feature `j` of row `i`, and the answer's `out[k * rows + i]` is output `k`
/// of row `i`, so each output column is a contiguous slice that becomes an
/// Arrow buffer without another copy.
///
/// Contract: `features.len() == input_width() * rows` (else
/// [`Error::InvalidInput`]); the answer has
/// `output_width() * rows` values; `rows == 0` gives an empty answer. An
/// implementation computes on the calling thread (the predictor decides how
/// work is spread over threads) and never panics.
pub trait Model: Send + Sync + std::fmt::Debug {
    /// Values each row needs.
    fn input_width(&self) -> usize;

    /// Values each row gets back.
    fn output_width(&self) -> usize;

    /// Runs the model on `rows` rows.
    fn forward_columns(&self, features: &[f32], rows: usize) -> Result<Vec<f32>>;
}
