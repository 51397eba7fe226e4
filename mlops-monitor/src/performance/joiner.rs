//! The bounded-memory join of predictions with late labels, and the windows
//! the joined pairs are aggregated in.

use std::collections::{BTreeMap, HashMap};

use mlops_core::{Error, Result};
use serde::Serialize;

use super::metrics::{
    BinaryMetrics, FairnessGaps, RegressionMetrics, binary_metrics, fairness_gaps, regression_metrics,
};

/// The kind of model whose performance is tracked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Task {
    /// Binary classification: a positive-class probability and a predicted label.
    BinaryClassification,
    /// Regression: a number.
    Regression,
}

/// What a model returned for one request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Output {
    /// A binary classifier's output.
    Binary {
        /// Probability (or calibrated score) of the positive class, in `[0, 1]`.
        score: f64,
        /// The predicted label (the model's own threshold applied).
        label: bool,
    },
    /// A regressor's output.
    Regression(f64),
}

/// One prediction: the model's output plus the segments it belongs to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prediction {
    /// The model's output.
    pub output: Output,
    /// Segment values for breakdowns, e.g. `{"country": "fr"}`.
    pub segments: BTreeMap<String, String>,
}

impl Prediction {
    /// A binary classifier's prediction with no segments.
    pub fn binary(score: f64, label: bool) -> Self {
        Prediction {
            output: Output::Binary { score, label },
            segments: BTreeMap::new(),
        }
    }

    /// A regressor's prediction with no segments.
    pub fn regression(value: f64) -> Self {
        Prediction {
            output: Output::Regression(value),
            segments: BTreeMap::new(),
        }
    }

    /// Adds (or replaces) one segment value.
    #[must_use]
    pub fn with_segment(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.segments.insert(key.into(), value.into());
        self
    }
}

/// A ground-truth label, arriving after (or before) its prediction.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum Label {
    /// The true class of a binary classification.
    Binary(bool),
    /// The true value of a regression.
    Regression(f64),
}

/// How joined pairs are grouped into metric windows. Both kinds are tumbling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum WindowSpec {
    /// A window closes every `n` joined pairs.
    Count(usize),
    /// Windows `[k·width_ms, (k+1)·width_ms)` of the pair's *join time*: the
    /// later of its prediction and label timestamps, i.e. the label time in the
    /// usual case where labels come late. A window closes when a pair of a
    /// later window arrives (or on [`LabelJoiner::flush`]); a pair whose window
    /// has already closed is counted in [`JoinerStats::late_pairs`] and dropped.
    Time {
        /// Window width in milliseconds (> 0).
        width_ms: i64,
    },
}

/// Configuration of a [`LabelJoiner`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JoinerConfig {
    /// The model's task; records of the other kind are rejected.
    pub task: Task,
    /// An unmatched prediction or label is evicted once the newest timestamp
    /// seen is more than `ttl_ms` after its own.
    pub ttl_ms: i64,
    /// Most unmatched predictions kept, and separately most unmatched labels
    /// kept; beyond it the oldest is evicted.
    pub capacity: usize,
    /// The metric windows.
    pub window: WindowSpec,
    /// A segment key to compute group fairness gaps over (binary classification only).
    pub fairness_key: Option<String>,
}

/// Counters of a [`LabelJoiner`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct JoinerStats {
    /// Pairs joined.
    pub joined: u64,
    /// Unmatched predictions evicted (TTL or capacity).
    pub evicted_predictions: u64,
    /// Unmatched labels evicted (TTL or capacity).
    pub evicted_labels: u64,
    /// Of the evictions above, those caused by the capacity limit.
    pub evicted_for_capacity: u64,
    /// Predictions that replaced a pending prediction with the same id.
    pub duplicate_predictions: u64,
    /// Labels that replaced a pending label with the same id.
    pub duplicate_labels: u64,
    /// Joined pairs dropped because their time window had already closed.
    pub late_pairs: u64,
    /// Predictions waiting for a label now.
    pub pending_predictions: usize,
    /// Labels waiting for a prediction now.
    pub pending_labels: usize,
}

/// A prediction joined with its label.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct JoinedPair {
    /// The request id.
    pub id: String,
    /// When the prediction was made.
    pub predicted_at_ms: i64,
    /// When the label arrived.
    pub labelled_at_ms: i64,
    /// The prediction.
    pub prediction: Prediction,
    /// The label.
    pub label: Label,
}

impl JoinedPair {
    /// The join time: the later of the two timestamps.
    pub fn joined_at_ms(&self) -> i64 {
        self.predicted_at_ms.max(self.labelled_at_ms)
    }
}

