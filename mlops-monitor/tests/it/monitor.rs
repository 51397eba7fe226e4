//! The monitor pipeline: bounded, non-blocking, alerting.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arrow_array::{ArrayRef, Float64Array, RecordBatch};
use mlops_core::{LabelValue, PredictionEvent};
use mlops_monitor::monitor::{Alert, AlertPolicy, Monitor, MonitorConfig, WatchedMetric};

fn rows(shift: f64, n: usize) -> RecordBatch {
    RecordBatch::try_from_iter([(
        "x",
        Arc::new(Float64Array::from_iter_values(
            (0..n).map(|i| ((i * 7919) % 997) as f64 + shift),
        )) as ArrayRef,
    )])
    .unwrap()
}

fn collector() -> (Arc<Mutex<Vec<Alert>>>, mlops_monitor::monitor::AlertCallback) {
    let alerts = Arc::new(Mutex::new(Vec::new()));
    let sink = alerts.clone();
    (alerts, Arc::new(move |a: &Alert| sink.lock().unwrap().push(a.clone())))
}

#[test]
fn drift_share_alert_fires_on_shifted_traffic_only() {
    let (alerts, cb) = collector();
    let config = MonitorConfig::default()
        .with_reference(vec![rows(0.0, 2000)], 1000)
        .with_policy(AlertPolicy::DriftShareAtLeast(0.5))
        .with_callback(cb);
    let monitor = Monitor::start(config).unwrap();
    let sink = monitor.sink();
    for i in 0..10 {
        sink.record(
            PredictionEvent::new("same", 1, format!("a{i}"), i)
                .with_features(rows(0.0, 100))
                .with_value(1.0),
        );
        sink.record(
            PredictionEvent::new("moved", 1, format!("b{i}"), i)
                .with_features(rows(400.0, 100))
                .with_value(1.0),
        );
    }
    let stats = monitor.shutdown();
    let alerts = alerts.lock().unwrap();
    assert_eq!(
        alerts.iter().map(|a| a.model.as_str()).collect::<Vec<_>>(),
        vec!["moved"]
    );
    assert!(!stats.drift["same"].dataset_drift && stats.drift["moved"].dataset_drift);
    assert_eq!((stats.events, stats.dropped), (20, 0));
    // The alert carries the report it was raised on: the evidence to write out.
    let evidence = alerts[0].drift.as_deref().expect("a drift alert carries its report");
    assert_eq!(evidence, &stats.drift["moved"]);
    assert_eq!(evidence.drift_share, alerts[0].value);
}

#[test]
fn flush_returns_once_every_earlier_event_and_its_callbacks_are_done() {
    let (alerts, cb) = collector();
    let config = MonitorConfig::default()
        .with_reference(vec![rows(0.0, 2000)], 1000)
        .with_policy(AlertPolicy::DriftShareAtLeast(0.5))
        .with_callback(cb);
    let monitor = Monitor::start(config).unwrap();
    let sink = monitor.sink();
    // Ten rounds: after each flush the alerts seen are exactly those the
    // events so far must have raised, never fewer (no race with the worker).
    for i in 0..10 {
        sink.record(
            PredictionEvent::new("moved", 1, format!("b{i}"), i)
                .with_features(rows(400.0, 100))
                .with_value(1.0),
        );
        assert!(monitor.flush());
        let raised = alerts.lock().unwrap().len();
        assert_eq!(raised, usize::from(i == 9), "after event {i}");
    }
    let stats = monitor.shutdown();
    assert_eq!((stats.events, stats.alerts), (10, 1));
}

