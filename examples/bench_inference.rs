//! Inference throughput and single-row latency of a `Predictor`, on the model
//! and input that `benches/compare/peer_inference.py gen DIR` writes, printed
//! as one JSON line in the format of the Python peers (onnxruntime,
//! scikit-learn, PyTorch), so `benches/compare/run_inference_comparison.sh`
//! puts them side by side.
//!
//! ```text
//! cargo run --release --example bench_inference -- DIR --threads 2 --seconds 2 --latency-iters 20000 --outputs out.f32
//! ```
//!
//! Besides the Predictor (validation, Arrow copies and answer checks on, no
//! transforms), it times the bare forward pass on the same feature-major
//! tensors, so the SDK's own overhead is measured in the same run.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use arrow_array::cast::AsArray;
use arrow_array::types::Float32Type;
use arrow_array::{ArrayRef, Float32Array, RecordBatch};
use clap::Parser;
use mlops_core::Signature;
use mlops_serve::model::Weights;
use mlops_serve::{Batcher, BatcherConfig, ModelSpec, Predict, Predictor, PredictorConfig, Request, Ticket};

/// Times a Predictor on the peers' model and input.
#[derive(Parser, Debug)]
#[command(name = "bench_inference", version, about)]
struct Cli {
    /// Directory written by `peer_inference.py gen` (weights.safetensors, architecture.json, input.f32).
    dir: PathBuf,
    /// Threads a batch is spread over.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Seconds of timed batch calls (each of the Predictor and the bare forward pass).
    #[arg(long, default_value_t = 2.0)]
    seconds: f64,
    /// Timed single-row calls.
    #[arg(long, default_value_t = 20_000)]
    latency_iters: usize,
    /// Writes the batch's outputs here (little-endian f32, row-major) for cross-checking.
    #[arg(long)]
    outputs: Option<PathBuf>,
    /// Also time single-row requests through a `Batcher` with these numbers of
    /// concurrent callers (e.g. `1,8,32`); one JSON line each.
    #[arg(long, value_delimiter = ',')]
    callers: Vec<usize>,
    /// How long idle batcher workers and waiting callers poll before sleeping, in µs.
    #[arg(long, default_value_t = 50)]
    spin_us: u64,
    /// Also answer one batch of this many rows (the input tiled), and report
    /// the time and how far peak memory rose above the input's own size.
    #[arg(long)]
    large_batch: Option<usize>,
    /// Requests each caller makes in the batcher test.
    #[arg(long, default_value_t = 5_000)]
    requests_per_caller: usize,
    /// Batcher callers are also run as async tasks on one tokio thread
    /// (`predict_async`), as an async server's handlers would call it.
    #[arg(long)]
    async_callers: bool,
    /// Also send single-row requests open-loop at these offered rates
    /// (requests/s, e.g. `50000,100000`), with at most the largest of
    /// `--callers` in flight: the latency a service sees below saturation.
    /// One JSON line each. The sending thread polls without sleeping, so it
    /// takes a core of its own.
    #[arg(long, value_delimiter = ',')]
    rates: Vec<f64>,
}

/// How the batcher test's callers run.
#[derive(Clone, Copy, Debug)]
enum Callers {
    /// One OS thread per caller, calling `predict`.
    Threads,
    /// Tasks on one tokio thread calling `predict_async`: an async server's
    /// handlers, without one OS thread per caller to schedule.
    Tasks,
    /// Open loop: one thread sends at this rate (requests/s) on a fixed
    /// schedule, at most `callers` requests in flight, and polls the answers.
    Paced(f64),
}

/// Per-caller latencies in ns.
type Latencies = Vec<Result<Vec<f64>, String>>;

