//! Integrated Gradients against exact answers: linear models, completeness as
//! steps grow, finite-difference gradients; baselines from a real training
//! profile; permutation importance agreeing with attributions.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Float32Type;
use arrow_array::{Float64Array, RecordBatch};
use mlops_core::{ModelPackage, PackageBuilder, Signature};
use mlops_data::{ProfileConfig, Profiler};
use mlops_serve::explain::{ExplainConfig, Explainer, permutation_importance};
use mlops_serve::model::Weights;
use mlops_serve::{ModelSpec, Predict, Predictor, PredictorConfig};

use crate::support::{feature_batch, feature_names, float_signature, mlp_weights, safetensors, spec};

/// Named tensors `(name, shape, values)`, as written to safetensors.
type RawWeights = Vec<(String, Vec<usize>, Vec<f32>)>;

fn parts(spec_json: serde_json::Value, layers: &[usize], seed: u64) -> (ModelSpec, Weights, RawWeights) {
    let spec = spec(spec_json);
    let raw = mlp_weights(layers, seed);
    let weights =
        Weights::from_safetensors(&safetensors(&raw), &spec.architecture.architecture().tensors(), &spec).unwrap();
    (spec, weights, raw)
}

fn predictor(spec: &ModelSpec, weights: &Weights) -> Predictor {
    let features = spec.features.clone();
    Predictor::from_parts(
        "m",
        spec.clone(),
        weights,
        None,
        float_signature(&features),
        Signature::default(),
        PredictorConfig::default(),
    )
    .unwrap()
}

fn attributions(e: &mlops_serve::explain::Explanation, features: usize) -> Vec<Vec<f64>> {
    let rows = e.batch.num_rows();
    (0..rows)
        .map(|r| {
            (0..features)
                .map(|j| f64::from(e.batch.column(j).as_primitive::<Float32Type>().value(r)))
                .collect()
        })
        .collect()
}

fn rows_of(batch: &RecordBatch) -> Vec<Vec<f64>> {
    (0..batch.num_rows())
        .map(|r| {
            batch
                .columns()
                .iter()
                .map(|c| c.as_primitive::<arrow_array::types::Float64Type>().value(r))
                .collect()
        })
        .collect()
}

/// The explained output of a regressor, from the serving path.
fn outputs(p: &Predictor, batch: &RecordBatch, column: usize) -> Vec<f64> {
    let answer = p.predict(batch).unwrap();
    let c = answer.column(column).as_primitive::<Float32Type>();
    (0..c.len()).map(|i| f64::from(c.value(i))).collect()
}

fn one_row(features: &[String], values: &[f64]) -> RecordBatch {
    RecordBatch::try_from_iter(
        features
            .iter()
            .zip(values)
            .map(|(f, &v)| (f.clone(), Arc::new(Float64Array::from(vec![v])) as _)),
    )
    .unwrap()
}

#[test]
fn for_a_linear_model_attributions_are_exactly_the_weights_times_the_offset() {
    let names = feature_names(5);
    let (spec, weights, raw) = parts(
        serde_json::json!({"architecture": "linear", "inputs": 5, "outputs": 1, "output": "identity", "features": names}),
        &[5, 1],
        3,
    );
    let w = &raw[0].2;
    let baseline = vec![0.5f32, -1.0, 0.25, 2.0, 0.0];
    let explainer = Explainer::from_parts(predictor(&spec, &weights), &weights, baseline.clone(), 4).unwrap();
    let batch = feature_batch(5, 20, 9);
    let e = explainer.explain(&batch).unwrap();
    for (row, attr) in rows_of(&batch).iter().zip(attributions(&e, 5)) {
        for j in 0..5 {
            let exact = f64::from(w[j]) * (row[j] - f64::from(baseline[j]));
            assert!((attr[j] - exact).abs() < 1e-5, "feature {j}: {} vs {exact}", attr[j]);
        }
    }
    let explained = e.batch.column_by_name("explained_output").unwrap().as_string::<i32>();
    assert_eq!(explained.value(0), "prediction");
}