#[test]
fn metric_below_for_k_windows_and_prometheus_export() {
    let (alerts, cb) = collector();
    let config = MonitorConfig::default()
        .with_window(20)
        .with_policy(AlertPolicy::MetricBelow {
            metric: WatchedMetric::Accuracy,
            threshold: 0.9,
            windows: 2,
        })
        .with_callback(cb);
    let monitor = Monitor::start(config).unwrap();
    let sink = monitor.sink();
    for i in 0..100i64 {
        let id = format!("r{i}");
        // Labels arrive before and after their predictions; accuracy is 0.75 in windows 2..5.
        let truth = if i < 20 { true } else { i % 4 != 0 };
        if i % 2 == 0 {
            sink.record_label("m", &id, i, LabelValue::Binary(truth));
        }
        sink.record(
            PredictionEvent::new("m", 3, id.clone(), i)
                .with_binary(0.8, true)
                .with_latency_us(2500),
        );
        if i % 2 == 1 {
            sink.record_label("m", &id, i + 1, LabelValue::Binary(truth));
        }
    }
    // A bad score is rejected and reported, not fatal.
    sink.record(PredictionEvent::new("m", 3, "bad", 200).with_binary(7.0, true));
    let stats = monitor.shutdown();
    let text = &stats.prometheus;
    assert_eq!(stats.windows["m"].len(), 5);
    assert_eq!(stats.rejected.len(), 1, "{:?}", stats.rejected);
    // Windows 2 and 3 below 0.9 → alert; counter resets; windows 4 and 5 → alert.
    assert_eq!(alerts.lock().unwrap().len(), 2);
    assert!(
        text.contains("mlops_model_requests_total{model=\"m\",version=\"3\"}"),
        "{text}"
    );
}

#[test]
fn a_slow_monitor_never_blocks_the_caller_and_counts_drops() {
    let (alerts, _) = collector();
    let slow: mlops_monitor::monitor::AlertCallback =
        Arc::new(|_: &Alert| std::thread::sleep(Duration::from_millis(20)));
    let seen = alerts.clone();
    let config = MonitorConfig::default()
        .with_channel_capacity(8)
        .with_policy(AlertPolicy::ScoreStreamDrift)
        .with_policy(AlertPolicy::EventsDropped)
        .with_callback(slow)
        .with_callback(Arc::new(move |a: &Alert| seen.lock().unwrap().push(a.clone())));
    let monitor = Monitor::start(config).unwrap();
    let sink = monitor.sink();
    let started = Instant::now();
    for i in 0..20_000i64 {
        // A level shift in the score stream makes Page–Hinkley fire, and each alert is slow.
        let score = if i < 1000 { 0.1 } else { 0.9 };
        sink.record(PredictionEvent::new("m", 1, format!("r{i}"), i).with_value(score));
    }
    let elapsed = started.elapsed();
    let dropped = monitor.dropped();
    let stats = monitor.shutdown();
    assert!(
        dropped > 0 && stats.dropped >= dropped,
        "the channel overflowed and drops were counted"
    );
    assert_eq!(stats.events + stats.dropped, 20_000);
    assert!(
        elapsed < Duration::from_secs(5),
        "recording 20k events took {elapsed:?}: the caller was blocked"
    );
    let kinds: Vec<AlertPolicy> = alerts.lock().unwrap().iter().map(|a| a.policy.clone()).collect();
    assert!(kinds.contains(&AlertPolicy::EventsDropped), "{kinds:?}");
    // After shutdown, a sink still held elsewhere counts its events as dropped and does not block.
    sink.record(PredictionEvent::new("m", 1, "late", 0));
    assert!(Monitor::start(MonitorConfig::default().with_channel_capacity(0)).is_err());
}

#[test]
fn score_stream_drift_alert() {
    let (alerts, cb) = collector();
    let monitor = Monitor::start(
        MonitorConfig::default()
            .with_policy(AlertPolicy::ScoreStreamDrift)
            .with_callback(cb),
    )
    .unwrap();
    let sink = monitor.sink();
    for i in 0..3000i64 {
        let score = if i < 1000 { 0.1 } else { 0.9 };
        sink.record(PredictionEvent::new("m", 1, format!("r{i}"), i).with_value(score));
    }
    let stats = monitor.shutdown();
    assert_eq!(stats.dropped, 0);
    let alerts = alerts.lock().unwrap();
    assert!(!alerts.is_empty() && alerts.iter().all(|a| a.policy == AlertPolicy::ScoreStreamDrift));
}