/// Metrics of one set of pairs, by task.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Metrics {
    /// Binary classification metrics.
    Binary(BinaryMetrics),
    /// Regression metrics.
    Regression(RegressionMetrics),
}

/// The metrics of one closed window.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct WindowReport {
    /// Sequence number of the window among those this joiner closed (from 0).
    pub sequence: u64,
    /// `[start, end)` in milliseconds for time windows; `None` for count windows.
    pub bounds_ms: Option<(i64, i64)>,
    /// Earliest join time among the window's pairs.
    pub first_joined_at_ms: i64,
    /// Latest join time among the window's pairs.
    pub last_joined_at_ms: i64,
    /// Metrics over all pairs of the window.
    pub overall: Metrics,
    /// Metrics per segment key, then per segment value, over the pairs that have that key.
    pub segments: BTreeMap<String, BTreeMap<String, Metrics>>,
    /// Fairness gaps over [`JoinerConfig::fairness_key`], over the pairs that
    /// have that key; `None` when not configured, for regression, or when no pair has the key.
    pub fairness: Option<FairnessGaps>,
}

struct Pending<T> {
    at_ms: i64,
    seq: u64,
    value: T,
}

/// Unmatched entries of one side: by id, and by age for eviction.
struct Side<T> {
    by_id: HashMap<String, Pending<T>>,
    by_age: BTreeMap<(i64, u64), String>,
}

impl<T> Side<T> {
    fn new() -> Self {
        Side {
            by_id: HashMap::new(),
            by_age: BTreeMap::new(),
        }
    }

    fn take(&mut self, id: &str) -> Option<Pending<T>> {
        let p = self.by_id.remove(id)?;
        self.by_age.remove(&(p.at_ms, p.seq));
        Some(p)
    }

    /// Inserts; returns whether it replaced an entry with the same id.
    fn insert(&mut self, id: String, p: Pending<T>) -> bool {
        let replaced = self.take(&id).is_some();
        self.by_age.insert((p.at_ms, p.seq), id.clone());
        self.by_id.insert(id, p);
        replaced
    }

    /// Evicts entries older than `cutoff` then the oldest beyond `capacity`;
    /// returns (evicted in all, evicted for capacity).
    fn evict(&mut self, cutoff: i64, capacity: usize) -> (u64, u64) {
        let mut evicted = 0;
        while let Some(entry) = self.by_age.first_entry() {
            if entry.key().0 >= cutoff {
                break;
            }
            let id = entry.remove();
            self.by_id.remove(&id);
            evicted += 1;
        }
        let mut for_capacity = 0;
        while self.by_id.len() > capacity {
            let Some((_, id)) = self.by_age.pop_first() else { break };
            self.by_id.remove(&id);
            for_capacity += 1;
        }
        (evicted + for_capacity, for_capacity)
    }
}

/// Joins predictions with labels that arrive later (or earlier), by id, in
/// bounded memory, and aggregates the joined pairs into metric windows.
///
/// Time is the records' own: the newest timestamp seen is the clock that the
/// TTL is measured against, so replays behave exactly like live traffic.
pub struct LabelJoiner {
    config: JoinerConfig,
    predictions: Side<Prediction>,
    labels: Side<Label>,
    seq: u64,
    watermark: Option<i64>,
    stats: JoinerStats,
    window: Vec<JoinedPair>,
    open_window: Option<i64>,
    reports_closed: u64,
}

impl LabelJoiner {
    /// A joiner with this configuration.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a negative TTL, a zero capacity, a zero
    /// count window or a non-positive time window width.
    pub fn new(config: JoinerConfig) -> Result<Self> {
        let bad = |what: &str, message: String, expected: &str| {
            Err(Error::invalid_input(what, "JoinerConfig", message, expected))
        };
        if config.ttl_ms < 0 {
            return bad("ttl_ms", format!("{} is negative", config.ttl_ms), ">= 0");
        }
        if config.capacity == 0 {
            return bad("capacity", "0".to_owned(), ">= 1");
        }
        match config.window {
            WindowSpec::Count(0) => return bad("window", "Count(0)".to_owned(), "Count(n) with n >= 1"),
            WindowSpec::Time { width_ms } if width_ms <= 0 => {
                return bad("window", format!("Time {{ width_ms: {width_ms} }}"), "width_ms >= 1");
            }
            _ => {}
        }
        Ok(LabelJoiner {
            config,
            predictions: Side::new(),
            labels: Side::new(),
            seq: 0,
            watermark: None,
            stats: JoinerStats::default(),
            window: Vec::new(),
            open_window: None,
            reports_closed: 0,
        })
    }

