//! The worker loop: take a batch, merge it, call the predictor once, split the answer.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use arrow_array::RecordBatch;

use super::payload::{Payload, merge_payloads};
use super::poll_slot::PollSlot;
use super::queue::{Job, Queue, Taken};
use crate::{Error, Predict, Prediction, Result};

/// The counters behind [`BatcherStats`](super::BatcherStats).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) requests: AtomicU64,
    pub(crate) batches: AtomicU64,
    pub(crate) rows: AtomicU64,
    pub(crate) overloaded: AtomicU64,
    pub(crate) expired: AtomicU64,
    pub(crate) cancelled: AtomicU64,
    pub(crate) failed: AtomicU64,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// What the callers and the workers share.
pub(crate) struct Shared {
    pub(crate) predictor: Arc<dyn Predict>,
    pub(crate) queue: Queue,
    pub(crate) counters: Counters,
    /// How errors name this batcher.
    pub(crate) location: String,
    /// Which waiting caller may poll for its answer instead of sleeping.
    pub(crate) poll_slot: PollSlot,
    /// Requests queued or being answered (see [`InFlight`](super::queue::InFlight)).
    pub(crate) in_flight: Arc<std::sync::atomic::AtomicUsize>,
}

/// A worker thread's body: runs until the queue is closed and drained.
pub(crate) fn run(shared: &Shared) {
    while let Some(taken) = shared.queue.take() {
        handle(shared, taken);
    }
}

fn handle(shared: &Shared, taken: Taken) {
    let Taken {
        jobs,
        expired,
        cancelled,
    } = taken;
    Counters::add(&shared.counters.cancelled, cancelled);
    Counters::add(&shared.counters.expired, expired.len() as u64);
    for (job, waited, allowed) in expired {
        answer(
            job,
            Err(Error::DeadlineExceeded {
                location: shared.location.clone(),
                waited_us: u64::try_from(waited.as_micros()).unwrap_or(u64::MAX),
                allowed_us: u64::try_from(allowed.as_micros()).unwrap_or(u64::MAX),
            }),
        );
    }
    // Requests merge only with requests of the same (projected) schema: the
    // column types may differ between callers, and the predictor decides what it accepts.
    let mut groups: Vec<Vec<Job>> = Vec::new();
    for job in jobs {
        // Requests projected by the batcher share the projection's schema
        // `Arc`: comparing pointers first skips comparing 64 fields per request.
        match groups
            .iter_mut()
            .find(|g| g.first().is_some_and(|first| first.payload.same_schema(&job.payload)))
        {
            Some(group) => group.push(job),
            None => groups.push(vec![job]),
        }
    }
    for group in groups {
        run_group(shared, group);
    }
}

/// Answers `jobs` with one predictor call; when that call fails, splits the
/// group in halves and tries each, so a bad request is isolated in about
/// 2·log2(n) calls and only it gets the error.
fn run_group(shared: &Shared, mut jobs: Vec<Job>) {
    if jobs.is_empty() {
        return;
    }
    let answer_all = match merge(&mut jobs) {
        Ok(batch) => call(shared, &batch),
        Err(e) => Err(e),
    };
    match answer_all {
        Ok(prediction) => {
            // Every caller is answered before any request is dropped: freeing
            // a request's columns (or releasing the caller's references to
            // them) is work the callers after it need not wait for.
            let mut done = Vec::with_capacity(jobs.len());
            let mut offset = 0;
            for job in jobs {
                let Job {
                    payload,
                    reply,
                    in_flight,
                    ..
                } = job;
                let n = payload.num_rows();
                // Out of flight before the caller hears, so that its next
                // request can find itself alone.
                drop(in_flight);
                // The caller may have stopped waiting; nobody wants the answer then.
                let _ = reply.send(Ok(prediction.slice(offset, n)));
                offset += n;
                done.push(payload);
            }
            drop(done);
        }
        Err(e) if jobs.len() == 1 => {
            Counters::add(&shared.counters.failed, 1);
            if let Some(job) = jobs.pop() {
                answer(job, Err(e));
            }
        }
        Err(_) => {
            let right = jobs.split_off(jobs.len() / 2);
            run_group(shared, jobs);
            run_group(shared, right);
        }
    }
}

/// The rows of `jobs` as one batch.
/// The rows of `jobs` as one batch; a request alone hands its rows over.
fn merge(jobs: &mut [Job]) -> Result<RecordBatch> {
    let merged = match jobs {
        [job] => job.payload.take_batch(),
        _ => merge_payloads(&jobs.iter().map(|j| &j.payload).collect::<Vec<&Payload>>()),
    };
    merged.map_err(|source| Error::Arrow {
        location: "merging batcher requests".into(),
        source,
    })
}

/// One predictor call, counted.
fn call(shared: &Shared, batch: &RecordBatch) -> Result<Prediction> {
    Counters::add(&shared.counters.batches, 1);
    Counters::add(&shared.counters.rows, batch.num_rows() as u64);
    let started = Instant::now();
    let outcome = predict_guarded(shared.predictor.as_ref(), batch, &shared.location);
    tracing::trace!(
        model = shared.predictor.model_name(),
        rows = batch.num_rows(),
        elapsed_us = started.elapsed().as_micros() as u64,
        "batch predicted"
    );
    outcome
}

/// Calls `predictor` on `batch`, turning a panic into [`Error::Inference`]
/// and refusing an answer with the wrong number of rows (it could not be
/// matched back to the input rows). Every serving mode calls models through this.
pub(crate) fn predict_guarded(predictor: &dyn Predict, batch: &RecordBatch, location: &str) -> Result<Prediction> {
    match catch_unwind(AssertUnwindSafe(|| predictor.predict_detailed(batch))) {
        Ok(Ok(prediction)) if prediction.batch.num_rows() == batch.num_rows() => Ok(prediction),
        Ok(Ok(prediction)) => Err(Error::inference(
            location,
            format!(
                "the predictor answered {} rows for {} (the Predict contract is one answer per row)",
                prediction.batch.num_rows(),
                batch.num_rows()
            ),
        )),
        Ok(Err(e)) => Err(e),
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a non-text panic payload".to_owned());
            tracing::error!(model = predictor.model_name(), %message, "the predictor panicked");
            Err(Error::inference(location, format!("the predictor panicked: {message}")))
        }
    }
}

fn answer(job: Job, result: Result<Prediction>) {
    let Job { reply, in_flight, .. } = job;
    drop(in_flight);
    // The caller may have stopped waiting; nobody wants the answer then.
    let _ = reply.send(result);
}