/// 100 joined binary pairs in windows of 20: window 1 is all correct, windows 2–5 have accuracy 0.75.
fn feed_accuracy_windows(sink: &std::sync::Arc<dyn mlops_core::PredictionSink>) {
    for i in 0..100i64 {
        let id = format!("r{i}");
        let truth = if i < 20 { true } else { i % 4 != 0 };
        sink.record(PredictionEvent::new("m", 1, id.clone(), i).with_binary(0.8, true));
        sink.record_label("m", &id, i, LabelValue::Binary(truth));
    }
}

#[test]
fn two_metric_below_policies_keep_their_own_counters() {
    let (alerts, cb) = collector();
    let config = MonitorConfig::default()
        .with_window(20)
        // Fires after 2 consecutive windows below 0.9: windows 3 and 5.
        .with_policy(AlertPolicy::MetricBelow {
            metric: WatchedMetric::Accuracy,
            threshold: 0.9,
            windows: 2,
        })
        // Never below 0.5: with a shared counter it reset the first policy's every window.
        .with_policy(AlertPolicy::MetricBelow {
            metric: WatchedMetric::Accuracy,
            threshold: 0.5,
            windows: 1,
        })
        .with_callback(cb);
    let monitor = Monitor::start(config).unwrap();
    feed_accuracy_windows(&monitor.sink());
    let stats = monitor.shutdown();
    assert_eq!(stats.windows["m"].len(), 5);
    let alerts = alerts.lock().unwrap();
    let thresholds: Vec<f64> = alerts
        .iter()
        .map(|a| match a.policy {
            AlertPolicy::MetricBelow { threshold, .. } => threshold,
            _ => panic!("unexpected policy {:?}", a.policy),
        })
        .collect();
    assert_eq!(thresholds, vec![0.9, 0.9], "{alerts:?}");
}

#[test]
fn kept_windows_and_rejections_are_bounded_and_evictions_counted() {
    let config = MonitorConfig::default().with_window(20).with_kept(2, 1);
    let monitor = Monitor::start(config).unwrap();
    let sink = monitor.sink();
    feed_accuracy_windows(&sink);
    for i in 0..3 {
        sink.record(PredictionEvent::new("m", 1, format!("bad{i}"), 200).with_binary(7.0, true));
    }
    let stats = monitor.shutdown();
    let kept = &stats.windows["m"];
    assert_eq!((kept.len(), stats.evicted_windows), (2, 3));
    // The most recent windows are the ones kept.
    assert!(
        kept.iter()
            .all(|w| matches!(&w.overall, mlops_monitor::performance::Metrics::Binary(b) if b.accuracy == 0.75))
    );
    assert_eq!(
        (stats.rejected.len(), stats.evicted_rejected, stats.rejected_total),
        (1, 2, 3)
    );
    assert!(stats.rejected[0].contains("`m`"), "{:?}", stats.rejected);
    assert!(Monitor::start(MonitorConfig::default().with_kept(0, 1)).is_err());
}

#[test]
fn a_panicking_callback_is_contained_and_counted() {
    let (alerts, cb) = collector();
    let config = MonitorConfig::default()
        .with_window(20)
        .with_policy(AlertPolicy::MetricBelow {
            metric: WatchedMetric::Accuracy,
            threshold: 0.9,
            windows: 1,
        })
        .with_callback(Arc::new(|_: &Alert| panic!("user callback failed")))
        .with_callback(cb);
    let monitor = Monitor::start(config).unwrap();
    feed_accuracy_windows(&monitor.sink());
    let stats = monitor.shutdown();
    // Windows 2..5 alert; each alert's first callback panics, the second still runs.
    assert_eq!((stats.events, stats.alerts, stats.callback_panics), (200, 4, 4));
    assert_eq!(alerts.lock().unwrap().len(), 4);
    assert_eq!(stats.windows["m"].len(), 5);
}
