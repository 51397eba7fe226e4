//! One row through a dense layer without `gemm`: `y = b + x · Wᵀ`.
//!
//! `gemm` on a single row was the larger half of a one-row request: its
//! one-column micro-kernel reduces every dot product across lanes. Here the
//! outputs are cut into panels of [`PANEL`] whose weights are stored
//! `[inputs][PANEL]` contiguously ([`PackedWeights`]): a panel's sums live in
//! registers (one lane per output, no horizontal sums) while its weights
//! stream from cache in order, so the kernel runs at the cache's bandwidth.
//! Measured on the inference benchmark's 64→256→256→1 model, one row: 7.0–7.5
//! µs with `gemm`, 4.8–4.9 µs packed (`Wᵀ` does not fit in L1 and is read once
//! per row; 328 KB in 4.8 µs is about the L2 bandwidth). A narrow last
//! layer (the 256→1 head) is computed as dot products over rows of `W`
//! instead of a zero-padded panel, which read 64 KB for 1 KB of weights:
//! one-row requests p50 10.1–10.2 → 9.2 µs (binaries before/after, alternating).
//!
//! The loops are plain Rust that LLVM vectorises; `pulp`'s dispatch compiles
//! them for the widest SIMD the CPU has (AVX-512 or AVX2 with FMA, else the
//! baseline), detected at run time, so the binary stays portable. `pulp` is
//! already in the tree as `gemm`'s SIMD layer.

/// Outputs per panel: four AVX-512 registers per set of sums (eight AVX2 ones).
pub(crate) const PANEL: usize = 64;

/// The most outputs left over after the full panels that are computed as dot
/// products instead of one more zero-padded panel. A padded panel reads
/// `inputs × PANEL` weights whatever the remainder: for the benchmark's
/// 256→1 head that was 64 KB, a sixth of the row's weight traffic, for 1 KB
/// of real weights.
const MAX_DOT_OUTPUTS: usize = 8;

/// `Wᵀ` repacked for the one-row kernel: the outputs cut into panels of
/// [`PANEL`], each panel `[inputs][PANEL]`; a remainder of at most
/// [`MAX_DOT_OUTPUTS`] outputs kept as rows of `W` (`[outputs][inputs]`) for
/// dot products, a larger one padded with zeros into one more panel.
#[derive(Clone, Debug)]
pub(crate) struct PackedWeights {
    panels: Vec<[f32; PANEL]>,
    /// Outputs the panels cover (a multiple of [`PANEL`]).
    panel_outputs: usize,
    /// The other outputs' weights, one row of `inputs` per output.
    dot_rows: Vec<f32>,
    inputs: usize,
    outputs: usize,
}

impl PackedWeights {
    /// Packs `weight_t`, `[inputs, outputs]` row-major (values it lacks read as 0).
    pub(crate) fn new(weight_t: &[f32], inputs: usize, outputs: usize) -> Self {
        let weight = |input: usize, output: usize| weight_t.get(input * outputs + output).copied().unwrap_or(0.0);
        let remainder = outputs % PANEL;
        let panel_count = if remainder <= MAX_DOT_OUTPUTS {
            outputs / PANEL
        } else {
            outputs.div_ceil(PANEL)
        };
        let panel_outputs = (panel_count * PANEL).min(outputs);
        let mut panels = vec![[0.0f32; PANEL]; panel_count * inputs];
        for (index, row) in panels.iter_mut().enumerate() {
            let (panel, input) = (index / inputs.max(1), index % inputs.max(1));
            for (lane, v) in row.iter_mut().enumerate() {
                let output = panel * PANEL + lane;
                if output < outputs {
                    *v = weight(input, output);
                }
            }
        }
        let dot_rows = (panel_outputs..outputs)
            .flat_map(|output| (0..inputs).map(move |input| (input, output)))
            .map(|(input, output)| weight(input, output))
            .collect();
        PackedWeights {
            panels,
            panel_outputs,
            dot_rows,
            inputs,
            outputs,
        }
    }
}

/// `y = bias + x · Wᵀ` for one row. Extra inputs, outputs or biases beyond
/// the weights' shape are ignored; missing inputs count as 0.
pub(crate) fn dense_row(x: &[f32], weights: &PackedWeights, bias: &[f32], y: &mut [f32]) {
    pulp::Arch::new().dispatch(PackedRow { x, weights, bias, y });
}

/// The kernel as a pulp operation: `with_simd` is inlined into a function
/// compiled for the detected instruction set, which is what lets LLVM
/// vectorise the loops and turn `mul_add` into FMA instructions (a closure
/// was not inlined there, and each `mul_add` became a call to `fmaf`).
struct PackedRow<'a> {
    x: &'a [f32],
    weights: &'a PackedWeights,
    bias: &'a [f32],
    y: &'a mut [f32],
}

