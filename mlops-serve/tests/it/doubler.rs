//! A small, real predictor for the serving-mode tests (y = 2x + 1) and their helpers.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::{Array, Float32Array, Float64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use mlops_core::{RowViolation, RuleKind};
use mlops_serve::{Error, Predict, Prediction, Result};

/// Asking for this `x` makes the whole batch fail (a batch-level refusal).
pub(crate) const POISON: f64 = -1.0;
/// Asking for this `x` makes the predictor panic.
pub(crate) const BOMB: f64 = 666.0;

/// Holds predictor calls until opened (at most 10 s, so a broken test cannot hang).
#[derive(Debug, Default)]
pub(crate) struct Gate {
    open: Mutex<bool>,
    opened: Condvar,
    entered: AtomicUsize,
}

impl Gate {
    pub(crate) fn new() -> Arc<Gate> {
        Arc::new(Gate::default())
    }

    fn pass(&self) {
        self.entered.fetch_add(1, Ordering::SeqCst);
        let open = self.open.lock().unwrap();
        let _unused = self
            .opened
            .wait_timeout_while(open, Duration::from_secs(10), |open| !*open)
            .unwrap();
    }

    pub(crate) fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.opened.notify_all();
    }

    /// Waits until `n` calls have reached the gate.
    pub(crate) fn wait_entered(&self, n: usize) {
        let start = Instant::now();
        while self.entered.load(Ordering::SeqCst) < n {
            assert!(start.elapsed() < Duration::from_secs(5), "predictor never called");
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// y = 2x + 1 over column `x` (Float32 or Float64); rows where x is NaN or null
/// are refused (null y, listed in `rejected_rows`).
#[derive(Debug, Default)]
pub(crate) struct Affine {
    /// Sleep this long in every call.
    pub(crate) delay: Duration,
    /// Sleep `delay` only for batches whose first x is even (answers finish out of order).
    pub(crate) uneven: bool,
    pub(crate) gate: Option<Arc<Gate>>,
    /// Every x value seen, in call order.
    pub(crate) seen: Mutex<Vec<f64>>,
    /// Rows of each call.
    pub(crate) calls: Mutex<Vec<usize>>,
}

impl Affine {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    pub(crate) fn with_gate(mut self, gate: &Arc<Gate>) -> Self {
        self.gate = Some(Arc::clone(gate));
        self
    }

    pub(crate) fn uneven(mut self) -> Self {
        self.uneven = true;
        self
    }

    pub(crate) fn calls(&self) -> Vec<usize> {
        self.calls.lock().unwrap().clone()
    }

    pub(crate) fn seen(&self) -> Vec<f64> {
        self.seen.lock().unwrap().clone()
    }
}

impl Predict for Affine {
    fn model_name(&self) -> &str {
        "affine"
    }

    fn input_schema(&self) -> SchemaRef {
        Arc::new(Schema::new(vec![Field::new("x", DataType::Float64, true)]))
    }

    fn output_schema(&self) -> SchemaRef {
        Arc::new(Schema::new(vec![Field::new("y", DataType::Float64, true)]))
    }

    fn predict_detailed(&self, batch: &RecordBatch) -> Result<Prediction> {
        if let Some(gate) = &self.gate {
            gate.pass();
        }
        let x = batch.column_by_name("x").ok_or_else(|| Error::SchemaMismatch {
            location: "affine input".into(),
            message: "missing column `x`".into(),
        })?;
        let x = arrow_cast::cast(x, &DataType::Float64).map_err(|source| Error::Arrow {
            location: "affine input `x`".into(),
            source,
        })?;
        let x = x.as_primitive::<Float64Type>();
        self.calls.lock().unwrap().push(batch.num_rows());
        self.seen
            .lock()
            .unwrap()
            .extend(x.iter().map(|v| v.unwrap_or(f64::NAN)));
        let first_even = x.iter().next().flatten().is_some_and(|v| (v as i64) % 2 == 0);
        if !self.delay.is_zero() && (!self.uneven || first_even) {
            std::thread::sleep(self.delay);
        }
        if x.iter().flatten().any(|v| v == POISON) {
            return Err(Error::invalid_input("row", "affine input `x`", "x = -1", "x != -1"));
        }
        if x.iter().flatten().any(|v| v == BOMB) {
            panic!("x = 666 blows the model up");
        }
        let mut rejected = RowViolation::new("x", RuleKind::NonFinite, "a finite, non-null x");
        let y: Float64Array = x
            .iter()
            .enumerate()
            .map(|(row, v)| match v {
                Some(v) if v.is_finite() => Some(2.0 * v + 1.0),
                other => {
                    rejected.record(row, || format!("{other:?}"), 1000);
                    None
                }
            })
            .collect();
        let answer = RecordBatch::try_new(self.output_schema(), vec![Arc::new(y)]).unwrap();
        let rows = rejected.rows.clone();
        let mut prediction = Prediction::clean(answer);
        if !rows.is_empty() {
            prediction.rejected_rows = rows;
            prediction.rejected = vec![rejected];
        }
        Ok(prediction)
    }
}

/// A batch with column `x` (Float64).
pub(crate) fn xs(values: &[f64]) -> RecordBatch {
    RecordBatch::try_from_iter([("x", Arc::new(Float64Array::from(values.to_vec())) as _)]).unwrap()
}

/// A batch with column `x` as Float32.
pub(crate) fn xs32(values: &[f32]) -> RecordBatch {
    RecordBatch::try_from_iter([("x", Arc::new(Float32Array::from(values.to_vec())) as _)]).unwrap()
}

/// The `y` column of an answer, nulls as `None`.
pub(crate) fn ys(prediction: &Prediction) -> Vec<Option<f64>> {
    let y = prediction
        .batch
        .column_by_name("y")
        .unwrap()
        .as_primitive::<Float64Type>();
    (0..y.len()).map(|i| y.is_valid(i).then(|| y.value(i))).collect()
}

/// Runs `f` on its own thread and fails the test if it takes over `secs` seconds.
pub(crate) fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(secs))
        .expect("timed out (or the closure panicked)")
}
