//! Where a Parquet file lives, and how a source resolves to a file or a store.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use object_store::ObjectStore;
use object_store::path::Path as ObjectPath;

use crate::{Error, Result};

/// Where a Parquet file lives: a local path, a URL, or an object in a store.
///
/// Strings containing `://` are URLs (`file:///abs/x.parquet`, `s3://bucket/key`,
/// `gs://`, `az://`; cloud schemes need the crate feature of the same name,
/// see [`mlops_core::store::open_url`]); other strings and paths are local
/// files. `file://` URLs are read as local files.
///
/// ```
/// use mlops_data::ParquetSource;
///
/// assert!(matches!(ParquetSource::from("data/train.parquet"), ParquetSource::Path(_)));
/// assert!(matches!(ParquetSource::from("s3://bucket/train.parquet"), ParquetSource::Url(_)));
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum ParquetSource {
    /// A local file.
    Path(PathBuf),
    /// A URL, parsed when the source is opened.
    Url(String),
    /// An object in a store the caller configured.
    Object {
        /// The store.
        store: Arc<dyn ObjectStore>,
        /// The object's path in the store.
        path: ObjectPath,
    },
}

impl ParquetSource {
    /// An object in a store the caller configured.
    pub fn object(store: Arc<dyn ObjectStore>, path: ObjectPath) -> Self {
        ParquetSource::Object { store, path }
    }

    /// How errors name this source.
    pub fn location(&self) -> String {
        match self {
            ParquetSource::Path(p) => p.display().to_string(),
            ParquetSource::Url(u) => u.clone(),
            ParquetSource::Object { store, path } => format!("{store}/{path}"),
        }
    }
}

impl From<&str> for ParquetSource {
    fn from(s: &str) -> Self {
        if s.contains("://") {
            ParquetSource::Url(s.to_owned())
        } else {
            ParquetSource::Path(PathBuf::from(s))
        }
    }
}

impl From<String> for ParquetSource {
    fn from(s: String) -> Self {
        ParquetSource::from(s.as_str())
    }
}

impl From<&String> for ParquetSource {
    fn from(s: &String) -> Self {
        ParquetSource::from(s.as_str())
    }
}

impl From<&Path> for ParquetSource {
    fn from(p: &Path) -> Self {
        ParquetSource::Path(p.to_path_buf())
    }
}

impl From<PathBuf> for ParquetSource {
    fn from(p: PathBuf) -> Self {
        ParquetSource::Path(p)
    }
}

impl From<&PathBuf> for ParquetSource {
    fn from(p: &PathBuf) -> Self {
        ParquetSource::Path(p.clone())
    }
}

impl From<url::Url> for ParquetSource {
    fn from(u: url::Url) -> Self {
        ParquetSource::Url(u.into())
    }
}

impl From<&url::Url> for ParquetSource {
    fn from(u: &url::Url) -> Self {
        ParquetSource::Url(u.as_str().to_owned())
    }
}

/// What a source resolves to.
pub(crate) enum Target {
    Local(PathBuf),
    Object(Arc<dyn ObjectStore>, ObjectPath),
}

/// A local path for `file://` URLs (read without the object-store layer), else the store.
pub(crate) fn resolve(source: ParquetSource) -> Result<(String, Target)> {
    let location = source.location();
    let target = match source {
        ParquetSource::Path(p) => Target::Local(p),
        ParquetSource::Object { store, path } => Target::Object(store, path),
        ParquetSource::Url(raw) => {
            let url = url::Url::parse(&raw).map_err(|e| {
                Error::invalid_input(
                    "URL",
                    &raw,
                    e.to_string(),
                    "file:///abs/path.parquet or s3://bucket/key",
                )
            })?;
            if url.scheme() == "file" {
                Target::Local(url.to_file_path().map_err(|_| {
                    Error::invalid_input("URL", &raw, "not an absolute local path", "file:///abs/path.parquet")
                })?)
            } else {
                let (store, path) = mlops_core::store::open_url(&url)?;
                Target::Object(store, path)
            }
        }
    };
    Ok((location, target))
}
