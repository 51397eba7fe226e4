//! [`StoreBackend`]: the checks for [`StoreRegistry`] on any `ObjectStore`,
//! including those that need raw access to storage.

use std::sync::Arc;

use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};

use super::checks::package;
use super::{Backend, CountingStore, RequestCounts};
use crate::{Error, ModelPackage, Package, PackageSigner, Registry, StoreRegistry, TrustedKeys};

/// [`StoreRegistry`] on an object store, under a root that tests own: each
/// check works under its own prefix of `root`, so one root serves a whole run.
#[derive(Debug, Clone)]
pub struct StoreBackend {
    /// The store under test.
    pub store: Arc<dyn ObjectStore>,
    /// Where the checks write (a fresh prefix per run keeps runs independent).
    pub root: Path,
}

impl Backend for StoreBackend {
    fn registry(&self, scope: &str) -> Arc<dyn Registry> {
        Arc::new(self.store_registry(scope))
    }
}

impl StoreBackend {
    /// A backend on `store` under `root`.
    pub fn new(store: Arc<dyn ObjectStore>, root: Path) -> Self {
        StoreBackend { store, root }
    }

    /// The prefix a check named `scope` works under.
    pub fn scoped(&self, scope: &str) -> Path {
        self.root.clone().join(scope)
    }

    /// A registry client for the check named `scope`.
    pub fn store_registry(&self, scope: &str) -> StoreRegistry {
        StoreRegistry::new(self.store.clone(), self.scoped(scope)).with_actor("tester")
    }

    /// Every generic check ([`run_all`](super::run_all)), then every store check.
    pub async fn run_all(&self) {
        super::run_all(self).await;
        self.create_only().await;
        self.integrity().await;
        self.malformed_records().await;
        self.signatures().await;
        let _ = self.sixteen_contending_writers(2).await;
    }

    /// The store property the registry rests on: a create-only write of an
    /// existing key fails, and of 8 concurrent creates of one key exactly one wins.
    pub async fn create_only(&self) {
        let create = || PutOptions {
            mode: PutMode::Create,
            ..Default::default()
        };
        let key = self.scoped("create_only").join("once.json");
        self.store
            .put_opts(&key, PutPayload::from_static(b"first"), create())
            .await
            .unwrap();
        let again = self
            .store
            .put_opts(&key, PutPayload::from_static(b"second"), create())
            .await;
        assert!(
            matches!(
                again,
                Err(object_store::Error::AlreadyExists { .. } | object_store::Error::Precondition { .. })
            ),
            "a second create of one key must fail: {again:?}"
        );
        let kept = self.store.get(&key).await.unwrap().bytes().await.unwrap();
        assert_eq!(&kept[..], b"first");
        for round in 0..5 {
            let key = self.scoped("create_only").join(format!("race-{round}.json"));
            let mut tasks = Vec::new();
            for writer in 0..8u8 {
                let (store, key) = (self.store.clone(), key.clone());
                tasks.push(tokio::spawn(async move {
                    let body = PutPayload::from(vec![writer; 64]);
                    let opts = PutOptions {
                        mode: PutMode::Create,
                        ..Default::default()
                    };
                    store.put_opts(&key, body, opts).await.is_ok()
                }));
            }
            let mut winners = 0;
            for t in tasks {
                winners += usize::from(t.await.unwrap());
            }
            assert_eq!(winners, 1, "round {round}: {winners} writers created one key");
        }
    }

