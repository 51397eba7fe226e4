//! [`Monitor`]: receives prediction events from serving (through
//! [`mlops_core::PredictionSink`], so serving never depends on this crate),
//! keeps bounded memory, never blocks the caller, and runs alert policies.
//!
//! Events go through a bounded channel to one worker thread. When the channel
//! is full the event is dropped and counted ([`MonitorStats::dropped`]), and
//! the [`AlertPolicy::EventsDropped`] policy can report it: the request path
//! never waits on monitoring. The worker keeps, per model: operational metrics
//! (exported in the Prometheus format), a label joiner with metric windows, a
//! Page–Hinkley detector on the score stream, and a bounded buffer of recent
//! feature rows that is compared with the reference data every
//! `drift_every_rows` rows.
//!
//! Memory is bounded per model: the channel, the joiner's pending predictions
//! and labels (`pending_capacity` each), the feature rows
//! (`max_buffered_rows`), the closed windows kept in the stats
//! (`max_kept_windows`, oldest evicted and counted) and one drift report; and
//! at most `max_kept_rejected` rejection messages in all. The number of models
//! is the caller's: each distinct model name gets its own state.
//!
//! A panicking alert callback is contained ([`MonitorStats::callback_panics`]).
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use mlops_core::{LabelValue, PredictionEvent, PredictionSink};
//! use mlops_monitor::monitor::{AlertPolicy, Monitor, MonitorConfig, WatchedMetric};
//!
//! let alerts = Arc::new(Mutex::new(Vec::new()));
//! let seen = alerts.clone();
//! let config = MonitorConfig::default()
//!     .with_window(10)
//!     .with_policy(AlertPolicy::MetricBelow { metric: WatchedMetric::Accuracy, threshold: 0.8, windows: 1 })
//!     .with_callback(Arc::new(move |a| seen.lock().unwrap().push(a.message.clone())));
//! let monitor = Monitor::start(config)?;
//! let sink = monitor.sink(); // give this to serving
//! for i in 0..10 {
//!     sink.record(PredictionEvent::new("fraud", 1, format!("r{i}"), i).with_binary(0.9, true));
//!     sink.record_label("fraud", &format!("r{i}"), i + 5, LabelValue::Binary(i % 2 == 0));
//! }
//! let stats = monitor.shutdown();
//! assert_eq!(stats.events, 20);
//! assert_eq!(alerts.lock().unwrap().len(), 1); // accuracy 0.5 < 0.8
//! # Ok::<(), mlops_core::Error>(())
//! ```

mod alerts;

use std::collections::{BTreeMap, VecDeque};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::Duration;

use arrow_array::RecordBatch;
use mlops_core::{Error, LabelValue, PredictionEvent, PredictionSink, Result};

pub use alerts::{Alert, AlertCallback, AlertPolicy, WatchedMetric};

use crate::drift::{DataDrift, DriftConfig, DriftReport};
use crate::export::OperationalMetrics;
use crate::online::{OnlineDetector, PageHinkley};
use crate::performance::{JoinerConfig, Label, LabelJoiner, Metrics, Prediction, Task, WindowReport, WindowSpec};

/// Monitor settings.
#[derive(Clone)]
#[non_exhaustive]
pub struct MonitorConfig {
    /// Events buffered between the request path and the worker.
    pub channel_capacity: usize,
    /// Joined pairs per performance window.
    pub window: usize,
    /// Unmatched predictions/labels kept (each), and how long (ms).
    pub pending_capacity: usize,
    /// Time-to-live of unmatched predictions and labels, in milliseconds.
    pub label_ttl_ms: i64,
    /// Reference data for drift; `None` disables drift evaluation.
    pub reference: Option<Arc<Vec<RecordBatch>>>,
    /// Recent feature rows kept per model (bounded memory).
    pub max_buffered_rows: usize,
    /// Evaluate drift every this many new feature rows.
    pub drift_every_rows: usize,
    /// Drift options.
    pub drift: DriftConfig,
    /// Closed performance windows kept per model in [`MonitorStats::windows`];
    /// older ones are evicted and counted in [`MonitorStats::evicted_windows`].
    pub max_kept_windows: usize,
    /// Rejection messages kept in [`MonitorStats::rejected`]; older ones are
    /// evicted and counted in [`MonitorStats::evicted_rejected`].
    pub max_kept_rejected: usize,
    /// Alert policies.
    pub policies: Vec<AlertPolicy>,
    /// Called for every alert.
    pub callbacks: Vec<AlertCallback>,
}

