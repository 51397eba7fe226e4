//! Training a dense model with candle-nn, in the layout serving reads: the
//! same [`ModelSpec`] describes the model trained here and the model served,
//! and the weights come out in `nn.Sequential` naming.
//!
//! Deterministic on the CPU: Candle's CPU generator cannot be seeded, so the
//! initial weights are drawn here from a seeded generator (PyTorch's
//! `nn.Linear` initialisation: uniform in ±1/√fan_in), and full-batch AdamW
//! has no other randomness.

use std::collections::BTreeMap;

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use mlops_core::{Error, Result};

use crate::model::{ModelSpec, OutputKind, Weights};

/// How a model is trained.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct TrainConfig {
    /// Full-batch optimisation steps. Default 300.
    pub epochs: usize,
    /// AdamW's learning rate. Default 0.01.
    pub learning_rate: f64,
    /// AdamW's weight decay. Default 0.0.
    pub weight_decay: f64,
    /// Seed of the initial weights. Default 42.
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 300,
            learning_rate: 0.01,
            weight_decay: 0.0,
            seed: 42,
        }
    }
}

impl TrainConfig {
    /// Sets the number of steps.
    pub fn with_epochs(mut self, epochs: usize) -> Self {
        self.epochs = epochs;
        self
    }

    /// Sets the learning rate.
    pub fn with_learning_rate(mut self, lr: f64) -> Self {
        self.learning_rate = lr;
        self
    }

    /// Sets the weight decay.
    pub fn with_weight_decay(mut self, decay: f64) -> Self {
        self.weight_decay = decay;
        self
    }

    /// Sets the seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
}

/// A trained model: its weights (by our names) and the loss at each step.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Trained {
    /// The weights, ready for [`Predictor::from_parts`](crate::Predictor::from_parts).
    pub weights: Weights,
    /// The weights as a safetensors file, ready for a package.
    pub safetensors: Vec<u8>,
    /// The training loss after each step.
    pub losses: Vec<f64>,
}

fn candle(location: &str) -> impl Fn(candle_core::Error) -> Error + '_ {
    move |e| Error::inference(location.to_owned(), e)
}

