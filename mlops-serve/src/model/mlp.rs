//! The dense architectures: `mlp`, `linear` and `logistic`.

use mlops_core::{Error, Result};
use serde::{Deserialize, Serialize};

use super::{
    Activation, Architecture, CandleDense, CpuDense, DenseLayer, DenseStack, Model, OutputKind, TensorSlot, Weights,
};
use crate::device::ServeDevice;

/// A multilayer perceptron: `layers = [inputs, hidden…, outputs]`.
///
/// Weights follow PyTorch's `nn.Sequential` with a separate activation
/// module after each hidden layer: the dense layers sit at indices 0, 2, 4…
/// (`"0.weight"` `[layers[1], layers[0]]`, `"0.bias"`, `"2.weight"`, …).
/// Dropout does nothing at inference and has no weights; if the training
/// model had dropout modules, its indices shift, which `tensor_names` maps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct MlpSpec {
    /// Widths: inputs, each hidden layer, outputs (at least two entries).
    pub layers: Vec<usize>,
    /// The activation after each hidden layer.
    pub activation: Activation,
}

impl MlpSpec {
    /// An MLP with these widths and activation.
    pub fn new(layers: Vec<usize>, activation: Activation) -> Self {
        MlpSpec { layers, activation }
    }

    fn stack(&self, head: OutputKind) -> DenseStack {
        let count = self.layers.len().saturating_sub(1);
        let layers = self
            .layers
            .windows(2)
            .enumerate()
            .map(|(i, w)| DenseLayer {
                weight: format!("{}.weight", 2 * i),
                bias: format!("{}.bias", 2 * i),
                inputs: w[0],
                outputs: w[1],
                activation: if i + 1 == count {
                    Activation::Identity
                } else {
                    self.activation
                },
            })
            .collect();
        DenseStack { layers, head }
    }
}

/// One dense layer (`linear`, `logistic`): `"0.weight"` `[outputs, inputs]` and `"0.bias"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct LinearSpec {
    /// Inputs.
    pub inputs: usize,
    /// Outputs (1 for a binary logistic model with a sigmoid head).
    pub outputs: usize,
}

impl LinearSpec {
    /// A layer with these widths.
    pub fn new(inputs: usize, outputs: usize) -> Self {
        LinearSpec { inputs, outputs }
    }

    fn stack(&self, head: OutputKind) -> DenseStack {
        DenseStack {
            layers: vec![DenseLayer {
                weight: "0.weight".into(),
                bias: "0.bias".into(),
                inputs: self.inputs,
                outputs: self.outputs,
                activation: Activation::Identity,
            }],
            head,
        }
    }
}

fn slots(stack: &DenseStack) -> Vec<TensorSlot> {
    stack
        .layers
        .iter()
        .flat_map(|l| {
            [
                TensorSlot::new(&l.weight, vec![l.outputs, l.inputs]),
                TensorSlot::new(&l.bias, vec![l.outputs]),
            ]
        })
        .collect()
}

fn build(stack: &DenseStack, weights: &Weights, device: &ServeDevice) -> Result<Box<dyn Model>> {
    if device.is_gpu() {
        Ok(Box::new(CandleDense::new(stack, weights, device.candle())?))
    } else {
        Ok(Box::new(CpuDense::new(stack, weights)?))
    }
}

fn positive(widths: &[usize], location: &str) -> Result<()> {
    if let Some(i) = widths.iter().position(|&w| w == 0) {
        return Err(Error::invalid_input(
            "model config",
            location,
            format!("width 0 at position {i}"),
            "positive widths",
        ));
    }
    Ok(())
}

impl Architecture for MlpSpec {
    fn input_width(&self) -> usize {
        self.layers.first().copied().unwrap_or(0)
    }

    fn output_width(&self) -> usize {
        self.layers.last().copied().unwrap_or(0)
    }

    fn validate(&self) -> Result<()> {
        if self.layers.len() < 2 {
            return Err(Error::invalid_input(
                "model config",
                "layers",
                format!("{:?}", self.layers),
                "[inputs, hidden…, outputs]: at least two widths",
            ));
        }
        positive(&self.layers, "layers")
    }

    fn tensors(&self) -> Vec<TensorSlot> {
        slots(&self.stack(OutputKind::Identity))
    }

    fn build(&self, weights: &Weights, head: OutputKind, device: &ServeDevice) -> Result<Box<dyn Model>> {
        build(&self.stack(head), weights, device)
    }
}

impl Architecture for LinearSpec {
    fn input_width(&self) -> usize {
        self.inputs
    }

    fn output_width(&self) -> usize {
        self.outputs
    }

    fn validate(&self) -> Result<()> {
        positive(&[self.inputs, self.outputs], "inputs/outputs")
    }

    fn tensors(&self) -> Vec<TensorSlot> {
        slots(&self.stack(OutputKind::Identity))
    }

    fn build(&self, weights: &Weights, head: OutputKind, device: &ServeDevice) -> Result<Box<dyn Model>> {
        build(&self.stack(head), weights, device)
    }
}

impl super::ArchitectureSpec {
    /// The dense stack behind the spec (every built-in architecture is one).
    pub fn dense_stack(&self, head: OutputKind) -> DenseStack {
        match self {
            super::ArchitectureSpec::Mlp(s) => s.stack(head),
            super::ArchitectureSpec::Linear(s) | super::ArchitectureSpec::Logistic(s) => s.stack(head),
        }
    }
}
