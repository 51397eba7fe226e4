//! Operational metrics per model version, in the Prometheus text format.
//!
//! [`OperationalMetrics`] is a thread-safe registry of, per `(model, version)`:
//! a request counter, an error counter and a latency histogram with fixed
//! buckets in seconds ([`LATENCY_BUCKETS_SECONDS`], Prometheus' client
//! defaults). [`OperationalMetrics::render`] writes them in the text exposition
//! format version 0.0.4 (content type [`CONTENT_TYPE`]): `# HELP` and
//! `# TYPE` lines, cumulative `_bucket{le="…"}` series ending in `+Inf`,
//! `_sum` and `_count`, with label values escaped. Every record also emits a
//! `tracing` event at debug level.
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

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// The HTTP `Content-Type` of [`OperationalMetrics::render`]'s output.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Upper bounds (seconds, inclusive) of the latency histogram's finite buckets.
pub const LATENCY_BUCKETS_SECONDS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// Name of the request counter.
pub const REQUESTS_METRIC: &str = "mlops_model_requests_total";
/// Name of the error counter.
pub const ERRORS_METRIC: &str = "mlops_model_errors_total";
/// Name of the latency histogram.
pub const LATENCY_METRIC: &str = "mlops_model_request_duration_seconds";

/// The counters of one model version.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SeriesSnapshot {
    /// Requests recorded.
    pub requests: u64,
    /// Requests recorded as failed.
    pub errors: u64,
    /// Non-cumulative counts per finite bucket of [`LATENCY_BUCKETS_SECONDS`]
    /// (a latency above the last bound is in none of them, only in `requests`).
    pub bucket_counts: [u64; LATENCY_BUCKETS_SECONDS.len()],
    /// Sum of the latencies in seconds.
    pub latency_sum_seconds: f64,
}

/// A thread-safe registry of request counts, error counts and latency
/// histograms per model version. Share it behind an `Arc`.
#[derive(Debug, Default)]
pub struct OperationalMetrics {
    series: Mutex<BTreeMap<(String, String), SeriesSnapshot>>,
}

impl OperationalMetrics {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<(String, String), SeriesSnapshot>> {
        // A panic while holding the lock cannot leave a series half-updated in
        // a way that matters to counters, so a poisoned lock is still used.
        self.series.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records one request of `model` at `version` that took `latency` and
    /// succeeded (`ok`) or failed.
    pub fn record(&self, model: &str, version: &str, latency: Duration, ok: bool) {
        let seconds = latency.as_secs_f64();
        tracing::debug!(model, version, latency_seconds = seconds, ok, "model request recorded");
        let mut series = self.lock();
        let s = match series.get_mut(&(model.to_owned(), version.to_owned())) {
            Some(s) => s,
            None => series.entry((model.to_owned(), version.to_owned())).or_default(),
        };
        s.requests += 1;
        s.errors += u64::from(!ok);
        s.latency_sum_seconds += seconds;
        if let Some(i) = LATENCY_BUCKETS_SECONDS.iter().position(|&b| seconds <= b) {
            s.bucket_counts[i] += 1;
        }
    }

    /// The counters of one model version, if any request was recorded for it.
    pub fn snapshot(&self, model: &str, version: &str) -> Option<SeriesSnapshot> {
        self.lock().get(&(model.to_owned(), version.to_owned())).cloned()
    }

    /// The registry in the Prometheus text exposition format 0.0.4, series
    /// sorted by model then version. Empty when nothing was recorded.
    pub fn render(&self) -> String {
        let series = self.lock().clone();
        let mut out = String::new();
        if series.is_empty() {
            return out;
        }
        let labels = |model: &str, version: &str| {
            format!(
                "model=\"{}\",version=\"{}\"",
                escape_label(model),
                escape_label(version)
            )
        };
        // `write!` to a String cannot fail; the results are ignored on purpose.
        let _ = writeln!(
            out,
            "# HELP {REQUESTS_METRIC} Prediction requests served, per model version."
        );
        let _ = writeln!(out, "# TYPE {REQUESTS_METRIC} counter");
        for ((m, v), s) in &series {
            let _ = writeln!(out, "{REQUESTS_METRIC}{{{}}} {}", labels(m, v), s.requests);
        }
        let _ = writeln!(
            out,
            "# HELP {ERRORS_METRIC} Prediction requests that failed, per model version."
        );
        let _ = writeln!(out, "# TYPE {ERRORS_METRIC} counter");
        for ((m, v), s) in &series {
            let _ = writeln!(out, "{ERRORS_METRIC}{{{}}} {}", labels(m, v), s.errors);
        }
        let _ = writeln!(
            out,
            "# HELP {LATENCY_METRIC} Prediction request latency in seconds, per model version."
        );
        let _ = writeln!(out, "# TYPE {LATENCY_METRIC} histogram");
        for ((m, v), s) in &series {
            let l = labels(m, v);
            let mut cumulative = 0;
            for (bound, count) in LATENCY_BUCKETS_SECONDS.iter().zip(&s.bucket_counts) {
                cumulative += count;
                let _ = writeln!(
                    out,
                    "{LATENCY_METRIC}_bucket{{{l},le=\"{}\"}} {cumulative}",
                    format_float(*bound)
                );
            }
            let _ = writeln!(out, "{LATENCY_METRIC}_bucket{{{l},le=\"+Inf\"}} {}", s.requests);
            let _ = writeln!(
                out,
                "{LATENCY_METRIC}_sum{{{l}}} {}",
                format_float(s.latency_sum_seconds)
            );
            let _ = writeln!(out, "{LATENCY_METRIC}_count{{{l}}} {}", s.requests);
        }
        out
    }
}

/// Escapes a label value for the text format: `\` → `\\`, `"` → `\"`, newline → `\n`.
pub fn escape_label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// A float as the text format reads it (Go's `ParseFloat`): shortest
/// round-trip decimal, `+Inf`, `-Inf`, `NaN`.
fn format_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_backslash_quote_and_newline() {
        assert_eq!(escape_label("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
    }

    #[test]
    fn bucket_bounds_are_inclusive() {
        let m = OperationalMetrics::new();
        m.record("m", "1", Duration::from_millis(5), true);
        m.record("m", "1", Duration::from_secs(11), true);
        let s = m.snapshot("m", "1").unwrap_or_default();
        assert_eq!(s.bucket_counts[0], 1);
        assert_eq!(s.bucket_counts.iter().sum::<u64>(), 1);
        assert_eq!(s.requests, 2);
        assert_eq!(format_float(f64::INFINITY), "+Inf");
    }
}