impl pulp::WithSimd for PackedRow<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        let PackedRow { x, weights, bias, y } = self;
        let inputs = weights.inputs.min(x.len());
        let x = &x[..inputs];
        let outputs = weights.outputs.min(y.len());
        let y = &mut y[..outputs];
        y.fill(0.0);
        y.iter_mut().zip(bias).for_each(|(v, &b)| *v = b);
        let (panel_y, dot_y) = y.split_at_mut(weights.panel_outputs.min(outputs));
        for (w, v) in weights.dot_rows.chunks_exact(weights.inputs.max(1)).zip(dot_y) {
            *v += dot(x, &w[..inputs]);
        }
        for (rows, out) in weights
            .panels
            .chunks_exact(weights.inputs.max(1))
            .zip(panel_y.chunks_mut(PANEL))
        {
            // Two sets of sums (even and odd inputs): eight independent FMA
            // chains keep both FMA units busy.
            let (mut even, mut odd) = ([0.0f32; PANEL], [0.0f32; PANEL]);
            let mut pairs = x.chunks_exact(2);
            let mut row_pairs = rows[..inputs].chunks_exact(2);
            for (xs, ws) in pairs.by_ref().zip(row_pairs.by_ref()) {
                let (x0, x1) = (xs[0], xs[1]);
                for (a, &w) in even.iter_mut().zip(&ws[0]) {
                    *a = x0.mul_add(w, *a);
                }
                for (a, &w) in odd.iter_mut().zip(&ws[1]) {
                    *a = x1.mul_add(w, *a);
                }
            }
            for (&xi, w) in pairs.remainder().iter().zip(row_pairs.remainder()) {
                for (a, &w) in even.iter_mut().zip(w) {
                    *a = xi.mul_add(w, *a);
                }
            }
            for ((v, &e), &o) in out.iter_mut().zip(&even).zip(&odd) {
                *v += e + o;
            }
        }
    }
}

/// `x · w` over equal lengths, in 32 lanes of partial sums (two AVX-512
/// registers, four AVX2 ones) that LLVM keeps in registers.
#[inline(always)]
fn dot(x: &[f32], w: &[f32]) -> f32 {
    const LANES: usize = 32;
    let mut sums = [0.0f32; LANES];
    let (mut xs, mut ws) = (x.chunks_exact(LANES), w.chunks_exact(LANES));
    for (xc, wc) in xs.by_ref().zip(ws.by_ref()) {
        for ((s, &a), &b) in sums.iter_mut().zip(xc).zip(wc) {
            *s = a.mul_add(b, *s);
        }
    }
    let tail: f32 = xs.remainder().iter().zip(ws.remainder()).map(|(&a, &b)| a * b).sum();
    sums.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sum in f64, the plain way.
    fn reference(x: &[f32], weight_t: &[f32], bias: &[f32]) -> Vec<f64> {
        let outputs = bias.len();
        (0..outputs)
            .map(|o| {
                f64::from(bias[o])
                    + x.iter()
                        .enumerate()
                        .map(|(i, &xi)| f64::from(xi) * f64::from(weight_t[i * outputs + o]))
                        .sum::<f64>()
            })
            .collect()
    }

    #[test]
    fn matches_the_plain_sum_for_odd_inputs_and_partial_panels() {
        for inputs in [0usize, 1, 2, 3, 7, 13, 33, 64, 100] {
            for outputs in [1usize, 3, 8, 9, 16, 63, 64, 65, 72, 73, 256] {
                let x: Vec<f32> = (0..inputs).map(|i| (i as f32 * 0.37).sin()).collect();
                let weight_t: Vec<f32> = (0..inputs * outputs).map(|i| (i as f32 * 0.11).cos()).collect();
                let bias: Vec<f32> = (0..outputs).map(|o| o as f32 * 0.01 - 0.5).collect();
                let packed = PackedWeights::new(&weight_t, inputs, outputs);
                let mut y = vec![f32::NAN; outputs];
                dense_row(&x, &packed, &bias, &mut y);
                for (got, want) in y.iter().zip(reference(&x, &weight_t, &bias)) {
                    assert!(
                        (f64::from(*got) - want).abs() <= 1e-5 * (1.0 + want.abs()),
                        "{inputs}×{outputs}: {got} vs {want}"
                    );
                }
            }
        }
    }

    #[test]
    fn mismatched_lengths_compute_over_the_overlap_without_panicking() {
        let none = PackedWeights::new(&[], 0, 2);
        let mut y = vec![0.0f32; 2];
        dense_row(&[], &none, &[0.25, 0.75], &mut y);
        assert_eq!(y, vec![0.25, 0.75]);
        let packed = PackedWeights::new(&[1.0; 8], 2, 4);
        // Too few inputs (the second counts as 0), a short bias, a long output.
        let mut y = vec![9.0f32; 6];
        dense_row(&[1.0], &packed, &[0.5, 0.5], &mut y);
        assert_eq!(y, vec![1.5, 1.5, 1.0, 1.0, 9.0, 9.0]);
        // Weights shorter than their shape read as 0.
        let short = PackedWeights::new(&[1.0; 3], 2, 4);
        let mut y = vec![0.0f32; 4];
        dense_row(&[1.0, 1.0], &short, &[0.0; 4], &mut y);
        assert_eq!(y, vec![1.0, 1.0, 1.0, 0.0]);
    }
}
