//! The registry conformance suite (`mlops_core::conformance`) on local disk,
//! plus request counts at scale.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use mlops_core::conformance::{self, StoreBackend};
use object_store::local::LocalFileSystem;
use object_store::path::Path;

fn local() -> (tempfile::TempDir, StoreBackend) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(LocalFileSystem::new_with_prefix(dir.path()).unwrap());
    (dir, StoreBackend::new(store, Path::from("registry")))
}

macro_rules! generic {
    ($($name:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let (_dir, backend) = local();
            conformance::$name(&backend).await;
        }
    )*};
}

macro_rules! store {
    ($($name:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let (_dir, backend) = local();
            backend.$name().await;
        }
    )*};
}

generic!(
    versions_aliases_and_loading,
    alias_moves_seen_by_other_clients,
    stages_tags_search_lineage_audit,
    bad_names_and_inputs,
    concurrent_writers_in_one_process,
    independent_writers,
    idempotent_register,
);

store!(create_only, integrity, malformed_records, signatures);

/// The whole suite through its single entry point, as a user's backend would run it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_all_through_the_entry_point() {
    let (_dir, backend) = local();
    backend.run_all().await;
}

/// The generic entry point with a plain closure as the backend: the form a
/// user with their own `Registry` implementation writes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_all_with_a_closure_backend() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_owned();
    let backend = move |scope: &str| -> Arc<dyn mlops_core::Registry> {
        Arc::new(mlops_core::StoreRegistry::local(root.join(scope)).unwrap())
    };
    conformance::run_all(&backend).await;
}

/// 16 writers contending on one model on local disk: requests per successful register.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_writers_requests_per_register() {
    let (_dir, backend) = local();
    let (counts, registered) = backend.sixteen_contending_writers(4).await;
    let per = counts.total() as f64 / registered as f64;
    eprintln!("local disk, 16 writers x 4 registers: {counts:?}; {per:.2} requests per register");
    assert!(per <= 20.0, "{per:.2} requests per register: {counts:?}");
}

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

mod backoff {
    //! Retry pacing under perpetual contention, with a fake sleep and fixed jitter.
    use std::ops::Range;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use async_trait::async_trait;
    use bytes::Bytes;
    use futures::future::BoxFuture;
    use futures::stream::BoxStream;
    use mlops_core::{BackoffConfig, Error, Jitter, Registry, Sleeper, StoreRegistry};
    use object_store::path::Path;
    use object_store::{
        CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore, PutMode,
        PutMultipartOptions, PutOptions, PutPayload, PutResult, RenameOptions,
    };

    /// Every create-only write of a version record or event loses its race, as
    /// if an endless line of other writers always got there first.
    #[derive(Debug)]
    struct AlwaysTaken(Arc<dyn ObjectStore>);

