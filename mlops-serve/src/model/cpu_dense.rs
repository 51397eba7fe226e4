//! The CPU kernel of a dense stack: `gemm` on pre-transposed, contiguous
//! weights, bias and activation fused into one pass over each tile, rows
//! processed in cache-sized tiles on the calling thread.

use mlops_core::{Error, Result};

use super::gemm_call::{Layout, matmul};
use super::row_kernel::{PackedWeights, dense_row};
use super::{Activation, DenseStack, Model, OutputKind, Weights};
use crate::scratch;

/// Rows per tile: 256 rows × 256 hidden units × 4 bytes = 256 KiB per
/// activation buffer, which stays in a core's L2 cache.
const DEFAULT_TILE_ROWS: usize = 256;

/// `v = act(v + b)` over one row of a layer's outputs, in one pass for the
/// activations that vectorise (relu, identity), else bias then activation.
fn add_bias_and_activate(row: &mut [f32], bias: &[f32], activation: Activation) {
    match activation {
        Activation::Relu => row.iter_mut().zip(bias).for_each(|(v, &b)| *v = (*v + b).max(0.0)),
        Activation::Identity => row.iter_mut().zip(bias).for_each(|(v, &b)| *v += b),
        other => {
            row.iter_mut().zip(bias).for_each(|(v, &b)| *v += b);
            other.apply_in_place(row);
        }
    }
}

/// Below this many rows, rows are computed one by one with the row kernel
/// (`row_kernel.rs`) instead of a `gemm` call, whose one-row path cost more
/// than the rest of a one-row request.
const DOT_ROWS: usize = 4;

#[derive(Clone, Debug)]
struct CpuLayer {
    /// `Wᵀ`, `[in, out]` row-major: the right-hand side of `x · Wᵀ`, contiguous.
    weight_t: Vec<f32>,
    /// `Wᵀ` again, packed for the one-row kernel.
    packed: PackedWeights,
    bias: Vec<f32>,
    inputs: usize,
    outputs: usize,
    activation: Activation,
}

/// A dense stack on the CPU, computed with direct `gemm` calls.
#[derive(Clone, Debug)]
pub struct CpuDense {
    layers: Vec<CpuLayer>,
    head: OutputKind,
    tile_rows: usize,
}

impl CpuDense {
    /// Builds the kernel from a stack and its weights.
    pub fn new(stack: &DenseStack, weights: &Weights) -> Result<CpuDense> {
        if stack.layers.is_empty() {
            return Err(Error::invalid_input(
                "dense stack",
                "layers",
                "no layers",
                "at least one dense layer",
            ));
        }
        let params = stack.parameters(weights)?;
        let layers = stack
            .layers
            .iter()
            .zip(params)
            .map(|(l, (w, b))| {
                // W is [out, in] row-major; store its transpose [in, out] row-major.
                let mut weight_t = vec![0.0f32; l.inputs * l.outputs];
                for o in 0..l.outputs {
                    for i in 0..l.inputs {
                        weight_t[i * l.outputs + o] = w[o * l.inputs + i];
                    }
                }
                CpuLayer {
                    packed: PackedWeights::new(&weight_t, l.inputs, l.outputs),
                    weight_t,
                    bias: b,
                    inputs: l.inputs,
                    outputs: l.outputs,
                    activation: l.activation,
                }
            })
            .collect();
        Ok(CpuDense {
            layers,
            head: stack.head,
            tile_rows: DEFAULT_TILE_ROWS,
        })
    }

    /// Sets the rows per tile (at least 1).
    pub fn with_tile_rows(mut self, rows: usize) -> Self {
        self.tile_rows = rows.max(1);
        self
    }

    fn widest_hidden(&self) -> usize {
        self.layers[..self.layers.len().saturating_sub(1)]
            .iter()
            .map(|l| l.outputs)
            .max()
            .unwrap_or(0)
    }
}

