//! The model as Candle's autodiff sees it when explaining: gradients with
//! respect to the input only.
//!
//! Candle's matmul backward computes the gradient of both operands, so every
//! layer would also pay for a weight gradient nobody reads (as much work as
//! the forward pass), and a layer written as matmul, bias and activation
//! allocates three intermediates forward and more backward. Here each dense
//! layer is one custom op with constant weights: the forward pass runs our
//! `gemm` kernel over the rows (split across threads) with bias and
//! activation fused, and the backward pass returns only
//! `∂L/∂x = (∂L/∂y ⊙ act'(y)) · W`, the derivative taken from the layer's
//! output (relu, tanh, sigmoid, identity). GELU and SiLU need the
//! pre-activation, so their layers fuse only the bias and leave the
//! activation to Candle. The head stays an ordinary Candle operation.

use std::sync::Arc;

use candle_core::{CpuStorage, CustomOp1, Layout, Shape, Tensor};
use mlops_core::Result;
use rayon::prelude::*;

use crate::model::gemm_call::{Layout as GemmLayout, matmul};
use crate::model::{Activation, DenseStack, OutputKind, Weights};

/// `y = act(x · Wᵀ + b)` with `W` and `b` constant.
#[derive(Clone)]
struct ConstLinear {
    /// `W` `[out, in]`, row-major, for the backward pass.
    w: Arc<Vec<f32>>,
    /// `Wᵀ` `[in, out]`, row-major, for the forward kernel.
    wt: Arc<Vec<f32>>,
    bias: Arc<Vec<f32>>,
    /// Fused into the op: its derivative is a function of its output.
    activation: Activation,
    inputs: usize,
    outputs: usize,
}

/// Whether `act'` can be computed from `act`'s output alone.
fn derivative_from_output(activation: Activation) -> bool {
    matches!(
        activation,
        Activation::Identity | Activation::Relu | Activation::Tanh | Activation::Sigmoid
    )
}

/// `act'(z)` written in terms of `y = act(z)`.
fn derivative(activation: Activation, y: f32) -> f32 {
    match activation {
        Activation::Relu => f32::from(u8::from(y > 0.0)),
        Activation::Tanh => 1.0 - y * y,
        Activation::Sigmoid => y * (1.0 - y),
        _ => 1.0,
    }
}

/// Contiguous `f32` values of a tensor on the CPU.
fn values(t: &Tensor) -> candle_core::Result<Vec<f32>> {
    t.flatten_all()?.to_vec1::<f32>()
}

/// Rows per thread for a row-split kernel call (at least 64, so small calls
/// stay on one thread). A call made on a rayon worker is one of several
/// running side by side (Integrated Gradients' passes): it stays whole.
fn rows_per_thread(rows: usize) -> usize {
    if rayon::current_thread_index().is_some() {
        return rows.max(1);
    }
    rows.div_ceil(rayon::current_num_threads().max(1)).max(64)
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
        let per = rows_per_thread(rows);
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
                )?;
                for row in dst.chunks_exact_mut(self.outputs) {
                    row.iter_mut().zip(self.bias.iter()).for_each(|(v, &b)| *v += b);
                    self.activation.apply_in_place(row);
                }
                Ok::<_, mlops_core::Error>(())
            })
            .map_err(|e| candle_core::Error::Msg(e.to_string()))?;
        Ok((CpuStorage::F32(out), Shape::from((rows, self.outputs))))
    }

    fn bwd(&self, _arg: &Tensor, res: &Tensor, grad_res: &Tensor) -> candle_core::Result<Option<Tensor>> {
        let (y, mut g) = (values(res)?, values(grad_res)?);
        let rows = g.len() / self.outputs.max(1);
        g.iter_mut()
            .zip(&y)
            .for_each(|(g, &y)| *g *= derivative(self.activation, y));
        let mut dx = vec![0.0f32; rows * self.inputs];
        let per = rows_per_thread(rows);
        dx.par_chunks_mut(per * self.inputs)
            .zip(g.par_chunks(per * self.outputs))
            .try_for_each(|(dst, lhs)| {
                let n = lhs.len() / self.outputs;
                matmul(
                    dst,
                    GemmLayout::row_major(n, self.inputs),
                    lhs,
                    GemmLayout::row_major(n, self.outputs),
                    &self.w,
                    GemmLayout::row_major(self.outputs, self.inputs),
                )
            })
            .map_err(|e| candle_core::Error::Msg(e.to_string()))?;
        Tensor::from_vec(dx, (rows, self.inputs), res.device()).map(Some)
    }
}

/// A dense stack whose input gradient Candle computes, and nothing more.
#[derive(Clone)]
pub(crate) struct GradientModel {
    /// Each layer, and the activation Candle applies after it (when the op could not fuse it).
    layers: Vec<(ConstLinear, Option<Activation>)>,
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
        let layers = stack
            .layers
            .iter()
            .map(|l| {
                let w = weights.values(&l.weight)?;
                let mut wt = vec![0.0f32; l.inputs * l.outputs];
                for o in 0..l.outputs {
                    for i in 0..l.inputs {
                        wt[i * l.outputs + o] = w[o * l.inputs + i];
                    }
                }
                let fused = derivative_from_output(l.activation);
                let op = ConstLinear {
                    w: Arc::new(w),
                    wt: Arc::new(wt),
                    bias: Arc::new(weights.values(&l.bias)?),
                    activation: if fused { l.activation } else { Activation::Identity },
                    inputs: l.inputs,
                    outputs: l.outputs,
                };
                Ok((op, (!fused).then_some(l.activation)))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(GradientModel {
            layers,
            head: stack.head,
        })
    }

    pub(crate) fn output_width(&self) -> usize {
        self.layers.last().map_or(0, |(l, _)| l.outputs)
    }

    /// `[rows, inputs]` → `[rows, outputs]`, head applied, differentiable in `x`.
    pub(crate) fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let mut x = x.clone();
        for (layer, activation) in &self.layers {
            x = x.apply_op1(layer.clone())?;
            if let Some(activation) = activation {
                x = activation.apply_tensor(&x)?;
            }
        }
        match self.head {
            // Candle's fused softmax has no backward pass; this one does.
            OutputKind::Softmax => candle_nn::ops::softmax(&x, candle_core::D::Minus1),
            other => other.apply_tensor(&x),
        }
    }
}
