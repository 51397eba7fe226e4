//! Opening an [`ObjectStore`] from a URL, with cloud backends behind features.

use std::sync::Arc;

use object_store::ObjectStore;
use object_store::path::Path;
use url::Url;

use crate::{Error, Result};

/// The store and object path a URL names. `file://` always works; `s3://`,
/// `gs://` and `az://` need the `aws`, `gcp` and `azure` features and read
/// their configuration (endpoint, region, credentials) from the environment.
pub fn store_for_url(url: &Url) -> Result<(Arc<dyn ObjectStore>, Path)> {
    let location = url.to_string();
    match url.scheme() {
        "file" => {
            let (store, path) = object_store::parse_url(url).map_err(|e| Error::storage(&location, e))?;
            Ok((Arc::from(store), path))
        }
        #[cfg(feature = "aws")]
        "s3" | "s3a" => {
            let (store, path) =
                object_store::parse_url_opts(url, std::env::vars().filter(|(k, _)| k.starts_with("AWS_")))
                    .map_err(|e| Error::storage(&location, e))?;
            Ok((Arc::from(store), path))
        }
        #[cfg(feature = "gcp")]
        "gs" => {
            let (store, path) =
                object_store::parse_url_opts(url, std::env::vars().filter(|(k, _)| k.starts_with("GOOGLE_")))
                    .map_err(|e| Error::storage(&location, e))?;
            Ok((Arc::from(store), path))
        }
        #[cfg(feature = "azure")]
        "az" | "abfs" | "abfss" => {
            let (store, path) =
                object_store::parse_url_opts(url, std::env::vars().filter(|(k, _)| k.starts_with("AZURE_")))
                    .map_err(|e| Error::storage(&location, e))?;
            Ok((Arc::from(store), path))
        }
        other => Err(Error::NotImplemented {
            operation: format!("object store scheme `{other}://`"),
            implementer: "this build of mlops-data (enable the aws, gcp or azure feature)".into(),
        }),
    }
}
