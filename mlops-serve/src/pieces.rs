//! One large batch answered by several threads.
//!
//! The batch is cut into pieces of whole rows that the calling thread and
//! the process's helper threads ([`HelperPool`]) claim one at a time. The
//! caller starts computing at once; a helper that joins after every piece is
//! claimed finds nothing to do and leaves, and the caller only ever waits for
//! pieces a helper is computing, so a batch is never slower than on the
//! caller alone by more than the bookkeeping.
//!
//! Piece boundaries depend only on the batch's rows and the configuration,
//! never on which thread computes what, so answers are the same bit for bit
//! whatever the timing.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use mlops_core::{Error, Result};
use mlops_data::FittedPipeline;
use rayon::prelude::*;

use crate::columns::{fill_by_position, fill_feature_matrix};
use crate::helper_pool::{HelperPool, Job};
use crate::model::Model;
use crate::scratch;

/// What computing one piece needs; shared with helper threads.
#[derive(Debug)]
pub(crate) struct PieceRunner {
    pub(crate) model: Box<dyn Model>,
    pub(crate) transforms: Option<FittedPipeline>,
    pub(crate) features: Vec<String>,
    pub(crate) at_door: String,
    pub(crate) at_answer: String,
    pub(crate) max_reported_rows: usize,
    /// The schema the door admits batches as, and where each feature sits
    /// in it, when the model reads the admitted columns directly (no
    /// transforms): a batch with that very schema needs no lookup by name.
    pub(crate) admitted: Option<(SchemaRef, Vec<usize>)>,
}

impl PieceRunner {
    /// The package's transforms, then the model's features (feature-major).
    pub(crate) fn transformed_features(&self, batch: &RecordBatch) -> Result<Vec<f32>> {
        let mut out = vec![0.0f32; batch.num_rows() * self.features.len()];
        self.fill_features(batch, &mut out)?;
        Ok(out)
    }

    /// [`transformed_features`](Self::transformed_features) into `out`.
    fn fill_features(&self, batch: &RecordBatch, out: &mut [f32]) -> Result<()> {
        if let Some((schema, positions)) = &self.admitted
            && Arc::ptr_eq(batch.schema_ref(), schema)
        {
            return fill_by_position(
                batch,
                &self.features,
                positions,
                &self.at_door,
                self.max_reported_rows,
                out,
            );
        }
        let transformed;
        let features_from = match &self.transforms {
            Some(pipeline) => {
                transformed = pipeline.transform(batch)?;
                &transformed
            }
            None => batch,
        };
        fill_feature_matrix(
            features_from,
            &self.features,
            &self.at_door,
            self.max_reported_rows,
            out,
        )
    }

    /// Output-major values for every row of `batch`, on the calling thread.
    pub(crate) fn run(&self, batch: &RecordBatch) -> Result<Vec<f32>> {
        let rows = batch.num_rows();
        // The matrix lives in this thread's scratch (see `scratch.rs`).
        scratch::with_buffer(rows * self.features.len(), |matrix| {
            self.fill_features(batch, matrix)?;
            self.forward(matrix, rows)
        })
    }

    /// The model on a filled feature matrix of `rows` rows: output-major values.
    pub(crate) fn forward(&self, matrix: &[f32], rows: usize) -> Result<Vec<f32>> {
        let values = self.model.forward_columns(matrix, rows)?;
        // The answer is sliced by output later: a kernel that broke its
        // contract must be an error here, not an out-of-bounds panic there.
        if values.len() != self.model.output_width() * rows {
            return Err(Error::inference(
                &self.at_answer,
                format!(
                    "the model returned {} values for {rows} rows of {} outputs",
                    values.len(),
                    self.model.output_width()
                ),
            ));
        }
        Ok(values)
    }
}

/// How a batch is cut and how many threads may work on it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Split {
    /// Threads working at once, the caller included (≥ 1).
    pub(crate) threads: usize,
    /// Fewest rows in a piece, so a piece is worth a hand-off.
    pub(crate) min_rows: usize,
    /// Most rows in a piece: memory in flight is bounded by `threads` pieces.
    pub(crate) max_rows: usize,
    /// How long helpers stay awake after the batch, and how long the caller
    /// spins before sleeping while a helper finishes its piece.
    pub(crate) spin: Duration,
}