#[test]
fn attributions_add_up_to_the_output_difference_ever_closer_as_steps_grow() {
    let names = feature_names(6);
    let (spec, weights, _) = parts(
        serde_json::json!({"architecture": "mlp", "layers": [6, 16, 16, 1], "activation": "tanh",
            "output": "identity", "features": names}),
        &[6, 16, 16, 1],
        5,
    );
    let p = predictor(&spec, &weights);
    let batch = feature_batch(6, 12, 2);
    let baseline = vec![0.1f32; 6];
    let f_x = outputs(&p, &batch, 0);
    let f_b = outputs(&p, &one_row(&names, &[0.1f32 as f64; 6]), 0)[0];
    let mut worst = Vec::new();
    for steps in [2, 8, 32] {
        let explainer = Explainer::from_parts(predictor(&spec, &weights), &weights, baseline.clone(), steps).unwrap();
        let e = explainer.explain(&batch).unwrap();
        let err = attributions(&e, 6)
            .iter()
            .zip(&f_x)
            .map(|(a, fx)| (a.iter().sum::<f64>() - (fx - f_b)).abs())
            .fold(0.0, f64::max);
        worst.push(err);
    }
    // The midpoint rule's error falls like 1/steps² on a smooth model, down to f32 noise.
    assert!(worst[1] < worst[0] / 4.0 && worst[2] < 1e-3, "{worst:?}");
    assert!(worst[2] <= worst[1] + 1e-5, "{worst:?}");
}

#[test]
fn the_gradient_matches_a_finite_difference() {
    // One step evaluates the gradient once, at the midpoint m = (x + b) / 2:
    // attribution_j = (x_j − b_j) · ∂F/∂x_j(m). Compare with a central difference at m.
    let names = feature_names(4);
    let (spec, weights, _) = parts(
        serde_json::json!({"architecture": "mlp", "layers": [4, 12, 1], "activation": "gelu",
            "output": "identity", "features": names}),
        &[4, 12, 1],
        8,
    );
    let p = predictor(&spec, &weights);
    let x = [0.9f64, -0.4, 1.3, 0.2];
    let b = [0.1f64, 0.2, -0.3, 0.4];
    let explainer = Explainer::from_parts(
        predictor(&spec, &weights),
        &weights,
        b.iter().map(|&v| v as f32).collect(),
        1,
    )
    .unwrap();
    let a = attributions(&explainer.explain(&one_row(&names, &x)).unwrap(), 4)[0].clone();
    let m: Vec<f64> = x.iter().zip(&b).map(|(x, b)| (x + b) / 2.0).collect();
    let h = 1e-2;
    for j in 0..4 {
        let (mut up, mut down) = (m.clone(), m.clone());
        up[j] += h;
        down[j] -= h;
        let fd = (outputs(&p, &one_row(&names, &up), 0)[0] - outputs(&p, &one_row(&names, &down), 0)[0]) / (2.0 * h);
        let from_ig = a[j] / (x[j] - b[j]);
        assert!(
            (from_ig - fd).abs() < 2e-3 * fd.abs().max(1.0),
            "feature {j}: autodiff {from_ig}, finite difference {fd}"
        );
    }
}

#[test]
fn a_classifier_explains_its_predicted_class_and_completeness_holds_for_it() {
    let names = feature_names(4);
    let (spec, weights, _) = parts(
        serde_json::json!({"architecture": "mlp", "layers": [4, 10, 3], "activation": "tanh", "output": "softmax",
            "features": names, "classes": ["a", "b", "c"]}),
        &[4, 10, 3],
        13,
    );
    let p = predictor(&spec, &weights);
    let batch = feature_batch(4, 30, 4);
    let explainer = Explainer::from_parts(predictor(&spec, &weights), &weights, vec![0.0; 4], 64).unwrap();
    let e = explainer.explain(&batch).unwrap();
    let answer = p.predict(&batch).unwrap();
    let labels = answer.column_by_name("label").unwrap().as_string::<i32>();
    let explained = e.batch.column_by_name("explained_output").unwrap().as_string::<i32>();
    let base = explainer.baseline_output().to_vec();
    for (r, attr) in attributions(&e, 4).iter().enumerate() {
        let label = labels.value(r);
        assert_eq!(explained.value(r), format!("proba_{label}"));
        let k = ["a", "b", "c"].iter().position(|c| *c == label).unwrap();
        let p_x = f64::from(
            answer
                .column_by_name(&format!("proba_{label}"))
                .unwrap()
                .as_primitive::<Float32Type>()
                .value(r),
        );
        let gap = attr.iter().sum::<f64>() - (p_x - f64::from(base[k]));
        assert!(
            gap.abs() < 2e-3,
            "row {r}: attributions miss the output difference by {gap}"
        );
    }
}

