//! The registry conformance suite against a real S3-compatible server on loopback.
//!
//! CI starts the server (`.ci/s3-server.sh start`) and exports its address; a
//! test run without it starts one through the same script (a Python venv
//! with the pinned server is created on first use). Set `MLOPS_SKIP_S3=1` to
//! skip these tests explicitly (they then print that they were skipped).
#![cfg(feature = "aws")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use mlops_core::conformance::StoreBackend;

use crate::emulator;
use object_store::aws::AmazonS3Builder;

/// Endpoint configuration of the loopback server, read from the environment
/// or from the start script's `env` output (the same lookup as the other emulators).
fn s3_config() -> Option<&'static HashMap<String, String>> {
    static CONFIG: OnceLock<Option<HashMap<String, String>>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            emulator::settings(
                "s3-server.sh",
                "MLOPS_SKIP_S3",
                "S3_SERVER_WATCH_PID",
                &["AWS_ENDPOINT", "MLOPS_TEST_S3_BUCKET"],
            )
        })
        .as_ref()
}

fn s3(test: &str) -> Option<StoreBackend> {
    let Some(cfg) = s3_config() else {
        eprintln!("MLOPS_SKIP_S3=1: skipping S3 test {test}");
        return None;
    };
    let store = AmazonS3Builder::new()
        .with_endpoint(&cfg["AWS_ENDPOINT"])
        .with_allow_http(true)
        .with_bucket_name(&cfg["MLOPS_TEST_S3_BUCKET"])
        .with_access_key_id(cfg.get("AWS_ACCESS_KEY_ID").map_or("test", String::as_str))
        .with_secret_access_key(cfg.get("AWS_SECRET_ACCESS_KEY").map_or("test", String::as_str))
        .with_region(cfg.get("AWS_REGION").map_or("us-east-1", String::as_str))
        .build()
        .unwrap();
    Some(emulator::fresh_backend(Arc::new(store), test))
}

emulator::conformance_tests!(s3, "S3");

/// 16 writers contending on one model on S3: requests per successful register.
/// A writer that loses re-lists and retries after a jittered, growing delay, so
/// the count stays near the uncontended 7 (5 blob PUTs, 1 LIST, 1 record PUT);
/// the old yield-only loop hammered the server with LIST+PUT pairs.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_writers_requests_per_register() {
    let Some(backend) = s3("sixteen_writers") else {
        return;
    };
    let (counts, registered) = tokio::time::timeout(
        std::time::Duration::from_secs(300),
        backend.sixteen_contending_writers(4),
    )
    .await
    .expect("contention test timed out");
    let per = counts.total() as f64 / registered as f64;
    eprintln!(
        "S3, 16 writers x 4 registers: {counts:?}; {per:.2} requests per register ({:.2} PUTs, {:.2} LISTs)",
        counts.puts as f64 / registered as f64,
        counts.lists as f64 / registered as f64
    );
    assert!(per <= 20.0, "{per:.2} requests per register: {counts:?}");
}