/// Pieces per thread: enough that a helper waking late still takes a share,
/// few enough that per-piece bookkeeping stays negligible.
const PIECES_PER_THREAD: usize = 4;

impl Split {
    /// Rows per piece for a batch of `rows`.
    pub(crate) fn piece_rows(&self, rows: usize) -> usize {
        let max_rows = self.max_rows.max(1);
        if self.threads <= 1 {
            return rows.clamp(1, max_rows);
        }
        rows.div_ceil(self.threads * PIECES_PER_THREAD)
            .max(self.min_rows.max(1))
            .min(max_rows)
    }
}

/// Output-major values for every row of `batch`, computed piece by piece by
/// the caller and up to `split.threads - 1` helpers.
///
/// A caller on a rayon worker (batch or stream scoring: one batch per
/// worker) spreads the pieces over rayon's pool instead: its workers are
/// awake already, and helper threads on top would oversubscribe the cores.
pub(crate) fn run_shared(runner: &Arc<PieceRunner>, batch: &RecordBatch, split: Split) -> Result<Vec<f32>> {
    let rows = batch.num_rows();
    let piece_rows = split.piece_rows(rows);
    if rows <= piece_rows {
        return runner.run(batch);
    }
    let pieces = rows.div_ceil(piece_rows);
    let outputs = runner.model.output_width();
    if split.threads > 1 && rayon::current_thread_index().is_some() {
        let results = (0..pieces)
            .into_par_iter()
            .map(|index| Some(run_piece(runner, batch, index, piece_rows)))
            .collect();
        return assemble(results, rows, piece_rows, outputs, &runner.at_answer);
    }
    let pool = HelperPool::global().filter(|_| split.threads > 1);
    let max_helpers = pool.map_or(0, |p| p.helpers().min(split.threads - 1).min(pieces - 1));
    let shared = Arc::new(SharedBatch {
        runner: Arc::clone(runner),
        batch: batch.clone(),
        piece_rows,
        pieces,
        max_helpers,
        spin: split.spin,
        open: AtomicBool::new(true),
        helpers_joined: AtomicUsize::new(0),
        running: AtomicUsize::new(0),
        progress: Mutex::new(Progress {
            next: 0,
            running: 0,
            stopped: false,
            results: (0..pieces).map(|_| None).collect(),
        }),
        idle: Condvar::new(),
    });
    let job: Arc<dyn Job> = shared.clone();
    let pool = pool.filter(|_| max_helpers > 0);
    if let Some(pool) = pool {
        pool.post(Arc::clone(&job));
    }
    shared.work();
    if let Some(pool) = pool {
        pool.withdraw(&job);
    }
    let results = shared.wait_idle();
    assemble(results, rows, piece_rows, outputs, &runner.at_answer)
}

/// Piece `index` of `batch`, a panic in the model turned into an error naming
/// the rows (in a helper thread it would end the thread; in the caller it
/// would skip the bookkeeping others wait on).
fn run_piece(runner: &PieceRunner, batch: &RecordBatch, index: usize, piece_rows: usize) -> Result<Vec<f32>> {
    let start = index * piece_rows;
    let len = piece_rows.min(batch.num_rows().saturating_sub(start));
    let piece = batch.slice(start, len);
    std::panic::catch_unwind(AssertUnwindSafe(|| runner.run(&piece))).unwrap_or_else(|_| {
        Err(Error::inference(
            &runner.at_answer,
            format!("the model panicked on rows {start}..{}", start + len),
        ))
    })
}

/// A batch being answered, shared by the caller and its helpers.
struct SharedBatch {
    runner: Arc<PieceRunner>,
    batch: RecordBatch,
    piece_rows: usize,
    pieces: usize,
    max_helpers: usize,
    spin: Duration,
    /// False once a claim found nothing left: helpers stop joining.
    open: AtomicBool,
    helpers_joined: AtomicUsize,
    /// `Progress::running`, readable without the lock while the caller spins.
    running: AtomicUsize,
    progress: Mutex<Progress>,
    /// Signalled when no piece is being computed any more.
    idle: Condvar,
}