impl std::fmt::Debug for MonitorConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MonitorConfig")
            .field("channel_capacity", &self.channel_capacity)
            .field("window", &self.window)
            .field("max_buffered_rows", &self.max_buffered_rows)
            .field("max_kept_windows", &self.max_kept_windows)
            .field("max_kept_rejected", &self.max_kept_rejected)
            .field("policies", &self.policies)
            .field("callbacks", &self.callbacks.len())
            .finish_non_exhaustive()
    }
}

impl Default for MonitorConfig {
    fn default() -> Self {
        MonitorConfig {
            channel_capacity: 10_000,
            window: 1000,
            pending_capacity: 100_000,
            label_ttl_ms: 24 * 3600 * 1000,
            reference: None,
            max_buffered_rows: 50_000,
            drift_every_rows: 10_000,
            drift: DriftConfig::default(),
            max_kept_windows: 1000,
            max_kept_rejected: 1000,
            policies: Vec::new(),
            callbacks: Vec::new(),
        }
    }
}

impl MonitorConfig {
    /// Sets the channel capacity.
    pub fn with_channel_capacity(mut self, n: usize) -> Self {
        self.channel_capacity = n;
        self
    }

    /// Sets the performance window (joined pairs).
    pub fn with_window(mut self, n: usize) -> Self {
        self.window = n;
        self
    }

    /// Enables drift evaluation against reference data.
    pub fn with_reference(mut self, batches: Vec<RecordBatch>, every_rows: usize) -> Self {
        self.reference = Some(Arc::new(batches));
        self.drift_every_rows = every_rows;
        self
    }

    /// Sets how many closed windows (per model) and rejection messages the
    /// stats keep; older entries are evicted and counted.
    pub fn with_kept(mut self, windows: usize, rejected: usize) -> Self {
        self.max_kept_windows = windows;
        self.max_kept_rejected = rejected;
        self
    }

    /// Adds an alert policy.
    pub fn with_policy(mut self, policy: AlertPolicy) -> Self {
        self.policies.push(policy);
        self
    }

    /// Adds an alert callback.
    pub fn with_callback(mut self, callback: AlertCallback) -> Self {
        self.callbacks.push(callback);
        self
    }
}

/// What the monitor did.
///
/// Memory is bounded: per model, at most [`MonitorConfig::max_kept_windows`]
/// windows (the most recent) and one drift report; at most
/// [`MonitorConfig::max_kept_rejected`] rejection messages in all. What was
/// evicted is counted, never silently lost.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct MonitorStats {
    /// Events processed (predictions and labels).
    pub events: u64,
    /// Events dropped because the channel was full.
    pub dropped: u64,
    /// Alerts raised.
    pub alerts: u64,
    /// Alert callbacks that panicked (the panic is contained; monitoring goes on).
    pub callback_panics: u64,
    /// The most recent closed performance windows per model, oldest first.
    pub windows: BTreeMap<String, VecDeque<WindowReport>>,
    /// Closed windows evicted from [`windows`](Self::windows) to respect the bound.
    pub evicted_windows: u64,
    /// The latest drift report per model.
    pub drift: BTreeMap<String, DriftReport>,
    /// The most recent events the worker rejected (e.g. a score outside [0, 1]), with the reason, oldest first.
    pub rejected: VecDeque<String>,
    /// Events rejected in all (kept or evicted).
    pub rejected_total: u64,
    /// Rejection messages evicted from [`rejected`](Self::rejected) to respect the bound.
    pub evicted_rejected: u64,
    /// Operational metrics in the Prometheus text format, at shutdown.
    pub prometheus: String,
}

enum Message {
    Prediction(Box<PredictionEvent>),
    Label {
        model: String,
        request_id: String,
        at_ms: i64,
        label: LabelValue,
    },
    /// Answered once every message queued before it is processed.
    Flush(SyncSender<()>),
    Shutdown,
}

/// The non-blocking [`PredictionSink`] that serving holds.
#[derive(Clone, Debug)]
pub struct MonitorSink {
    sender: SyncSender<Message>,
    dropped: Arc<AtomicU64>,
}

