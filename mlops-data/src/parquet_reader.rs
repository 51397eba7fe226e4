//! The one Parquet read path of the SDK: local files and object-store URLs,
//! row groups in parallel, a bounded number of them in flight.
//!
//! Profiling, fingerprints and file-to-file drift all read through
//! [`ParquetReader`], so they accept the same sources ([`ParquetSource`]:
//! a local path, a URL, or an object in a store), bound memory the same way
//! and report failures with the same error mapping.
//!
//! - **Local files** decode row groups on the rayon pool, each task streaming
//!   batches from its own file handle: memory is a batch per task.
//! - **Objects** fetch the projected column chunks of a row group (ranged,
//!   coalesced requests through [`ObjectStore::get_ranges`]) and decode them
//!   on the rayon pool: memory is the compressed bytes of the row
//!   groups in flight, at most [`ParquetReader::with_max_in_flight`] of them.
//!   Async callers keep the async threads free of CPU work; blocking callers
//!   get a small private runtime for the I/O.

use std::fs::File;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_schema::Schema;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder};
use parquet::errors::ParquetError;
use parquet::file::metadata::ParquetMetaDataReader;
use parquet::file::reader::ChunkReader;
use rayon::prelude::*;

use crate::chunk_bytes::{ChunkBytes, Footer};
use crate::io_runtime::{IoRuntime, on_rayon};
use crate::parquet_location::{ParquetSource, Target, resolve};
use crate::parquet_scan::{RowGroupBatches, Scan};
use crate::{Error, Result};

/// Footer bytes fetched with the first request, so that most files need one
/// request for their metadata.
const FOOTER_HINT: usize = 64 * 1024;

/// Turns a Parquet reader failure into the SDK's error: failures of the
/// storage under the reader are [`Error::Storage`], everything else means the
/// bytes are not a valid Parquet file ([`Error::Corrupt`]).
pub fn parquet_error(location: &str, e: ParquetError) -> Error {
    match e {
        ParquetError::External(source) => Error::Storage {
            location: location.to_owned(),
            source,
        },
        other => Error::corrupt(location, other.to_string()),
    }
}

#[derive(Clone, Debug)]
enum Access {
    Local(PathBuf),
    Object {
        store: Arc<dyn ObjectStore>,
        path: ObjectPath,
        size: u64,
        /// The runtime a blocking open used: the store's pooled connections
        /// belong to it, so blocking reads must keep using it.
        io: Option<Arc<IoRuntime>>,
    },
}

/// An opened Parquet file (its metadata read) that maps row groups in parallel.
///
/// ```
/// use std::sync::Arc;
/// use arrow_array::{Int64Array, RecordBatch};
/// use mlops_data::{ParquetReader, Scan};
///
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("x.parquet");
/// let batch = RecordBatch::try_from_iter([("x", Arc::new(Int64Array::from_iter_values(0..1000)) as _)])?;
/// let props = parquet::file::properties::WriterProperties::builder().set_max_row_group_row_count(Some(100)).build();
/// let mut writer = parquet::arrow::ArrowWriter::try_new(std::fs::File::create(&path)?, batch.schema(), Some(props))?;
/// writer.write(&batch)?;
/// writer.close()?;
///
/// let reader = ParquetReader::open(&path)?.with_max_in_flight(2);
/// let rows = reader.map_reduce(
///     &Scan::all(),
///     |_row_group, batches| batches.map(|b| Ok(b?.num_rows())).sum::<mlops_data::Result<usize>>(),
///     |a, b| Ok(a + b),
/// )?;
/// assert_eq!(rows, Some(1000));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct ParquetReader {
    location: String,
    metadata: ArrowReaderMetadata,
    access: Access,
    max_in_flight: usize,
}

fn local_open(path: &Path, location: &str) -> Result<File> {
    File::open(path).map_err(|source| Error::Io {
        location: location.to_owned(),
        source,
    })
}

