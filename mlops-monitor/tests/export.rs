#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The operational metrics render valid Prometheus text exposition format 0.0.4.
//!
//! The output is checked by a strict parser written here and, when the
//! `.venv-perf` virtual environment with `prometheus-client` exists at the
//! workspace root (or `MLOPS_PROM_PYTHON` names a Python that has it), by
//! `prometheus_client.parser.text_string_to_metric_families` too.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mlops_monitor::export::{LATENCY_BUCKETS_SECONDS, OperationalMetrics, escape_label};

type Labels = BTreeMap<String, String>;

#[derive(Debug, PartialEq)]
struct Sample {
    name: String,
    labels: Labels,
    value: f64,
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// Parses `{a="x",b="y"}` (strict: escapes `\\`, `\"`, `\n` only); returns labels and the rest.
fn parse_labels(s: &str) -> (Labels, &str) {
    let mut labels = Labels::new();
    let mut rest = s.strip_prefix('{').unwrap();
    loop {
        if let Some(r) = rest.strip_prefix('}') {
            return (labels, r);
        }
        let eq = rest.find('=').unwrap();
        let name = &rest[..eq];
        assert!(is_name(name), "label name {name:?}");
        let mut chars = rest[eq + 1..]
            .strip_prefix('"')
            .expect("quoted label value")
            .char_indices();
        let mut value = String::new();
        let end = loop {
            match chars.next().expect("unterminated label value") {
                (_, '\\') => match chars.next().unwrap().1 {
                    '\\' => value.push('\\'),
                    '"' => value.push('"'),
                    'n' => value.push('\n'),
                    c => panic!("bad escape \\{c}"),
                },
                (_, '\n') => panic!("raw newline in label value"),
                (i, '"') => break i,
                (_, c) => value.push(c),
            }
        };
        assert!(
            labels.insert(name.to_owned(), value).is_none(),
            "duplicate label {name}"
        );
        rest = &rest[eq + 1 + 1 + end + 1..];
        rest = rest.strip_prefix(',').unwrap_or(rest);
    }
}

fn parse_value(s: &str) -> f64 {
    match s {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        _ => s.parse().unwrap_or_else(|_| panic!("bad value {s:?}")),
    }
}

/// A strict parser of the text format: returns the samples and the type of each family.
fn parse_strict(text: &str) -> (Vec<Sample>, BTreeMap<String, String>) {
    assert!(text.is_empty() || text.ends_with('\n'), "must end with a newline");
    let mut types = BTreeMap::new();
    let mut helps = BTreeMap::new();
    let mut samples = Vec::new();
    let mut current_family: Option<String> = None;
    for line in text.lines() {
        assert!(!line.is_empty(), "blank line");
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, _) = rest.split_once(' ').unwrap();
            assert!(is_name(name));
            assert!(helps.insert(name.to_owned(), ()).is_none(), "second HELP for {name}");
            assert!(!types.contains_key(name), "HELP after TYPE/samples for {name}");
            current_family = Some(name.to_owned());
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert!(["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind));
            assert!(
                types.insert(name.to_owned(), kind.to_owned()).is_none(),
                "second TYPE for {name}"
            );
            assert_eq!(current_family.as_deref(), Some(name), "TYPE must follow its HELP here");
        } else {
            assert!(!line.starts_with('#'), "unexpected comment {line}");
            let name_end = line.find(['{', ' ']).unwrap();
            let name = &line[..name_end];
            assert!(is_name(name), "metric name {name:?}");
            let (labels, rest) = if line[name_end..].starts_with('{') {
                parse_labels(&line[name_end..])
            } else {
                (Labels::new(), &line[name_end..])
            };
            let value = rest.strip_prefix(' ').unwrap();
            assert!(!value.contains(' '), "timestamps are not emitted: {line}");
            let family = current_family.as_deref().unwrap();
            let kind = &types[family];
            let ok_name = match kind.as_str() {
                "histogram" => [
                    format!("{family}_bucket"),
                    format!("{family}_sum"),
                    format!("{family}_count"),
                ]
                .contains(&name.to_owned()),
                _ => name == family,
            };
            assert!(ok_name, "sample {name} outside its family {family}");
            samples.push(Sample {
                name: name.to_owned(),
                labels,
                value: parse_value(value),
            });
        }
    }
    (samples, types)
}

/// Histogram invariants: per series, `le` increasing, counts cumulative,
/// `+Inf` last and equal to `_count`.
fn check_histograms(samples: &[Sample], family: &str) {
    let mut series: BTreeMap<Labels, Vec<(f64, f64)>> = BTreeMap::new();
    let mut counts = BTreeMap::new();
    for s in samples {
        let mut key = s.labels.clone();
        if s.name == format!("{family}_bucket") {
            let le = parse_value(&key.remove("le").expect("bucket without le"));
            series.entry(key).or_default().push((le, s.value));
        } else if s.name == format!("{family}_count") {
            counts.insert(key, s.value);
        }
    }
    assert!(!series.is_empty());
    for (key, buckets) in &series {
        assert_eq!(buckets.len(), LATENCY_BUCKETS_SECONDS.len() + 1);
        for w in buckets.windows(2) {
            assert!(w[0].0 < w[1].0 && w[0].1 <= w[1].1, "{key:?}: {buckets:?}");
        }
        let (last_le, last) = *buckets.last().unwrap();
        assert_eq!(last_le, f64::INFINITY);
        assert_eq!(Some(&last), counts.get(key));
    }
}

fn python() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("MLOPS_PROM_PYTHON") {
        return Some(PathBuf::from(p));
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv-perf/bin/python");
    p.exists().then_some(p)
}

const PY_PARSE: &str = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for fam in text_string_to_metric_families(sys.stdin.read()):
    for s in fam.samples:
        out.append({"family": fam.name, "type": fam.type, "name": s.name, "labels": s.labels, "value": s.value})
print(json.dumps(out))
"#;

/// Parses with prometheus_client; `None` when no suitable Python is available.
fn parse_with_prometheus_client(text: &str) -> Option<Vec<(String, Sample)>> {
    let py = python()?;
    let mut child = Command::new(py)
        .args(["-c", PY_PARSE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("ModuleNotFoundError") {
        return None;
    }
    assert!(out.status.success(), "prometheus_client rejected the output: {stderr}");
    let parsed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    Some(
        parsed
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                let labels = s["labels"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                    .collect();
                let sample = Sample {
                    name: s["name"].as_str().unwrap().to_owned(),
                    labels,
                    value: s["value"].as_f64().unwrap(),
                };
                (s["type"].as_str().unwrap().to_owned(), sample)
            })
            .collect(),
    )
}

fn populated() -> OperationalMetrics {
    let m = OperationalMetrics::new();
    let ms = Duration::from_millis;
    for (latency, ok) in [
        (ms(3), true),
        (ms(5), true),
        (ms(40), false),
        (ms(900), true),
        (ms(12_000), false),
    ] {
        m.record("churn", "1", latency, ok);
    }
    m.record("churn", "2", ms(120), true);
    // Names that need escaping.
    m.record("we\"ird\\model", "v\n2", ms(7), true);
    m
}

#[test]
fn renders_exact_text_for_one_series() {
    let m = OperationalMetrics::new();
    m.record("m", "1", Duration::from_millis(20), true);
    m.record("m", "1", Duration::from_millis(300), false);
    let l = "model=\"m\",version=\"1\"";
    let h = "mlops_model_request_duration_seconds";
    let expected = format!(
        "# HELP mlops_model_requests_total Prediction requests served, per model version.\n\
         # TYPE mlops_model_requests_total counter\n\
         mlops_model_requests_total{{{l}}} 2\n\
         # HELP mlops_model_errors_total Prediction requests that failed, per model version.\n\
         # TYPE mlops_model_errors_total counter\n\
         mlops_model_errors_total{{{l}}} 1\n\
         # HELP {h} Prediction request latency in seconds, per model version.\n\
         # TYPE {h} histogram\n\
         {h}_bucket{{{l},le=\"0.005\"}} 0\n\
         {h}_bucket{{{l},le=\"0.01\"}} 0\n\
         {h}_bucket{{{l},le=\"0.025\"}} 1\n\
         {h}_bucket{{{l},le=\"0.05\"}} 1\n\
         {h}_bucket{{{l},le=\"0.1\"}} 1\n\
         {h}_bucket{{{l},le=\"0.25\"}} 1\n\
         {h}_bucket{{{l},le=\"0.5\"}} 2\n\
         {h}_bucket{{{l},le=\"1\"}} 2\n\
         {h}_bucket{{{l},le=\"2.5\"}} 2\n\
         {h}_bucket{{{l},le=\"5\"}} 2\n\
         {h}_bucket{{{l},le=\"10\"}} 2\n\
         {h}_bucket{{{l},le=\"+Inf\"}} 2\n\
         {h}_sum{{{l}}} 0.32\n\
         {h}_count{{{l}}} 2\n"
    );
    assert_eq!(m.render(), expected);
    assert_eq!(OperationalMetrics::new().render(), "");
}

#[test]
fn output_passes_a_strict_parser() {
    let text = populated().render();
    let (samples, types) = parse_strict(&text);
    assert_eq!(types["mlops_model_requests_total"], "counter");
    assert_eq!(types["mlops_model_request_duration_seconds"], "histogram");
    check_histograms(&samples, "mlops_model_request_duration_seconds");
    let weird: Labels = [("model", "we\"ird\\model"), ("version", "v\n2")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    assert!(
        samples
            .iter()
            .any(|s| s.name == "mlops_model_requests_total" && s.labels == weird && s.value == 1.0)
    );
    let churn1: Labels = [("model", "churn"), ("version", "1")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let get = |name: &str| {
        samples
            .iter()
            .find(|s| s.name == name && s.labels == churn1)
            .unwrap()
            .value
    };
    assert_eq!(get("mlops_model_requests_total"), 5.0);
    assert_eq!(get("mlops_model_errors_total"), 2.0);
    assert_eq!(get("mlops_model_request_duration_seconds_count"), 5.0);
    assert!((get("mlops_model_request_duration_seconds_sum") - 12.948).abs() < 1e-9);
}

#[test]
fn output_passes_prometheus_client_parser() {
    let text = populated().render();
    let Some(parsed) = parse_with_prometheus_client(&text) else {
        eprintln!("skipped: no Python with prometheus_client (create ../.venv-perf or set MLOPS_PROM_PYTHON)");
        return;
    };
    let (ours, _) = parse_strict(&text);
    assert_eq!(parsed.len(), ours.len());
    for ((kind, theirs), ours) in parsed.iter().zip(&ours) {
        // prometheus_client drops the `_total` suffix from the family name, not the sample.
        assert_eq!(theirs.name, ours.name);
        assert_eq!(theirs.labels, ours.labels);
        assert_eq!(theirs.value, ours.value);
        let want_kind = if ours.name.starts_with("mlops_model_request_duration") {
            "histogram"
        } else {
            "counter"
        };
        assert_eq!(kind, want_kind);
    }
}

#[test]
fn concurrent_records_are_all_counted() {
    let m = Arc::new(OperationalMetrics::new());
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let m = Arc::clone(&m);
            std::thread::spawn(move || {
                for i in 0..500 {
                    m.record(
                        "m",
                        if t % 2 == 0 { "a" } else { "b" },
                        Duration::from_micros(i * 10),
                        i % 5 != 0,
                    );
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    for v in ["a", "b"] {
        let s = m.snapshot("m", v).unwrap();
        assert_eq!((s.requests, s.errors), (2000, 400));
        assert_eq!(s.bucket_counts.iter().sum::<u64>(), 2000);
    }
}

#[test]
fn escaping_covers_backslash_quote_newline() {
    assert_eq!(escape_label("a\\b\"c\nd\te"), "a\\\\b\\\"c\\nd\te");
}

/// A subscriber that counts debug events with the `model` field.
struct CountEvents(Arc<AtomicUsize>);

impl tracing::Subscriber for CountEvents {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let meta = event.metadata();
        if *meta.level() == tracing::Level::DEBUG && meta.fields().field("model").is_some() {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[test]
fn each_record_emits_a_debug_event() {
    let count = Arc::new(AtomicUsize::new(0));
    tracing::subscriber::with_default(CountEvents(Arc::clone(&count)), || {
        populated();
    });
    assert_eq!(count.load(Ordering::SeqCst), 7);
}
