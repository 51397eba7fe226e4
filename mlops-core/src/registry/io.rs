//! Object access shared by every registry operation: reads, create-only writes, blobs.

use bytes::Bytes;
use object_store::path::Path;
use object_store::{ObjectStoreExt, PutMode, PutOptions, PutPayload};

use super::store::StoreRegistry;
use crate::error::{Error, Result};

pub(super) fn storage(path: &Path) -> impl FnOnce(object_store::Error) -> Error + '_ {
    move |e| Error::storage(path.to_string(), e)
}

pub(super) fn json<T: serde::Serialize>(value: &T, what: &str) -> Result<Bytes> {
    serde_json::to_vec(value)
        .map(Bytes::from)
        .map_err(|e| Error::serialization(what, e))
}

impl StoreRegistry {
    pub(super) async fn get_opt(&self, path: &Path) -> Result<Option<Bytes>> {
        match self.store.get(path).await {
            Ok(r) => r.bytes().await.map(Some).map_err(storage(path)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(Error::storage(path.to_string(), e)),
        }
    }

    pub(super) async fn read_json<T: serde::de::DeserializeOwned>(&self, path: &Path) -> Result<Option<T>> {
        match self.get_opt(path).await? {
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| Error::corrupt(path.to_string(), e.to_string())),
            None => Ok(None),
        }
    }

    pub(super) async fn put_create(&self, path: &Path, bytes: Bytes) -> Result<()> {
        let opts = PutOptions {
            mode: PutMode::Create,
            ..Default::default()
        };
        match self.store.put_opts(path, PutPayload::from(bytes), opts).await {
            Ok(_) => Ok(()),
            Err(object_store::Error::AlreadyExists { .. }) | Err(object_store::Error::Precondition { .. }) => {
                Err(Error::AlreadyExists { what: path.to_string() })
            }
            Err(e) => Err(Error::storage(path.to_string(), e)),
        }
    }
}