impl ParquetReader {
    /// Opens a source and reads its metadata, blocking. Object-store sources
    /// run their I/O on a private runtime, so this works from any thread; in
    /// async code prefer [`open_async`](Self::open_async), which does not
    /// block the executor.
    pub fn open(source: impl Into<ParquetSource>) -> Result<Self> {
        let (location, target) = resolve(source.into())?;
        match target {
            Target::Local(path) => {
                let metadata = ArrowReaderMetadata::load(&local_open(&path, &location)?, ArrowReaderOptions::new())
                    .map_err(|e| parquet_error(&location, e))?;
                Ok(Self::new(location, metadata, Access::Local(path)))
            }
            Target::Object(store, path) => {
                let io = Arc::new(IoRuntime::new(&location)?);
                let mut reader = io.run(&location.clone(), Self::open_object(location, store, path))??;
                if let Access::Object { io: slot, .. } = &mut reader.access {
                    *slot = Some(io);
                }
                Ok(reader)
            }
        }
    }

    /// Opens a source and reads its metadata without blocking the caller's executor.
    pub async fn open_async(source: impl Into<ParquetSource>) -> Result<Self> {
        let (location, target) = resolve(source.into())?;
        match target {
            Target::Local(path) => on_rayon(location, move || Self::open(path)).await,
            Target::Object(store, path) => Self::open_object(location, store, path).await,
        }
    }

    async fn open_object(location: String, store: Arc<dyn ObjectStore>, path: ObjectPath) -> Result<Self> {
        let size = store.head(&path).await.map_err(|e| Error::storage(&location, e))?.size;
        let footer = ParquetMetaDataReader::new()
            .with_prefetch_hint(Some(FOOTER_HINT))
            .load_and_finish(
                Footer {
                    store: store.as_ref(),
                    path: &path,
                },
                size,
            )
            .await
            .map_err(|e| parquet_error(&location, e))?;
        let metadata = ArrowReaderMetadata::try_new(Arc::new(footer), ArrowReaderOptions::new())
            .map_err(|e| parquet_error(&location, e))?;
        Ok(Self::new(
            location,
            metadata,
            Access::Object {
                store,
                path,
                size,
                io: None,
            },
        ))
    }

    fn new(location: String, metadata: ArrowReaderMetadata, access: Access) -> Self {
        ParquetReader {
            location,
            metadata,
            access,
            max_in_flight: rayon::current_num_threads().max(1),
        }
    }

    /// Row groups read at once (≥ 1; default: the rayon pool size). For objects
    /// this bounds memory: each row group in flight holds its projected column
    /// chunks' compressed bytes.
    pub fn with_max_in_flight(mut self, n: usize) -> Self {
        self.max_in_flight = n.max(1);
        self
    }

    /// Re-reads the same metadata with other Arrow options (e.g. a schema hint
    /// that reads strings as dictionaries); no I/O.
    pub fn with_arrow_options(mut self, options: ArrowReaderOptions) -> Result<Self> {
        self.metadata = ArrowReaderMetadata::try_new(Arc::clone(self.metadata.metadata()), options)
            .map_err(|e| parquet_error(&self.location, e))?;
        Ok(self)
    }

    /// How errors name this file.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The file's Arrow schema (as the Arrow options decode it).
    pub fn schema(&self) -> &Arc<Schema> {
        self.metadata.schema()
    }

    /// The file's Parquet and Arrow metadata.
    pub fn metadata(&self) -> &ArrowReaderMetadata {
        &self.metadata
    }

    /// Rows in the file, from its footer.
    pub fn num_rows(&self) -> u64 {
        self.metadata.metadata().file_metadata().num_rows().max(0) as u64
    }

    /// Row groups in the file.
    pub fn num_row_groups(&self) -> usize {
        self.metadata.metadata().num_row_groups()
    }

