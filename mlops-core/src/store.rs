//! Opening an object store from a URL: the one URL → store mapping of the SDK.
//!
//! `object_store` parses the URL ([`object_store::parse_url_opts`]); its
//! configuration comes from the environment variables each backend documents
//! (`AWS_*`, `GOOGLE_*`, `AZURE_*`). Cloud schemes need the crate feature of
//! the same name (`aws`, `gcp`, `azure`), so a build without one answers
//! [`Error::NotImplemented`] naming the feature instead of a generic failure.

use std::sync::Arc;

use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreScheme};
use url::Url;

use crate::{Error, Result};

/// The store a URL names and the object path inside it.
///
/// `file:///abs/path` always works; `s3://bucket/key` (and `s3a://`),
/// `gs://bucket/key` and `az://container/key` (and `abfs[s]://`) work when
/// this crate is built with the `aws`, `gcp` or `azure` feature. Endpoint,
/// region and credentials come from the backend's environment variables
/// (`AWS_ENDPOINT`, `AWS_ACCESS_KEY_ID`, `GOOGLE_SERVICE_ACCOUNT`,
/// `AZURE_STORAGE_ACCOUNT_NAME`, ...), as `object_store` documents them.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let url = url::Url::from_directory_path(dir.path()).unwrap().join("model.bin")?;
/// let (_store, path) = mlops_core::store::open_url(&url)?;
/// assert!(path.as_ref().ends_with("model.bin"));
///
/// let unknown = url::Url::parse("ftp://host/file")?;
/// assert!(matches!(
///     mlops_core::store::open_url(&unknown),
///     Err(mlops_core::Error::NotImplemented { .. })
/// ));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn open_url(url: &Url) -> Result<(Arc<dyn ObjectStore>, Path)> {
    let location = url.as_str();
    let unsupported = |feature: Option<&str>| Error::NotImplemented {
        operation: format!("object store URL scheme `{}://` ({location})", url.scheme()),
        implementer: match feature {
            Some(f) => format!("this build of mlops-core (enable the `{f}` feature)"),
            None => "mlops-core (supported: file://, and s3://, gs://, az:// with the aws, gcp, azure features)".into(),
        },
    };
    let (scheme, _) = ObjectStoreScheme::parse(url).map_err(|_| unsupported(None))?;
    let prefix = match scheme {
        ObjectStoreScheme::Local => {
            let (store, path) = object_store::parse_url(url).map_err(|e| Error::storage(location, e))?;
            return Ok((Arc::from(store), path));
        }
        ObjectStoreScheme::AmazonS3 if cfg!(feature = "aws") => "AWS_",
        ObjectStoreScheme::GoogleCloudStorage if cfg!(feature = "gcp") => "GOOGLE_",
        ObjectStoreScheme::MicrosoftAzure if cfg!(feature = "azure") => "AZURE_",
        ObjectStoreScheme::AmazonS3 => return Err(unsupported(Some("aws"))),
        ObjectStoreScheme::GoogleCloudStorage => return Err(unsupported(Some("gcp"))),
        ObjectStoreScheme::MicrosoftAzure => return Err(unsupported(Some("azure"))),
        // `memory://` would open a fresh, empty store each time; HTTP is not a backend we ship.
        _ => return Err(unsupported(None)),
    };
    let options = std::env::vars().filter(|(k, _)| k.starts_with(prefix));
    let (store, path) = object_store::parse_url_opts(url, options).map_err(|e| Error::storage(location, e))?;
    Ok((Arc::from(store), path))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn cloud_schemes_without_their_feature_name_the_feature() {
        for (url, feature, enabled) in [
            ("s3://bucket/key", "aws", cfg!(feature = "aws")),
            ("gs://bucket/key", "gcp", cfg!(feature = "gcp")),
            ("az://container/key", "azure", cfg!(feature = "azure")),
        ] {
            let result = open_url(&Url::parse(url).unwrap());
            if enabled {
                // Configuration may still be missing; what matters is that the scheme is known.
                assert!(!matches!(result, Err(Error::NotImplemented { .. })), "{url}");
            } else {
                let message = result.err().unwrap().to_string();
                assert!(message.contains(&format!("`{feature}` feature")), "{message}");
            }
        }
    }

    #[test]
    fn unknown_schemes_are_not_implemented() {
        for url in ["ftp://host/file", "memory:///x", "https://example.invalid/x.parquet"] {
            let e = open_url(&Url::parse(url).unwrap()).err().unwrap();
            assert!(matches!(e, Error::NotImplemented { .. }), "{url}: {e}");
        }
    }
}
