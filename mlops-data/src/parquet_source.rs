//! Profiling Parquet files on local disk and in any object store.
//!
//! Row groups are the unit of parallelism and of memory: each worker decodes
//! one row group at a time into a partial profile, and partial profiles are
//! merged as they finish. Peak memory is therefore bounded by the row groups
//! in flight, never by the file size. The reading is [`ParquetReader`]'s.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use object_store::ObjectStore;
use object_store::path::Path as ObjectPath;

use crate::Result;
use crate::config::ProfileConfig;
use crate::parquet_location::ParquetSource;
use crate::parquet_reader::ParquetReader;
use crate::parquet_scan::{RowGroupBatches, Scan};
use crate::profile::Profile;
use crate::profiler::Profiler;

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

    /// Row groups decoded at once (≥ 1); see [`ParquetReader::with_max_in_flight`].
    pub fn with_max_in_flight(mut self, n: usize) -> Self {
        self.max_in_flight = n.max(1);
        self
    }

    /// The reader and the per-row-group work shared by the blocking and async paths.
    fn plan(&self, reader: ParquetReader) -> Result<(ParquetReader, Scan, impl RowGroupProfile + use<>)> {
        self.config.validate()?;
        let reader = reader.with_max_in_flight(self.max_in_flight);
        let row_groups = reader.metadata().metadata().row_groups();
        let tracker = Arc::new(Tracker {
            done: AtomicUsize::new(0),
            rows: AtomicU64::new(0),
            total: row_groups.len(),
            rows_total: row_groups.iter().map(|g| g.num_rows().max(0) as u64).sum(),
        });
        tracing::debug!(file = %reader.location(), row_groups = tracker.total, rows = tracker.rows_total, "profiling parquet file");
        let (config, schema, progress) = (self.config.clone(), Arc::clone(reader.schema()), self.progress.clone());
        let scan = Scan::all().batch_size(self.config.batch_size);
        let map = move |_rg: usize, batches: RowGroupBatches<'_>| -> Result<Profile> {
            let mut profiler = Profiler::with_schema(config.clone(), &schema)?;
            for batch in batches {
                profiler.update(&batch?)?;
            }
            let profile = profiler.finish();
            tracker.finished(profile.num_rows(), progress.as_ref());
            Ok(profile)
        };
        Ok((reader, scan, map))
    }

    fn finish(&self, merged: Option<Profile>, reader: &ParquetReader) -> Result<Profile> {
        match merged {
            Some(p) => Ok(p),
            None => Ok(Profiler::with_schema(self.config.clone(), reader.schema())?.finish()),
        }
    }

    /// Profiles a Parquet file: a local path, a URL (`file://`, `s3://`, ...)
    /// or an object in a store, row groups in parallel. Blocks; from async
    /// code use [`profile_async`](Self::profile_async).
    pub fn profile(&self, source: impl Into<ParquetSource>) -> Result<Profile> {
        self.config.validate()?;
        let (reader, scan, map) = self.plan(ParquetReader::open(source)?)?;
        let merged = reader.map_reduce(&scan, map, merge)?;
        self.finish(merged, &reader)
    }

    /// Profiles a Parquet file without blocking the caller's executor: I/O on
    /// the caller's runtime, decoding and profiling on the rayon pool.
    pub async fn profile_async(&self, source: impl Into<ParquetSource>) -> Result<Profile> {
        self.config.validate()?;
        let (reader, scan, map) = self.plan(ParquetReader::open_async(source).await?)?;
        let merged = reader.map_reduce_async(&scan, map, merge).await?;
        self.finish(merged, &reader)
    }

    /// Profiles a local Parquet file ([`profile`](Self::profile) of a path).
    pub fn profile_file(&self, path: impl AsRef<Path>) -> Result<Profile> {
        self.profile(path.as_ref())
    }

    /// Profiles a Parquet object in any [`ObjectStore`], decoding at most
    /// [`max_in_flight`](Self::with_max_in_flight) row groups at a time and
    /// profiling them on the rayon pool (the async task never runs CPU work).
    pub async fn profile_object(&self, store: Arc<dyn ObjectStore>, path: &ObjectPath) -> Result<Profile> {
        self.profile_async(ParquetSource::object(store, path.clone())).await
    }

    /// Profiles a Parquet file named by URL: `file:///abs/path.parquet`, or
    /// `s3://`, `gs://`, `az://` when the crate is built with the `aws`,
    /// `gcp` or `azure` feature (configuration from the environment, see
    /// [`mlops_core::store::open_url`]).
    pub async fn profile_url(&self, url: &str) -> Result<Profile> {
        self.profile_async(ParquetSource::Url(url.to_owned())).await
    }
}

/// The per-row-group profiling closure.
trait RowGroupProfile: Fn(usize, RowGroupBatches<'_>) -> Result<Profile> + Send + Sync + 'static {}
impl<F: Fn(usize, RowGroupBatches<'_>) -> Result<Profile> + Send + Sync + 'static> RowGroupProfile for F {}

fn merge(mut a: Profile, b: Profile) -> Result<Profile> {
    a.merge(&b)?;
    Ok(a)
}