impl CpuDense {
    /// A few rows, one at a time, through the row kernel.
    fn forward_rows_one_by_one(&self, features: &[f32], rows: usize, out: &mut [f32]) -> Result<()> {
        let widest = self.layers.iter().map(|l| l.inputs.max(l.outputs)).max().unwrap_or(0);
        let (mut x, mut y) = (vec![0.0f32; widest], vec![0.0f32; widest]);
        let (inputs, outputs) = (self.input_width(), self.output_width());
        for r in 0..rows {
            for (j, v) in x[..inputs].iter_mut().enumerate() {
                *v = features[j * rows + r];
            }
            for layer in &self.layers {
                let computed = &mut y[..layer.outputs];
                dense_row(&x[..layer.inputs], &layer.packed, &layer.bias, computed);
                layer.activation.apply_in_place(computed);
                std::mem::swap(&mut x, &mut y);
            }
            for (k, &v) in x[..outputs].iter().enumerate() {
                out[k * rows + r] = v;
            }
        }
        Ok(())
    }
}

impl CpuDense {
    /// Rows `0..rows` of `features` through every layer, tile by tile, into
    /// `out` (head not applied); `a` and `b` hold a tile of the widest hidden
    /// layer each, and their contents on entry do not matter.
    fn forward_tiles<'t>(
        &self,
        features: &[f32],
        rows: usize,
        out: &mut [f32],
        mut a: &'t mut [f32],
        mut b: &'t mut [f32],
    ) -> Result<()> {
        let last = self.layers.len() - 1;
        let mut start = 0;
        while start < rows {
            let tile = self.tile_rows.min(rows - start);
            for (index, layer) in self.layers.iter().enumerate() {
                // Where this layer reads: the caller's columns for the first
                // layer, else the previous layer's row-major tile in `a`.
                let (lhs, lhs_layout): (&[f32], Layout) = if index == 0 {
                    (&features[start..], Layout::col_major(tile, layer.inputs, rows))
                } else {
                    (&a[..tile * layer.inputs], Layout::row_major(tile, layer.inputs))
                };
                let rhs_layout = Layout::row_major(layer.inputs, layer.outputs);
                if index == last {
                    // The last layer writes straight into the output columns.
                    let dst = &mut out[start..];
                    matmul(
                        dst,
                        Layout::col_major(tile, layer.outputs, rows),
                        lhs,
                        lhs_layout,
                        &layer.weight_t,
                        rhs_layout,
                    )?;
                    for (k, &bias) in layer.bias.iter().enumerate() {
                        let column = &mut out[k * rows + start..k * rows + start + tile];
                        column.iter_mut().for_each(|v| *v += bias);
                        layer.activation.apply_in_place(column);
                    }
                } else {
                    let dst = &mut b[..tile * layer.outputs];
                    matmul(
                        dst,
                        Layout::row_major(tile, layer.outputs),
                        lhs,
                        lhs_layout,
                        &layer.weight_t,
                        rhs_layout,
                    )?;
                    for row in dst.chunks_exact_mut(layer.outputs) {
                        add_bias_and_activate(row, &layer.bias, layer.activation);
                    }
                    std::mem::swap(&mut a, &mut b);
                }
            }
            start += tile;
        }
        Ok(())
    }
}

impl Model for CpuDense {
    fn input_width(&self) -> usize {
        self.layers.first().map_or(0, |l| l.inputs)
    }

    fn output_width(&self) -> usize {
        self.layers.last().map_or(0, |l| l.outputs)
    }

    fn forward_columns(&self, features: &[f32], rows: usize) -> Result<Vec<f32>> {
        let (inputs, outputs) = (self.input_width(), self.output_width());
        super::check_feature_matrix(features, inputs, rows)?;
        let mut out = vec![0.0f32; outputs * rows];
        if rows < DOT_ROWS {
            self.forward_rows_one_by_one(features, rows, &mut out)?;
            self.head.apply_columns(&mut out, rows);
            return Ok(out);
        }
        // The two tiles come from this thread's scratch: allocated per call
        // they were page-faulted in again on every batch (see `scratch.rs`).
        let tile_len = self.widest_hidden() * self.tile_rows.min(rows);
        scratch::with_buffer(tile_len, |a| {
            scratch::with_buffer(tile_len, |b| self.forward_tiles(features, rows, &mut out, a, b))
        })?;
        self.head.apply_columns(&mut out, rows);
        Ok(out)
    }
}
