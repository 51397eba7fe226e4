//! Model specs, weights loading and the two kernels.

use std::collections::{BTreeMap, HashMap};

use candle_core::{DType, Device, Tensor};
use mlops_core::Error;
use mlops_serve::model::{Architecture, ArchitectureSpec, CandleDense, CpuDense, OutputKind, Weights};
use mlops_serve::{Model, ModelSpec, ServeDevice};

use crate::support::{feature_names, mlp_weights, safetensors, spec};

#[test]
fn the_minimal_form_from_the_contract_parses_and_round_trips() {
    let json = serde_json::json!({
        "architecture": "mlp", "layers": [13, 64, 32, 3], "activation": "relu", "output": "softmax",
        "features": feature_names(13), "classes": ["0", "1", "2"],
    });
    let s = spec(json);
    assert_eq!(s.format_version, 1);
    assert_eq!(s.architecture.name(), "mlp");
    let arch = s.architecture.architecture();
    assert_eq!((arch.input_width(), arch.output_width()), (13, 3));
    let names: Vec<String> = arch.tensors().into_iter().map(|t| t.name).collect();
    assert_eq!(
        names,
        ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    );
    assert_eq!(ModelSpec::from_json_value(&s.to_json_value().unwrap()).unwrap(), s);
}

#[test]
fn bad_specs_are_refused_with_what_was_wrong() {
    let base = || {
        serde_json::json!({"architecture": "mlp", "layers": [2, 4, 3], "activation": "tanh", "output": "softmax",
        "features": ["a", "b"], "classes": ["x", "y", "z"]})
    };
    let refused = |edit: &dyn Fn(&mut serde_json::Value), needle: &str| {
        let mut v = base();
        edit(&mut v);
        let e = ModelSpec::from_json_value(&v).unwrap_err();
        assert!(e.to_string().contains(needle), "{e} should mention {needle}");
        e
    };
    assert!(matches!(
        refused(&|v| v["format_version"] = 2.into(), "version 2"),
        Error::UnsupportedVersion { found: 2, .. }
    ));
    refused(&|v| v["activaton"] = "relu".into(), "activaton");
    refused(&|v| v["architecture"] = "transformer".into(), "transformer");
    refused(&|v| v["activation"] = "swish".into(), "swish");
    refused(
        &|v| v["features"] = serde_json::json!(["a"]),
        "1 feature names for 2 inputs",
    );
    refused(&|v| v["features"] = serde_json::json!(["a", "a"]), "`a` appears twice");
    refused(
        &|v| v["classes"] = serde_json::json!(["x", "y"]),
        "2 classes for 3 softmax outputs",
    );
    refused(&|v| v["layers"] = serde_json::json!([2, 0, 3]), "width 0");
    refused(&|v| v["layers"] = serde_json::json!([2]), "at least two widths");
    refused(&|v| v["output"] = "sigmoid".into(), "3 classes for a sigmoid output");
    refused(&|v| v["output"] = "identity".into(), "classes on a regression head");
    let e = ModelSpec::from_json_value(
        &serde_json::json!({"architecture": "logistic", "inputs": 2, "outputs": 1,
        "output": "identity", "features": ["a", "b"]}),
    )
    .unwrap_err();
    assert!(e.to_string().contains("identity head on a logistic model"), "{e}");
}