    fn mask(&self, scan: &Scan) -> ProjectionMask {
        match &scan.columns {
            Some(columns) => ProjectionMask::roots(self.metadata.parquet_schema(), columns.iter().copied()),
            None => ProjectionMask::all(),
        }
    }

    /// The row groups `scan` reads, each checked to exist.
    fn row_groups(&self, scan: &Scan) -> Result<Vec<usize>> {
        let n = self.num_row_groups();
        match &scan.row_groups {
            None => Ok((0..n).collect()),
            Some(groups) => match groups.iter().find(|&&rg| rg >= n) {
                Some(rg) => Err(Error::invalid_input(
                    "row group",
                    &self.location,
                    format!("row group {rg} does not exist"),
                    format!("an index below {n}"),
                )),
                None => Ok(groups.clone()),
            },
        }
    }

    /// The byte ranges of row group `rg`'s projected column chunks.
    fn chunk_ranges(&self, rg: usize, mask: &ProjectionMask) -> Vec<Range<u64>> {
        let Some(group) = self.metadata.metadata().row_groups().get(rg) else {
            return Vec::new();
        };
        group
            .columns()
            .iter()
            .enumerate()
            .filter(|(leaf, _)| mask.leaf_included(*leaf))
            .map(|(_, column)| {
                let (start, len) = column.byte_range();
                start..start.saturating_add(len)
            })
            .collect()
    }

    /// Decodes row group `rg` from `input` and hands its batches to `map`.
    fn decode<T, R: ChunkReader + 'static>(
        &self,
        input: R,
        rg: usize,
        scan: &Scan,
        mask: ProjectionMask,
        map: &(dyn Fn(usize, RowGroupBatches<'_>) -> Result<T> + Sync),
    ) -> Result<T> {
        let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(input, self.metadata.clone())
            .with_projection(mask)
            .with_row_groups(vec![rg])
            .with_batch_size(scan.batch_size)
            .build()
            .map_err(|e| parquet_error(&self.location, e))?;
        let at = format!("{}, row group {rg}", self.location);
        let mut batches = reader.map(|b| b.map_err(|e| Error::corrupt(&at, e.to_string())));
        map(rg, &mut batches)
    }

    /// Fetches row group `rg`'s projected column chunks (a future that owns what it needs).
    fn fetch(
        &self,
        rg: usize,
        mask: &ProjectionMask,
    ) -> impl std::future::Future<Output = Result<ChunkBytes>> + Send + 'static {
        let ranges = self.chunk_ranges(rg, mask);
        let location = format!("{}, row group {rg}", self.location);
        let object = match &self.access {
            Access::Object { store, path, size, .. } => Some((Arc::clone(store), path.clone(), *size)),
            Access::Local(_) => None,
        };
        async move {
            let Some((store, path, size)) = object else {
                return Err(Error::corrupt(location, "internal: fetch from a local file"));
            };
            let bytes = store
                .get_ranges(&path, &ranges)
                .await
                .map_err(|e| Error::storage(location, e))?;
            Ok(ChunkBytes::new(
                size,
                ranges.into_iter().map(|r| r.start).zip(bytes).collect(),
            ))
        }
    }