    impl std::fmt::Display for AlwaysTaken {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "AlwaysTaken")
        }
    }

    #[async_trait]
    impl ObjectStore for AlwaysTaken {
        async fn put_opts(
            &self,
            location: &Path,
            payload: PutPayload,
            opts: PutOptions,
        ) -> object_store::Result<PutResult> {
            let record = location.as_ref().contains("/versions/") || location.as_ref().contains("/events/");
            if record && matches!(opts.mode, PutMode::Create) {
                return Err(object_store::Error::AlreadyExists {
                    path: location.to_string(),
                    source: "taken by another writer".into(),
                });
            }
            self.0.put_opts(location, payload, opts).await
        }
        async fn put_multipart_opts(
            &self,
            location: &Path,
            opts: PutMultipartOptions,
        ) -> object_store::Result<Box<dyn MultipartUpload>> {
            self.0.put_multipart_opts(location, opts).await
        }
        async fn get_opts(&self, location: &Path, options: GetOptions) -> object_store::Result<GetResult> {
            self.0.get_opts(location, options).await
        }
        async fn get_ranges(&self, location: &Path, ranges: &[Range<u64>]) -> object_store::Result<Vec<Bytes>> {
            self.0.get_ranges(location, ranges).await
        }
        fn delete_stream(
            &self,
            locations: BoxStream<'static, object_store::Result<Path>>,
        ) -> BoxStream<'static, object_store::Result<Path>> {
            self.0.delete_stream(locations)
        }
        fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
            self.0.list(prefix)
        }
        fn list_with_offset(
            &self,
            prefix: Option<&Path>,
            offset: &Path,
        ) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
            self.0.list_with_offset(prefix, offset)
        }
        async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
            self.0.list_with_delimiter(prefix).await
        }
        async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> object_store::Result<()> {
            self.0.copy_opts(from, to, options).await
        }
        async fn rename_opts(&self, from: &Path, to: &Path, options: RenameOptions) -> object_store::Result<()> {
            self.0.rename_opts(from, to, options).await
        }
    }

    /// Records the delays asked for and returns at once.
    #[derive(Debug, Default)]
    struct RecordingSleeper(Mutex<Vec<Duration>>);

    impl Sleeper for RecordingSleeper {
        fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
            self.0.lock().unwrap().push(duration);
            Box::pin(futures::future::ready(()))
        }
    }

    #[derive(Debug)]
    struct Fixed(f64);

    impl Jitter for Fixed {
        fn fraction(&self) -> f64 {
            self.0
        }
    }

    fn taken_registry(sleeper: Arc<RecordingSleeper>, jitter: f64) -> StoreRegistry {
        let inner: Arc<dyn ObjectStore> = Arc::new(object_store::memory::InMemory::new());
        StoreRegistry::new(Arc::new(AlwaysTaken(inner)), Path::from("r"))
            .with_backoff(BackoffConfig::new(
                Duration::from_millis(5),
                Duration::from_millis(40),
                2.0,
                7,
            ))
            .with_sleeper(sleeper)
            .with_jitter(Arc::new(Fixed(jitter)))
    }

    fn ms(d: &[Duration]) -> Vec<u128> {
        d.iter().map(Duration::as_millis).collect()
    }

    #[tokio::test]
    async fn delays_grow_are_capped_and_exhaustion_is_a_typed_error() {
        let sleeper = Arc::new(RecordingSleeper::default());
        let r = taken_registry(sleeper.clone(), 1.0);
        match r.register(&mlops_core::conformance::package("fraud", 1.0)).await {
            Err(Error::Contention { location, attempts }) => {
                assert_eq!(attempts, 7);
                assert!(location.contains("version record of model `fraud`"), "{location}");
            }
            other => panic!("expected Contention, got {other:?}"),
        }
        // 7 attempts, 6 pauses between them: doubling from 5 ms, capped at 40 ms.
        assert_eq!(ms(&sleeper.0.lock().unwrap()), vec![5, 10, 20, 40, 40, 40]);
    }

    #[tokio::test]
    async fn event_appends_back_off_too_and_jitter_scales_the_delay() {
        let sleeper = Arc::new(RecordingSleeper::default());
        let r = taken_registry(sleeper.clone(), 0.5);
        match r.set_tag("fraud", None, "team", Some("risk")).await {
            Err(Error::Contention { location, attempts }) => {
                assert_eq!(attempts, 7);
                assert!(location.contains("events/meta"), "{location}");
            }
            other => panic!("expected Contention, got {other:?}"),
        }
        let got: Vec<f64> = sleeper.0.lock().unwrap().iter().map(Duration::as_secs_f64).collect();
        let want = [2.5e-3, 5e-3, 10e-3, 20e-3, 20e-3, 20e-3];
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-9, "{got:?}");
        }
    }
}

