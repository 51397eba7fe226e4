//! The example binaries behave as their docs say (cargo builds examples before tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub(crate) fn example(name: &str) -> PathBuf {
    // target/<profile>/deps/cli-<hash> -> target/<profile>/examples/<name>
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().join("examples").join(name)
}

fn data(name: &str) -> String {
    format!("{}/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn profile_prints_the_documented_json_on_stdout_and_progress_on_stderr() {
    let out = Command::new(example("profile"))
        .arg(data("train.parquet"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is exactly one JSON document");
    assert_eq!(v["num_rows"], 20_000);
    let cols = v["columns"].as_array().unwrap();
    let by_name = |n: &str| cols.iter().find(|c| c["name"] == n).unwrap();
    let income = by_name("income");
    for key in [
        "name",
        "count",
        "null_count",
        "min",
        "max",
        "mean",
        "std",
        "quantiles",
        "distinct",
    ] {
        assert!(income.get(key).is_some(), "income lacks {key}");
    }
    for q in ["0.01", "0.05", "0.25", "0.5", "0.75", "0.95", "0.99"] {
        assert!(income["quantiles"][q].is_f64(), "quantile {q}");
    }
    let employment = by_name("employment");
    assert!(employment["distinct"].is_f64());
    assert_eq!(employment["top"][0]["value"], "salaried");
    assert!(employment["top"][0]["count"].as_u64().unwrap() > employment["top"][1]["count"].as_u64().unwrap());
    assert!(by_name("defaulted")["true_count"].is_u64());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("row group 4/4"), "{stderr}");
}

#[test]
fn profile_reads_file_urls_and_writes_the_binary_form() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("p.bin");
    let url = format!("file://{}", data("serving.parquet"));
    let out = Command::new(example("profile"))
        .args([url.as_str(), "--binary", bin.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let p = mlops_data::Profile::from_bytes(&std::fs::read(&bin).unwrap()).unwrap();
    assert_eq!(p.num_rows(), 2_000);
}

#[test]
fn profile_fails_with_a_message_and_nonzero_exit() {
    let out = Command::new(example("profile"))
        .arg("/no/such.parquet")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/no/such.parquet"));
    let out = Command::new(example("profile")).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn quickstart_runs_the_whole_lifecycle_and_a_second_run_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(example("quickstart"))
        .args(["--out", dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let has = |needle: &str| assert!(stdout.contains(needle), "no `{needle}` in:\n{stdout}");

    // Stages 1–6: the data checks.
    has("read back identical: true");
    has("\"offshore\""); // the unseen region is reported
    assert!(dir.path().join("train.profile.json").exists());
    // Distinct counts are estimates of counts: printed as whole numbers, never "20172.18".
    let table: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("column"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(table.len(), 8, "one row per column: {stdout}");
    for row in &table {
        let distinct = row.split_whitespace().last().unwrap();
        assert!(
            distinct.parse::<u64>().is_ok(),
            "distinct `{distinct}` is not an integer in `{row}`"
        );
    }

    // Stage 7: trained, evaluated on rows it never saw, gated (no champion yet), registered.
    has("Trained an MLP");
    has("holdout (4000 rows never trained on)");
    has("gate: no champion yet");
    has("loan-default version 1: alias champion, stage production");

    // Stages 8–9: deployed, answering today's traffic, whose drift is reported.
    has("== 8. Deployed version 1 and served today's traffic: 2000 rows answered");
    let drift: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("drift.json")).unwrap()).unwrap();
    assert!(drift["number_of_drifted_columns"].as_u64().unwrap() > 0, "{drift}");
    assert!(
        std::fs::read_to_string(dir.path().join("drift.html"))
            .unwrap()
            .contains("<svg")
    );

    // Stage 10: the hasty candidate is rolled back by its gate, the other promoted in the registry.
    has("candidate A (3 epochs): version 2 ROLLED BACK");
    has("gate `log_loss_vs_baseline` failed");
    has("version 1 keeps all traffic");
    has("candidate B (today's data added): version 3 PROMOTED");
    has("registry alias champion -> version 3, stage production");

    // Stage 11: injected drift, the monitor's alert and its report, retraining through the same gate.
    has("monitor alert after");
    has("drifted: income, credit_score, loan_amount");
    let alert: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("drift-alert.json")).unwrap()).unwrap();
    assert!(alert["drift_share"].as_f64().unwrap() >= 0.5, "{alert}");
    assert!(
        std::fs::read_to_string(dir.path().join("drift-alert.html"))
            .unwrap()
            .contains("<svg")
    );
    has("retraining (triggered by the alert");
    has("gate: passed (better than the champion)");
    has("retrained model: version 4 PROMOTED");

    // Stage 12: the production version's model card.
    has("== 12. Model card of version 4 (in production)");
    let card = std::fs::read_to_string(dir.path().join("model-card.md")).unwrap();
    for needle in [
        "# Model card: loan-default",
        "## Intended use",
        "### By `employment`",
        "## What drives it",
    ] {
        assert!(card.contains(needle), "model card lacks `{needle}`");
    }
    assert!(
        std::fs::read_to_string(dir.path().join("model-card.html"))
            .unwrap()
            .starts_with("<!DOCTYPE html>")
    );

    // Stage 13: rollout history, the alias over time, lineage.
    has("== 13. Summary");
    has("none -> version 1 (first model: no champion to beat)");
    has("version 1 -> version 3 (canary rollout: every check passed");
    has("version 3 -> version 4 (canary rollout");
    has("(when this run started): no version");
    has("(just before the drift was injected): version 3");
    has("(now): version 4");
    has("lineage of version 4 (in production):");
    has("from quickstart://recent-traffic");
    has("parent: loan-default version 3");
    let rollouts: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("rollouts.json")).unwrap()).unwrap();
    let last_event = |i: usize| rollouts[i]["records"].as_array().unwrap().last().unwrap()["event"].clone();
    assert_eq!(rollouts.as_array().unwrap().len(), 3, "{rollouts}");
    assert_eq!(
        (last_event(0), last_event(1), last_event(2)),
        ("rolled_back".into(), "promoted".into(), "promoted".into())
    );
    // Paths print without `..` segments.
    assert!(!stdout.contains("/../") && !stdout.contains("\\..\\"), "{stdout}");

    // A second run: the same content digest on its own line, every model it
    // trains already known, nothing registered and nothing rolled out.
    let digest_line = |text: &str| {
        text.lines()
            .find(|l| l.starts_with("content digest: sha256:"))
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("no content digest line in {text}"))
    };
    let again = Command::new(example("quickstart"))
        .args(["--out", dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    let again = String::from_utf8_lossy(&again.stdout);
    assert_eq!(digest_line(&stdout), digest_line(&again));
    assert_eq!(digest_line(&stdout).len(), "content digest: sha256:".len() + 64);
    for needle in [
        "gate: candidate log loss",
        "against champion (version 4)",
        "already registered as loan-default version 1, archived (replaced by version 3",
        "already registered as loan-default version 2, archived (rolled back: gate `log_loss_vs_baseline` failed",
        "already registered as loan-default version 3, archived (replaced by version 4",
        "gate: the candidate is no better; it is not registered and version 4 stays champion",
        "rollouts: none in this run",
        "(when this run started): version 4",
        "(now): version 4",
    ] {
        assert!(again.contains(needle), "no `{needle}` in the second run:\n{again}");
    }
    assert!(!again.contains("registered loan-default version 5"), "{again}");
}

#[test]
fn drift_report_prints_the_documented_json_and_writes_html() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("r.html");
    let out = Command::new(example("drift_report"))
        .args([
            "--reference",
            &data("train.parquet"),
            "--current",
            &data("serving.parquet"),
            "--html",
            html.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON document");
    assert!(v["dataset_drift"].is_boolean() && v["drift_share"].is_f64());
    let columns = v["columns"].as_array().unwrap();
    assert_eq!(columns.len(), 8);
    for c in columns {
        for key in ["name", "method", "score", "threshold", "drifted"] {
            assert!(c.get(key).is_some(), "{key}");
        }
    }
    let income = columns.iter().find(|c| c["name"] == "income").unwrap();
    assert_eq!(
        (income["method"].as_str(), income["drifted"].as_bool()),
        (Some("wasserstein"), Some(true))
    );
    // The page states the verdict the JSON gives (either phrase alone would pass any report).
    let page = std::fs::read_to_string(&html).unwrap();
    let verdict = if v["dataset_drift"] == true {
        "Dataset drift detected"
    } else {
        "No dataset drift"
    };
    assert!(page.contains(verdict), "expected `{verdict}` in the page");
    let json_path = dir.path().join("r.json");
    let quiet = Command::new(example("drift_report"))
        .args([
            "--reference",
            &data("train.parquet"),
            "--current",
            &data("serving.parquet"),
            "--json",
            json_path.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(quiet.status.success() && quiet.stdout.is_empty() && json_path.exists());
    let bad = Command::new(example("drift_report"))
        .args(["--reference", "/no/file.parquet", "--current", "/no/file.parquet"])
        .output()
        .unwrap();
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("/no/file.parquet"));
}

#[test]
fn every_example_answers_help_with_exit_0() {
    for name in [
        "profile",
        "registry",
        "drift_report",
        "quickstart",
        "import_model",
        "predict",
        "bench_inference",
    ] {
        let out = Command::new(example(name)).arg("--help").output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(help.contains("Usage:") && help.contains(name), "{name}: {help}");
    }
}

#[test]
fn quickstart_prints_clean_paths_for_its_default_output_directory() {
    // The default `--out` is built from the crate directory and `..`: it must print clean.
    let here = tempfile::tempdir().unwrap();
    let out = Command::new(example("quickstart"))
        .current_dir(here.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let target = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/quickstart")
        .canonicalize()
        .unwrap();
    assert!(stdout.contains(&target.display().to_string()), "{stdout}");
    assert!(!stdout.contains("/../"), "{stdout}");
    // Below the current directory, paths are relative to it.
    let relative = Command::new(example("quickstart"))
        .args(["--out", "run"])
        .current_dir(here.path())
        .output()
        .unwrap();
    assert!(
        relative.status.success(),
        "{}",
        String::from_utf8_lossy(&relative.stderr)
    );
    let stdout = String::from_utf8_lossy(&relative.stdout);
    assert!(stdout.contains("lineage to run;"), "{stdout}");
    assert!(stdout.contains("wrote run/drift.json"), "{stdout}");
    assert!(
        !stdout.contains(&here.path().canonicalize().unwrap().display().to_string()),
        "{stdout}"
    );
}

/// The benchmark binary behind `run_inference_comparison.sh` keeps its
/// contract: on a tiny model written the way `peer_inference.py gen` writes
/// one, it prints the Predictor line, then one batcher line per caller count
/// and caller kind, then one open-loop line per rate for the widest window,
/// and writes the batch's outputs. Timings are not checked (shared machines).
#[test]
fn bench_inference_prints_one_json_line_per_measurement() {
    let dir = tempfile::tempdir().unwrap();
    let (inputs, hidden) = (4usize, 8usize);
    let spec = serde_json::json!({"architecture": "mlp", "layers": [inputs, hidden, 1], "activation": "relu",
        "output": "identity", "features": (0..inputs).map(|i| format!("f{i}")).collect::<Vec<_>>()});
    std::fs::write(dir.path().join("architecture.json"), spec.to_string()).unwrap();
    let w0: Vec<f32> = (0..inputs * hidden).map(|i| (i as f32 * 0.3).sin()).collect();
    let b0: Vec<f32> = (0..hidden).map(|i| i as f32 * 0.01).collect();
    let w1: Vec<f32> = (0..hidden).map(|i| (i as f32 * 0.7).cos()).collect();
    let weights = mlops_core::weights::encode_f32(&[
        ("0.weight", &[hidden, inputs], &w0),
        ("0.bias", &[hidden], &b0),
        ("2.weight", &[1, hidden], &w1),
        ("2.bias", &[1], &[0.5]),
    ])
    .unwrap();
    std::fs::write(dir.path().join("weights.safetensors"), weights).unwrap();
    let rows = 32;
    let input: Vec<u8> = (0..rows * inputs)
        .flat_map(|i| ((i as f32 * 0.11).sin()).to_le_bytes())
        .collect();
    std::fs::write(dir.path().join("input.f32"), input).unwrap();
    let outputs = dir.path().join("out.f32");
    let out = Command::new(example("bench_inference"))
        .arg(dir.path())
        .args([
            "--seconds",
            "0.02",
            "--latency-iters",
            "20",
            "--requests-per-caller",
            "20",
        ])
        .args(["--callers", "1,2", "--async-callers", "--rates", "2000", "--outputs"])
        .arg(&outputs)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let peers: Vec<(&str, Option<u64>, Option<&str>)> = lines
        .iter()
        .map(|l| {
            (
                l["peer"].as_str().unwrap(),
                l["callers"].as_u64(),
                l["callers_are"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        peers,
        [
            ("mlops-serve", None, None),
            ("mlops-serve-batcher", Some(1), Some("OS threads")),
            ("mlops-serve-batcher", Some(1), Some("tokio tasks on one thread")),
            ("mlops-serve-batcher", Some(2), Some("OS threads")),
            ("mlops-serve-batcher", Some(2), Some("tokio tasks on one thread")),
            ("mlops-serve-batcher", Some(2), Some("open loop, at most 2 in flight")),
        ]
    );
    assert_eq!(lines[0]["batch"], rows);
    for key in ["rows_per_s", "p50_us", "p99_us", "bare_forward_rows_per_s_1_thread"] {
        assert!(lines[0][key].as_f64().is_some_and(|v| v > 0.0), "{key}: {}", lines[0]);
    }
    for line in &lines[1..] {
        assert!(line["p50_us"].as_f64().is_some_and(|v| v > 0.0), "{line}");
        assert_eq!(line["requests"], line["callers"].as_u64().unwrap() * 20, "{line}");
    }
    assert_eq!(lines[5]["offered_per_s"], 2000.0);
    // One little-endian f32 per row (one output).
    assert_eq!(std::fs::read(&outputs).unwrap().len(), rows * 4);
}
