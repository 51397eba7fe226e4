//! Same data, seed and parameters: the same weights, the same content digest.

use candle_core::{Device, Tensor};
use mlops_core::{DatasetRef, Digest, ModelPackage, PackageBuilder};
use mlops_serve::ModelSpec;
use mlops_serve::train::{TrainConfig, train_dense};

/// A package of an MLP trained on a fixed, seeded data set.
fn train_and_package(seed: u64, created_at_ms: i64) -> (Vec<u8>, mlops_core::Package) {
    let mut rng = fastrand::Rng::with_seed(5);
    let rows = 200;
    let x: Vec<f32> = (0..rows * 3).map(|_| rng.f32() * 2.0 - 1.0).collect();
    let y: Vec<u32> = x.chunks(3).map(|r| u32::from(r[0] + 0.5 * r[1] > 0.0)).collect();
    let spec = ModelSpec::from_json(
        r#"{"architecture": "mlp", "layers": [3, 8, 2], "activation": "relu", "output": "softmax",
            "features": ["a", "b", "c"], "classes": ["no", "yes"]}"#,
    )
    .unwrap();
    let config = TrainConfig::default().with_epochs(60).with_seed(seed);
    let xt = Tensor::from_vec(x.clone(), (rows, 3), &Device::Cpu).unwrap();
    let yt = Tensor::from_vec(y, rows, &Device::Cpu).unwrap();
    let trained = train_dense(&spec, &xt, &yt, &config).unwrap();
    let data_bytes: Vec<u8> = x.iter().flat_map(|v| v.to_le_bytes()).collect();
    let package = PackageBuilder::new("repro")
        .weights(trained.safetensors.clone())
        .model_config(spec.to_json_value().unwrap())
        .dataset(DatasetRef {
            uri: format!("memory://run-at-{created_at_ms}"),
            fingerprint: Digest::of(&data_bytes),
            schema: arrow_schema::Schema::empty(),
            num_rows: rows as u64,
        })
        .param("seed", serde_json::json!(seed))
        .param("epochs", serde_json::json!(config.epochs))
        .metric("final_loss", *trained.losses.last().unwrap())
        .created_at_ms(created_at_ms)
        .build()
        .unwrap();
    (trained.safetensors, package)
}

#[test]
fn training_twice_gives_the_same_content_digest_and_another_seed_does_not() {
    let (weights_a, a) = train_and_package(7, 1_000);
    let (weights_b, b) = train_and_package(7, 2_000);
    assert_eq!(weights_a, weights_b, "CPU training is deterministic for a seed");
    assert_ne!(a.digest(), b.digest(), "the package digest covers the build time");
    assert_eq!(a.content_digest().unwrap(), b.content_digest().unwrap());
    let (_, c) = train_and_package(8, 1_000);
    assert_ne!(c.content_digest().unwrap(), a.content_digest().unwrap());
}
