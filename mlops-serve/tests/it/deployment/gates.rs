//! Each built-in gate: its three outcomes, its value and its threshold.

use std::collections::HashMap;
use std::sync::Arc;

use mlops_monitor::drift::{DriftMethod, MethodDetector};
use mlops_serve::deployment::{
    ErrorRate, ErrorRateVsBaseline, Gate, GateInput, LabelledMetric, LatencyQuantile, MetricReading, MetricVsBaseline,
    OutputInvalidRate, RejectedShare, ScoreDrift, Verdict, WindowSnapshot,
};

fn window(version: u64) -> WindowSnapshot {
    let mut w = WindowSnapshot::default();
    w.version = version;
    w
}

fn judge(gate: &dyn Gate, candidate: &WindowSnapshot, baseline: &WindowSnapshot) -> (Verdict, Option<f64>) {
    let r = gate.evaluate(&GateInput { candidate, baseline });
    (r.verdict, r.value)
}

#[test]
fn absolute_gates_wait_for_their_samples_then_compare_with_their_threshold() {
    let base = window(1);
    let mut c = window(2);
    let errors = ErrorRate {
        max: 0.01,
        min_samples: 100,
    };
    c.requests = 99;
    c.failed = 50;
    assert_eq!(judge(&errors, &c, &base).0, Verdict::NeedMoreData);
    c.requests = 1_000;
    c.failed = 15;
    c.output_invalid = 5;
    // Failures and invalid answers both count: 20 / 1,000.
    assert_eq!(judge(&errors, &c, &base), (Verdict::Fail, Some(0.02)));
    c.failed = 5;
    c.output_invalid = 0;
    assert_eq!(judge(&errors, &c, &base), (Verdict::Pass, Some(0.005)));

    let invalid = OutputInvalidRate {
        max: 0.001,
        min_samples: 100,
    };
    c.output_invalid = 2;
    assert_eq!(judge(&invalid, &c, &base), (Verdict::Fail, Some(0.002)));

    let rejected = RejectedShare {
        max: 0.05,
        min_samples: 1_000,
    };
    c.rows = 999;
    assert_eq!(judge(&rejected, &c, &base).0, Verdict::NeedMoreData);
    c.rows = 2_000;
    c.rejected_rows = 40;
    assert_eq!(judge(&rejected, &c, &base), (Verdict::Pass, Some(0.02)));
    c.rejected_rows = 200;
    assert_eq!(judge(&rejected, &c, &base).0, Verdict::Fail);

    // numpy.quantile(range(1, 101), 0.99) = 99.01
    c.latencies_us = (1..=100).map(f64::from).collect();
    let p99 = |max_us: f64| LatencyQuantile {
        quantile: 0.99,
        max_us,
        min_samples: 100,
    };
    assert_eq!(p99(100.0).name(), "latency_p99");
    let (verdict, value) = judge(&p99(100.0), &c, &base);
    assert_eq!(verdict, Verdict::Pass);
    assert!((value.unwrap() - 99.01).abs() < 1e-9);
    assert_eq!(judge(&p99(90.0), &c, &base).0, Verdict::Fail);
}

#[test]
fn the_relative_error_gate_fails_only_a_significantly_worse_candidate() {
    let gate = ErrorRateVsBaseline {
        alpha: 0.05,
        min_samples: 500,
    };
    let (mut c, mut b) = (window(2), window(1));
    (c.requests, b.requests) = (1_000, 400);
    assert_eq!(judge(&gate, &c, &b).0, Verdict::NeedMoreData);
    b.requests = 1_000;
    (c.failed, b.failed) = (30, 10);
    let (verdict, p) = judge(&gate, &c, &b);
    assert_eq!(verdict, Verdict::Fail);
    assert!(p.unwrap() < 0.001);
    // A candidate no worse than its baseline passes, even with errors of its own.
    (c.failed, b.failed) = (10, 12);
    assert_eq!(judge(&gate, &c, &b).0, Verdict::Pass);
}

#[test]
fn the_score_drift_gate_uses_the_monitor_s_tests() {
    let gate = ScoreDrift {
        detector: Arc::new(MethodDetector::new(DriftMethod::Ks)),
        min_samples: 200,
    };
    assert_eq!(gate.name(), "score_drift_ks");
    let (mut c, mut b) = (window(2), window(1));
    let spread = |shift: f64| {
        (0..500)
            .map(|i| shift + f64::from(i % 100) / 100.0)
            .collect::<Vec<f64>>()
    };
    b.scores = spread(0.0);
    c.scores = spread(0.0)[..150].to_vec();
    assert_eq!(judge(&gate, &c, &b).0, Verdict::NeedMoreData);
    c.scores = spread(0.0);
    assert_eq!(judge(&gate, &c, &b).0, Verdict::Pass);
    c.scores = spread(0.3);
    assert_eq!(judge(&gate, &c, &b).0, Verdict::Fail);
}

/// Accuracy per version, as a label joiner would report it.
#[derive(Debug)]
struct Accuracy(HashMap<u64, MetricReading>);

impl LabelledMetric for Accuracy {
    fn name(&self) -> &str {
        "accuracy"
    }

    fn read(&self, version: u64) -> Option<MetricReading> {
        self.0.get(&version).copied()
    }
}

#[test]
fn the_labelled_metric_gate_waits_for_labels_then_bounds_the_drop() {
    let reading = |value, samples| MetricReading { value, samples };
    let gate = |metrics: HashMap<u64, MetricReading>, higher_is_better| MetricVsBaseline {
        source: Arc::new(Accuracy(metrics)),
        higher_is_better,
        max_drop: 0.02,
        min_samples: 100,
    };
    let (c, b) = (window(2), window(1));
    let early = gate(HashMap::from([(1, reading(0.90, 500)), (2, reading(0.80, 20))]), true);
    assert_eq!(judge(&early, &c, &b).0, Verdict::NeedMoreData);
    let worse = gate(HashMap::from([(1, reading(0.90, 500)), (2, reading(0.85, 300))]), true);
    let (verdict, drop) = judge(&worse, &c, &b);
    assert_eq!(verdict, Verdict::Fail);
    assert!((drop.unwrap() - 0.05).abs() < 1e-12);
    let close = gate(HashMap::from([(1, reading(0.90, 500)), (2, reading(0.89, 300))]), true);
    assert_eq!(judge(&close, &c, &b).0, Verdict::Pass);
    // Lower is better (a loss): a candidate with a higher loss is the worse one.
    let loss = gate(HashMap::from([(1, reading(0.30, 500)), (2, reading(0.35, 300))]), false);
    assert_eq!(judge(&loss, &c, &b).0, Verdict::Fail);
    assert_eq!(worse.name(), "accuracy_vs_baseline");
}
