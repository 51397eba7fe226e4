//! Finds or starts a loopback storage emulator through its `.ci/*-server.sh` script, and
//! turns the conformance suite into tests against it.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::process::Command;

pub use mlops_testkit::emulator_settings as settings;

/// Whether `settings` came from this process's environment (so that code which reads
/// the environment itself, like `StoreRegistry::from_url`, sees the emulator).
pub fn in_process_env(settings: &HashMap<String, String>, keys: &[&str]) -> bool {
    keys.iter().all(|k| std::env::var(k).ok().as_ref() == settings.get(*k))
}

/// Runs one test of this binary again in a child process with `settings` in its
/// environment, and asserts that it passed. Used by tests that exercise code reading the
/// environment when the emulator was started by the test itself (setting variables in
/// this process would need `unsafe`).
///
/// `test` is the test's path as `module_path!()` gives it; its first segment (the
/// test binary's crate) is not part of the name the harness filters on.
pub fn rerun_with_env(test: &str, settings: &HashMap<String, String>, prefixes: &[&str]) {
    let test = test.split_once("::").map_or(test, |(_, name)| name);
    let exe = std::env::current_exe().unwrap();
    let out = Command::new(exe)
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .envs(
            settings
                .iter()
                .filter(|(k, _)| prefixes.iter().any(|p| k.starts_with(p))),
        )
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "child run of {test} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Create-only writes on this store: a second create of a key fails with `AlreadyExists`
/// and leaves the first body; of 8 concurrent creates of one key exactly one wins (20
/// keys). The registry's every mutation relies on this.
/// The conformance backend for one test: `store` under a fresh prefix per test and run,
/// which keeps tests independent on a shared bucket or container.
pub fn fresh_backend(
    store: std::sync::Arc<dyn object_store::ObjectStore>,
    test: &str,
) -> mlops_core::conformance::StoreBackend {
    let root = object_store::path::Path::from(format!(
        "conformance/{}-{}-{}",
        test,
        std::process::id(),
        mlops_core::time::now_ms()
    ));
    mlops_core::conformance::StoreBackend::new(store, root)
}

pub async fn create_only_writes_hold(
    store: std::sync::Arc<dyn object_store::ObjectStore>,
    root: &object_store::path::Path,
) {
    use object_store::{ObjectStoreExt, PutMode, PutOptions, PutPayload};
    let create = || PutOptions::from(PutMode::Create);
    let first = root.clone().join("create-only");
    store
        .put_opts(&first, PutPayload::from_static(b"first"), create())
        .await
        .unwrap();
    let second = store
        .put_opts(&first, PutPayload::from_static(b"second"), create())
        .await;
    assert!(
        matches!(second, Err(object_store::Error::AlreadyExists { .. })),
        "second create of one key must fail with AlreadyExists, got {second:?}"
    );
    let body = store.get(&first).await.unwrap().bytes().await.unwrap();
    assert_eq!(&body[..], b"first");

    for round in 0..20 {
        let key = root.clone().join(format!("race-{round}"));
        let writers = (0..8).map(|w| {
            let store = store.clone();
            let key = key.clone();
            tokio::spawn(async move {
                store
                    .put_opts(
                        &key,
                        PutPayload::from(format!("writer {w}")),
                        PutOptions::from(PutMode::Create),
                    )
                    .await
            })
        });
        let mut winners = 0;
        for result in futures::future::join_all(writers).await {
            match result.unwrap() {
                Ok(_) => winners += 1,
                Err(object_store::Error::AlreadyExists { .. }) => {}
                Err(e) => panic!("round {round}: a losing create must fail with AlreadyExists, got {e}"),
            }
        }
        assert_eq!(
            winners, 1,
            "round {round}: {winners} of 8 concurrent creates of one key succeeded"
        );
    }
}

/// The conformance suite as tests against one loopback backend: `$backend(test_name)`
/// gives a fresh `StoreBackend` (or `None` when its skip variable asks to skip), and
/// `$label` names the backend in timeout messages. Each test is bounded in time.
macro_rules! conformance_tests {
    ($backend:ident, $label:literal) => {
        $crate::emulator::conformance_tests!(@each $backend, $label, generic:
            versions_aliases_and_loading,
            alias_moves_seen_by_other_clients,
            stages_tags_search_lineage_audit,
            bad_names_and_inputs,
            concurrent_writers_in_one_process,
            independent_writers,
            idempotent_register);
        $crate::emulator::conformance_tests!(@each $backend, $label, store: create_only, integrity, malformed_records, signatures);
    };
    // The suite plus the raw create-only check of the store itself (object_store's
    // conditional put against the emulator, without the registry on top).
    ($backend:ident, $label:literal, with_raw_create_only) => {
        $crate::emulator::conformance_tests!($backend, $label);
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn create_only_writes_hold() {
            if let Some(backend) = $backend("create_only_writes_hold") {
                tokio::time::timeout(
                    std::time::Duration::from_secs(120),
                    $crate::emulator::create_only_writes_hold(backend.store.clone(), &backend.root),
                )
                .await
                .expect(concat!($label, " create-only test timed out"));
            }
        }
    };
    (@each $backend:ident, $label:literal, $kind:ident: $($name:ident),*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            if let Some(backend) = $backend(stringify!($name)) {
                tokio::time::timeout(
                    std::time::Duration::from_secs(120),
                    $crate::emulator::conformance_tests!(@call $kind, $name, backend),
                )
                .await
                .expect(concat!($label, " conformance test timed out"));
            }
        }
    )*};
    (@call generic, $name:ident, $backend:ident) => { mlops_core::conformance::$name(&$backend) };
    (@call store, $name:ident, $backend:ident) => { $backend.$name() };
}
pub(crate) use conformance_tests;