    /// Maps every row group with `map` (in parallel, at most
    /// [`max_in_flight`](Self::with_max_in_flight) at a time) and folds the
    /// results with `reduce` left to right in row-group order, so the result
    /// does not depend on thread timing nor on where the file lives. `None`
    /// when the file has no row groups. Blocks; object I/O runs on a private
    /// runtime.
    ///
    /// Row groups are taken in windows: a window's `map` results are held
    /// until they are folded, and for objects its fetched bytes too. Local
    /// windows hold up to four row groups per rayon thread (decoding streams
    /// from disk, so only results are held); object windows hold
    /// `max_in_flight`.
    pub fn map_reduce<T, M, R>(&self, scan: &Scan, map: M, reduce: R) -> Result<Option<T>>
    where
        T: Send,
        M: Fn(usize, RowGroupBatches<'_>) -> Result<T> + Sync,
        R: Fn(T, T) -> Result<T> + Sync,
    {
        let mask = self.mask(scan);
        let groups = self.row_groups(scan)?;
        let mut total = None;
        match &self.access {
            Access::Local(path) => {
                let threads = rayon::current_num_threads().max(1);
                let window = if self.max_in_flight < threads {
                    self.max_in_flight
                } else {
                    4 * threads
                };
                for window in groups.chunks(window) {
                    // Each task opens its own handle: parquet's reader seeks, so a shared handle would race.
                    let parts: Vec<T> = window
                        .par_iter()
                        .map(|&rg| self.decode(local_open(path, &self.location)?, rg, scan, mask.clone(), &map))
                        .collect::<Result<_>>()?;
                    total = fold(total, parts, &reduce)?;
                }
            }
            Access::Object { io, .. } => {
                let runtime = match io {
                    Some(io) => Arc::clone(io),
                    None => Arc::new(IoRuntime::new(&self.location)?),
                };
                // Fetch a window of row groups, then decode it on the pool: the
                // window's compressed bytes are all that is held.
                for window in groups.chunks(self.max_in_flight) {
                    let fetches: Vec<_> = window.iter().map(|&rg| self.fetch(rg, &mask)).collect();
                    let fetched: Vec<ChunkBytes> = runtime.run(
                        &self.location,
                        futures::stream::iter(fetches)
                            .buffered(self.max_in_flight)
                            .try_collect::<Vec<_>>(),
                    )??;
                    let parts: Vec<T> = window
                        .par_iter()
                        .zip(fetched)
                        .map(|(&rg, bytes)| self.decode(bytes, rg, scan, mask.clone(), &map))
                        .collect::<Result<_>>()?;
                    total = fold(total, parts, &reduce)?;
                }
            }
        }
        Ok(total)
    }

    /// [`map_reduce`](Self::map_reduce) for async callers (the same result): I/O
    /// on the caller's executor, decoding and `map` on the rayon pool, at most
    /// [`max_in_flight`](Self::with_max_in_flight) row groups at a time.
    pub async fn map_reduce_async<T, M, R>(&self, scan: &Scan, map: M, reduce: R) -> Result<Option<T>>
    where
        T: Send + 'static,
        M: Fn(usize, RowGroupBatches<'_>) -> Result<T> + Send + Sync + 'static,
        R: Fn(T, T) -> Result<T> + Send + Sync + 'static,
    {
        let map = Arc::new(map);
        if let Access::Local(_) = self.access {
            let (this, scan) = (self.clone(), scan.clone());
            return on_rayon(self.location.clone(), move || {
                this.map_reduce(&scan, |rg, b| map(rg, b), reduce)
            })
            .await;
        }
        let mask = self.mask(scan);
        let groups = self.row_groups(scan)?;
        let this = Arc::new(self.clone());
        let mut parts = futures::stream::iter(groups)
            .map(|rg| {
                let (this, mask, scan, map) = (Arc::clone(&this), mask.clone(), scan.clone(), Arc::clone(&map));
                async move {
                    let bytes = this.fetch(rg, &mask).await?;
                    let decoder = Arc::clone(&this);
                    let location = format!("{}, row group {rg}", this.location);
                    on_rayon(location, move || decoder.decode(bytes, rg, &scan, mask, &*map)).await
                }
            })
            .buffered(self.max_in_flight);
        let mut total = None;
        while let Some(part) = parts.try_next().await? {
            total = fold(total, [part], &reduce)?;
        }
        Ok(total)
    }
}

/// Folds `parts` into `total`, left to right.
fn fold<T>(
    mut total: Option<T>,
    parts: impl IntoIterator<Item = T>,
    reduce: impl Fn(T, T) -> Result<T>,
) -> Result<Option<T>> {
    for part in parts {
        total = Some(match total {
            Some(t) => reduce(t, part)?,
            None => part,
        });
    }
    Ok(total)
}
