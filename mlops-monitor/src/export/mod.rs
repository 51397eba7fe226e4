//! Operational metrics per model version, through the [`metrics`] facade.
//!
//! A library emits metrics through the `metrics` facade, as it emits logs
//! through `tracing`: the application installs the recorder it wants
//! (Prometheus, StatsD, OpenTelemetry…) with `metrics::set_global_recorder`,
//! and [`OperationalMetrics::record`] reaches it. Per `(model, version)` it
//! emits a request counter ([`REQUESTS_METRIC`]), an error counter
//! ([`ERRORS_METRIC`]) and a latency histogram in seconds ([`LATENCY_METRIC`]);
//! the [`Monitor`](crate::monitor::Monitor) adds alert, rejection and drop
//! counters ([`ALERTS_METRIC`], [`REJECTED_METRIC`], [`DROPPED_METRIC`]).
//! Call [`describe`] once after installing a recorder to give it the help texts.
//!
//! For users without a recorder, every [`OperationalMetrics`] also keeps its
//! own Prometheus recorder (`metrics-exporter-prometheus`, no HTTP listener):
//! [`OperationalMetrics::render`] writes the text exposition format 0.0.4
//! (content type [`CONTENT_TYPE`]), with the histogram's buckets fixed at
//! [`LATENCY_BUCKETS_SECONDS`] (Prometheus' client defaults). Every record
//! also emits a `tracing` event at debug level.
//!
//! ```
//! use std::time::Duration;
//! use mlops_monitor::export::OperationalMetrics;
//!
//! let metrics = OperationalMetrics::new();
//! metrics.record("churn", "3", Duration::from_millis(20), true);
//! metrics.record("churn", "3", Duration::from_millis(700), false);
//! let text = metrics.render();
//! assert!(text.contains("# TYPE mlops_model_requests_total counter\n"));
//! assert!(text.contains("mlops_model_requests_total{model=\"churn\",version=\"3\"} 2\n"));
//! assert!(text.contains("mlops_model_errors_total{model=\"churn\",version=\"3\"} 1\n"));
//! assert!(text.contains("mlops_model_request_duration_seconds_bucket{model=\"churn\",version=\"3\",le=\"0.025\"} 1\n"));
//! assert!(text.contains("mlops_model_request_duration_seconds_bucket{model=\"churn\",version=\"3\",le=\"+Inf\"} 2\n"));
//! assert!(text.contains("mlops_model_request_duration_seconds_count{model=\"churn\",version=\"3\"} 2\n"));
//! ```
//!
//! Label values are escaped as the exporter does: `"` and newlines always; a
//! backslash is doubled unless it already escapes a backslash (so a literal
//! `\\` in a model name reads back as one backslash).

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use metrics::{Counter, Histogram, Key, Label, Metadata, Recorder};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

/// The HTTP `Content-Type` of [`OperationalMetrics::render`]'s output.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Upper bounds (seconds, inclusive) of the latency histogram's finite buckets.
pub const LATENCY_BUCKETS_SECONDS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// Name of the request counter (labels `model`, `version`).
pub const REQUESTS_METRIC: &str = "mlops_model_requests_total";
/// Name of the error counter (labels `model`, `version`).
pub const ERRORS_METRIC: &str = "mlops_model_errors_total";
/// Name of the latency histogram, in seconds (labels `model`, `version`).
pub const LATENCY_METRIC: &str = "mlops_model_request_duration_seconds";
/// Name of the monitor's alert counter (labels `model`, `policy`).
pub const ALERTS_METRIC: &str = "mlops_monitor_alerts_total";
/// Name of the counter of events the monitor rejected (label `model`).
pub const REJECTED_METRIC: &str = "mlops_monitor_events_rejected_total";
/// Name of the counter of events dropped because the monitor's channel was full.
pub const DROPPED_METRIC: &str = "mlops_monitor_events_dropped_total";

/// Gives the current recorder (the global one, or a local one in scope) the
/// help text of every metric this crate emits. Call it once after installing
/// a recorder; recorders that ignore descriptions are unaffected.
pub fn describe() {
    metrics::describe_counter!(REQUESTS_METRIC, "Prediction requests served, per model version.");
    metrics::describe_counter!(ERRORS_METRIC, "Prediction requests that failed, per model version.");
    metrics::describe_histogram!(
        LATENCY_METRIC,
        metrics::Unit::Seconds,
        "Prediction request latency in seconds, per model version."
    );
    metrics::describe_counter!(ALERTS_METRIC, "Alerts the monitor raised, per model and policy.");
    metrics::describe_counter!(REJECTED_METRIC, "Events the monitor rejected, per model.");
    metrics::describe_counter!(DROPPED_METRIC, "Events dropped because the monitor could not keep up.");
}

