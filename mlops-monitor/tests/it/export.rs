#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The operational metrics go through the `metrics` facade and render valid
//! Prometheus text exposition format 0.0.4.
//!
//! The output is checked by a strict parser written here and by
//! `prometheus_client.parser.text_string_to_metric_families`, run with
//! `$MLOPS_PYTHON`, or else with the venv that `.ci/py-tools.sh` installs (the
//! test runs the script itself). Without Python the test fails, unless
//! `MLOPS_SKIP_PROMETHEUS_PARSER=1` says to skip it (and it prints that it did).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use metrics_exporter_prometheus::PrometheusBuilder;
use mlops_core::PredictionEvent;
use mlops_monitor::export::{LATENCY_BUCKETS_SECONDS, OperationalMetrics};
use mlops_monitor::monitor::{AlertPolicy, Monitor, MonitorConfig};

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
    let mut after_blank = false;
    for line in text.lines() {
        // The format ignores empty lines; the exporter puts one after each family.
        if line.is_empty() {
            after_blank = true;
            continue;
        }
        assert!(
            !after_blank || line.starts_with("# HELP ") || line.starts_with("# TYPE "),
            "a blank line inside a family, before {line}"
        );
        after_blank = false;
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
            // HELP is optional; when present it comes first.
            if helps.contains_key(name) {
                assert_eq!(current_family.as_deref(), Some(name), "TYPE must follow its HELP here");
            }
            current_family = Some(name.to_owned());
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
                "summary" => {
                    [family.to_owned(), format!("{family}_sum"), format!("{family}_count")].contains(&name.to_owned())
                }
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

/// The Python to run prometheus_client with: `$MLOPS_PYTHON`, or the one that
/// `.ci/py-tools.sh` installs and names. `None` only when
/// `MLOPS_SKIP_PROMETHEUS_PARSER=1`; otherwise a missing Python fails the test.
fn python() -> Option<PathBuf> {
    if std::env::var("MLOPS_SKIP_PROMETHEUS_PARSER").as_deref() == Ok("1") {
        return None;
    }
    if let Some(p) = std::env::var_os("MLOPS_PYTHON") {
        return Some(PathBuf::from(p));
    }
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.ci/py-tools.sh");
    let out = Command::new("bash")
        .arg(&script)
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", script.display()));
    assert!(
        out.status.success(),
        "{} failed ({}); install Python 3 with venv, set MLOPS_PYTHON, or set MLOPS_SKIP_PROMETHEUS_PARSER=1",
        script.display(),
        out.status
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let path = stdout
        .lines()
        .find_map(|l| l.strip_prefix("export MLOPS_PYTHON="))
        .unwrap_or_else(|| panic!("{} printed no MLOPS_PYTHON: {stdout:?}", script.display()));
    // The script quotes with printf %q: undo its backslash escapes (spaces and the like).
    Some(PathBuf::from(path.replace('\\', "")))
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

/// Parses with prometheus_client; `None` only when the check is explicitly skipped.
fn parse_with_prometheus_client(text: &str) -> Option<Vec<(String, Sample)>> {
    let py = python()?;
    let mut child = Command::new(&py)
        .args(["-c", PY_PARSE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", py.display()));
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "prometheus_client ({}) rejected the output or is missing: {stderr}",
        py.display()
    );
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

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

#[test]
fn renders_every_sample_of_one_series() {
    let m = OperationalMetrics::new();
    assert_eq!(m.render(), "", "nothing recorded, nothing rendered");
    m.record("m", "1", Duration::from_millis(20), true);
    m.record("m", "1", Duration::from_millis(300), false);
    let text = m.render();
    let (samples, types) = parse_strict(&text);
    let h = "mlops_model_request_duration_seconds";
    let want_types: BTreeMap<String, String> = [
        ("mlops_model_requests_total", "counter"),
        ("mlops_model_errors_total", "counter"),
        (h, "histogram"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_owned(), b.to_owned()))
    .collect();
    assert_eq!(types, want_types);
    for help in [
        "# HELP mlops_model_requests_total Prediction requests served, per model version.\n",
        "# HELP mlops_model_errors_total Prediction requests that failed, per model version.\n",
        "# HELP mlops_model_request_duration_seconds Prediction request latency in seconds, per model version.\n",
    ] {
        assert!(text.contains(help), "{help} missing from\n{text}");
    }
    let l = [("model", "m"), ("version", "1")];
    let mut want = vec![
        ("mlops_model_requests_total".to_owned(), labels(&l), 2.0),
        ("mlops_model_errors_total".to_owned(), labels(&l), 1.0),
    ];
    let cumulative = [0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 2.0];
    for (le, c) in [
        "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10",
    ]
    .iter()
    .zip(cumulative)
    {
        let mut lb = labels(&l);
        lb.insert("le".into(), (*le).to_owned());
        want.push((format!("{h}_bucket"), lb, c));
    }
    let mut inf = labels(&l);
    inf.insert("le".into(), "+Inf".into());
    want.push((format!("{h}_bucket"), inf, 2.0));
    want.push((format!("{h}_sum"), labels(&l), 0.32));
    want.push((format!("{h}_count"), labels(&l), 2.0));
    let mut got: Vec<(String, Labels, f64)> = samples.into_iter().map(|s| (s.name, s.labels, s.value)).collect();
    let key = |x: &(String, Labels, f64)| format!("{} {:?}", x.0, x.1);
    got.sort_by_key(key);
    want.sort_by_key(key);
    assert_eq!(got.len(), want.len(), "{got:?}");
    for (g, w) in got.iter().zip(&want) {
        assert_eq!((&g.0, &g.1), (&w.0, &w.1));
        assert!((g.2 - w.2).abs() < 1e-12, "{g:?} vs {w:?}");
    }
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
        eprintln!("SKIPPED: prometheus_client's parser (MLOPS_SKIP_PROMETHEUS_PARSER=1)");
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
    let (samples, _) = parse_strict(&m.render());
    for v in ["a", "b"] {
        let l = labels(&[("model", "m"), ("version", v)]);
        let get = |name: &str| samples.iter().find(|s| s.name == name && s.labels == l).unwrap().value;
        assert_eq!(get("mlops_model_requests_total"), 2000.0);
        assert_eq!(get("mlops_model_errors_total"), 400.0);
        assert_eq!(get("mlops_model_request_duration_seconds_count"), 2000.0);
    }
}

#[test]
fn records_reach_the_applications_recorder_through_the_facade() {
    // The application's own recorder (here another Prometheus recorder, in scope on this thread).
    let app = PrometheusBuilder::new().build_recorder();
    let handle = app.handle();
    metrics::with_local_recorder(&app, || {
        mlops_monitor::export::describe();
        populated();
    });
    let (samples, types) = parse_strict(&handle.render());
    let l = labels(&[("model", "churn"), ("version", "1")]);
    let get = |name: &str| {
        samples
            .iter()
            .find(|s| s.name == name && s.labels == l)
            .map(|s| s.value)
    };
    assert_eq!(get("mlops_model_requests_total"), Some(5.0));
    assert_eq!(get("mlops_model_errors_total"), Some(2.0));
    // The application chose summaries for histograms (the exporter's default): its choice, not ours.
    assert_eq!(types["mlops_model_request_duration_seconds"], "summary");
}

#[test]
fn the_monitor_emits_through_the_global_recorder() {
    let app = PrometheusBuilder::new().build_recorder();
    let handle = app.handle();
    // The only test in this binary that installs a global recorder.
    metrics::set_global_recorder(app).unwrap();
    let monitor = Monitor::start(MonitorConfig::default().with_policy(AlertPolicy::ScoreStreamDrift)).unwrap();
    let sink = monitor.sink();
    for i in 0..3000i64 {
        let score = if i < 1000 { 0.1 } else { 0.9 };
        sink.record(PredictionEvent::new("global-m", 4, format!("r{i}"), i).with_value(score));
    }
    sink.record(PredictionEvent::new("global-m", 4, "bad", 0).with_binary(7.0, true));
    let stats = monitor.shutdown();
    assert!(stats.alerts > 0 && stats.rejected_total == 1, "{stats:?}");
    let (samples, _) = parse_strict(&handle.render());
    let get = |name: &str, l: &[(&str, &str)]| {
        let l = labels(l);
        samples
            .iter()
            .find(|s| s.name == name && s.labels == l)
            .map(|s| s.value)
    };
    let mv = [("model", "global-m"), ("version", "4")];
    assert_eq!(get("mlops_model_requests_total", &mv), Some(3001.0));
    assert_eq!(
        get(
            "mlops_monitor_alerts_total",
            &[("model", "global-m"), ("policy", "score_stream_drift")]
        ),
        Some(stats.alerts as f64)
    );
    assert_eq!(
        get("mlops_monitor_events_rejected_total", &[("model", "global-m")]),
        Some(1.0)
    );
    // The monitor's own rendering has the same series, for users without a recorder.
    assert!(
        stats
            .prometheus
            .contains("mlops_monitor_alerts_total{model=\"global-m\",policy=\"score_stream_drift\"}")
    );
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

#[test]
fn a_recorder_installed_after_the_first_records_gets_the_later_ones() {
    // Handles of our own recorder are cached per series; the application's recorder is
    // looked up on every record, so caching must not pin the no-op recorder.
    let ops = OperationalMetrics::new();
    ops.record("late", "1", Duration::from_millis(3), true);
    let app = PrometheusBuilder::new().build_recorder();
    let handle = app.handle();
    metrics::with_local_recorder(&app, || {
        ops.record("late", "1", Duration::from_millis(3), false);
        ops.record("late", "1", Duration::from_millis(3), true);
    });
    let count = |text: &str, name: &str| {
        let (samples, _) = parse_strict(text);
        let l = labels(&[("model", "late"), ("version", "1")]);
        samples
            .iter()
            .find(|s| s.name == name && s.labels == l)
            .map(|s| s.value)
    };
    assert_eq!(count(&handle.render(), "mlops_model_requests_total"), Some(2.0));
    assert_eq!(count(&handle.render(), "mlops_model_errors_total"), Some(1.0));
    assert_eq!(count(&ops.render(), "mlops_model_requests_total"), Some(3.0));
}