impl MonitorSink {
    fn send(&self, m: Message) {
        match self.sender.try_send(m) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

impl PredictionSink for MonitorSink {
    fn record(&self, event: PredictionEvent) {
        self.send(Message::Prediction(Box::new(event)));
    }

    fn record_label(&self, model: &str, request_id: &str, at_ms: i64, label: LabelValue) {
        self.send(Message::Label {
            model: model.to_owned(),
            request_id: request_id.to_owned(),
            at_ms,
            label,
        });
    }
}

/// A running monitor; [`shutdown`](Self::shutdown) drains it and returns what it saw.
#[derive(Debug)]
pub struct Monitor {
    sink: MonitorSink,
    worker: Option<JoinHandle<MonitorStats>>,
    operational: Arc<OperationalMetrics>,
}

struct ModelState {
    joiner: LabelJoiner,
    scores: PageHinkley,
    rows: VecDeque<RecordBatch>,
    buffered_rows: usize,
    rows_since_drift: usize,
    /// Consecutive windows below the floor, one counter per policy (indexed as
    /// `MonitorConfig::policies`), so two `MetricBelow` policies never reset each other.
    below: Vec<usize>,
}

struct Worker {
    config: MonitorConfig,
    models: BTreeMap<String, ModelState>,
    stats: MonitorStats,
    operational: Arc<OperationalMetrics>,
    dropped: Arc<AtomicU64>,
    dropped_reported: u64,
    dropped_exported: u64,
}

impl Worker {
    fn state(&mut self, model: &str, task: Task) -> Result<&mut ModelState> {
        if !self.models.contains_key(model) {
            let joiner = LabelJoiner::new(JoinerConfig {
                task,
                ttl_ms: self.config.label_ttl_ms,
                capacity: self.config.pending_capacity,
                window: WindowSpec::Count(self.config.window),
                fairness_key: None,
            })?;
            self.models.insert(
                model.to_owned(),
                ModelState {
                    joiner,
                    scores: PageHinkley::default(),
                    rows: VecDeque::new(),
                    buffered_rows: 0,
                    rows_since_drift: 0,
                    below: vec![0; self.config.policies.len()],
                },
            );
        }
        self.models.get_mut(model).ok_or_else(|| Error::NotFound {
            what: format!("monitor state of `{model}`"),
        })
    }

    fn alert(&mut self, policy: AlertPolicy, model: &str, value: f64, message: String) {
        self.raise(Alert {
            policy,
            model: model.to_owned(),
            value,
            message,
            drift: None,
        });
    }

    fn raise(&mut self, alert: Alert) {
        tracing::warn!(model = %alert.model, value = alert.value, "{}", alert.message);
        self.stats.alerts += 1;
        self.operational.record_alert(&alert.model, alert.policy.name());
        for cb in &self.config.callbacks {
            // A user callback must not take the monitor down with it: the panic
            // is contained and counted, and the next callbacks still run. The
            // callback only borrows the alert, so nothing of ours is left half-updated.
            if std::panic::catch_unwind(AssertUnwindSafe(|| cb(&alert))).is_err() {
                self.stats.callback_panics += 1;
                tracing::error!(model = %alert.model, "an alert callback panicked; monitoring continues");
            }
        }
    }

    fn windows_closed(&mut self, model: &str, reports: Vec<WindowReport>) {
        for report in reports {
            let policies: Vec<AlertPolicy> = self.config.policies.clone();
            for (index, p) in policies.iter().enumerate() {
                if let AlertPolicy::MetricBelow {
                    metric,
                    threshold,
                    windows,
                } = p
                {
                    let value = match (&report.overall, metric) {
                        (Metrics::Binary(b), WatchedMetric::Accuracy) => Some(b.accuracy),
                        (Metrics::Binary(b), WatchedMetric::F1) => b.f1,
                        (Metrics::Binary(b), WatchedMetric::RocAuc) => b.roc_auc,
                        (Metrics::Regression(r), WatchedMetric::R2) => r.r2,
                        _ => None,
                    };
                    let Some(v) = value else { continue };
                    let Some(counter) = self.models.get_mut(model).and_then(|s| s.below.get_mut(index)) else {
                        continue;
                    };
                    *counter = if v < *threshold { *counter + 1 } else { 0 };
                    let below = *counter;
                    if below >= *windows && below > 0 {
                        *counter = 0;
                        let msg = format!("{metric:?} of `{model}` is {v:.4}, below {threshold} for {below} window(s)");
                        self.alert(p.clone(), model, v, msg);
                    }
                }
            }
            let kept = self.stats.windows.entry(model.to_owned()).or_default();
            kept.push_back(report);
            while kept.len() > self.config.max_kept_windows {
                kept.pop_front();
                self.stats.evicted_windows += 1;
            }
        }
    }

    fn prediction(&mut self, e: PredictionEvent) -> Result<()> {
        self.operational.record(
            &e.model,
            &e.version.to_string(),
            Duration::from_micros(e.latency_us),
            e.ok,
        );
        let task = if e.predicted.is_some() {
            Task::BinaryClassification
        } else {
            Task::Regression
        };
        let reference = self.config.reference.clone();
        let (max_rows, every) = (self.config.max_buffered_rows, self.config.drift_every_rows.max(1));
        let model = e.model.clone();
        let state = self.state(&model, task)?;
        let mut drift_rows: Option<Vec<RecordBatch>> = None;
        let mut stream_drift = None;
        if let Some(score) = e.score {
            state.scores.update(score);
            if state.scores.drift_detected() {
                stream_drift = Some(score);
            }
        }
        if let Some(batch) = e.features.clone() {
            state.buffered_rows += batch.num_rows();
            state.rows_since_drift += batch.num_rows();
            state.rows.push_back(batch);
            while state.buffered_rows > max_rows && state.rows.len() > 1 {
                if let Some(old) = state.rows.pop_front() {
                    state.buffered_rows -= old.num_rows();
                }
            }
            if reference.is_some() && state.rows_since_drift >= every {
                state.rows_since_drift = 0;
                drift_rows = Some(state.rows.iter().cloned().collect());
            }
        }
        let closed = match (e.score, e.predicted) {
            (Some(score), Some(pred)) => {
                let mut p = Prediction::binary(score, pred);
                for (k, v) in &e.segments {
                    p = p.with_segment(k.as_str(), v.as_str());
                }
                state.joiner.record_prediction(&e.request_id, e.at_ms, p)?
            }
            (Some(value), None) => {
                state
                    .joiner
                    .record_prediction(&e.request_id, e.at_ms, Prediction::regression(value))?
            }
            _ => Vec::new(),
        };
        self.windows_closed(&model, closed);
        if let Some(score) = stream_drift
            && self.config.policies.contains(&AlertPolicy::ScoreStreamDrift)
        {
            self.alert(
                AlertPolicy::ScoreStreamDrift,
                &model,
                score,
                format!("Page–Hinkley detected a change in the score stream of `{model}`"),
            );
        }
        if let (Some(current), Some(reference)) = (drift_rows, reference) {
            let report = DataDrift::new(self.config.drift.clone()).compare(&reference, &current)?;
            for p in self.config.policies.clone() {
                if let AlertPolicy::DriftShareAtLeast(share) = p
                    && report.number_of_columns > 0
                    && report.drift_share >= share
                {
                    let msg = format!(
                        "{} of {} columns of `{model}` drifted (share {:.3} ≥ {share})",
                        report.number_of_drifted_columns, report.number_of_columns, report.drift_share
                    );
                    self.raise(Alert {
                        policy: p.clone(),
                        model: model.clone(),
                        value: report.drift_share,
                        message: msg,
                        drift: Some(Box::new(report.clone())),
                    });
                }
            }
            self.stats.drift.insert(model, report);
        }
        Ok(())
    }

    fn label(&mut self, model: &str, request_id: &str, at_ms: i64, label: LabelValue) -> Result<()> {
        let (task, label) = match label {
            LabelValue::Binary(b) => (Task::BinaryClassification, Label::Binary(b)),
            LabelValue::Value(v) => (Task::Regression, Label::Regression(v)),
            other => {
                return Err(Error::NotImplemented {
                    operation: format!("label {other:?}"),
                    implementer: "the monitor".into(),
                });
            }
        };
        let closed = self.state(model, task)?.joiner.record_label(request_id, at_ms, label)?;
        self.windows_closed(model, closed);
        Ok(())
    }

    fn run(mut self, rx: Receiver<Message>) -> MonitorStats {
        for m in rx {
            self.stats.events += 1;
            let (model, result) = match m {
                Message::Prediction(e) => {
                    let model = e.model.clone();
                    (model, self.prediction(*e))
                }
                Message::Label {
                    model,
                    request_id,
                    at_ms,
                    label,
                } => {
                    let r = self.label(&model, &request_id, at_ms, label);
                    (model, r)
                }
                Message::Flush(done) => {
                    self.stats.events -= 1;
                    // The caller may have given up waiting; nothing to do then.
                    let _ = done.send(());
                    continue;
                }
                Message::Shutdown => {
                    self.stats.events -= 1;
                    break;
                }
            };
            if let Err(e) = result {
                // A bad event is recorded and skipped; it never stops the monitor.
                self.stats.rejected_total += 1;
                self.operational.record_rejected(&model);
                self.stats.rejected.push_back(format!("`{model}`: {e}"));
                while self.stats.rejected.len() > self.config.max_kept_rejected {
                    self.stats.rejected.pop_front();
                    self.stats.evicted_rejected += 1;
                }
            }
            let dropped = self.dropped.load(Ordering::Relaxed);
            if dropped > self.dropped_exported {
                self.dropped_exported = dropped;
                self.operational.record_dropped_total(dropped);
            }
            if dropped > self.dropped_reported && self.config.policies.contains(&AlertPolicy::EventsDropped) {
                self.dropped_reported = dropped;
                self.alert(
                    AlertPolicy::EventsDropped,
                    &model,
                    dropped as f64,
                    format!("{dropped} monitoring events dropped so far"),
                );
            }
        }
        self.stats.dropped = self.dropped.load(Ordering::Relaxed);
        self.stats
    }
}

impl Monitor {
    /// Starts the worker thread.
    pub fn start(config: MonitorConfig) -> Result<Monitor> {
        if config.channel_capacity == 0
            || config.window == 0
            || config.max_buffered_rows == 0
            || config.max_kept_windows == 0
            || config.max_kept_rejected == 0
        {
            return Err(Error::invalid_input(
                "monitor configuration",
                "MonitorConfig",
                format!("{config:?}"),
                "non-zero capacities and window",
            ));
        }
        let (sender, rx) = sync_channel(config.channel_capacity);
        let dropped = Arc::new(AtomicU64::new(0));
        let operational = Arc::new(OperationalMetrics::new());
        let worker = Worker {
            config,
            models: BTreeMap::new(),
            stats: MonitorStats::default(),
            operational: operational.clone(),
            dropped: dropped.clone(),
            dropped_reported: 0,
            dropped_exported: 0,
        };
        let handle = std::thread::Builder::new()
            .name("mlops-monitor".into())
            .spawn(move || worker.run(rx))
            .map_err(|source| Error::Io {
                location: "monitor worker thread".into(),
                source,
            })?;
        Ok(Monitor {
            sink: MonitorSink { sender, dropped },
            worker: Some(handle),
            operational,
        })
    }

    /// The sink to hand to serving (cheap to clone).
    pub fn sink(&self) -> Arc<dyn PredictionSink> {
        Arc::new(self.sink.clone())
    }

    /// Events dropped so far.
    pub fn dropped(&self) -> u64 {
        self.sink.dropped.load(Ordering::Relaxed)
    }

    /// Operational metrics in the Prometheus text format, as far as the worker
    /// has got. The same metrics also go to the application's `metrics` recorder.
    pub fn prometheus(&self) -> String {
        self.operational.render()
    }

    /// Blocks until the worker has processed every event sent before this
    /// call, alert callbacks included: what a caller needs before it reads
    /// what the monitor concluded (tests, batch jobs, simulations). Events
    /// dropped because the channel was full are not waited for. Returns
    /// `false` if the worker thread is gone.
    pub fn flush(&self) -> bool {
        let (done, finished) = sync_channel(1);
        // A blocking send: the marker queues behind every event already accepted.
        self.sink.sender.send(Message::Flush(done)).is_ok() && finished.recv().is_ok()
    }

    /// Processes every event sent before this call, stops the worker and
    /// returns the statistics. Sinks still held elsewhere count later events as dropped.
    pub fn shutdown(mut self) -> MonitorStats {
        // A blocking send: the marker queues behind every event already accepted.
        let _ = self.sink.sender.send(Message::Shutdown);
        let mut stats = match self.worker.take().map(JoinHandle::join) {
            Some(Ok(stats)) => stats,
            _ => MonitorStats::default(),
        };
        stats.dropped = self.dropped();
        if stats.dropped > 0 {
            self.operational.record_dropped_total(stats.dropped);
        }
        stats.prometheus = self.prometheus();
        stats
    }
}
