//! Activations and heads, applied in place on `f32` values (the CPU kernel)
//! or as Candle ops (any device). Both use the same formulas so the two
//! kernels agree to rounding.

use candle_core::Tensor;

use super::{Activation, OutputKind};

impl Activation {
    /// Applies the activation to every value of `values`.
    pub(crate) fn apply_in_place(self, values: &mut [f32]) {
        match self {
            Activation::Identity => {}
            Activation::Relu => values.iter_mut().for_each(|v| *v = v.max(0.0)),
            Activation::Tanh => values.iter_mut().for_each(|v| *v = v.tanh()),
            Activation::Sigmoid => values.iter_mut().for_each(|v| *v = sigmoid(*v)),
            Activation::Silu => values.iter_mut().for_each(|v| *v *= sigmoid(*v)),
            Activation::Gelu => values.iter_mut().for_each(|v| *v = gelu(*v)),
        }
    }

    /// The same activation as a Candle op.
    pub(crate) fn apply_tensor(self, x: &Tensor) -> candle_core::Result<Tensor> {
        match self {
            Activation::Identity => Ok(x.clone()),
            Activation::Relu => x.relu(),
            Activation::Tanh => x.tanh(),
            Activation::Sigmoid => candle_nn::ops::sigmoid(x),
            Activation::Silu => x.silu(),
            Activation::Gelu => x.gelu_erf(),
        }
    }
}

/// The logistic function, written so that neither branch overflows.
pub(crate) fn sigmoid(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// GELU in its exact form, x·Φ(x) = x·(1 + erf(x/√2))/2, with erf in `f64` as Candle computes it.
pub(crate) fn gelu(x: f32) -> f32 {
    let x = f64::from(x);
    ((candle_core::cpu::erf::erf_f64(x * std::f64::consts::FRAC_1_SQRT_2) + 1.0) * 0.5 * x) as f32
}

impl OutputKind {
    /// Applies the head to output-major values (`values[k * rows + i]`).
    pub(crate) fn apply_columns(self, values: &mut [f32], rows: usize) {
        match self {
            OutputKind::Identity => {}
            OutputKind::Sigmoid => values.iter_mut().for_each(|v| *v = sigmoid(*v)),
            OutputKind::Softmax => softmax_columns(values, rows),
        }
    }

    /// The head as a Candle op on `[rows, outputs]`.
    pub(crate) fn apply_tensor(self, x: &Tensor) -> candle_core::Result<Tensor> {
        match self {
            OutputKind::Identity => Ok(x.clone()),
            OutputKind::Sigmoid => candle_nn::ops::sigmoid(x),
            OutputKind::Softmax => candle_nn::ops::softmax_last_dim(x),
        }
    }
}

/// Softmax across columns, row by row, over output-major values. Passes run
/// down whole columns so they vectorise; the row maximum is subtracted first
/// so no exponential overflows.
fn softmax_columns(values: &mut [f32], rows: usize) {
    if rows == 0 {
        return;
    }
    let mut max = vec![f32::NEG_INFINITY; rows];
    for column in values.chunks_exact(rows) {
        for (m, &v) in max.iter_mut().zip(column) {
            *m = m.max(v);
        }
    }
    let mut sum = vec![0.0f32; rows];
    for column in values.chunks_exact_mut(rows) {
        for ((v, &m), s) in column.iter_mut().zip(&max).zip(sum.iter_mut()) {
            *v = (*v - m).exp();
            *s += *v;
        }
    }
    for column in values.chunks_exact_mut(rows) {
        for (v, &s) in column.iter_mut().zip(&sum) {
            *v /= s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigmoid_and_softmax_stay_finite_at_extremes() {
        assert_eq!(sigmoid(-1000.0), 0.0);
        assert_eq!(sigmoid(1000.0), 1.0);
        // Two rows, three outputs, output-major.
        let mut v = vec![1000.0, 0.0, 999.0, 0.0, -1000.0, 0.0];
        OutputKind::Softmax.apply_columns(&mut v, 2);
        assert!(v.iter().all(|x| x.is_finite()));
        assert!((v[0] + v[2] + v[4] - 1.0).abs() < 1e-6 && (v[1] + v[3] + v[5] - 1.0).abs() < 1e-6);
        assert!((v[1] - 1.0 / 3.0).abs() < 1e-6);
    }

    #[test]
    fn gelu_matches_its_definition() {
        // x·Φ(x) at x = 1: Φ(1) = 0.8413447460685429 (standard normal CDF).
        assert!((f64::from(gelu(1.0)) - 0.841_344_746_068_542_9).abs() < 1e-6);
        assert_eq!(gelu(0.0), 0.0);
    }
}
