//! Object stores for DataFusion and Ballista: `s3://bucket/…` from the usual
//! AWS variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//! `AWS_SESSION_TOKEN`, `AWS_REGION`/`AWS_DEFAULT_REGION`, `AWS_ENDPOINT`,
//! `AWS_ALLOW_HTTP`), built the first time a bucket is read; local paths as
//! DataFusion reads them. Client, scheduler and executors each build their
//! stores from their own environment: credentials never travel in plans.

use std::sync::Arc;

use datafusion::common::{DataFusionError, Result as DfResult};
use datafusion::execution::object_store::{DefaultObjectStoreRegistry, ObjectStoreRegistry};
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use object_store_df::ObjectStore;
use url::Url;

/// DataFusion's default registry, plus S3 buckets configured from the environment on first use.
#[derive(Debug, Default)]
pub struct EnvObjectStores {
    known: DefaultObjectStoreRegistry,
}

impl ObjectStoreRegistry for EnvObjectStores {
    fn register_store(&self, url: &Url, store: Arc<dyn ObjectStore>) -> Option<Arc<dyn ObjectStore>> {
        self.known.register_store(url, store)
    }

    fn deregister_store(&self, url: &Url) -> DfResult<Arc<dyn ObjectStore>> {
        self.known.deregister_store(url)
    }

    fn get_store(&self, url: &Url) -> DfResult<Arc<dyn ObjectStore>> {
        match self.known.get_store(url) {
            Ok(store) => Ok(store),
            Err(_) if url.scheme() == "s3" => {
                let bucket = url.host_str().filter(|b| !b.is_empty()).ok_or_else(|| {
                    DataFusionError::Configuration(format!("`{url}` names no bucket (expected s3://bucket/path)"))
                })?;
                let store: Arc<dyn ObjectStore> = Arc::new(
                    object_store_df::aws::AmazonS3Builder::from_env()
                        .with_bucket_name(bucket)
                        .build()
                        .map_err(|e| DataFusionError::External(Box::new(e)))?,
                );
                // Two readers racing here build two equal stores; the registry keeps one.
                self.known.register_store(url, Arc::clone(&store));
                Ok(store)
            }
            Err(e) => Err(e),
        }
    }
}

/// A runtime whose object stores are [`EnvObjectStores`].
pub fn runtime_env() -> DfResult<Arc<RuntimeEnv>> {
    RuntimeEnvBuilder::new()
        .with_object_store_registry(Arc::new(EnvObjectStores::default()))
        .build_arc()
}
