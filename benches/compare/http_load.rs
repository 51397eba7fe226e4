//! A closed-loop HTTP load generator: N connections each send the same POST
//! body back to back for a fixed time; prints one JSON line with requests/s
//! and latency quantiles. The same client measures every server in
//! `run_http_comparison.sh`, so their figures differ only by the server.
//!
//! `cargo run --release -p mlops-benches --bin http_load -- URL BODY_FILE [CONNECTIONS] [SECONDS] [THREADS]`
#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::time::{Duration, Instant};

type Failure = Box<dyn std::error::Error + Send + Sync>;

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

async fn run(url: String, body: Arc<Vec<u8>>, connections: usize, seconds: f64) -> Result<serde_json::Value, Failure> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .timeout(Duration::from_secs(30))
        .build()?;
    // Warm-up: every connection opened and the server's caches hot.
    let warm_until = Instant::now() + Duration::from_millis(500);
    let measure = Duration::from_secs_f64(seconds);
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let (client, url, body) = (client.clone(), url.clone(), Arc::clone(&body));
            tokio::spawn(async move {
                let mut latencies_us = Vec::new();
                let (mut failed, mut started) = (0u64, None::<Instant>);
                loop {
                    let t = Instant::now();
                    if t >= warm_until && started.is_none() {
                        started = Some(t);
                    }
                    if started.is_some_and(|s| t.duration_since(s) >= measure) {
                        break;
                    }
                    let response = client
                        .post(&url)
                        .header("content-type", "application/json")
                        .body(body.as_ref().clone())
                        .send()
                        .await;
                    let ok = match response {
                        Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                        Err(_) => false,
                    };
                    if started.is_some() {
                        if ok {
                            latencies_us.push(t.elapsed().as_secs_f64() * 1e6);
                        } else {
                            failed += 1;
                        }
                    }
                }
                (latencies_us, failed)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut failed = 0;
    for task in tasks {
        let (l, f) = task.await?;
        all.extend(l);
        failed += f;
    }
    all.sort_by(f64::total_cmp);
    Ok(serde_json::json!({
        "url": url,
        "connections": connections,
        "seconds": seconds,
        "requests": all.len(),
        "failed": failed,
        "requests_per_s": all.len() as f64 / seconds,
        "p50_us": quantile(&all, 0.5),
        "p99_us": quantile(&all, 0.99),
    }))
}

fn main() -> Result<(), Failure> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(url), Some(body)) = (args.get(1), args.get(2)) else {
        return Err("usage: http_load URL BODY_FILE [CONNECTIONS] [SECONDS] [THREADS]".into());
    };
    let connections: usize = args.get(3).map_or(Ok(8), |s| s.parse())?;
    let seconds: f64 = args.get(4).map_or(Ok(5.0), |s| s.parse())?;
    let threads: usize = args.get(5).map_or(Ok(1), |s| s.parse())?;
    let body = Arc::new(std::fs::read(body)?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()?;
    let result = runtime.block_on(run(url.clone(), body, connections, seconds))?;
    println!("{result}");
    Ok(())
}
