//! Integrated Gradients (Sundararajan et al., 2017) through Candle's autodiff.
//!
//! For an input `x`, a baseline `x'` and the model output `F` being explained,
//! the attribution of feature `i` is
//! `(xᵢ − x'ᵢ) · ∫₀¹ ∂F(x' + α(x − x'))/∂xᵢ dα`,
//! approximated by the midpoint rule with `steps` points (error O(1/steps²) for
//! smooth models). Attributions add up to `F(x) − F(x')` (completeness) up to
//! that error.

use candle_core::{DType, Device, Tensor, Var};
use mlops_core::{Error, Result};
use rayon::prelude::*;

use super::gradient_model::GradientModel;

/// Interpolated inputs (rows × steps) that go through the model together.
/// Small passes keep each intermediate (points × widest layer × 4 bytes:
/// 128 KiB here) in cache and inside the allocator's heap: larger ones are
/// mapped and unmapped on every pass, and the page faults and TLB
/// shootdowns cost more than the arithmetic. On the 64→256→256→1 MLP with
/// 32 steps, a standalone process explained 2.9–3.1k rows/s with 1,024
/// points per pass, 4.0–4.5k with 256, and 5.5–7.3k with 128.
const MAX_POINTS_PER_PASS: usize = 128;

fn candle(location: &'static str) -> impl Fn(candle_core::Error) -> Error {
    move |e| Error::inference(location, e)
}

/// Attributions of `rows` rows (`x`, row-major, `features` per row) for the
/// model output `targets[r]` of each row, against `baseline` (one value per
/// feature), with `steps` midpoint-rule points. Row-major, like `x`.
pub(crate) fn integrated_gradients(
    model: &GradientModel,
    x: &[f32],
    rows: usize,
    baseline: &[f32],
    targets: &[usize],
    steps: usize,
) -> Result<Vec<f32>> {
    let features = baseline.len();
    let outputs = model.output_width();
    if features == 0 || x.len() != rows * features || targets.len() != rows || steps == 0 {
        return Err(Error::invalid_input(
            "integrated gradients",
            "inputs",
            format!(
                "{} values, {} targets and {steps} steps for {rows} rows of {features} features",
                x.len(),
                targets.len()
            ),
            "at least one feature, rows × features values, one target per row, at least one step",
        ));
    }
    if let Some(&t) = targets.iter().find(|&&t| t >= outputs) {
        return Err(Error::invalid_input(
            "integrated gradients",
            "target",
            format!("output {t}"),
            format!("an output index below {outputs}"),
        ));
    }
    let rows_per_pass = (MAX_POINTS_PER_PASS / steps).max(1);
    let alphas: Vec<f32> = (0..steps).map(|k| (k as f32 + 0.5) / steps as f32).collect();
    // Passes run side by side, one per rayon thread, each single-threaded
    // inside (see `rows_per_thread`): one join per pass rather than one per
    // layer and direction, which is what thread hand-offs cost on small passes.
    let firsts: Vec<usize> = (0..rows).step_by(rows_per_pass).collect();
    let passes: Vec<Vec<f32>> = firsts
        .par_iter()
        .map(|&first| {
            let n = rows_per_pass.min(rows - first);
            one_pass(
                model,
                &x[first * features..(first + n) * features],
                baseline,
                &targets[first..first + n],
                &alphas,
            )
        })
        .collect::<Result<_>>()?;
    Ok(passes.concat())
}

/// The attributions of the rows of `x` (row-major), in one forward and one backward pass.
fn one_pass(model: &GradientModel, x: &[f32], baseline: &[f32], targets: &[usize], alphas: &[f32]) -> Result<Vec<f32>> {
    let (features, outputs, steps) = (baseline.len(), model.output_width(), alphas.len());
    let n = targets.len();
    let points = n * steps;
    let mut path = Vec::with_capacity(points * features);
    let mut mask = vec![0.0f32; points * outputs];
    for (r, row) in x.chunks_exact(features).enumerate() {
        for (k, &alpha) in alphas.iter().enumerate() {
            path.extend(row.iter().zip(baseline).map(|(&xi, &bi)| bi + alpha * (xi - bi)));
            mask[(r * steps + k) * outputs + targets[r]] = 1.0;
        }
    }
    let input = Var::from_vec(path, (points, features), &Device::Cpu).map_err(candle("integrated gradients input"))?;
    let mask = Tensor::from_vec(mask, (points, outputs), &Device::Cpu).map_err(candle("integrated gradients"))?;
    // Σ over points of each point's target output: its gradient with
    // respect to the input holds every point's own gradient.
    let total = model
        .forward(input.as_tensor())
        .and_then(|out| (out * mask)?.sum_all())
        .map_err(candle("integrated gradients forward pass"))?;
    let grads = total.backward().map_err(candle("integrated gradients backward pass"))?;
    let gradient = grads
        .get(input.as_tensor())
        .ok_or_else(|| Error::inference("integrated gradients", "no gradient reached the input"))?
        .to_dtype(DType::F32)
        .and_then(|g| g.flatten_all())
        .and_then(|g| g.to_vec1::<f32>())
        .map_err(candle("integrated gradients"))?;
    let mut attributions = vec![0.0f32; n * features];
    for (r, (out, row)) in attributions
        .chunks_exact_mut(features)
        .zip(x.chunks_exact(features))
        .enumerate()
    {
        for k in 0..steps {
            let g = &gradient[(r * steps + k) * features..(r * steps + k + 1) * features];
            out.iter_mut().zip(g).for_each(|(a, &gi)| *a += gi);
        }
        for ((a, &xi), &bi) in out.iter_mut().zip(row).zip(baseline) {
            *a *= (xi - bi) / steps as f32;
        }
    }
    Ok(attributions)
}
