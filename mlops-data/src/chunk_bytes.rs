//! Object bytes for the Parquet decoders: footer reads for the metadata
//! reader, and a row group's fetched column chunks as a synchronous
//! [`ChunkReader`] so decoding can run off the async executor.

use std::ops::Range;

use bytes::Bytes;
use futures::FutureExt;
use futures::future::BoxFuture;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};
use parquet::arrow::async_reader::MetadataFetch;
use parquet::errors::ParquetError;
use parquet::file::reader::{ChunkReader, Length};

/// Footer reads for [`ParquetMetaDataReader`]. (`parquet`'s own
/// `ParquetObjectReader` is deprecated in favour of implementing this side
/// directly: apache/arrow-rs#10308.)
pub(crate) struct Footer<'a> {
    pub(crate) store: &'a dyn ObjectStore,
    pub(crate) path: &'a ObjectPath,
}

impl MetadataFetch for Footer<'_> {
    fn fetch(&mut self, range: Range<u64>) -> BoxFuture<'_, parquet::errors::Result<Bytes>> {
        async move {
            self.store
                .get_range(self.path, range)
                .await
                .map_err(|e| ParquetError::External(Box::new(e)))
        }
        .boxed()
    }
}

/// The fetched column chunks of one row group, read by the synchronous decoder
/// as if they were the file (only the fetched ranges are present).
pub(crate) struct ChunkBytes {
    size: u64,
    /// `(file offset, bytes)`, sorted by offset.
    chunks: Vec<(u64, Bytes)>,
}

impl ChunkBytes {
    pub(crate) fn new(size: u64, mut chunks: Vec<(u64, Bytes)>) -> Self {
        chunks.sort_by_key(|(start, _)| *start);
        ChunkBytes { size, chunks }
    }

    /// The fetched bytes from `start` to the end of the chunk holding it.
    fn tail(&self, start: u64) -> parquet::errors::Result<Bytes> {
        let index = self.chunks.partition_point(|(s, _)| *s <= start);
        let Some((chunk_start, bytes)) = index.checked_sub(1).and_then(|i| self.chunks.get(i)) else {
            return Err(ParquetError::General(format!(
                "offset {start} lies before every fetched column chunk"
            )));
        };
        let offset = usize::try_from(start - chunk_start).unwrap_or(usize::MAX);
        if offset > bytes.len() {
            return Err(ParquetError::General(format!(
                "offset {start} lies outside the fetched column chunks"
            )));
        }
        Ok(bytes.slice(offset..))
    }
}

impl Length for ChunkBytes {
    fn len(&self) -> u64 {
        self.size
    }
}

impl ChunkReader for ChunkBytes {
    type T = bytes::buf::Reader<Bytes>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        Ok(bytes::Buf::reader(self.tail(start)?))
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        let tail = self.tail(start)?;
        if length > tail.len() {
            return Err(ParquetError::EOF(format!(
                "{length} bytes at offset {start} run past the fetched column chunk ({} bytes)",
                tail.len()
            )));
        }
        Ok(tail.slice(..length))
    }
}