/// p50 and p99 of single-row requests through a batcher with `callers`
/// callers at once, each waiting for its answer before it sends the next;
/// also requests per second and mean batch rows.
fn batcher_latency(
    predictor: Arc<Predictor>,
    one: &RecordBatch,
    callers: usize,
    requests: usize,
    workers: usize,
    spin: Duration,
    kind: Callers,
) -> Result<serde_json::Value, Box<dyn std::error::Error>> {
    let config = BatcherConfig::default()
        .with_workers(workers)
        .with_queue_capacity(4096)
        .with_spin(spin);
    let batcher = Arc::new(Batcher::new(predictor, config)?);
    for _ in 0..1000 {
        batcher.predict(one.clone())?;
    }
    let started = Instant::now();
    let per_caller = match kind {
        Callers::Threads => closed_loop_threads(&batcher, one, callers, requests),
        Callers::Tasks => closed_loop_tasks(&batcher, one, callers, requests)?,
        Callers::Paced(rate) => vec![paced(&batcher, one, callers, rate, requests * callers)],
    };
    let elapsed = started.elapsed().as_secs_f64();
    let mut ns = Vec::new();
    for r in per_caller {
        ns.extend(r?);
    }
    let (p50, p99) = p50_p99_us(&mut ns);
    let stats = batcher.stats();
    let (callers_are, offered) = match kind {
        Callers::Threads => ("OS threads".to_owned(), None),
        Callers::Tasks => ("tokio tasks on one thread".to_owned(), None),
        Callers::Paced(rate) => (format!("open loop, at most {callers} in flight"), Some(rate)),
    };
    Ok(serde_json::json!({
        "peer": "mlops-serve-batcher", "version": env!("CARGO_PKG_VERSION"), "workers": workers, "callers": callers,
        "callers_are": callers_are, "offered_per_s": offered,
        "requests": ns.len(), "requests_per_s": (ns.len() as f64 / elapsed).round(),
        "p50_us": p50, "p99_us": p99,
        "mean_batch_rows": (stats.mean_batch_rows() * 100.0).round() / 100.0, "spin_us": spin.as_micros(),
    }))
}

fn closed_loop_threads(batcher: &Arc<Batcher>, one: &RecordBatch, callers: usize, requests: usize) -> Latencies {
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..callers)
            .map(|_| {
                let (batcher, one) = (batcher.clone(), one.clone());
                s.spawn(move || {
                    let mut ns = Vec::with_capacity(requests);
                    for _ in 0..requests {
                        let t = Instant::now();
                        batcher.predict(one.clone()).map_err(|e| e.to_string())?;
                        ns.push(t.elapsed().as_nanos() as f64);
                    }
                    Ok(ns)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("caller panicked".into())))
            .collect()
    })
}

/// Open-loop load from one thread: request `i` is due at `i / rate` s and
/// sent then (or as soon as fewer than `callers` are in flight); answers are
/// polled in the same loop. Each latency runs from when the request was due,
/// not sent, so a send held back by a full window counts against the batcher
/// (no coordinated omission).
fn paced(batcher: &Batcher, one: &RecordBatch, callers: usize, rate: f64, requests: usize) -> Result<Vec<f64>, String> {
    let interval = Duration::from_secs_f64(1.0 / rate.max(1.0));
    let mut cx = Context::from_waker(Waker::noop());
    let mut in_flight: Vec<(Instant, Ticket)> = Vec::with_capacity(callers);
    let mut ns = Vec::with_capacity(requests);
    let start = Instant::now();
    let mut sent = 0usize;
    while ns.len() < requests {
        let due = start + interval.mul_f64(sent as f64);
        if sent < requests && in_flight.len() < callers && Instant::now() >= due {
            let ticket = batcher.submit(Request::new(one.clone())).map_err(|e| e.to_string())?;
            in_flight.push((due, ticket));
            sent += 1;
        }
        let mut i = 0;
        while let Some((_, ticket)) = in_flight.get_mut(i) {
            match Pin::new(ticket).poll(&mut cx) {
                Poll::Ready(answer) => {
                    let done = Instant::now();
                    answer.map_err(|e| e.to_string())?;
                    let (due, _) = in_flight.swap_remove(i);
                    ns.push(done.duration_since(due).as_nanos() as f64);
                }
                Poll::Pending => i += 1,
            }
        }
        std::hint::spin_loop();
    }
    Ok(ns)
}