    /// The counters, with the current pending sizes.
    pub fn stats(&self) -> JoinerStats {
        JoinerStats {
            pending_predictions: self.predictions.by_id.len(),
            pending_labels: self.labels.by_id.len(),
            ..self.stats.clone()
        }
    }

    /// Records a prediction; returns the windows this record closed (usually none).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when the output's kind is not the configured
    /// task's, or a score is NaN or outside `[0, 1]`, or a regression value is
    /// not finite. A rejected record changes nothing.
    pub fn record_prediction(
        &mut self,
        id: impl Into<String>,
        at_ms: i64,
        prediction: Prediction,
    ) -> Result<Vec<WindowReport>> {
        let id = id.into();
        match (&prediction.output, self.config.task) {
            (Output::Binary { score, .. }, Task::BinaryClassification) => {
                if !(0.0..=1.0).contains(score) {
                    return Err(Error::invalid_input(
                        "score",
                        format!("prediction `{id}`"),
                        format!("{score} is not a probability"),
                        "a number in [0, 1]",
                    ));
                }
            }
            (Output::Regression(v), Task::Regression) => finite("prediction", &id, *v)?,
            (_, task) => return Err(kind_mismatch("prediction", &id, task)),
        }
        let mut reports = Vec::new();
        if let Some(label) = self.labels.take(&id) {
            let pair = JoinedPair {
                id,
                predicted_at_ms: at_ms,
                labelled_at_ms: label.at_ms,
                prediction,
                label: label.value,
            };
            self.emit(pair, &mut reports)?;
        } else {
            self.seq += 1;
            let pending = Pending {
                at_ms,
                seq: self.seq,
                value: prediction,
            };
            if self.predictions.insert(id, pending) {
                self.stats.duplicate_predictions += 1;
            }
        }
        self.advance(at_ms);
        Ok(reports)
    }

    /// Records a label; returns the windows this record closed (usually none).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when the label's kind is not the configured
    /// task's, or a regression label is not finite.
    pub fn record_label(&mut self, id: impl Into<String>, at_ms: i64, label: Label) -> Result<Vec<WindowReport>> {
        let id = id.into();
        match (label, self.config.task) {
            (Label::Binary(_), Task::BinaryClassification) => {}
            (Label::Regression(v), Task::Regression) => finite("label", &id, v)?,
            (_, task) => return Err(kind_mismatch("label", &id, task)),
        }
        let mut reports = Vec::new();
        if let Some(prediction) = self.predictions.take(&id) {
            let pair = JoinedPair {
                id,
                predicted_at_ms: prediction.at_ms,
                labelled_at_ms: at_ms,
                prediction: prediction.value,
                label,
            };
            self.emit(pair, &mut reports)?;
        } else {
            self.seq += 1;
            let pending = Pending {
                at_ms,
                seq: self.seq,
                value: label,
            };
            if self.labels.insert(id, pending) {
                self.stats.duplicate_labels += 1;
            }
        }
        self.advance(at_ms);
        Ok(reports)
    }

    /// Closes the open window, if it holds any pair, and returns its report.
    ///
    /// # Errors
    /// Only if the stored pairs were invalid, which the record methods prevent.
    pub fn flush(&mut self) -> Result<Option<WindowReport>> {
        let bounds = match (self.config.window, self.open_window) {
            (WindowSpec::Time { width_ms }, Some(k)) => Some(window_bounds(k, width_ms)),
            _ => None,
        };
        self.open_window = None;
        self.close(bounds)
    }

    /// Moves the clock to `at_ms` (if later) and evicts what expired.
    fn advance(&mut self, at_ms: i64) {
        let now = self.watermark.map_or(at_ms, |w| w.max(at_ms));
        self.watermark = Some(now);
        let cutoff = now.saturating_sub(self.config.ttl_ms);
        let (p, pc) = self.predictions.evict(cutoff, self.config.capacity);
        let (l, lc) = self.labels.evict(cutoff, self.config.capacity);
        self.stats.evicted_predictions += p;
        self.stats.evicted_labels += l;
        self.stats.evicted_for_capacity += pc + lc;
    }

