//! The [`Architecture`] trait: what a model description must say to be built.

use mlops_core::Result;

use super::{Model, OutputKind, Weights};
use crate::device::ServeDevice;

/// One tensor an architecture reads, under our name, with the shape it needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorSlot {
    /// Our name (PyTorch `nn.Sequential` style: `"0.weight"`).
    pub name: String,
    /// The shape the architecture needs.
    pub shape: Vec<usize>,
}

impl TensorSlot {
    /// A slot.
    pub fn new(name: impl Into<String>, shape: Vec<usize>) -> Self {
        TensorSlot {
            name: name.into(),
            shape,
        }
    }
}

/// An architecture description: widths, the tensors it reads, and how it is
/// built on a device. Each variant of
/// [`ArchitectureSpec`](super::ArchitectureSpec) implements it in its own file.
pub trait Architecture: Send + Sync + std::fmt::Debug {
    /// Values each input row has.
    fn input_width(&self) -> usize;

    /// Values the last layer gives per row (before the head).
    fn output_width(&self) -> usize;

    /// Checks the description on its own (positive widths, known parts).
    fn validate(&self) -> Result<()>;

    /// The tensors it reads, with the shapes it needs.
    fn tensors(&self) -> Vec<TensorSlot>;

    /// Builds the model from weights already checked against [`tensors`](Self::tensors).
    fn build(&self, weights: &Weights, head: OutputKind, device: &ServeDevice) -> Result<Box<dyn Model>>;
}
