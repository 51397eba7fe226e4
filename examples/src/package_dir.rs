//! A model package as plain files in a directory (the manifest, the files it
//! pins, the signature if any), read back with every digest verified.

use std::path::Path;
use std::sync::Arc;

use mlops_core::{Error, Package, Result};
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;

fn store(dir: &Path) -> Result<Arc<LocalFileSystem>> {
    LocalFileSystem::new_with_prefix(dir)
        .map(Arc::new)
        .map_err(|e| Error::storage(dir.display().to_string(), e))
}

/// Writes `package` into `dir` (created if needed): files first, the manifest last.
pub async fn write(package: &Package, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::Io {
        location: dir.display().to_string(),
        source: e,
    })?;
    package.write_to(store(dir)?.as_ref(), &ObjectPath::from("")).await
}

/// Reads the package in `dir`, verifying every file against the manifest.
pub async fn read(dir: &Path) -> Result<Package> {
    Package::read_from(store(dir)?.as_ref(), &ObjectPath::from("")).await
}
