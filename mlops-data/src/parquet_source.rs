//! Profiling Parquet files on local disk and in any object store.
//!
//! Row groups are the unit of parallelism and of memory: each worker decodes
//! one row group at a time into a partial profile, and partial profiles are
//! merged. Peak memory is therefore bounded by the number of workers times a
//! row group's decoded batches, never by the file size.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use futures::{StreamExt, TryStreamExt};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};
use parquet::arrow::ParquetRecordBatchStreamBuilder;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder};
use parquet::errors::ParquetError;
use rayon::prelude::*;

use crate::config::ProfileConfig;
use crate::object_reader::ObjectReader;
use crate::profile::Profile;
use crate::profiler::Profiler;
use crate::{Error, Result};

/// How far a Parquet profile has got; passed to the progress callback after each row group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Row groups finished.
    pub row_groups_done: usize,
    /// Row groups in the file.
    pub row_groups_total: usize,
    /// Rows finished.
    pub rows_done: u64,
    /// Rows in the file.
    pub rows_total: u64,
}

type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// Profiles Parquet files, row groups in parallel.
///
/// ```no_run
/// use mlops_data::{ParquetProfiler, ProfileConfig};
///
/// let profile = ParquetProfiler::new(ProfileConfig::default())
///     .with_progress(|p| eprintln!("{}/{} row groups", p.row_groups_done, p.row_groups_total))
///     .profile_file("data/train.parquet")?;
/// println!("{}", profile.to_json_pretty()?);
/// # Ok::<(), mlops_data::Error>(())
/// ```
#[derive(Clone)]
pub struct ParquetProfiler {
    config: ProfileConfig,
    progress: Option<ProgressFn>,
    max_in_flight: usize,
}

impl std::fmt::Debug for ParquetProfiler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParquetProfiler")
            .field("config", &self.config)
            .field("max_in_flight", &self.max_in_flight)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

fn parquet_error(location: &str, e: ParquetError) -> Error {
    match e {
        ParquetError::External(source) => Error::Storage {
            location: location.to_owned(),
            source,
        },
        other => Error::corrupt(location, other.to_string()),
    }
}

struct Tracker {
    done: AtomicUsize,
    rows: AtomicU64,
    total: usize,
    rows_total: u64,
}

impl Tracker {
    fn finished(&self, rows: u64, progress: Option<&ProgressFn>) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        let rows_done = self.rows.fetch_add(rows, Ordering::Relaxed) + rows;
        if let Some(f) = progress {
            f(Progress {
                row_groups_done: done,
                row_groups_total: self.total,
                rows_done,
                rows_total: self.rows_total,
            });
        }
    }
}

impl ParquetProfiler {
    /// A profiler with this configuration; row groups in flight default to the rayon pool size.
    pub fn new(config: ProfileConfig) -> Self {
        ParquetProfiler {
            config,
            progress: None,
            max_in_flight: rayon::current_num_threads().max(1),
        }
    }

    /// Calls `f` after each row group (from worker threads).
    pub fn with_progress(mut self, f: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }

    /// Row groups decoded at once by [`profile_object`](Self::profile_object) (≥ 1).
    pub fn with_max_in_flight(mut self, n: usize) -> Self {
        self.max_in_flight = n.max(1);
        self
    }

    fn empty_or_merge(&self, profiles: Vec<Profile>, schema: &arrow_schema::Schema) -> Result<Profile> {
        let mut merged = Profiler::with_schema(self.config.clone(), schema)?.finish();
        for p in &profiles {
            merged.merge(p)?;
        }
        Ok(merged)
    }

