//! The registry conformance suite on Azure Blob Storage, against Azurite on loopback.
//!
//! CI starts the emulator (`.ci/azure-server.sh start`) and exports its settings; a test
//! run without them starts one through the same script (Azurite is installed with npm on
//! first use; it needs Node >= 20). Set `MLOPS_SKIP_AZURE=1` to skip these tests
//! explicitly (they then print that they were skipped).
//!
//! object_store is pointed at Azurite by its emulator switch (`with_use_emulator`,
//! `AZURE_STORAGE_USE_EMULATOR`), which uses Azurite's well-known development account.
#![cfg(feature = "azure")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::emulator;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use mlops_core::Registry;
use mlops_core::conformance::{self, StoreBackend};
use object_store::azure::MicrosoftAzureBuilder;
use object_store::path::Path;

const REQUIRED: &[&str] = &[
    "AZURE_STORAGE_USE_EMULATOR",
    "AZURITE_BLOB_STORAGE_URL",
    "MLOPS_TEST_AZURE_CONTAINER",
    "MLOPS_TEST_AZURE_URL",
];

fn azure_settings() -> Option<&'static HashMap<String, String>> {
    static SETTINGS: OnceLock<Option<HashMap<String, String>>> = OnceLock::new();
    SETTINGS
        .get_or_init(|| {
            emulator::settings(
                "azure-server.sh",
                "MLOPS_SKIP_AZURE",
                "AZURE_SERVER_WATCH_PID",
                REQUIRED,
            )
        })
        .as_ref()
}

fn azure(test: &str) -> Option<StoreBackend> {
    let Some(cfg) = azure_settings() else {
        eprintln!("MLOPS_SKIP_AZURE=1: skipping Azure test {test}");
        return None;
    };
    let builder = MicrosoftAzureBuilder::new().with_container_name(&cfg["MLOPS_TEST_AZURE_CONTAINER"]);
    let builder = if emulator::in_process_env(cfg, REQUIRED) {
        // What CI and users do: the emulator switch, which reads AZURITE_BLOB_STORAGE_URL
        // from the environment and signs with Azurite's development account.
        builder.with_use_emulator(true)
    } else {
        // An emulator this test process started is not in its environment, so the switch
        // would look for Azurite on its default port: name the same account and address.
        builder
            .with_endpoint(format!(
                "{}/{}",
                cfg["AZURITE_BLOB_STORAGE_URL"], cfg["AZURE_STORAGE_ACCOUNT_NAME"]
            ))
            .with_account(&cfg["AZURE_STORAGE_ACCOUNT_NAME"])
            .with_access_key(&cfg["AZURE_STORAGE_ACCOUNT_KEY"])
            .with_allow_http(true)
    };
    let store = builder.build().unwrap();
    Some(emulator::fresh_backend(Arc::new(store), test))
}

emulator::conformance_tests!(azure, "Azure", with_raw_create_only);

/// `StoreRegistry::from_url("az://…")` configures itself from `AZURE_*` variables.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_url_opens_an_az_container() {
    let Some(cfg) = azure_settings() else {
        eprintln!("MLOPS_SKIP_AZURE=1: skipping Azure test from_url_opens_an_az_container");
        return;
    };
    if !emulator::in_process_env(cfg, REQUIRED) {
        // The emulator was started by this process: check in a child that has its settings.
        emulator::rerun_with_env(
            concat!(module_path!(), "::from_url_opens_an_az_container"),
            cfg,
            &["AZURE_", "AZURITE_", "MLOPS_TEST_AZURE"],
        );
        return;
    }
    let prefix = format!("from-url/{}-{}", std::process::id(), mlops_core::time::now_ms());
    let url = format!("{}/{prefix}", cfg["MLOPS_TEST_AZURE_URL"]);
    let registry = mlops_core::StoreRegistry::from_url(&url).unwrap();
    assert_eq!(registry.register(&conformance::package("m", 1.0)).await.unwrap(), 1);
    assert_eq!(registry.register(&conformance::package("m", 2.0)).await.unwrap(), 2);
    // The same URL opened again sees what the first handle wrote, under the prefix.
    let again = mlops_core::StoreRegistry::from_url(&url).unwrap();
    assert_eq!(again.list_models().await.unwrap(), vec!["m"]);
    let backend = azure("from_url_opens_an_az_container").unwrap();
    let listed: Vec<_> = futures::TryStreamExt::try_collect::<Vec<_>>(object_store::ObjectStore::list(
        backend.store.as_ref(),
        Some(&Path::from(prefix)),
    ))
    .await
    .unwrap();
    assert!(!listed.is_empty(), "from_url wrote nothing under the URL's prefix");
}