/// Trains `spec`'s dense stack on `x` (`[rows, inputs]`, `f32`) and targets
/// `y`: class indices (`u32`, `[rows]`) for a softmax head, 0/1 (`f32`,
/// `[rows]`) for a sigmoid head, values (`f32`, `[rows, outputs]`) for an
/// identity head. The loss is cross-entropy, binary cross-entropy or mean
/// squared error to match.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use mlops_serve::ModelSpec;
/// use mlops_serve::train::{TrainConfig, train_dense};
///
/// // y = 2a − b, learnt by a linear model.
/// let x = Tensor::from_vec(vec![0f32, 0., 1., 0., 0., 1., 1., 1.], (4, 2), &Device::Cpu)?;
/// let y = Tensor::from_vec(vec![0f32, 2., -1., 1.], (4, 1), &Device::Cpu)?;
/// let spec = ModelSpec::from_json(r#"{"architecture": "linear", "inputs": 2, "outputs": 1,
///     "output": "identity", "features": ["a", "b"]}"#)?;
/// let trained = train_dense(&spec, &x, &y, &TrainConfig::default().with_epochs(500).with_learning_rate(0.05))?;
/// assert!(trained.losses.last().copied().unwrap_or(1.0) < 1e-3);
/// // The same bytes go into a package; serving reads them with the same spec.
/// assert!(mlops_core::PackageBuilder::new("m").weights(trained.safetensors).build().is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn train_dense(spec: &ModelSpec, x: &Tensor, y: &Tensor, config: &TrainConfig) -> Result<Trained> {
    spec.validate()?;
    let stack = spec.architecture.dense_stack(spec.output);
    let device = Device::Cpu;
    let mut rng = fastrand::Rng::with_seed(config.seed);
    let mut vars: Vec<(String, Var)> = Vec::new();
    for layer in &stack.layers {
        let bound = 1.0 / (layer.inputs as f32).sqrt();
        let mut draw = |n: usize| -> Vec<f32> { (0..n).map(|_| (rng.f32() * 2.0 - 1.0) * bound).collect() };
        let w = Var::from_vec(
            draw(layer.outputs * layer.inputs),
            (layer.outputs, layer.inputs),
            &device,
        )
        .map_err(candle(&layer.weight))?;
        let b = Var::from_vec(draw(layer.outputs), layer.outputs, &device).map_err(candle(&layer.bias))?;
        vars.push((layer.weight.clone(), w));
        vars.push((layer.bias.clone(), b));
    }
    let params = ParamsAdamW {
        lr: config.learning_rate,
        weight_decay: config.weight_decay,
        ..ParamsAdamW::default()
    };
    let mut optimizer = AdamW::new(vars.iter().map(|(_, v)| v.clone()).collect(), params).map_err(candle("AdamW"))?;
    let x = x.to_dtype(DType::F32).map_err(candle("training features"))?;
    let logits = |vars: &[(String, Var)]| -> candle_core::Result<Tensor> {
        let mut h = x.clone();
        for (layer, pair) in stack.layers.iter().zip(vars.chunks_exact(2)) {
            h = layer
                .activation
                .apply_tensor(&h.matmul(&pair[0].1.t()?)?.broadcast_add(&pair[1].1)?)?;
        }
        Ok(h)
    };
    let loss_of = |z: &Tensor| -> candle_core::Result<Tensor> {
        match spec.output {
            OutputKind::Softmax => candle_nn::loss::cross_entropy(z, y),
            // log(1 + e^z) − y·z, written as max(z, 0) + log(1 + e^−|z|) − y·z so that no
            // term overflows or takes log(0) once the model is confident
            // (candle-nn's version goes through sigmoid and log and turns NaN there).
            OutputKind::Sigmoid => {
                let z = z.squeeze(1)?;
                let softplus = (z.relu()? + (z.abs()?.neg()?.exp()? + 1.0)?.log()?)?;
                (softplus - (z * y.to_dtype(DType::F32)?)?)?.mean_all()
            }
            _ => candle_nn::loss::mse(&z.reshape(y.shape())?, &y.to_dtype(DType::F32)?),
        }
    };
    let mut losses = Vec::with_capacity(config.epochs);
    for _ in 0..config.epochs {
        let loss = logits(&vars)
            .and_then(|z| loss_of(&z))
            .map_err(candle("training loss"))?;
        optimizer.backward_step(&loss).map_err(candle("optimiser step"))?;
        losses.push(f64::from(loss.to_scalar::<f32>().map_err(candle("training loss"))?));
    }
    let tensors: BTreeMap<String, Tensor> = vars.iter().map(|(n, v)| (n.clone(), v.as_tensor().clone())).collect();
    let slots = spec.architecture.architecture().tensors();
    let weights = Weights::from_tensors(tensors, &slots)?;
    let mut files: Vec<(String, Vec<usize>, Vec<f32>)> = Vec::new();
    for slot in &slots {
        files.push((slot.name.clone(), slot.shape.clone(), weights.values(&slot.name)?));
    }
    let views: Vec<(&str, &[usize], &[f32])> = files
        .iter()
        .map(|(n, s, v)| (n.as_str(), s.as_slice(), v.as_slice()))
        .collect();
    let safetensors = mlops_core::weights::encode_f32(&views)?;
    Ok(Trained {
        weights,
        safetensors,
        losses,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn xor_like() -> (Tensor, Tensor) {
        let mut rng = fastrand::Rng::with_seed(1);
        let n = 64;
        let mut x = Vec::new();
        let mut y = Vec::new();
        for _ in 0..n {
            let (a, b) = (rng.f32() * 2.0 - 1.0, rng.f32() * 2.0 - 1.0);
            x.extend([a, b]);
            y.push(f32::from(u8::from(a * b > 0.0)));
        }
        (
            Tensor::from_vec(x, (n, 2), &Device::Cpu).unwrap(),
            Tensor::from_vec(y, n, &Device::Cpu).unwrap(),
        )
    }

    #[test]
    fn training_learns_a_non_linear_rule_and_is_deterministic() {
        let spec = ModelSpec::from_json_value(&serde_json::json!({"architecture": "mlp", "layers": [2, 16, 1],
            "activation": "tanh", "output": "sigmoid", "features": ["a", "b"], "classes": ["no", "yes"]}))
        .unwrap();
        let (x, y) = xor_like();
        let config = TrainConfig::default().with_epochs(150).with_learning_rate(0.08);
        let a = train_dense(&spec, &x, &y, &config).unwrap();
        let b = train_dense(&spec, &x, &y, &config).unwrap();
        assert_eq!(a.safetensors, b.safetensors, "same seed, same bytes");
        let (first, last) = (a.losses[0], *a.losses.last().unwrap());
        assert!(last < 0.25 && last < first / 2.0, "loss {first} -> {last}");
        let c = train_dense(&spec, &x, &y, &config.clone().with_seed(7)).unwrap();
        assert_ne!(a.safetensors, c.safetensors);
    }
}
