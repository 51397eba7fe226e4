//! The registry conformance suite on local disk.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod conformance;

use std::sync::Arc;

use conformance::Backend;
use object_store::local::LocalFileSystem;
use object_store::path::Path;

fn local() -> (tempfile::TempDir, Backend) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(LocalFileSystem::new_with_prefix(dir.path()).unwrap());
    (
        dir,
        Backend {
            store,
            root: Path::from("registry"),
        },
    )
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let (_dir, backend) = local();
            conformance::$name(&backend).await;
        }
    )*};
}

conformance!(
    versions_aliases_and_loading,
    stages_tags_search_lineage_audit,
    integrity,
    bad_names_and_inputs,
    signatures,
    concurrent_writers_in_one_process,
);

#[test]
fn from_url_opens_local_directories_and_refuses_unknown_schemes() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}", dir.path().join("reg").display());
    assert!(mlops_core::StoreRegistry::from_url(&url).is_ok());
    assert!(dir.path().join("reg").is_dir());
    assert!(matches!(
        mlops_core::StoreRegistry::from_url("ftp://x/y"),
        Err(mlops_core::Error::NotImplemented { .. })
    ));
    assert!(mlops_core::StoreRegistry::from_url("not a url").is_err());
}
