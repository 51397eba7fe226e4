//! The object-store half of the one Parquet read path: objects read through
//! any `ObjectStore` give exactly the results of the same file read from
//! disk, never hold more row groups than the cap, and fail with typed errors.
//! (The same checks against S3 on loopback are in examples/tests/s3.rs.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt;
use std::ops::Range;
use std::path::Path as FsPath;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use bytes::Bytes;
use futures::stream::BoxStream;
use mlops_data::{
    Error, ParquetProfiler, ParquetReader, ParquetSource, ProfileConfig, Scan, fingerprint_parquet,
    fingerprint_parquet_async,
};
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore, PutMultipartOptions,
    PutOptions, PutPayload, PutResult,
};
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;

const ROW_GROUPS: usize = 12;

/// A local store that counts row-group fetches and the most that overlapped.
#[derive(Debug)]
struct Counting {
    inner: LocalFileSystem,
    fetches: AtomicUsize,
    in_flight: AtomicUsize,
    peak: AtomicUsize,
}

impl Counting {
    fn new(root: &FsPath) -> Arc<Self> {
        Arc::new(Counting {
            inner: LocalFileSystem::new_with_prefix(root).unwrap(),
            fetches: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        })
    }
}

impl fmt::Display for Counting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Counting({})", self.inner)
    }
}

#[async_trait::async_trait]
impl ObjectStore for Counting {
    async fn put_opts(&self, l: &Path, p: PutPayload, o: PutOptions) -> object_store::Result<PutResult> {
        self.inner.put_opts(l, p, o).await
    }
    async fn put_multipart_opts(
        &self,
        l: &Path,
        o: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(l, o).await
    }
    async fn get_opts(&self, l: &Path, o: GetOptions) -> object_store::Result<GetResult> {
        self.inner.get_opts(l, o).await
    }
    async fn get_ranges(&self, l: &Path, ranges: &[Range<u64>]) -> object_store::Result<Vec<Bytes>> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        // Long enough that fetches allowed to overlap do overlap.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let result = self.inner.get_ranges(l, ranges).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        result
    }
    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        self.inner.delete_stream(locations)
    }
    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.inner.list(prefix)
    }
    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }
    async fn copy_opts(&self, from: &Path, to: &Path, o: CopyOptions) -> object_store::Result<()> {
        self.inner.copy_opts(from, to, o).await
    }
}

/// A file of `ROW_GROUPS` row groups: floats, integers with nulls, strings.
fn write_file(path: &FsPath) {
    let rows = ROW_GROUPS * 500;
    let x = Float64Array::from_iter_values((0..rows).map(|i| (i as f64 * 0.37).sin() * 100.0));
    let n = Int64Array::from_iter((0..rows).map(|i| (i % 7 != 0).then_some(i as i64 % 1000)));
    let s = StringArray::from_iter_values((0..rows).map(|i| ["a", "bb", "ccc", "dddd"][i % 4]));
    let batch = RecordBatch::try_from_iter([
        ("x", Arc::new(x) as ArrayRef),
        ("n", Arc::new(n) as ArrayRef),
        ("s", Arc::new(s) as ArrayRef),
    ])
    .unwrap();
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(500))
        .build();
    let mut writer = ArrowWriter::try_new(std::fs::File::create(path).unwrap(), batch.schema(), Some(props)).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn objects_profile_exactly_as_local_files_with_at_most_the_cap_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("data.parquet");
    write_file(&file);
    assert_eq!(ParquetReader::open(&file).unwrap().num_row_groups(), ROW_GROUPS);
    let local = ParquetProfiler::new(ProfileConfig::default())
        .profile(&file)
        .unwrap()
        .to_json()
        .unwrap();
    for cap in [1, 3, 16] {
        let store = Counting::new(dir.path());
        let profiler = ParquetProfiler::new(ProfileConfig::default()).with_max_in_flight(cap);
        let source = ParquetSource::object(store.clone(), Path::from("data.parquet"));
        assert_eq!(
            profiler.profile(source).unwrap().to_json().unwrap(),
            local,
            "blocking, cap {cap}"
        );
        // One coalesced fetch per row group, never more of them at once than the cap.
        assert_eq!(store.fetches.load(Ordering::SeqCst), ROW_GROUPS);
        let peak = store.peak.load(Ordering::SeqCst);
        assert!(peak <= cap, "cap {cap}: {peak} row groups were fetched at once");
        assert!(cap == 1 || peak > 1, "cap {cap}: fetches never overlapped");

        let store = Counting::new(dir.path());
        let async_profile = runtime()
            .block_on(profiler.profile_object(store.clone(), &Path::from("data.parquet")))
            .unwrap();
        assert_eq!(async_profile.to_json().unwrap(), local, "async, cap {cap}");
        assert!(store.peak.load(Ordering::SeqCst) <= cap);
    }
}