fn closed_loop_tasks(
    batcher: &Arc<Batcher>,
    one: &RecordBatch,
    callers: usize,
    requests: usize,
) -> Result<Latencies, Box<dyn std::error::Error>> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build()?;
    Ok(runtime.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..callers {
            let (batcher, one) = (batcher.clone(), one.clone());
            tasks.spawn(async move {
                let mut ns = Vec::with_capacity(requests);
                for _ in 0..requests {
                    let t = Instant::now();
                    batcher.predict_async(one.clone()).await.map_err(|e| e.to_string())?;
                    ns.push(t.elapsed().as_nanos() as f64);
                }
                Ok::<_, String>(ns)
            });
        }
        let mut all = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            all.push(joined.unwrap_or_else(|e| Err(format!("caller task failed: {e}"))));
        }
        all
    }))
}

/// Peak resident memory of this process so far, in bytes (Linux; 0 elsewhere).
fn peak_rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<u64>().ok()))
        })
        .map_or(0, |kb| kb * 1024)
}

/// One batch of `rows` rows (the input tiled) through the predictor: time and
/// peak memory above the input batch itself.
fn large_batch(
    predictor: &Predictor,
    batch: &RecordBatch,
    rows: usize,
) -> Result<serde_json::Value, Box<dyn std::error::Error>> {
    let repeats = rows.div_ceil(batch.num_rows().max(1));
    let tiled = arrow_select::concat::concat_batches(&batch.schema(), std::iter::repeat_n(batch, repeats))?;
    let tiled = tiled.slice(0, rows.min(tiled.num_rows()));
    let input_bytes = tiled.get_array_memory_size() as u64;
    let before = peak_rss();
    let started = Instant::now();
    let answer = predictor.predict(&tiled)?;
    let seconds = started.elapsed().as_secs_f64();
    let after = peak_rss();
    Ok(serde_json::json!({
        "peer": "mlops-serve-large-batch", "rows": answer.num_rows(), "seconds": (seconds * 1000.0).round() / 1000.0,
        "rows_per_s": (tiled.num_rows() as f64 / seconds).round(),
        "input_mib": input_bytes / (1 << 20), "answer_mib": answer.get_array_memory_size() / (1 << 20),
        "peak_rss_rise_during_predict_mib": after.saturating_sub(before) / (1 << 20),
        "peak_rss_mib": after / (1 << 20),
    }))
}

