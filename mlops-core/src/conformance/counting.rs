//! [`CountingStore`]: an `ObjectStore` decorator that counts requests, so tests
//! can state costs in requests (machine-independent) instead of milliseconds.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore, PutMultipartOptions,
    PutOptions, PutPayload, PutResult, RenameOptions, Result,
};

/// Requests made through a [`CountingStore`], by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestCounts {
    /// PUTs (conditional or not) and multipart uploads started.
    pub puts: u64,
    /// GETs and ranged GETs (one per call, however many ranges).
    pub gets: u64,
    /// Listing calls (`list`, `list_with_offset`, `list_with_delimiter`).
    pub lists: u64,
    /// Objects and prefixes returned by listings: a cloud store returns at most
    /// 1,000 per page, so `lists + listed / 1000` bounds the pages fetched.
    pub listed: u64,
    /// Objects deleted.
    pub deletes: u64,
    /// Copies and renames.
    pub copies: u64,
}

impl RequestCounts {
    /// Every request: PUT, GET, listing page (1,000 entries each), delete, copy.
    pub fn total(&self) -> u64 {
        self.puts + self.gets + self.list_pages() + self.deletes + self.copies
    }

    /// Listing pages at 1,000 entries per page (S3, GCS and Azure's maximum).
    pub fn list_pages(&self) -> u64 {
        self.lists + self.listed / 1000
    }

    /// The counts since `earlier`.
    pub fn since(&self, earlier: &RequestCounts) -> RequestCounts {
        RequestCounts {
            puts: self.puts - earlier.puts,
            gets: self.gets - earlier.gets,
            lists: self.lists - earlier.lists,
            listed: self.listed - earlier.listed,
            deletes: self.deletes - earlier.deletes,
            copies: self.copies - earlier.copies,
        }
    }
}

#[derive(Debug, Default)]
struct Counters {
    puts: AtomicU64,
    gets: AtomicU64,
    lists: AtomicU64,
    listed: AtomicU64,
    deletes: AtomicU64,
    copies: AtomicU64,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// Wraps any store and counts the requests that pass through it.
#[derive(Debug, Clone)]
pub struct CountingStore {
    inner: Arc<dyn ObjectStore>,
    counters: Arc<Counters>,
}

impl CountingStore {
    /// Counts requests to `inner`.
    pub fn new(inner: Arc<dyn ObjectStore>) -> Self {
        CountingStore {
            inner,
            counters: Arc::default(),
        }
    }

    /// The counts so far.
    pub fn counts(&self) -> RequestCounts {
        let c = &self.counters;
        RequestCounts {
            puts: c.puts.load(Ordering::Relaxed),
            gets: c.gets.load(Ordering::Relaxed),
            lists: c.lists.load(Ordering::Relaxed),
            listed: c.listed.load(Ordering::Relaxed),
            deletes: c.deletes.load(Ordering::Relaxed),
            copies: c.copies.load(Ordering::Relaxed),
        }
    }

    fn counted_listing(
        &self,
        stream: BoxStream<'static, Result<ObjectMeta>>,
    ) -> BoxStream<'static, Result<ObjectMeta>> {
        bump(&self.counters.lists);
        let counters = self.counters.clone();
        stream.inspect(move |_| bump(&counters.listed)).boxed()
    }
}

impl fmt::Display for CountingStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CountingStore({})", self.inner)
    }
}

#[async_trait]
impl ObjectStore for CountingStore {
    async fn put_opts(&self, location: &Path, payload: PutPayload, opts: PutOptions) -> Result<PutResult> {
        bump(&self.counters.puts);
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(&self, location: &Path, opts: PutMultipartOptions) -> Result<Box<dyn MultipartUpload>> {
        bump(&self.counters.puts);
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        bump(&self.counters.gets);
        self.inner.get_opts(location, options).await
    }

    async fn get_ranges(&self, location: &Path, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        bump(&self.counters.gets);
        self.inner.get_ranges(location, ranges).await
    }

    fn delete_stream(&self, locations: BoxStream<'static, Result<Path>>) -> BoxStream<'static, Result<Path>> {
        let counters = self.counters.clone();
        self.inner
            .delete_stream(locations.inspect(move |_| bump(&counters.deletes)).boxed())
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        self.counted_listing(self.inner.list(prefix))
    }

    fn list_with_offset(&self, prefix: Option<&Path>, offset: &Path) -> BoxStream<'static, Result<ObjectMeta>> {
        self.counted_listing(self.inner.list_with_offset(prefix, offset))
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        bump(&self.counters.lists);
        let result = self.inner.list_with_delimiter(prefix).await?;
        let n = (result.objects.len() + result.common_prefixes.len()) as u64;
        self.counters.listed.fetch_add(n, Ordering::Relaxed);
        Ok(result)
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        bump(&self.counters.copies);
        self.inner.copy_opts(from, to, options).await
    }

    async fn rename_opts(&self, from: &Path, to: &Path, options: RenameOptions) -> Result<()> {
        bump(&self.counters.copies);
        self.inner.rename_opts(from, to, options).await
    }
}