#[test]
fn a_package_baseline_is_the_training_profile_average_and_refused_rows_get_nulls() {
    let names = feature_names(3);
    let (spec, _, raw) = parts(
        serde_json::json!({"architecture": "mlp", "layers": [3, 8, 1], "activation": "relu", "output": "identity",
            "features": names}),
        &[3, 8, 1],
        21,
    );
    let train = feature_batch(3, 500, 6);
    let profile = Profiler::profile_batches(ProfileConfig::default(), std::slice::from_ref(&train)).unwrap();
    let package = PackageBuilder::new("m")
        .weights(safetensors(&raw))
        .model_config(spec.to_json_value().unwrap())
        .input_signature(float_signature(&names))
        .training_profile(&profile)
        .build()
        .unwrap();
    let explainer = Explainer::from_package(&package, ExplainConfig::default().with_steps(16)).unwrap();
    for (j, name) in names.iter().enumerate() {
        let mean = mlops_core::DataProfile::summary(&profile, name).unwrap().mean.unwrap();
        assert!((f64::from(explainer.baseline()[j]) - mean).abs() < 1e-6, "{name}");
    }
    // A NaN row is refused at the door (the default policy): its attributions are null.
    let mut rows = rows_of(&feature_batch(3, 4, 1));
    rows[2][1] = f64::NAN;
    let columns: Vec<(String, arrow_array::ArrayRef)> = (0..3)
        .map(|j| {
            (
                names[j].clone(),
                Arc::new(Float64Array::from(rows.iter().map(|r| r[j]).collect::<Vec<_>>())) as _,
            )
        })
        .collect();
    let e = explainer
        .explain(&RecordBatch::try_from_iter(columns).unwrap())
        .unwrap();
    assert_eq!(e.rejected_rows, vec![2]);
    assert!(e.batch.column(0).is_null(2) && !e.batch.column(0).is_null(1));
    // Without a profile, asking for a profile baseline is a clear error.
    let bare = PackageBuilder::new("m")
        .weights(safetensors(&raw))
        .model_config(spec.to_json_value().unwrap())
        .input_signature(float_signature(&names))
        .build()
        .unwrap();
    let err = Explainer::from_package(&bare, ExplainConfig::default()).unwrap_err();
    assert!(err.to_string().contains("training_profile"), "{err}");
    assert!(bare.content_digest().is_ok());
}

#[test]
fn permutation_importance_and_attributions_rank_features_alike() {
    // y = 4·f0 + 1·f1 + 0·f2: f0 matters most, f2 not at all.
    let names = feature_names(3);
    let spec = spec(
        serde_json::json!({"architecture": "linear", "inputs": 3, "outputs": 1, "output": "identity",
        "features": names}),
    );
    let st =
        mlops_core::weights::encode_f32(&[("0.weight", &[1, 3], &[4.0, 1.0, 0.0]), ("0.bias", &[1], &[0.0])]).unwrap();
    let weights = Weights::from_safetensors(&st, &spec.architecture.architecture().tensors(), &spec).unwrap();
    let batch = feature_batch(3, 400, 17);
    let p = predictor(&spec, &weights);
    let by_permutation = permutation_importance(&p, &batch, 3, 42).unwrap();
    let explainer = Explainer::from_parts(predictor(&spec, &weights), &weights, vec![0.0; 3], 8).unwrap();
    let by_attribution = explainer.global_importance(&batch).unwrap();
    let order = |v: &[(String, f64)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(order(&by_permutation), ["f0", "f1", "f2"]);
    assert_eq!(order(&by_attribution), ["f0", "f1", "f2"]);
    assert_eq!(by_permutation[2].1, 0.0);
    assert!(by_attribution[2].1 < 1e-9);
}