#[test]
fn missing_and_misshapen_tensors_name_the_tensor_and_both_shapes() {
    let s = spec(
        serde_json::json!({"architecture": "mlp", "layers": [3, 4, 2], "activation": "relu",
        "output": "softmax", "features": feature_names(3)}),
    );
    let slots = s.architecture.architecture().tensors();
    let mut weights = mlp_weights(&[3, 4, 2], 1);
    weights.retain(|(n, _, _)| n != "2.weight");
    match Weights::from_safetensors(&safetensors(&weights), &slots, &s) {
        Err(Error::NotFound { what }) => assert!(what.contains("`2.weight`") && what.contains("[2, 4]"), "{what}"),
        other => panic!("{other:?}"),
    }
    let mut weights = mlp_weights(&[3, 4, 2], 1);
    weights[0] = ("0.weight".into(), vec![3, 4], weights[0].2.clone());
    match Weights::from_safetensors(&safetensors(&weights), &slots, &s) {
        Err(Error::ShapeMismatch {
            tensor,
            expected,
            found,
        }) => {
            assert_eq!((tensor.as_str(), expected, found), ("0.weight", vec![4, 3], vec![3, 4]));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        Weights::from_safetensors(b"not safetensors", &slots, &s),
        Err(Error::Corrupt { .. })
    ));
    // Integer weights are refused by dtype.
    let mut ints = HashMap::new();
    for (n, shape, v) in mlp_weights(&[3, 4, 2], 1) {
        let t = Tensor::from_vec(v, shape, &Device::Cpu)
            .unwrap()
            .to_dtype(DType::I64)
            .unwrap();
        ints.insert(n, t);
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.safetensors");
    candle_core::safetensors::save(&ints, &path).unwrap();
    let e = Weights::from_safetensors(&std::fs::read(&path).unwrap(), &slots, &s).unwrap_err();
    assert!(
        matches!(e, Error::TypeMismatch { .. }) && e.to_string().contains("I64"),
        "{e}"
    );
}

#[test]
fn a_name_map_reads_other_layouts() {
    let s = spec(
        serde_json::json!({"architecture": "linear", "inputs": 2, "outputs": 1, "output": "identity",
        "features": ["a", "b"], "tensor_names": {"0.weight": "fc.w", "0.bias": "fc.b"}}),
    );
    let file = safetensors(&[
        ("fc.w".into(), vec![1, 2], vec![2.0, -1.0]),
        ("fc.b".into(), vec![1], vec![0.5]),
    ]);
    let w = Weights::from_safetensors(&file, &s.architecture.architecture().tensors(), &s).unwrap();
    let model = s
        .architecture
        .architecture()
        .build(&w, s.output, &ServeDevice::cpu())
        .unwrap();
    // Rows (1, 1) and (3, 2), feature-major.
    assert_eq!(model.forward_columns(&[1.0, 3.0, 1.0, 2.0], 2).unwrap(), [1.5, 4.5]);
    let unmapped = safetensors(&[("fc.w".into(), vec![1, 2], vec![2.0, -1.0])]);
    let e = Weights::from_safetensors(&unmapped, &s.architecture.architecture().tensors(), &s).unwrap_err();
    assert!(e.to_string().contains("`fc.b` (mapped from `0.bias`)"), "{e}");
}

/// Builds both kernels of an MLP and returns their answers on the same rows.
fn both_kernels(layers: &[usize], activation: &str, output: &str, rows: usize, tile: usize) -> (Vec<f32>, Vec<f32>) {
    let s = spec(
        serde_json::json!({"architecture": "mlp", "layers": layers, "activation": activation,
        "output": output, "features": feature_names(layers[0])}),
    );
    let arch = s.architecture.architecture();
    let w = Weights::from_safetensors(&safetensors(&mlp_weights(layers, 7)), &arch.tensors(), &s).unwrap();
    let stack = s.architecture.dense_stack(s.output);
    let cpu = CpuDense::new(&stack, &w).unwrap().with_tile_rows(tile);
    let candle = CandleDense::new(&stack, &w, &Device::Cpu).unwrap();
    let mut rng = fastrand::Rng::with_seed(3);
    let x: Vec<f32> = (0..layers[0] * rows).map(|_| rng.f32() * 6.0 - 3.0).collect();
    (
        cpu.forward_columns(&x, rows).unwrap(),
        candle.forward_columns(&x, rows).unwrap(),
    )
}

#[test]
fn the_gemm_kernel_equals_candle_for_every_activation_and_head() {
    for activation in ["relu", "gelu", "tanh", "sigmoid", "silu", "identity"] {
        for (output, outs) in [("softmax", 3), ("sigmoid", 1), ("identity", 2)] {
            // 37 rows over tiles of 16: two full tiles and a partial one; 1 and
            // 3 rows take the one-row path.
            for rows in [37, 3, 1] {
                let (cpu, candle) = both_kernels(&[5, 16, 8, outs], activation, output, rows, 16);
                assert_eq!(cpu.len(), rows * outs);
                let worst = cpu
                    .iter()
                    .zip(&candle)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0f32, f32::max);
                assert!(
                    worst < 1e-5,
                    "{activation}/{output}, {rows} rows: max difference {worst}"
                );
            }
        }
    }
}

