//! Registry costs on local disk and, when `MLOPS_TEST_S3_URL`/`AWS_ENDPOINT`
//! point at an S3-compatible server, on S3: register, resolve an alias, and
//! load + verify a 10 MB package; register throughput with 8 concurrent writers;
//! and list/search on a model with many versions (10,000 on local disk,
//! `MLOPS_BENCH_S3_VERSIONS` on S3, default 1,000: registering 10,000 versions
//! on the loopback test server takes minutes).

use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use mlops_core::{Package, PackageBuilder, Registry, SearchQuery, Stage, StoreRegistry, VersionSelector};

const WEIGHTS_FLOATS: usize = 10 * 1024 * 1024 / 4;

fn package(floats: usize) -> Option<Package> {
    let values: Vec<f32> = (0..floats).map(|i| i as f32).collect();
    let weights = mlops_core::testing::safetensors_f32(&[("w", &[floats], &values)]);
    PackageBuilder::new("bench").weights(weights).build().ok()
}

fn backends() -> Vec<(&'static str, StoreRegistry, Option<tempfile::TempDir>)> {
    let mut out = Vec::new();
    if let Ok(dir) = tempfile::tempdir()
        && let Ok(r) = StoreRegistry::local(dir.path())
    {
        out.push(("local", r, Some(dir)));
    }
    if let (Ok(url), Ok(_)) = (std::env::var("MLOPS_TEST_S3_URL"), std::env::var("AWS_ENDPOINT"))
        && let Ok(r) = StoreRegistry::from_url(&format!("{url}/bench-{}", std::process::id()))
    {
        out.push(("s3", r, None));
    }
    out
}

fn registry(c: &mut Criterion) {
    let Ok(rt) = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    else {
        return;
    };
    let (Some(big), Some(small)) = (package(WEIGHTS_FLOATS), package(256)) else {
        return;
    };
    let mut group = c.benchmark_group("registry");
    group.sample_size(10);
    for (backend, reg, _dir) in backends() {
        let Ok(v) = rt.block_on(reg.register(&big)) else {
            continue;
        };
        if rt.block_on(reg.set_alias("bench", "champion", v)).is_err() {
            continue;
        }
        group.throughput(Throughput::Elements(1));
        group.bench_function(BenchmarkId::new("register_small", backend), |b| {
            b.iter(|| rt.block_on(reg.register(&small)))
        });
        group.bench_function(BenchmarkId::new("resolve_alias", backend), |b| {
            b.iter(|| rt.block_on(reg.resolve("bench", &VersionSelector::Alias("champion".into()))))
        });
        group.throughput(Throughput::Bytes(WEIGHTS_FLOATS as u64 * 4));
        group.bench_function(BenchmarkId::new("resolve_load_verify_10MB", backend), |b| {
            b.iter(|| {
                rt.block_on(async {
                    let v = reg.resolve("bench", &VersionSelector::Alias("champion".into())).await?;
                    reg.load("bench", v).await
                })
            })
        });
        // Baselines: reading the package's blobs raw, and hashing 10 MB; the
        // registry's own overhead is load_verify minus both.
        if let Some(dir) = &_dir {
            let blobs = dir.path().join("blobs/sha256");
            group.bench_function(BenchmarkId::new("read_blobs_raw_baseline", backend), |b| {
                b.iter(|| -> std::io::Result<usize> {
                    let mut n = 0;
                    for e in std::fs::read_dir(&blobs)? {
                        n += std::fs::read(e?.path())?.len();
                    }
                    Ok(n)
                })
            });
            let bytes = vec![7u8; WEIGHTS_FLOATS * 4];
            group.bench_function(BenchmarkId::new("sha256_10MB_baseline", backend), |b| {
                b.iter(|| mlops_core::Digest::of(&bytes))
            });
        }
        let reg = Arc::new(reg);
        group.throughput(Throughput::Elements(8 * 5));
        group.bench_function(BenchmarkId::new("register_8_writers_x5", backend), |b| {
            b.iter(|| {
                rt.block_on(async {
                    let tasks: Vec<_> = (0..8)
                        .map(|_| {
                            let (reg, small) = (reg.clone(), small.clone());
                            tokio::spawn(async move {
                                for _ in 0..5 {
                                    reg.register(&small).await?;
                                }
                                Ok::<(), mlops_core::Error>(())
                            })
                        })
                        .collect();
                    for t in tasks {
                        let _ = t.await;
                    }
                })
            })
        });
    }
    group.finish();
}

/// A fresh registry per backend for the many-versions model.
fn scale_backends() -> Vec<(&'static str, StoreRegistry, u64, Option<tempfile::TempDir>)> {
    let mut out = Vec::new();
    if let Ok(dir) = tempfile::tempdir()
        && let Ok(r) = StoreRegistry::local(dir.path())
    {
        out.push(("local", r, 10_000, Some(dir)));
    }
    if let (Ok(url), Ok(_)) = (std::env::var("MLOPS_TEST_S3_URL"), std::env::var("AWS_ENDPOINT"))
        && let Ok(r) = StoreRegistry::from_url(&format!("{url}/bench-scale-{}", std::process::id()))
    {
        let n = std::env::var("MLOPS_BENCH_S3_VERSIONS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1_000);
        out.push(("s3", r, n, None));
    }
    out
}

fn registry_at_scale(c: &mut Criterion) {
    let Ok(rt) = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    else {
        return;
    };
    let Some(small) = package(256) else {
        return;
    };
    let mut group = c.benchmark_group("registry_scale");
    group.sample_size(10);
    for (backend, reg, n, _dir) in scale_backends() {
        let filled = rt.block_on(async {
            for _ in 0..n {
                reg.register(&small).await?;
            }
            reg.transition("bench", 1, Stage::Production, None).await?;
            reg.set_alias("bench", "champion", 1).await?;
            Ok::<(), mlops_core::Error>(())
        });
        if filled.is_err() {
            continue;
        }
        // A reader in another process: its own client, no hints.
        let Ok(reader) = (match &_dir {
            Some(dir) => StoreRegistry::local(dir.path()),
            None => Ok(reg.clone()),
        }) else {
            continue;
        };
        group.bench_function(BenchmarkId::new(format!("list_versions_{n}"), backend), |b| {
            b.iter(|| rt.block_on(reader.list_versions("bench")))
        });
        let query = SearchQuery {
            stage: Some(Stage::Production),
            ..Default::default()
        };
        group.bench_function(BenchmarkId::new(format!("search_stage_{n}"), backend), |b| {
            b.iter(|| rt.block_on(reader.search(&query)))
        });
        group.bench_function(BenchmarkId::new(format!("resolve_latest_{n}"), backend), |b| {
            b.iter(|| rt.block_on(reader.resolve("bench", &VersionSelector::Latest)))
        });
        group.bench_function(BenchmarkId::new(format!("register_at_{n}"), backend), |b| {
            b.iter(|| rt.block_on(reg.register(&small)))
        });
    }
    group.finish();
}

criterion_group!(benches, registry, registry_at_scale);