    /// Flip one byte of, then truncate, every stored blob of a version: load names the file.
    pub async fn integrity(&self) {
        let r = self.store_registry("integrity");
        let p = package("sealed", 4.0);
        r.register(&p).await.unwrap();
        let mut names: Vec<String> = p.manifest().files.keys().cloned().collect();
        names.push("manifest.json".into());
        for name in names {
            let digest = if name == "manifest.json" {
                p.digest()
            } else {
                p.manifest().files[&name].sha256
            };
            let path = self
                .scoped("integrity")
                .clone()
                .join("blobs")
                .join("sha256")
                .join(digest.to_hex());
            let original = self.store.get(&path).await.unwrap().bytes().await.unwrap();
            let mut flipped = original.to_vec();
            flipped[original.len() / 2] ^= 0x01;
            for damaged in [flipped, original[..original.len() - 1].to_vec()] {
                self.store.put(&path, PutPayload::from(damaged)).await.unwrap();
                match r.load("sealed", 1).await {
                    Err(Error::DigestMismatch { location, .. }) => {
                        assert!(location.contains(&name), "{location} should name {name}")
                    }
                    other => panic!("{name}: {other:?}"),
                }
            }
            self.store.delete(&path).await.unwrap();
            match r.load("sealed", 1).await {
                Err(Error::NotFound { what }) => assert!(what.contains(&name), "{what} should name {name}"),
                other => panic!("{name}: {other:?}"),
            }
            self.store.put(&path, PutPayload::from(original)).await.unwrap();
            r.load("sealed", 1).await.unwrap();
        }
    }

    /// A malformed version record is a typed error, not a panic.
    pub async fn malformed_records(&self) {
        let r = self.store_registry("malformed_records");
        r.register(&package("ok", 1.0)).await.unwrap();
        let record = self
            .scoped("malformed_records")
            .join("models")
            .join("ok")
            .join("versions")
            .join("000000000002.json");
        self.store
            .put(&record, PutPayload::from(b"{not json".to_vec()))
            .await
            .unwrap();
        assert!(matches!(r.load("ok", 2).await, Err(Error::Corrupt { .. })));
    }

    /// A registry requiring signatures refuses unsigned and untrusted packages, on register and load.
    pub async fn signatures(&self) {
        let signer = PackageSigner::from_secret([42; 32]);
        let trusted = TrustedKeys::new().with_key(&signer.key_id()).unwrap();
        let strict = self.store_registry("signatures").require_signatures(trusted);
        let unsigned = package("signed", 1.0);
        assert!(matches!(
            strict.register(&unsigned).await,
            Err(Error::SignatureRejected { .. })
        ));
        let mut signed = package("signed", 1.0);
        signed.sign(&signer);
        assert_eq!(strict.register(&signed).await.unwrap(), 1);
        strict
            .load("signed", 1)
            .await
            .unwrap()
            .verify_signature(&TrustedKeys::new().with_key(&signer.key_id()).unwrap())
            .unwrap();
        // An unsigned version registered by a lenient writer is refused by the strict reader.
        assert_eq!(self.store_registry("signatures").register(&unsigned).await.unwrap(), 2);
        assert!(matches!(
            strict.load("signed", 2).await,
            Err(Error::SignatureRejected { .. })
        ));
        let mut stranger = package("signed", 1.0);
        stranger.sign(&PackageSigner::from_secret([1; 32]));
        assert!(matches!(
            strict.register(&stranger).await,
            Err(Error::SignatureRejected { .. })
        ));
    }

    /// 16 independent writers (16 registry instances, as in 16 processes) register
    /// `per_writer` versions each of one model; returns the requests they made and
    /// how many registers succeeded. Versions must come out distinct and gap-free.
    pub async fn sixteen_contending_writers(&self, per_writer: usize) -> (RequestCounts, u64) {
        let counting = Arc::new(CountingStore::new(self.store.clone()));
        let mut handles = Vec::new();
        for t in 0..16 {
            let r =
                StoreRegistry::new(counting.clone(), self.scoped("sixteen_contending_writers")).with_actor("tester");
            let packages: Vec<Package> = (0..per_writer)
                .map(|i| package("contended", (t * 100 + i) as f32))
                .collect();
            handles.push(tokio::spawn(async move {
                let mut got = Vec::new();
                for p in &packages {
                    got.push(r.register(p).await.unwrap());
                }
                got
            }));
        }
        let mut all: Vec<u64> = Vec::new();
        for h in handles {
            all.extend(h.await.unwrap());
        }
        all.sort_unstable();
        let n = (16 * per_writer) as u64;
        assert_eq!(all, (1..=n).collect::<Vec<_>>());
        (counting.counts(), n)
    }
}