    fn emit(&mut self, pair: JoinedPair, reports: &mut Vec<WindowReport>) -> Result<()> {
        self.stats.joined += 1;
        match self.config.window {
            WindowSpec::Count(n) => {
                self.window.push(pair);
                if self.window.len() >= n {
                    reports.extend(self.close(None)?);
                }
            }
            WindowSpec::Time { width_ms } => {
                let k = pair.joined_at_ms().div_euclid(width_ms);
                match self.open_window {
                    Some(open) if k < open => {
                        self.stats.late_pairs += 1;
                        return Ok(());
                    }
                    Some(open) if k > open => {
                        reports.extend(self.close(Some(window_bounds(open, width_ms)))?);
                        self.open_window = Some(k);
                    }
                    Some(_) => {}
                    None => self.open_window = Some(k),
                }
                self.window.push(pair);
            }
        }
        Ok(())
    }

    fn close(&mut self, bounds_ms: Option<(i64, i64)>) -> Result<Option<WindowReport>> {
        let pairs = std::mem::take(&mut self.window);
        let (Some(first), Some(last)) = (
            pairs.iter().map(JoinedPair::joined_at_ms).min(),
            pairs.iter().map(JoinedPair::joined_at_ms).max(),
        ) else {
            return Ok(None);
        };
        let all: Vec<&JoinedPair> = pairs.iter().collect();
        let overall = self.metrics(&all)?;
        let mut by_segment: BTreeMap<&str, BTreeMap<&str, Vec<&JoinedPair>>> = BTreeMap::new();
        for p in &pairs {
            for (k, v) in &p.prediction.segments {
                by_segment.entry(k).or_default().entry(v).or_default().push(p);
            }
        }
        let mut segments = BTreeMap::new();
        for (k, values) in by_segment {
            let mut per_value = BTreeMap::new();
            for (v, group) in values {
                per_value.insert(v.to_owned(), self.metrics(&group)?);
            }
            segments.insert(k.to_owned(), per_value);
        }
        let fairness = match (&self.config.fairness_key, self.config.task) {
            (Some(key), Task::BinaryClassification) => {
                let (mut y_true, mut y_pred, mut groups) = (Vec::new(), Vec::new(), Vec::new());
                for p in &pairs {
                    if let (Some(g), Output::Binary { label: pred, .. }, Label::Binary(truth)) =
                        (p.prediction.segments.get(key), &p.prediction.output, p.label)
                    {
                        y_true.push(truth);
                        y_pred.push(*pred);
                        groups.push(g.as_str());
                    }
                }
                if groups.is_empty() {
                    None
                } else {
                    Some(fairness_gaps(key, &y_true, &y_pred, &groups)?)
                }
            }
            _ => None,
        };
        let report = WindowReport {
            sequence: self.reports_closed,
            bounds_ms,
            first_joined_at_ms: first,
            last_joined_at_ms: last,
            overall,
            segments,
            fairness,
        };
        self.reports_closed += 1;
        Ok(Some(report))
    }

    fn metrics(&self, pairs: &[&JoinedPair]) -> Result<Metrics> {
        match self.config.task {
            Task::BinaryClassification => {
                let (mut t, mut s, mut p) = (Vec::new(), Vec::new(), Vec::new());
                for pair in pairs {
                    if let (Output::Binary { score, label }, Label::Binary(truth)) =
                        (&pair.prediction.output, pair.label)
                    {
                        t.push(truth);
                        s.push(*score);
                        p.push(*label);
                    }
                }
                binary_metrics(&t, &s, &p).map(Metrics::Binary)
            }
            Task::Regression => {
                let (mut t, mut p) = (Vec::new(), Vec::new());
                for pair in pairs {
                    if let (Output::Regression(v), Label::Regression(truth)) = (&pair.prediction.output, pair.label) {
                        t.push(truth);
                        p.push(*v);
                    }
                }
                regression_metrics(&t, &p).map(Metrics::Regression)
            }
        }
    }
}

fn window_bounds(k: i64, width_ms: i64) -> (i64, i64) {
    let start = k.saturating_mul(width_ms);
    (start, start.saturating_add(width_ms))
}

fn finite(what: &str, id: &str, v: f64) -> Result<()> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(Error::invalid_input(
            "regression value",
            format!("{what} `{id}`"),
            format!("{v} is not finite"),
            "a finite number",
        ))
    }
}

fn kind_mismatch(what: &str, id: &str, task: Task) -> Error {
    Error::invalid_input(
        format!("{what} kind"),
        format!("{what} `{id}`"),
        format!("does not match the configured task {task:?}"),
        match task {
            Task::BinaryClassification => "Output::Binary / Label::Binary",
            Task::Regression => "Output::Regression / Label::Regression",
        },
    )
}