/// Where the metrics are emitted from, for recorders that filter on it.
static METADATA: Metadata<'static> = Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()));

/// One model version's keys (labels built once) and handles in our own recorder.
#[derive(Debug)]
struct Series {
    requests: Key,
    errors: Key,
    latency: Key,
    own: (Counter, Counter, Histogram),
}

/// Operational metrics: emitted through the `metrics` facade to the
/// application's recorder, and kept in a Prometheus recorder of its own for
/// [`render`](Self::render). Thread-safe; share it behind an `Arc`.
///
/// Each model version's keys and handles are built on its first request, so
/// later records allocate nothing; the application's recorder is looked up on
/// every record, so one installed after this was created still gets everything.
#[derive(Debug)]
pub struct OperationalMetrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    /// model → version → series.
    series: RwLock<HashMap<String, HashMap<String, Arc<Series>>>>,
}

impl Default for OperationalMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl OperationalMetrics {
    /// An empty set of metrics.
    pub fn new() -> Self {
        let builder = PrometheusBuilder::new();
        // The only error is an empty bucket list, and ours is a non-empty constant;
        // if it ever happened the exporter's default (a summary) is still valid text.
        let builder = builder
            .set_buckets_for_metric(Matcher::Full(LATENCY_METRIC.to_owned()), &LATENCY_BUCKETS_SECONDS)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        // Describing is idempotent: the application's recorder, if installed by
        // now, gets the help texts too.
        describe();
        metrics::with_local_recorder(&recorder, describe);
        OperationalMetrics {
            recorder,
            handle,
            series: RwLock::new(HashMap::new()),
        }
    }

    /// The series of `model` at `version`, created on first use.
    fn series(&self, model: &str, version: &str) -> Arc<Series> {
        // A panic while holding the lock leaves the map valid (an insert either
        // happened or not), so a poisoned lock is still used.
        if let Some(s) = self
            .series
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(model)
            .and_then(|v| v.get(version))
        {
            return Arc::clone(s);
        }
        let labels = vec![
            Label::new("model", model.to_owned()),
            Label::new("version", version.to_owned()),
        ];
        let key = |name: &'static str| Key::from_parts(name, labels.clone());
        let (requests, errors, latency) = (key(REQUESTS_METRIC), key(ERRORS_METRIC), key(LATENCY_METRIC));
        let own = (
            self.recorder.register_counter(&requests, &METADATA),
            self.recorder.register_counter(&errors, &METADATA),
            self.recorder.register_histogram(&latency, &METADATA),
        );
        let series = Arc::new(Series {
            requests,
            errors,
            latency,
            own,
        });
        let mut map = self.series.write().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(
            map.entry(model.to_owned())
                .or_default()
                .entry(version.to_owned())
                .or_insert(series),
        )
    }

    /// Runs `emit` against the application's recorder, then against our own.
    fn emit(&self, emit: impl Fn()) {
        emit();
        metrics::with_local_recorder(&self.recorder, emit);
    }

    /// Records one request of `model` at `version` that took `latency` and
    /// succeeded (`ok`) or failed.
    pub fn record(&self, model: &str, version: &str, latency: Duration, ok: bool) {
        let seconds = latency.as_secs_f64();
        tracing::debug!(model, version, latency_seconds = seconds, ok, "model request recorded");
        let s = self.series(model, version);
        let errors = u64::from(!ok);
        // Incremented by 0 on success, so every version has an error series.
        s.own.0.increment(1);
        s.own.1.increment(errors);
        s.own.2.record(seconds);
        metrics::with_recorder(|r| {
            r.register_counter(&s.requests, &METADATA).increment(1);
            r.register_counter(&s.errors, &METADATA).increment(errors);
            r.register_histogram(&s.latency, &METADATA).record(seconds);
        });
    }

    /// Counts one alert of `policy` (its snake-case name) for `model`.
    pub fn record_alert(&self, model: &str, policy: &str) {
        self.emit(|| {
            metrics::counter!(ALERTS_METRIC, "model" => model.to_owned(), "policy" => policy.to_owned()).increment(1);
        });
    }

    /// Counts one event of `model` that the monitor rejected.
    pub fn record_rejected(&self, model: &str) {
        self.emit(|| metrics::counter!(REJECTED_METRIC, "model" => model.to_owned()).increment(1));
    }

    /// Sets the count of events dropped so far (a monotonic total).
    pub fn record_dropped_total(&self, dropped: u64) {
        self.emit(|| metrics::counter!(DROPPED_METRIC).absolute(dropped));
    }

    /// Everything recorded so far, in the Prometheus text exposition format
    /// 0.0.4. Empty when nothing was recorded.
    pub fn render(&self) -> String {
        self.handle.render()
    }
}