struct Progress {
    /// The next piece nobody has claimed.
    next: usize,
    /// Pieces claimed and not finished.
    running: usize,
    /// A piece failed: nobody claims another.
    stopped: bool,
    results: Vec<Option<Result<Vec<f32>>>>,
}

impl SharedBatch {
    fn lock(&self) -> MutexGuard<'_, Progress> {
        // Pieces run outside the lock and panics are caught, so a poisoned
        // lock still holds consistent bookkeeping.
        self.progress.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn claim(&self) -> Option<usize> {
        let mut progress = self.lock();
        if progress.stopped || progress.next >= self.pieces {
            self.open.store(false, Ordering::Release);
            return None;
        }
        progress.next += 1;
        progress.running += 1;
        self.running.store(progress.running, Ordering::Release);
        Some(progress.next - 1)
    }

    /// Claims and computes pieces until none is left.
    fn work(&self) {
        while let Some(index) = self.claim() {
            let result = run_piece(&self.runner, &self.batch, index, self.piece_rows);
            let mut progress = self.lock();
            progress.stopped |= result.is_err();
            progress.results[index] = Some(result);
            progress.running -= 1;
            self.running.store(progress.running, Ordering::Release);
            if progress.running == 0 {
                self.idle.notify_all();
            }
        }
    }

    /// Waits until no piece is being computed, then takes the results. Spins
    /// first: a helper's piece ends within a piece's time, and sleeping
    /// would add a wake-up to the answer.
    fn wait_idle(&self) -> Vec<Option<Result<Vec<f32>>>> {
        let until = Instant::now() + self.spin;
        while self.running.load(Ordering::Acquire) > 0 && Instant::now() < until {
            std::hint::spin_loop();
        }
        let mut progress = self.lock();
        while progress.running > 0 {
            progress = self.idle.wait(progress).unwrap_or_else(PoisonError::into_inner);
        }
        std::mem::take(&mut progress.results)
    }
}

impl Job for SharedBatch {
    fn wants_help(&self) -> bool {
        self.open.load(Ordering::Acquire) && self.helpers_joined.load(Ordering::Acquire) < self.max_helpers
    }

    fn help(&self) {
        if self.helpers_joined.fetch_add(1, Ordering::AcqRel) < self.max_helpers {
            self.work();
        }
    }

    fn spin(&self) -> Duration {
        self.spin
    }
}

