//! A stack of dense layers: the shared form of `mlp`, `linear` and
//! `logistic`, from which each kernel is built.

use mlops_core::Result;

use super::{Activation, OutputKind, Weights};

/// One dense layer: `y = act(x·Wᵀ + b)`, `W` stored `[out, in]` as PyTorch's `nn.Linear`.
#[derive(Clone, Debug, PartialEq)]
pub struct DenseLayer {
    /// Name of the `[out, in]` weight tensor.
    pub weight: String,
    /// Name of the `[out]` bias tensor.
    pub bias: String,
    /// Inputs.
    pub inputs: usize,
    /// Outputs.
    pub outputs: usize,
    /// Applied after the layer (identity on the last one: the head follows).
    pub activation: Activation,
}

/// Dense layers in order, then a head.
#[derive(Clone, Debug, PartialEq)]
pub struct DenseStack {
    /// The layers.
    pub layers: Vec<DenseLayer>,
    /// The head.
    pub head: OutputKind,
}

impl DenseStack {
    /// `(W [out, in], b [out])` values of each layer, row-major.
    pub(crate) fn parameters(&self, weights: &Weights) -> Result<Vec<(Vec<f32>, Vec<f32>)>> {
        self.layers
            .iter()
            .map(|l| Ok((weights.values(&l.weight)?, weights.values(&l.bias)?)))
            .collect()
    }
}