/// With 10,000 versions, listing and searching read the newest snapshot and
/// the records after it: a bounded number of requests, not one per version.
/// (In memory: object_store's InMemory store, so that registering 10,000
/// versions takes seconds in a debug build; the request counts are the same
/// on any backend.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_10000_versions_costs_a_bounded_number_of_requests() {
    use mlops_core::conformance::CountingStore;
    use mlops_core::{Registry, SearchQuery, Stage, StoreRegistry, VersionSelector};

    let counting = Arc::new(CountingStore::new(Arc::new(object_store::memory::InMemory::new())));
    let writer = StoreRegistry::new(counting.clone(), Path::from("r")).with_actor("tester");
    let p = mlops_core::PackageBuilder::new("big")
        .weights(mlops_core::testing::tiny_safetensors())
        .build()
        .unwrap();
    for v in 1..=10_000u64 {
        assert_eq!(writer.register(&p).await.unwrap(), v);
    }
    writer.transition("big", 7, Stage::Production, None).await.unwrap();
    writer.set_tag("big", Some(9_999), "team", Some("risk")).await.unwrap();
    writer.set_alias("big", "champion", 7).await.unwrap();
    // A fresh reader, as in another process: no hint, no cache. The first
    // listing after a burst of registrations reads what register's last
    // snapshot (every 256 versions) does not cover, and snapshots it.
    let reader = StoreRegistry::new(counting.clone(), Path::from("r"));
    let before = counting.counts();
    assert_eq!(reader.list_versions("big").await.unwrap().len(), 10_000);
    let first = counting.counts().since(&before);
    assert!(first.total() <= 2 * 256 + 10, "first listing: {first:?}");
    let before = counting.counts();
    let all = reader.list_versions("big").await.unwrap();
    let listing = counting.counts().since(&before);
    assert_eq!(all.len(), 10_000);
    assert_eq!(all[6].stage, Stage::Production);
    assert_eq!(all[6].aliases, vec!["champion"]);
    assert_eq!(all[9_998].tags["team"], "risk");

    let before = counting.counts();
    let found = reader
        .search(&SearchQuery {
            stage: Some(Stage::Production),
            ..Default::default()
        })
        .await
        .unwrap();
    let searching = counting.counts().since(&before);
    assert_eq!(found.iter().map(|v| v.version).collect::<Vec<_>>(), vec![7]);

    let before = counting.counts();
    assert_eq!(reader.resolve("big", &VersionSelector::Latest).await.unwrap(), 10_000);
    let latest = counting.counts().since(&before);
    eprintln!(
        "10,000 versions: first list_versions {first:?}; list_versions {listing:?}; search {searching:?}; \
         resolve latest {latest:?}"
    );
    // Snapshot listing + snapshot + three tail listings + one alias (listing +
    // read) + the records after the snapshot, fewer than 64 (a reader that
    // finds more writes a new snapshot).
    for (what, c) in [("list_versions", listing), ("search", searching)] {
        assert!(c.total() <= 64 + 8, "{what}: {c:?}");
    }
    assert!(latest.total() <= 3, "resolve latest: {latest:?}");
}

/// A register with a request id that crashed after its claim and before its
/// version record is completed by the retry; one whose claimed number was taken
/// meanwhile by another register gets the next number, once.
#[tokio::test]
async fn idempotent_register_converges_after_a_crash_between_claim_and_publish() {
    use mlops_core::{ModelPackage, Registry};
    use object_store::{ObjectStoreExt, PutPayload};

    let (_dir, b) = local();
    let r = b.store_registry("crashy");
    let p = conformance::package("crashy", 1.0);
    let claim = |version: u64| {
        serde_json::to_vec(&serde_json::json!({
            "version": version, "manifest": p.digest(), "at_ms": 0, "actor": "crashed"
        }))
        .unwrap()
    };
    let claim_path = |id: &str| {
        b.scoped("crashy")
            .join("models")
            .join("crashy")
            .join("requests")
            .join(id)
            .join("000000000001.json")
    };
    // Crashed after claiming version 1: the retry publishes it.
    b.store
        .put(&claim_path("req-a"), PutPayload::from(claim(1)))
        .await
        .unwrap();
    assert_eq!(r.register_idempotent(&p, "req-a").await.unwrap(), 1);
    assert_eq!(r.register_idempotent(&p, "req-a").await.unwrap(), 1);
    // Crashed after claiming version 2, which another register then took.
    b.store
        .put(&claim_path("req-b"), PutPayload::from(claim(2)))
        .await
        .unwrap();
    assert_eq!(r.register(&conformance::package("crashy", 2.0)).await.unwrap(), 2);
    assert_eq!(r.register_idempotent(&p, "req-b").await.unwrap(), 3);
    assert_eq!(r.register_idempotent(&p, "req-b").await.unwrap(), 3);
    assert_eq!(r.list_versions("crashy").await.unwrap().len(), 3);
}