    /// Profiles a local Parquet file.
    pub fn profile_file(&self, path: impl AsRef<Path>) -> Result<Profile> {
        self.config.validate()?;
        let path = path.as_ref();
        let location = path.display().to_string();
        let open = || {
            File::open(path).map_err(|source| Error::Io {
                location: location.clone(),
                source,
            })
        };
        let metadata =
            ArrowReaderMetadata::load(&open()?, ArrowReaderOptions::new()).map_err(|e| parquet_error(&location, e))?;
        let row_groups = metadata.metadata().row_groups();
        let tracker = Tracker {
            done: AtomicUsize::new(0),
            rows: AtomicU64::new(0),
            total: row_groups.len(),
            rows_total: row_groups.iter().map(|g| g.num_rows().max(0) as u64).sum(),
        };
        tracing::debug!(file = %location, row_groups = tracker.total, rows = tracker.rows_total, "profiling parquet file");
        // Each task opens its own handle: cloned `File`s share one offset and
        // parquet's reader seeks, so sharing a handle across threads would race.
        let partials = (0..row_groups.len())
            .into_par_iter()
            .map(|rg| -> Result<Profile> {
                let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(open()?, metadata.clone())
                    .with_row_groups(vec![rg])
                    .with_batch_size(self.config.batch_size)
                    .build()
                    .map_err(|e| parquet_error(&location, e))?;
                let mut profiler = Profiler::with_schema(self.config.clone(), metadata.schema())?;
                for batch in reader {
                    let batch =
                        batch.map_err(|e| Error::corrupt(format!("{location}, row group {rg}"), e.to_string()))?;
                    profiler.update(&batch)?;
                }
                let profile = profiler.finish();
                tracker.finished(profile.num_rows(), self.progress.as_ref());
                Ok(profile)
            })
            .try_fold(Vec::new, |mut acc: Vec<Profile>, p| -> Result<Vec<Profile>> {
                match acc.last_mut() {
                    Some(last) => last.merge(&p?)?,
                    None => acc.push(p?),
                }
                Ok(acc)
            })
            .try_reduce(Vec::new, |mut a, b| {
                a.extend(b);
                if a.len() > 1 {
                    let mut merged = a.swap_remove(0);
                    for p in &a {
                        merged.merge(p)?;
                    }
                    a = vec![merged];
                }
                Ok(a)
            })?;
        self.empty_or_merge(partials, metadata.schema())
    }

    /// Profiles a Parquet object in any [`ObjectStore`], decoding at most
    /// [`max_in_flight`](Self::with_max_in_flight) row groups at a time and
    /// profiling them on the rayon pool (the async task never runs CPU work).
    pub async fn profile_object(&self, store: Arc<dyn ObjectStore>, path: &ObjectPath) -> Result<Profile> {
        self.config.validate()?;
        let location = path.to_string();
        let size = store.head(path).await.map_err(|e| Error::storage(&location, e))?.size;
        let mut reader = ObjectReader::new(Arc::clone(&store), path.clone(), size);
        let metadata = ArrowReaderMetadata::load_async(&mut reader, ArrowReaderOptions::new())
            .await
            .map_err(|e| parquet_error(&location, e))?;
        let row_groups = metadata.metadata().row_groups();
        let tracker = Arc::new(Tracker {
            done: AtomicUsize::new(0),
            rows: AtomicU64::new(0),
            total: row_groups.len(),
            rows_total: row_groups.iter().map(|g| g.num_rows().max(0) as u64).sum(),
        });
        let partials: Vec<Profile> = futures::stream::iter(0..row_groups.len())
            .map(|rg| {
                let reader = ObjectReader::new(Arc::clone(&store), path.clone(), size);
                let metadata = metadata.clone();
                let location = location.clone();
                let config = self.config.clone();
                let tracker = Arc::clone(&tracker);
                let progress = self.progress.clone();
                async move {
                    let batches: Vec<_> = ParquetRecordBatchStreamBuilder::new_with_metadata(reader, metadata.clone())
                        .with_row_groups(vec![rg])
                        .with_batch_size(config.batch_size)
                        .build()
                        .map_err(|e| parquet_error(&location, e))?
                        .try_collect()
                        .await
                        .map_err(|e| parquet_error(&format!("{location}, row group {rg}"), e))?;
                    let (tx, rx) = futures::channel::oneshot::channel();
                    rayon::spawn(move || {
                        let result = (|| {
                            let mut profiler = Profiler::with_schema(config, metadata.schema())?;
                            for b in &batches {
                                profiler.update(b)?;
                            }
                            Ok(profiler.finish())
                        })();
                        // The receiver only disappears when the caller dropped the future.
                        let _ = tx.send(result);
                    });
                    let profile: Profile = rx.await.map_err(|_| {
                        Error::storage(location.clone(), "profiling task was cancelled before it finished")
                    })??;
                    tracker.finished(profile.num_rows(), progress.as_ref());
                    Ok::<Profile, Error>(profile)
                }
            })
            .buffer_unordered(self.max_in_flight)
            .try_collect()
            .await?;
        self.empty_or_merge(partials, metadata.schema())
    }

    /// Profiles a Parquet file named by URL: `file:///abs/path.parquet`, or
    /// `s3://`, `gs://`, `az://` when the crate is built with the `aws`,
    /// `gcp` or `azure` feature (credentials from the usual environment variables).
    pub async fn profile_url(&self, url: &str) -> Result<Profile> {
        let parsed = url::Url::parse(url)
            .map_err(|e| Error::invalid_input("URL", url, e.to_string(), "file:///abs/path or s3://bucket/key"))?;
        let (store, path) = crate::store::store_for_url(&parsed)?;
        self.profile_object(store, &path).await
    }
}