/// Output-major values for all rows from the pieces' own output-major values.
fn assemble(
    results: Vec<Option<Result<Vec<f32>>>>,
    rows: usize,
    piece_rows: usize,
    outputs: usize,
    at_answer: &str,
) -> Result<Vec<f32>> {
    // Pieces are claimed in order, so unclaimed ones only follow a failed
    // one; the first failure is the error to report.
    let mut parts = Vec::with_capacity(results.len());
    let mut unclaimed = None;
    for (index, result) in results.into_iter().enumerate() {
        match result {
            Some(Ok(values)) => parts.push(values),
            Some(Err(e)) => return Err(e),
            None => unclaimed = unclaimed.or(Some(index)),
        }
    }
    if let Some(index) = unclaimed {
        return Err(Error::inference(
            at_answer,
            format!("piece {index} of the batch was not computed"),
        ));
    }
    let mut values = Vec::with_capacity(outputs * rows);
    for k in 0..outputs {
        for (index, part) in parts.iter().enumerate() {
            let n = piece_rows.min(rows - index * piece_rows);
            values.extend_from_slice(&part[k * n..(k + 1) * n]);
        }
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use std::sync::Arc;

    use arrow_array::{ArrayRef, Float32Array, RecordBatch};

    use super::*;

    /// Doubles its one feature; panics or fails on a chosen value, so a
    /// piece in the middle of a batch can be made to break.
    #[derive(Debug)]
    struct Doubler {
        panic_on: Option<f32>,
        fail_on: Option<f32>,
    }

    impl Model for Doubler {
        fn input_width(&self) -> usize {
            1
        }
        fn output_width(&self) -> usize {
            1
        }
        fn forward_columns(&self, features: &[f32], _rows: usize) -> Result<Vec<f32>> {
            if features.iter().any(|&v| Some(v) == self.panic_on) {
                panic!("a broken kernel");
            }
            if features.iter().any(|&v| Some(v) == self.fail_on) {
                return Err(Error::inference("test", "refused a value"));
            }
            Ok(features.iter().map(|v| v * 2.0).collect())
        }
    }

    fn runner(panic_on: Option<f32>, fail_on: Option<f32>) -> Arc<PieceRunner> {
        Arc::new(PieceRunner {
            model: Box::new(Doubler { panic_on, fail_on }),
            transforms: None,
            features: vec!["x".to_owned()],
            at_door: "door".to_owned(),
            at_answer: "answer".to_owned(),
            max_reported_rows: 5,
            admitted: None,
        })
    }

    fn batch(rows: usize) -> RecordBatch {
        let x: Vec<f32> = (0..rows).map(|i| i as f32).collect();
        RecordBatch::try_from_iter([("x", Arc::new(Float32Array::from(x)) as ArrayRef)]).unwrap()
    }

    fn split(threads: usize) -> Split {
        Split {
            threads,
            min_rows: 16,
            max_rows: 1000,
            spin: Duration::from_micros(100),
        }
    }

    #[test]
    fn pieces_are_sized_by_threads_and_bounded_both_ways() {
        assert_eq!(split(1).piece_rows(5000), 1000);
        assert_eq!(split(1).piece_rows(10), 10);
        assert_eq!(split(2).piece_rows(1024), 128);
        assert_eq!(split(2).piece_rows(40), 16);
        assert_eq!(split(8).piece_rows(1_000_000), 1000);
    }

    #[test]
    fn every_row_is_answered_in_order_whatever_the_threads() {
        for threads in [1, 2, 4] {
            for rows in [0, 1, 16, 17, 1000, 4099] {
                let values = run_shared(&runner(None, None), &batch(rows), split(threads)).unwrap();
                let expected: Vec<f32> = (0..rows).map(|i| i as f32 * 2.0).collect();
                assert_eq!(values, expected, "{rows} rows on {threads} threads");
            }
        }
    }

    #[test]
    fn many_callers_share_the_helpers_and_each_gets_its_own_answer() {
        std::thread::scope(|s| {
            for caller in 0..8 {
                s.spawn(move || {
                    for round in 0..20 {
                        let rows = 500 + 37 * caller + round;
                        let values = run_shared(&runner(None, None), &batch(rows), split(2)).unwrap();
                        assert_eq!(values.len(), rows);
                        assert!(values.iter().enumerate().all(|(i, &v)| v == i as f32 * 2.0));
                    }
                });
            }
        });
    }

    #[test]
    fn a_caller_on_a_rayon_worker_spreads_pieces_there_with_the_same_answer_and_errors() {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        let values = pool
            .install(|| run_shared(&runner(None, None), &batch(3000), split(2)))
            .unwrap();
        assert_eq!(values, (0..3000).map(|i| i as f32 * 2.0).collect::<Vec<_>>());
        let e = pool
            .install(|| run_shared(&runner(Some(700.0), None), &batch(1024), split(2)))
            .unwrap_err();
        assert!(e.to_string().contains("panicked on rows 640..768"), "{e}");
    }

    #[test]
    fn a_panicking_piece_is_an_error_naming_its_rows_and_helpers_survive_it() {
        for threads in [1, 2] {
            let e = run_shared(&runner(Some(700.0), None), &batch(1024), split(threads)).unwrap_err();
            let message = e.to_string();
            assert!(matches!(e, Error::Inference { .. }), "{message}");
            // 1,024 rows in pieces of 1,000 (one thread) or 128 (two).
            let rows = if threads == 1 { "0..1000" } else { "640..768" };
            assert!(message.contains(&format!("panicked on rows {rows}")), "{message}");
        }
        // The pool still answers afterwards.
        let values = run_shared(&runner(None, None), &batch(1024), split(2)).unwrap();
        assert_eq!(values.len(), 1024);
    }

    #[test]
    fn a_failing_piece_fails_the_batch_with_its_own_error() {
        let e = run_shared(&runner(None, Some(900.0)), &batch(1024), split(2)).unwrap_err();
        assert!(e.to_string().contains("refused a value"), "{e}");
    }
}