/// The 50th and 99th percentiles, in µs rounded to 0.01, of times in ns.
fn p50_p99_us(ns: &mut [f64]) -> (f64, f64) {
    ns.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        let ns_at = ns
            .get(((ns.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or(f64::NAN);
        (ns_at / 10.0).round() / 100.0
    };
    (pct(0.50), pct(0.99))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cli = Cli::parse();
    let spec = ModelSpec::from_json(&std::fs::read_to_string(cli.dir.join("architecture.json"))?)?;
    let weights = Weights::from_safetensors(
        &std::fs::read(cli.dir.join("weights.safetensors"))?,
        &spec.architecture.architecture().tensors(),
        &spec,
    )?;
    let features = spec.features.len();
    let raw = std::fs::read(cli.dir.join("input.f32"))?;
    let rows_major: Vec<f32> = raw
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let rows = rows_major.len() / features;
    let columns: Vec<(String, ArrayRef)> = spec
        .features
        .iter()
        .enumerate()
        .map(|(j, name)| {
            let values: Vec<f32> = (0..rows).map(|i| rows_major[i * features + j]).collect();
            (name.clone(), Arc::new(Float32Array::from(values)) as ArrayRef)
        })
        .collect();
    let batch = RecordBatch::try_from_iter(columns)?;
    // Declared as the data is (Float32) so the door does not widen it.
    let signature = Signature::from_schema(batch.schema_ref())?;
    let config = PredictorConfig::default().with_threads(cli.threads);
    let predictor = Arc::new(Predictor::from_parts(
        "bench",
        spec,
        &weights,
        None,
        signature,
        Signature::default(),
        config,
    )?);
    let outputs = predictor.model().output_width();
    let answer = predictor.predict(&batch)?;
    if let Some(path) = &cli.outputs {
        let mut bytes = Vec::with_capacity(rows * outputs * 4);
        for i in 0..rows {
            for k in 0..outputs {
                bytes.extend_from_slice(&answer.column(k).as_primitive::<Float32Type>().value(i).to_le_bytes());
            }
        }
        std::fs::write(path, bytes)?;
    }
    // The bare forward pass on the same values, feature-major, one thread: the SDK's overhead baseline.
    let feature_major: Vec<f32> = (0..features)
        .flat_map(|j| (0..rows).map(move |i| (i, j)))
        .map(|(i, j)| rows_major[i * features + j])
        .collect();
    let model = predictor.model();
    // Predictor and bare forward pass alternate in rounds of 50 ms, so both
    // see the same machine (load on a shared VM drifts within seconds).
    let mut failures = 0usize;
    let (mut predictor_times, mut bare_times) = (Vec::new(), Vec::new());
    let warm = Instant::now();
    while warm.elapsed() < Duration::from_millis(500) {
        failures += usize::from(predictor.predict(&batch).is_err());
        failures += usize::from(model.forward_columns(&feature_major, rows).is_err());
    }
    let end = Instant::now() + Duration::from_secs_f64(cli.seconds * 2.0);
    while Instant::now() < end || predictor_times.len() < 5 {
        let round = Instant::now() + Duration::from_millis(50);
        while Instant::now() < round {
            let t = Instant::now();
            failures += usize::from(predictor.predict(&batch).is_err());
            predictor_times.push(t.elapsed().as_secs_f64());
        }
        let round = Instant::now() + Duration::from_millis(50);
        while Instant::now() < round {
            let t = Instant::now();
            failures += usize::from(model.forward_columns(&feature_major, rows).is_err());
            bare_times.push(t.elapsed().as_secs_f64());
        }
    }
    let batch_runs = predictor_times.len();
    let (batch_s, bare_s) = (median(predictor_times), median(bare_times));
    let one = batch.slice(0, 1);
    for _ in 0..1000 {
        failures += usize::from(predictor.predict(&one).is_err());
    }
    let mut ns = Vec::with_capacity(cli.latency_iters);
    for _ in 0..cli.latency_iters {
        let t = Instant::now();
        failures += usize::from(predictor.predict(&one).is_err());
        ns.push(t.elapsed().as_nanos() as f64);
    }
    let (p50, p99) = p50_p99_us(&mut ns);
    if failures > 0 {
        return Err(format!("{failures} timed calls failed").into());
    }
    let line = serde_json::json!({
        "peer": "mlops-serve", "version": env!("CARGO_PKG_VERSION"), "threads": cli.threads, "batch": rows,
        "rows_per_s": (rows as f64 / batch_s * 10.0).round() / 10.0,
        "p50_us": p50, "p99_us": p99,
        "batch_runs": batch_runs, "latency_iters": cli.latency_iters,
        "bare_forward_rows_per_s_1_thread": (rows as f64 / bare_s * 10.0).round() / 10.0,
    });
    #[allow(clippy::print_stdout)]
    {
        println!("{line}");
        if let Some(rows) = cli.large_batch {
            println!("{}", large_batch(&predictor, &batch, rows)?);
        }
        for &callers in &cli.callers {
            let kinds: &[Callers] = if cli.async_callers {
                &[Callers::Threads, Callers::Tasks]
            } else {
                &[Callers::Threads]
            };
            // Open-loop rows for the largest window only: below it the window,
            // not the batcher, caps the rate.
            let widest = cli.callers.iter().max() == Some(&callers);
            let paced: Vec<Callers> = cli
                .rates
                .iter()
                .filter(|_| widest)
                .map(|&r| Callers::Paced(r))
                .collect();
            for &kind in kinds.iter().chain(&paced) {
                let line = batcher_latency(
                    predictor.clone(),
                    &one,
                    callers,
                    cli.requests_per_caller,
                    cli.threads,
                    Duration::from_micros(cli.spin_us),
                    kind,
                )?;
                println!("{line}");
            }
        }
    }
    Ok(())
}
