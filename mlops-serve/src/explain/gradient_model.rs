//! The model as Candle's autodiff sees it when explaining: gradients with
//! respect to the input only.
//!
//! Candle's matmul backward computes the gradient of both operands, so every
//! layer would also pay for a weight gradient nobody reads (as much work as
//! the forward pass). Here each dense layer is a custom op with constant
//! weights: its forward pass runs our `gemm` kernel over the rows (split
//! across threads), and its backward pass returns only `∂L/∂x = ∂L/∂y · W`.
//! Biases, activations and the head stay ordinary Candle operations.

use std::sync::Arc;

use candle_core::{CpuStorage, CustomOp1, Device, Layout, Shape, Tensor};
use mlops_core::{Error, Result};
use rayon::prelude::*;

use crate::model::gemm_call::{Layout as GemmLayout, matmul};
use crate::model::{Activation, DenseStack, OutputKind, Weights};

/// `y = x · Wᵀ` with `W` constant.
#[derive(Clone)]
struct ConstLinear {
    /// `W` `[out, in]`, for the backward pass.
    w: Tensor,
    /// `Wᵀ` `[in, out]`, row-major, for the forward kernel.
    wt: Arc<Vec<f32>>,
    inputs: usize,
    outputs: usize,
}

impl CustomOp1 for ConstLinear {
    fn name(&self) -> &'static str {
        "mlops-const-linear"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let CpuStorage::F32(data) = storage else {
            return Err(candle_core::Error::Msg("const-linear takes f32 inputs".into()));
        };
        let (start, end) = layout
            .contiguous_offsets()
            .ok_or_else(|| candle_core::Error::Msg("const-linear takes a contiguous input".into()))?;
        let x = &data[start..end];
        let rows = x.len() / self.inputs.max(1);
        let mut out = vec![0.0f32; rows * self.outputs];
        // One piece per thread: gemm runs single-threaded on each.
        let per = rows.div_ceil(rayon::current_num_threads().max(1)).max(64);
        out.par_chunks_mut(per * self.outputs)
            .zip(x.par_chunks(per * self.inputs))
            .try_for_each(|(dst, lhs)| {
                let n = lhs.len() / self.inputs;
                matmul(
                    dst,
                    GemmLayout::row_major(n, self.outputs),
                    lhs,
                    GemmLayout::row_major(n, self.inputs),
                    &self.wt,
                    GemmLayout::row_major(self.inputs, self.outputs),
                )
            })
            .map_err(|e| candle_core::Error::Msg(e.to_string()))?;
        Ok((CpuStorage::F32(out), Shape::from((rows, self.outputs))))
    }

    fn bwd(&self, _arg: &Tensor, _res: &Tensor, grad_res: &Tensor) -> candle_core::Result<Option<Tensor>> {
        grad_res.matmul(&self.w).map(Some)
    }
}

/// A dense stack whose input gradient Candle computes, and nothing more.
#[derive(Clone)]
pub(crate) struct GradientModel {
    layers: Vec<(ConstLinear, Tensor, Activation)>,
    head: OutputKind,
}

impl std::fmt::Debug for GradientModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GradientModel")
            .field("layers", &self.layers.len())
            .field("head", &self.head)
            .finish()
    }
}

impl GradientModel {
    pub(crate) fn new(stack: &DenseStack, weights: &Weights) -> Result<GradientModel> {
        let candle = |name: &str| {
            let name = name.to_owned();
            move |e: candle_core::Error| Error::inference(name.clone(), e)
        };
        let layers = stack
            .layers
            .iter()
            .map(|l| {
                let w_values = weights.values(&l.weight)?;
                let mut wt = vec![0.0f32; l.inputs * l.outputs];
                for o in 0..l.outputs {
                    for i in 0..l.inputs {
                        wt[i * l.outputs + o] = w_values[o * l.inputs + i];
                    }
                }
                let w = Tensor::from_vec(w_values, (l.outputs, l.inputs), &Device::Cpu).map_err(candle(&l.weight))?;
                let b = Tensor::from_vec(weights.values(&l.bias)?, l.outputs, &Device::Cpu).map_err(candle(&l.bias))?;
                let op = ConstLinear {
                    w,
                    wt: Arc::new(wt),
                    inputs: l.inputs,
                    outputs: l.outputs,
                };
                Ok((op, b, l.activation))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(GradientModel {
            layers,
            head: stack.head,
        })
    }

    pub(crate) fn output_width(&self) -> usize {
        self.layers.last().map_or(0, |(l, _, _)| l.outputs)
    }

    /// `[rows, inputs]` → `[rows, outputs]`, head applied, differentiable in `x`.
    pub(crate) fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let mut x = x.clone();
        for (linear, b, activation) in &self.layers {
            x = activation.apply_tensor(&x.apply_op1(linear.clone())?.broadcast_add(b)?)?;
        }
        match self.head {
            // Candle's fused softmax has no backward pass; this one does.
            OutputKind::Softmax => candle_nn::ops::softmax(&x, candle_core::D::Minus1),
            other => other.apply_tensor(&x),
        }
    }
}
