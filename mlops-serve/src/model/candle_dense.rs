//! The Candle kernel of a dense stack: the same layers as Candle tensors on
//! any device (the CUDA path, and the reference the CPU kernel is tested against).

use candle_core::{Device, Tensor};
use mlops_core::{Error, Result};

use super::{Activation, DenseStack, Model, OutputKind, Weights};

/// A dense stack as Candle tensors on one device.
#[derive(Clone, Debug)]
pub struct CandleDense {
    /// `(W [out, in], b [out], activation)` per layer.
    layers: Vec<(Tensor, Tensor, Activation)>,
    head: OutputKind,
    device: Device,
}

fn candle_error(location: &str) -> impl Fn(candle_core::Error) -> Error + '_ {
    move |e| Error::inference(location.to_owned(), e)
}

impl CandleDense {
    /// Moves the stack's weights to `device`.
    pub fn new(stack: &DenseStack, weights: &Weights, device: &Device) -> Result<CandleDense> {
        let layers = stack
            .layers
            .iter()
            .map(|l| {
                let w = weights
                    .get(&l.weight)?
                    .to_device(device)
                    .map_err(candle_error(&l.weight))?;
                let b = weights.get(&l.bias)?.to_device(device).map_err(candle_error(&l.bias))?;
                Ok((w, b, l.activation))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(CandleDense {
            layers,
            head: stack.head,
            device: device.clone(),
        })
    }

    /// The device the tensors live on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The forward pass on a `[rows, inputs]` tensor, head applied: `[rows, outputs]`.
    pub fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let mut x = x.clone();
        for (w, b, activation) in &self.layers {
            x = activation.apply_tensor(&x.matmul(&w.t()?)?.broadcast_add(b)?)?;
        }
        self.head.apply_tensor(&x)
    }
}

impl Model for CandleDense {
    fn input_width(&self) -> usize {
        self.layers
            .first()
            .map_or(0, |(w, _, _)| w.dims().get(1).copied().unwrap_or(0))
    }

    fn output_width(&self) -> usize {
        self.layers
            .last()
            .map_or(0, |(w, _, _)| w.dims().first().copied().unwrap_or(0))
    }

    fn forward_columns(&self, features: &[f32], rows: usize) -> Result<Vec<f32>> {
        let inputs = self.input_width();
        super::check_feature_matrix(features, inputs, rows)?;
        if rows == 0 {
            return Ok(Vec::new());
        }
        let run = || -> candle_core::Result<Vec<f32>> {
            // Feature-major values are the transpose of the [rows, inputs] input.
            let x = Tensor::from_slice(features, (inputs, rows), &self.device)?.t()?;
            let y = self.forward(&x)?;
            // Output-major: the transpose of [rows, outputs], flattened.
            y.t()?.contiguous()?.flatten_all()?.to_vec1::<f32>()
        };
        self.device
            .with_context(run)
            .map_err(candle_error("candle forward pass"))
    }
}
