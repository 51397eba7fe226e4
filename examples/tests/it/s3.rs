//! `s3://` URLs give the same results as local files, against the S3-compatible
//! server on loopback: the `profile` and `drift_report` examples (as the
//! README documents them), `DataDrift::compare_parquet` and fingerprints.
//!
//! CI starts the server (`.ci/s3-server.sh start`) and exports its address; a
//! run without it starts one through the same script. The library reads its
//! S3 configuration from the environment, so in-process checks run in a child
//! copy of this test binary that has the server's variables. Set
//! `MLOPS_SKIP_S3=1` to skip explicitly (the tests then print that they were
//! skipped).
#![cfg(feature = "aws")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use mlops_data::{ParquetProfiler, ProfileConfig, fingerprint_parquet, fingerprint_parquet_file};
use mlops_monitor::drift::{DataDrift, DriftConfig};

fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().join("examples").join(name)
}

fn data(name: &str) -> String {
    format!("{}/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// The loopback server's variables (`mlops_testkit::s3_settings`), found or
/// started once. `None` only with `MLOPS_SKIP_S3=1`.
fn s3_config() -> Option<&'static HashMap<String, String>> {
    static CONFIG: OnceLock<Option<HashMap<String, String>>> = OnceLock::new();
    CONFIG.get_or_init(mlops_testkit::s3_settings).as_ref()
}

fn config(test: &str) -> Option<&'static HashMap<String, String>> {
    let cfg = s3_config();
    if cfg.is_none() {
        eprintln!("MLOPS_SKIP_S3=1: skipping S3 test {test}");
    }
    cfg
}

/// Uploads local files under a fresh prefix; returns their `s3://` URLs.
fn upload(cfg: &HashMap<String, String>, test: &str, files: &[&str]) -> Vec<String> {
    let paths: Vec<&std::path::Path> = files.iter().map(std::path::Path::new).collect();
    mlops_testkit::s3_upload(cfg, test, &paths).1
}

/// Runs `test` in a child copy of this binary whose environment holds the
/// server's variables, and requires it to pass. Returns `true` when the
/// caller is that child (and should do the checks itself).
///
/// `test` is the test's path as `module_path!()` gives it; its first segment (the
/// test binary's crate) is not part of the name the harness filters on.
fn in_s3_environment(test: &str, cfg: &HashMap<String, String>) -> bool {
    if std::env::var("AWS_ENDPOINT").is_ok() {
        return true;
    }
    let test = test.split_once("::").map_or(test, |(_, name)| name);
    let out = Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .envs(cfg)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{test} in the S3 environment: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    false
}

#[test]
fn profile_example_reads_s3_urls_as_it_reads_local_files() {
    let Some(cfg) = config("profile_example_reads_s3_urls_as_it_reads_local_files") else {
        return;
    };
    let url = &upload(cfg, "profile", &[&data("train.parquet")])[0];
    let run = |source: &str| {
        let out = Command::new(example("profile")).arg(source).envs(cfg).output().unwrap();
        assert!(
            out.status.success(),
            "{source}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let local = run(&data("train.parquet"));
    let remote = run(url);
    assert_eq!(local["num_rows"], 20_000);
    assert_eq!(remote, local);
}

#[test]
fn drift_report_example_reads_s3_urls_as_it_reads_local_files() {
    let Some(cfg) = config("drift_report_example_reads_s3_urls_as_it_reads_local_files") else {
        return;
    };
    let urls = upload(cfg, "drift", &[&data("train.parquet"), &data("serving.parquet")]);
    let run = |reference: &str, current: &str| {
        let out = Command::new(example("drift_report"))
            .args(["--reference", reference, "--current", current])
            .envs(cfg)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let local = run(&data("train.parquet"), &data("serving.parquet"));
    assert_eq!(local["columns"].as_array().unwrap().len(), 8);
    assert_eq!(run(&urls[0], &urls[1]), local);
    // Mixed: a local reference against current data in the store.
    assert_eq!(run(&data("train.parquet"), &urls[1]), local);
}

#[test]
fn compare_parquet_and_fingerprints_on_s3_equal_the_local_results() {
    const NAME: &str = "compare_parquet_and_fingerprints_on_s3_equal_the_local_results";
    let Some(cfg) = config(NAME) else { return };
    if !in_s3_environment(
        concat!(
            module_path!(),
            "::compare_parquet_and_fingerprints_on_s3_equal_the_local_results"
        ),
        cfg,
    ) {
        return; // the child process ran (and passed) the checks below
    }
    let (train, serving) = (data("train.parquet"), data("serving.parquet"));
    let urls = upload(cfg, "compare", &[&train, &serving]);

    let drift = DataDrift::new(DriftConfig::default());
    let local = drift.compare_parquet(&train, &serving).unwrap();
    let remote = drift.compare_parquet(&urls[0], &urls[1]).unwrap();
    assert!(local.number_of_drifted_columns > 0);
    assert_eq!(remote.to_json_pretty().unwrap(), local.to_json_pretty().unwrap());

    let local_fp = fingerprint_parquet_file(&train).unwrap();
    let remote_fp = fingerprint_parquet(urls[0].as_str()).unwrap();
    assert_eq!(remote_fp.fingerprint, local_fp.fingerprint);
    assert_eq!((remote_fp.num_rows, &remote_fp.schema), (20_000, &local_fp.schema));
    assert_eq!(remote_fp.uri, urls[0]);

    // One row group in flight at a time gives the same profile as the local file.
    let profiler = ParquetProfiler::new(ProfileConfig::default()).with_max_in_flight(1);
    assert_eq!(
        profiler.profile(urls[0].as_str()).unwrap().to_json().unwrap(),
        profiler.profile_file(&train).unwrap().to_json().unwrap()
    );

    // The async paths agree too.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (profile, fp) = rt.block_on(async {
        (
            profiler.profile_url(&urls[1]).await.unwrap(),
            mlops_data::fingerprint_parquet_async(urls[1].as_str()).await.unwrap(),
        )
    });
    assert_eq!(
        profile.to_json().unwrap(),
        profiler.profile_file(&serving).unwrap().to_json().unwrap()
    );
    assert_eq!(fp.fingerprint, fingerprint_parquet_file(&serving).unwrap().fingerprint);

    // A missing object is a storage error naming it.
    let missing = format!("{}-missing", urls[0]);
    let e = drift.compare_parquet(&urls[0], missing.as_str()).unwrap_err();
    assert!(
        matches!(e, mlops_data::Error::Storage { .. }) && e.to_string().contains("-missing"),
        "{e}"
    );
}
