//! Create-only writes in batches: a register's blobs and its version record in one go.
//!
//! On local disk, object_store's `LocalFileSystem` hands every write to Tokio's
//! blocking pool, so a register paid one thread hand-off (a wake-up of a pool
//! thread, then of the runtime) per object it wrote. [`StoreRegistry::put_create_all`]
//! writes a whole batch in one blocking task instead, the way `LocalFileSystem`
//! writes each object with `PutMode::Create`: a staging file `<dest>#<n>`
//! created exclusively, written and closed, then hard-linked to `<dest>` (the
//! link fails if `<dest>` exists, which is what makes the write create-only and
//! atomic), then the staging name removed; missing directories are created on the
//! way. Writers using either path therefore exclude each other on the same files,
//! and a writer killed mid-batch leaves what it left before: the objects written
//! so far, in order, and at most one staging file, which listings skip
//! (`LocalFileSystem` treats a name ending in `#<digits>` as a staging file).
//!
//! Elsewhere (S3, GCS, Azure, a store given to [`StoreRegistry::new`]) the batch is
//! one create-only request per object, in order, as before.

use std::io::{ErrorKind, Write};
use std::sync::Arc;

use bytes::Bytes;
use object_store::local::LocalFileSystem;
use object_store::path::Path;

use super::io::storage;
use super::store::StoreRegistry;
use crate::error::{Error, Result};

/// One create-only write of a batch.
pub(super) struct Create {
    pub(super) path: Path,
    pub(super) bytes: Bytes,
    /// An object already there counts as written (content-addressed blobs:
    /// it holds these very bytes); otherwise it fails the batch with
    /// [`Error::AlreadyExists`].
    pub(super) exists_ok: bool,
}

impl StoreRegistry {
    /// Writes `creates` in order, each create-only, and stops at the first that
    /// fails. On local disk the batch is one blocking task (see the module docs).
    pub(super) async fn put_create_all(&self, creates: Vec<Create>) -> Result<()> {
        if creates.is_empty() {
            return Ok(());
        }
        let Some(local) = &self.local else {
            for c in creates {
                match self.put_create(&c.path, c.bytes).await {
                    Ok(()) => {}
                    Err(Error::AlreadyExists { .. }) if c.exists_ok => {}
                    Err(e) => return Err(e),
                }
            }
            return Ok(());
        };
        let files = creates
            .into_iter()
            .map(|c| Ok((local.path_to_filesystem(&c.path).map_err(storage(&c.path))?, c)))
            .collect::<Result<Vec<_>>>()?;
        run_blocking(move || {
            for (file, c) in files {
                match create_file(&file, &c.bytes) {
                    Ok(()) => {}
                    Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                        if !c.exists_ok {
                            return Err(Error::AlreadyExists {
                                what: c.path.to_string(),
                            });
                        }
                    }
                    Err(source) => {
                        return Err(Error::Io {
                            location: file.display().to_string(),
                            source,
                        });
                    }
                }
            }
            Ok(())
        })
        .await
    }
}

/// The local store behind a registry opened on a directory, for batched writes.
pub(super) type LocalStore = Arc<LocalFileSystem>;

/// Runs `f` on Tokio's blocking pool when there is a runtime, else right here
/// (as object_store does for its local file system).
async fn run_blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => runtime.spawn_blocking(f).await.map_err(|e| Error::Io {
            location: "registry write task".into(),
            source: std::io::Error::other(e),
        })?,
        Err(_) => f(),
    }
}

/// Creates `dest` holding `bytes` unless it exists (`ErrorKind::AlreadyExists`),
/// as `LocalFileSystem::put_opts` with `PutMode::Create` does.
fn create_file(dest: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let (mut file, staging) = staging_file(dest)?;
    let written = file.write_all(bytes).and_then(|()| close(file));
    let published = written.and_then(|()| std::fs::hard_link(&staging, dest));
    // The staging name goes whether or not the link was made.
    let _ = std::fs::remove_file(&staging);
    published
}

/// A new staging file `<dest>#<n>` (the first free `n`), creating missing directories.
fn staging_file(dest: &std::path::Path) -> std::io::Result<(std::fs::File, std::path::PathBuf)> {
    let mut n = 1u32;
    let mut made_dirs = false;
    loop {
        let mut name = dest.as_os_str().to_owned();
        name.push(format!("#{n}"));
        let staging = std::path::PathBuf::from(name);
        match std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&staging)
        {
            Ok(file) => return Ok((file, staging)),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => n += 1,
            Err(e) if e.kind() == ErrorKind::NotFound && !made_dirs => {
                let parent = dest.parent().ok_or(e)?;
                std::fs::create_dir_all(parent)?;
                made_dirs = true;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Closes a file and reports a failed close, as `LocalFileSystem` does: NFS and
/// some FUSE file systems commit data only on close, and `File`'s drop ignores
/// the error.
fn close(file: std::fs::File) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        nix::unistd::close(file).map_err(std::io::Error::from)
    }
    #[cfg(not(unix))]
    {
        drop(file);
        Ok(())
    }
}
