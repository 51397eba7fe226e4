//! The registry operations MLflow's model registry also has, timed one by one
//! on a local-disk registry: register, set alias, resolve alias, search.
//! Prints one JSON object (milliseconds per operation: median, mean, p90).
//!
//! `cargo run --release -p mlops-benches --bin registry_ops -- DIR [OPS] [PRELOAD]`
//! (run by `benches/compare/run_registry_comparison.sh`, next to MLflow's).
#![allow(clippy::print_stdout)]

use std::time::Instant;

use mlops_core::{Package, PackageBuilder, Registry, SearchQuery, StoreRegistry, VersionSelector};

fn package(seed: usize) -> Result<Package, mlops_core::Error> {
    // A small model (1,024 floats), distinct per version as real versions are.
    let values: Vec<f32> = (0..1024).map(|i| (i + seed) as f32).collect();
    let weights = mlops_core::testing::safetensors_f32(&[("w", &[1024], &values)]);
    PackageBuilder::new("bench").weights(weights).metric("auc", 0.9).build()
}

fn summary(mut ms: Vec<f64>) -> serde_json::Value {
    ms.sort_by(f64::total_cmp);
    let n = ms.len().max(1);
    let mean = ms.iter().sum::<f64>() / n as f64;
    serde_json::json!({
        "median_ms": ms.get(n / 2).copied().unwrap_or(f64::NAN),
        "mean_ms": mean,
        "p90_ms": ms.get(n * 9 / 10).copied().unwrap_or(f64::NAN),
        "n": ms.len(),
    })
}

async fn timed<F, Fut, T>(ops: usize, mut op: F) -> Result<Vec<f64>, mlops_core::Error>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = Result<T, mlops_core::Error>>,
{
    let mut out = Vec::with_capacity(ops);
    for i in 0..ops {
        let start = Instant::now();
        op(i).await?;
        out.push(start.elapsed().as_secs_f64() * 1e3);
    }
    Ok(out)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let dir = args.get(1).ok_or("usage: registry_ops DIR [OPS] [PRELOAD]")?;
    let ops: usize = args.get(2).map_or(Ok(200), |s| s.parse())?;
    let preload: usize = args.get(3).map_or(Ok(100), |s| s.parse())?;
    let registry = StoreRegistry::local(dir)?.with_actor("bench");
    let packages: Vec<Package> = (0..preload + ops).map(package).collect::<Result<_, _>>()?;
    for p in &packages[..preload] {
        registry.register(p).await?;
    }
    let register = timed(ops, |i| registry.register(&packages[preload + i])).await?;
    let total = (preload + ops) as u64;
    let set_alias = timed(ops, |i| registry.set_alias("bench", "champion", 1 + (i as u64 % total))).await?;
    let alias = VersionSelector::Alias("champion".into());
    let resolve = timed(ops, |_| registry.resolve("bench", &alias)).await?;
    let query = SearchQuery {
        name_contains: Some("bench".into()),
        ..Default::default()
    };
    let search = timed(ops, |_| registry.search(&query)).await?;
    let found = registry.search(&query).await?.len();
    println!(
        "{}",
        serde_json::json!({
            "system": "mlops-rs",
            "versions_at_end": total,
            "search_results": found,
            "register": summary(register),
            "set_alias": summary(set_alias),
            "resolve_alias": summary(resolve),
            "search": summary(search),
        })
    );
    Ok(())
}
