//! Test support shared by the workspace's test suites (never published).
//!
//! The loopback storage emulators (an S3-compatible server, fake-gcs-server,
//! Azurite) are started by the scripts in `.ci/`; CI starts them once and
//! exports their settings, and a test run without them starts one through
//! the same script. Every crate's tests find them the same way, here.
//!
//! ```no_run
//! let Some(s3) = mlops_testkit::emulator_settings(
//!     "s3-server.sh",
//!     "MLOPS_SKIP_S3",
//!     "S3_SERVER_WATCH_PID",
//!     &["AWS_ENDPOINT", "MLOPS_TEST_S3_BUCKET"],
//! ) else {
//!     return; // MLOPS_SKIP_S3=1
//! };
//! assert!(s3.contains_key("AWS_ENDPOINT"));
//! ```
#![allow(clippy::panic)]

use std::collections::HashMap;
use std::process::Command;

/// The emulator's `export KEY=VALUE` settings, or `None` when `skip_var=1` asks to skip.
///
/// Taken from the environment (all of it) when `required` are all set there (CI starts
/// the emulators and exports their settings); otherwise `script` (a file in `.ci/`)
/// starts one that exits when this test process does (`watch_var` carries our pid to
/// it). Panics, failing the test, when the emulator cannot be started: a test that
/// needs it must not pass without it.
pub fn emulator_settings(
    script: &str,
    skip_var: &str,
    watch_var: &str,
    required: &[&str],
) -> Option<HashMap<String, String>> {
    if std::env::var(skip_var).is_ok_and(|v| v == "1") {
        return None;
    }
    let from_env: HashMap<String, String> = std::env::vars().collect();
    if required.iter().all(|k| from_env.contains_key(*k)) {
        return Some(from_env);
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../.ci")
        .join(script);
    let start = Command::new("bash")
        .arg(&path)
        .arg("start")
        .env(watch_var, std::process::id().to_string())
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", path.display()));
    assert!(
        start.status.success(),
        "could not start the emulator with {script} (set {skip_var}=1 to skip these tests): {}",
        String::from_utf8_lossy(&start.stderr)
    );
    let parsed: HashMap<String, String> = String::from_utf8_lossy(&start.stdout)
        .lines()
        .filter_map(|l| l.trim().strip_prefix("export ")?.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.trim_matches('"').trim_matches('\'').to_owned()))
        .collect();
    for k in required {
        assert!(parsed.contains_key(*k), "{script} start printed no {k}");
    }
    Some(parsed)
}

/// The settings for the S3-compatible server on loopback, keys starting with `AWS_` or
/// `MLOPS_TEST_S3` only (what a child process or an S3 client needs), or `None` with
/// `MLOPS_SKIP_S3=1`.
pub fn s3_settings() -> Option<HashMap<String, String>> {
    let all = emulator_settings(
        "s3-server.sh",
        "MLOPS_SKIP_S3",
        "S3_SERVER_WATCH_PID",
        &["AWS_ENDPOINT", "MLOPS_TEST_S3_BUCKET", "MLOPS_TEST_S3_URL"],
    )?;
    Some(
        all.into_iter()
            .filter(|(k, _)| k.starts_with("AWS_") || k.starts_with("MLOPS_TEST_S3"))
            .collect(),
    )
}

/// Uploads `files` to the loopback S3 server (`settings` from [`s3_settings`]) under
/// a fresh prefix `label-<pid>-<nanos>`; returns the prefix's URL
/// (`s3://bucket/prefix/`) and each file's URL, in order. Panics (failing the test)
/// when a file cannot be read or stored.
pub fn s3_upload(settings: &HashMap<String, String>, label: &str, files: &[&std::path::Path]) -> (String, Vec<String>) {
    use object_store::ObjectStoreExt;
    use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};

    let bucket = settings
        .get("MLOPS_TEST_S3_BUCKET")
        .unwrap_or_else(|| panic!("no MLOPS_TEST_S3_BUCKET in the S3 settings"));
    let mut builder = AmazonS3Builder::new().with_bucket_name(bucket);
    for (k, v) in settings {
        if let Ok(key) = k.to_ascii_lowercase().parse::<AmazonS3ConfigKey>() {
            builder = builder.with_config(key, v);
        }
    }
    let store = builder
        .build()
        .unwrap_or_else(|e| panic!("S3 client for the loopback server: {e}"));
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let prefix = format!("{label}-{}-{nanos}", std::process::id());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("tokio runtime: {e}"));
    let urls = files
        .iter()
        .map(|file| {
            let name = file
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_else(|| panic!("{} has no file name", file.display()));
            let key = object_store::path::Path::from(format!("{prefix}/{name}"));
            let bytes = std::fs::read(file).unwrap_or_else(|e| panic!("read {}: {e}", file.display()));
            runtime
                .block_on(store.put(&key, bytes.into()))
                .unwrap_or_else(|e| panic!("upload {}: {e}", file.display()));
            format!("s3://{bucket}/{key}")
        })
        .collect();
    (format!("s3://{bucket}/{prefix}/"), urls)
}