#[test]
fn no_rows_give_no_values_and_wrong_lengths_are_refused() {
    let (cpu, candle) = both_kernels(&[4, 8, 2], "relu", "softmax", 0, 16);
    assert!(cpu.is_empty() && candle.is_empty());
    let s = spec(
        serde_json::json!({"architecture": "mlp", "layers": [4, 8, 2], "activation": "relu",
        "output": "softmax", "features": feature_names(4)}),
    );
    let arch = s.architecture.architecture();
    let w = Weights::from_safetensors(&safetensors(&mlp_weights(&[4, 8, 2], 7)), &arch.tensors(), &s).unwrap();
    let model = arch.build(&w, OutputKind::Softmax, &ServeDevice::cpu()).unwrap();
    assert!(matches!(
        model.forward_columns(&[1.0; 7], 2),
        Err(Error::InvalidInput { .. })
    ));
}

#[test]
fn half_precision_and_double_weights_load_cast_to_f32() {
    let layers = [6, 8, 3];
    let s = spec(
        serde_json::json!({"architecture": "mlp", "layers": layers, "activation": "gelu",
        "output": "softmax", "features": feature_names(6)}),
    );
    let slots = s.architecture.architecture().tensors();
    let x: Vec<f32> = (0..6 * 5).map(|i| (i as f32 * 0.37).sin()).collect();
    for dtype in [DType::F16, DType::BF16, DType::F64] {
        let stored: HashMap<String, Tensor> = mlp_weights(&layers, 11)
            .into_iter()
            .map(|(n, shape, v)| {
                (
                    n,
                    Tensor::from_vec(v, shape, &Device::Cpu)
                        .unwrap()
                        .to_dtype(dtype)
                        .unwrap(),
                )
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.safetensors");
        candle_core::safetensors::save(&stored, &path).unwrap();
        let loaded = Weights::from_safetensors(&std::fs::read(&path).unwrap(), &slots, &s).unwrap();
        // The reference: the same stored values, rounded to the dtype and widened by Candle.
        let reference: BTreeMap<String, Tensor> = stored
            .into_iter()
            .map(|(n, t)| (n, t.to_dtype(DType::F32).unwrap()))
            .collect();
        let reference = Weights::from_tensors(reference, &slots).unwrap();
        let run = |w: &Weights| {
            s.architecture
                .architecture()
                .build(w, s.output, &ServeDevice::cpu())
                .unwrap()
                .forward_columns(&x, 5)
                .unwrap()
        };
        assert_eq!(run(&loaded), run(&reference), "{dtype:?}");
        assert_eq!(loaded.get("0.weight").unwrap().dtype(), DType::F32);
    }
}

#[test]
fn architectures_are_an_enum_behind_one_trait() {
    let linear = spec(
        serde_json::json!({"architecture": "logistic", "inputs": 3, "outputs": 1, "output": "sigmoid",
        "features": ["a", "b", "c"], "classes": ["no", "yes"]}),
    );
    assert!(matches!(linear.architecture, ArchitectureSpec::Logistic(_)));
    let arch: &dyn Architecture = linear.architecture.architecture();
    assert_eq!(arch.tensors().len(), 2);
    assert_eq!(linear.class_names().unwrap(), ["no", "yes"]);
}
