//! Shadow execution off the caller's path, and the comparison of paired answers.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Instant;

use arrow_array::cast::AsArray;
use arrow_array::{Array, Float64Array, RecordBatch};
use mlops_core::{DriftDetector, DriftResult};
use serde::{Deserialize, Serialize};

use super::arm::{Arm, score_at};
use super::reservoir::Reservoir;
use super::window::SAMPLE_CAPACITY;
use crate::head::LABEL_COLUMN;
use crate::{Error, Result};

/// Paired answers of a shadow and the primary that answered the caller.
#[derive(Debug)]
pub(crate) struct ShadowPairs {
    /// Requests handed to the shadow pool, and those dropped because it was full.
    sent: AtomicU64,
    dropped: AtomicU64,
    /// Shadow calls that failed (never visible to callers).
    failed: AtomicU64,
    /// Rows where both answered.
    rows: AtomicU64,
    /// Rows with a label in both answers, and those where the labels differ.
    labelled: AtomicU64,
    disagreements: AtomicU64,
    /// Score differences: sum, maximum and count (one lock per compared request).
    diffs: Mutex<(f64, f64, u64)>,
    primary_scores: Reservoir,
    shadow_scores: Reservoir,
}

impl ShadowPairs {
    pub(crate) fn new(seed: u64) -> Self {
        ShadowPairs {
            sent: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            rows: AtomicU64::new(0),
            labelled: AtomicU64::new(0),
            disagreements: AtomicU64::new(0),
            diffs: Mutex::new((0.0, 0.0, 0)),
            primary_scores: Reservoir::new(SAMPLE_CAPACITY, seed ^ 0xA5A5),
            shadow_scores: Reservoir::new(SAMPLE_CAPACITY, seed ^ 0x5A5A),
        }
    }

    fn compare(
        &self,
        primary: &RecordBatch,
        primary_score: Option<usize>,
        shadow: &RecordBatch,
        shadow_score: Option<usize>,
    ) {
        let rows = primary.num_rows().min(shadow.num_rows());
        self.rows.fetch_add(rows as u64, Ordering::Relaxed);
        let labels = |b: &RecordBatch| {
            b.column_by_name(LABEL_COLUMN)
                .and_then(|c| c.as_string_opt::<i32>().cloned())
        };
        if let (Some(a), Some(b)) = (labels(primary), labels(shadow)) {
            let (mut labelled, mut differ) = (0u64, 0u64);
            for row in 0..rows {
                if a.is_valid(row) && b.is_valid(row) {
                    labelled += 1;
                    differ += u64::from(a.value(row) != b.value(row));
                }
            }
            self.labelled.fetch_add(labelled, Ordering::Relaxed);
            self.disagreements.fetch_add(differ, Ordering::Relaxed);
        }
        if let (Some(pc), Some(sc)) = (primary_score, shadow_score) {
            let mut sum = 0.0;
            let mut max = 0.0f64;
            let mut n = 0u64;
            for row in 0..rows {
                if let (Some(p), Some(s)) = (score_at(primary, pc, row), score_at(shadow, sc, row))
                    && p.is_finite()
                    && s.is_finite()
                {
                    let d = (p - s).abs();
                    sum += d;
                    max = max.max(d);
                    n += 1;
                    self.primary_scores.offer(p);
                    self.shadow_scores.offer(s);
                }
            }
            let mut diffs = self.diffs.lock().unwrap_or_else(PoisonError::into_inner);
            diffs.0 += sum;
            diffs.1 = diffs.1.max(max);
            diffs.2 += n;
        }
    }

    /// The comparison so far; with a detector, also a drift test of the shadow's
    /// scores (current) against the primary's (reference).
    pub(crate) fn report(&self, version: u64, detector: Option<&dyn DriftDetector>) -> Result<ShadowReport> {
        let read = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let (sum, max, scored) = *self.diffs.lock().unwrap_or_else(PoisonError::into_inner);
        let labelled = read(&self.labelled);
        let drift = match detector {
            Some(detector) => {
                let (reference, _) = self.primary_scores.snapshot();
                let (current, _) = self.shadow_scores.snapshot();
                Some(detector.detect(&Float64Array::from(reference), &Float64Array::from(current))?)
            }
            None => None,
        };
        Ok(ShadowReport {
            version,
            sent: read(&self.sent),
            dropped: read(&self.dropped),
            failed: read(&self.failed),
            rows: read(&self.rows),
            labelled_rows: labelled,
            label_disagreement_rate: (labelled > 0).then(|| read(&self.disagreements) as f64 / labelled as f64),
            scored_rows: scored,
            mean_abs_score_diff: (scored > 0).then(|| sum / scored as f64),
            max_abs_score_diff: (scored > 0).then_some(max),
            drift,
        })
    }
}