#[test]
fn projected_reads_fetch_only_the_projected_columns() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("data.parquet");
    write_file(&file);
    let store = Counting::new(dir.path());
    let reader = ParquetReader::open(ParquetSource::object(store, Path::from("data.parquet"))).unwrap();
    let names = reader
        .map_reduce(
            &Scan::all().columns([2]),
            |_, batches| {
                let mut names = Vec::new();
                for b in batches {
                    let b = b?;
                    names.extend(b.schema().fields().iter().map(|f| f.name().clone()));
                }
                Ok(names)
            },
            |mut a, b| {
                a.extend(b);
                Ok(a)
            },
        )
        .unwrap()
        .unwrap();
    assert!(!names.is_empty() && names.iter().all(|n| n == "s"), "{names:?}");
}

#[test]
fn fingerprints_of_objects_equal_those_of_files() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("data.parquet");
    write_file(&file);
    let local = fingerprint_parquet(&file).unwrap();
    let store: Arc<dyn ObjectStore> = Counting::new(dir.path());
    let remote = fingerprint_parquet(ParquetSource::object(store.clone(), Path::from("data.parquet"))).unwrap();
    assert_eq!(
        (remote.fingerprint, remote.num_rows),
        (local.fingerprint, local.num_rows)
    );
    let remote = runtime()
        .block_on(fingerprint_parquet_async(ParquetSource::object(
            store,
            Path::from("data.parquet"),
        )))
        .unwrap();
    assert_eq!(remote.fingerprint, local.fingerprint);
    // A `file://` URL names the same file.
    let url = format!("file://{}", file.canonicalize().unwrap().display());
    let by_url = fingerprint_parquet(url.as_str()).unwrap();
    assert_eq!(
        (by_url.fingerprint, by_url.uri.as_str()),
        (local.fingerprint, local.uri.as_str())
    );
}

#[test]
fn bad_objects_are_typed_errors_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("data.parquet");
    write_file(&file);
    let bytes = std::fs::read(&file).unwrap();
    for cut in [0, 4, bytes.len() / 2, bytes.len() - 9] {
        std::fs::write(dir.path().join("cut.parquet"), &bytes[..cut]).unwrap();
        let store = Counting::new(dir.path());
        let e = ParquetProfiler::new(ProfileConfig::default())
            .profile(ParquetSource::object(store, Path::from("cut.parquet")))
            .unwrap_err();
        assert!(matches!(e, Error::Corrupt { .. }), "cut at {cut}: {e:?}");
        assert!(e.to_string().contains("cut.parquet"), "{e}");
    }
    let store = Counting::new(dir.path());
    let e = fingerprint_parquet(ParquetSource::object(store, Path::from("missing.parquet"))).unwrap_err();
    assert!(
        matches!(e, Error::Storage { .. }) && e.to_string().contains("missing.parquet"),
        "{e}"
    );
}

#[test]
fn blocking_object_reads_work_from_async_code_and_spawn_blocking() {
    // A runtime's `block_on` would panic here; the reader must not.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("data.parquet");
    write_file(&file);
    let local = fingerprint_parquet(&file).unwrap().fingerprint;
    let source = || ParquetSource::object(Counting::new(dir.path()), Path::from("data.parquet"));
    let rt = runtime();
    let inline = rt.block_on(async { fingerprint_parquet(source()) }).unwrap();
    assert_eq!(inline.fingerprint, local);
    let (a, b) = (source(), source());
    let in_blocking = rt
        .block_on(async move {
            tokio::task::spawn_blocking(move || {
                let profiler = ParquetProfiler::new(ProfileConfig::default());
                (fingerprint_parquet(a), profiler.profile(b))
            })
            .await
        })
        .unwrap();
    assert_eq!(in_blocking.0.unwrap().fingerprint, local);
    assert_eq!(in_blocking.1.unwrap().num_rows(), (ROW_GROUPS * 500) as u64);
}

#[test]
fn unknown_url_schemes_name_what_to_enable() {
    let e = fingerprint_parquet("ftp://host/x.parquet").unwrap_err();
    assert!(matches!(e, Error::NotImplemented { .. }), "{e}");
    if !cfg!(feature = "aws") {
        let e = fingerprint_parquet("s3://bucket/x.parquet").unwrap_err();
        assert!(e.to_string().contains("`aws` feature"), "{e}");
    }
}