/// How a shadow's answers compare with the answers callers got.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ShadowReport {
    /// The shadow version.
    pub version: u64,
    /// Requests handed to the shadow.
    pub sent: u64,
    /// Requests not shadowed because the shadow pool was full (never queued behind callers).
    pub dropped: u64,
    /// Shadow calls that failed (callers never see these).
    pub failed: u64,
    /// Rows both answered.
    pub rows: u64,
    /// Rows where both gave a label.
    pub labelled_rows: u64,
    /// Share of those where the labels differ.
    pub label_disagreement_rate: Option<f64>,
    /// Rows where both gave a finite score.
    pub scored_rows: u64,
    /// Mean |primary score − shadow score|.
    pub mean_abs_score_diff: Option<f64>,
    /// Largest |primary score − shadow score|.
    pub max_abs_score_diff: Option<f64>,
    /// Drift of the shadow's scores against the primary's, when a detector was given.
    pub drift: Option<DriftResult>,
}

struct Job {
    batch: RecordBatch,
    primary: RecordBatch,
    primary_score: Option<usize>,
    shadow: Arc<Arm>,
}

struct Queue {
    jobs: Mutex<(VecDeque<Job>, bool)>,
    ready: Condvar,
    capacity: usize,
}

/// A bounded pool that runs shadow requests: `workers` threads (the
/// concurrency budget) and at most `capacity` waiting requests. A request
/// that finds it full is dropped and counted, so the caller never waits.
pub(crate) struct ShadowPool {
    queue: Arc<Queue>,
    workers: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for ShadowPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShadowPool")
            .field("capacity", &self.queue.capacity)
            .field("workers", &self.workers.len())
            .finish()
    }
}

impl ShadowPool {
    pub(crate) fn start(name: &str, workers: usize, capacity: usize) -> Result<ShadowPool> {
        let queue = Arc::new(Queue {
            jobs: Mutex::new((VecDeque::with_capacity(capacity.min(1024)), true)),
            ready: Condvar::new(),
            capacity,
        });
        let mut pool = ShadowPool {
            queue,
            workers: Vec::new(),
        };
        for i in 0..workers {
            let queue = Arc::clone(&pool.queue);
            let handle = std::thread::Builder::new()
                .name(format!("mlops-shadow-{i}"))
                .spawn(move || run(&queue))
                .map_err(|source| Error::Io {
                    location: format!("shadow pool of deployment `{name}` (starting worker {i})"),
                    source,
                })?;
            pool.workers.push(handle);
        }
        Ok(pool)
    }

    /// Hands a request to the shadow, or drops it (counted) when the pool is full.
    pub(crate) fn offer(
        &self,
        shadow: Arc<Arm>,
        batch: &RecordBatch,
        primary: &RecordBatch,
        primary_score: Option<usize>,
    ) {
        let mut jobs = self.queue.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        if !jobs.1 || jobs.0.len() >= self.queue.capacity {
            drop(jobs);
            shadow.pairs.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        shadow.pairs.sent.fetch_add(1, Ordering::Relaxed);
        jobs.0.push_back(Job {
            batch: batch.clone(),
            primary: primary.clone(),
            primary_score,
            shadow,
        });
        drop(jobs);
        self.queue.ready.notify_one();
    }

    /// Requests waiting now.
    pub(crate) fn queued(&self) -> usize {
        self.queue.jobs.lock().unwrap_or_else(PoisonError::into_inner).0.len()
    }
}

impl Drop for ShadowPool {
    fn drop(&mut self) {
        // Shadow work is best effort: what is still queued is dropped, not run.
        {
            let mut jobs = self.queue.jobs.lock().unwrap_or_else(PoisonError::into_inner);
            jobs.1 = false;
            for job in jobs.0.drain(..) {
                job.shadow.pairs.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.queue.ready.notify_all();
        for handle in self.workers.drain(..) {
            let _finished = handle.join();
        }
    }
}

fn run(queue: &Queue) {
    loop {
        let job = {
            let mut jobs = queue.jobs.lock().unwrap_or_else(PoisonError::into_inner);
            loop {
                if let Some(job) = jobs.0.pop_front() {
                    break job;
                }
                if !jobs.1 {
                    return;
                }
                jobs = queue.ready.wait(jobs).unwrap_or_else(PoisonError::into_inner);
            }
        };
        let started = Instant::now();
        // A panicking shadow must not take the pool down: it counts as a failure.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job.shadow.answer(&job.batch, started)))
            .unwrap_or_else(|_| {
                Err(Error::inference(
                    format!("shadow version {}", job.shadow.version),
                    "the predictor panicked",
                ))
            });
        match result {
            Ok(answer) => job.shadow.pairs.compare(
                &job.primary,
                job.primary_score,
                &answer.batch,
                job.shadow.score_column(),
            ),
            Err(_) => {
                job.shadow.pairs.failed.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}
