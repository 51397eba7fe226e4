//! A small real scorer with switchable faults, and helpers for deployment tests.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::{Float32Array, Float64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use mlops_serve::deployment::{Deployment, DeploymentConfig, ManualClock, SeededKeys};
use mlops_serve::{Error, Predict, Prediction, Result};

/// A binary classifier: `proba_pos = sigmoid(x + offset)`, `label` = pos/neg.
///
/// Faults, switchable while it serves: fail one request in `fail_every`, or
/// every request; spin `busy` per call (a slower model).
#[derive(Debug, Default)]
pub(crate) struct Scorer {
    pub(crate) offset: f64,
    pub(crate) version: Option<u64>,
    pub(crate) fail_every: AtomicU64,
    pub(crate) failing: AtomicBool,
    pub(crate) busy: Duration,
    pub(crate) calls: AtomicU64,
    /// While set, calls wait here (at most 10 s) before answering.
    pub(crate) hold: Option<Arc<Hold>>,
}

/// Holds a predictor's calls until released.
#[derive(Debug, Default)]
pub(crate) struct Hold {
    released: std::sync::Mutex<bool>,
    changed: std::sync::Condvar,
}

impl Hold {
    pub(crate) fn release(&self) {
        *self.released.lock().unwrap() = true;
        self.changed.notify_all();
    }

    fn wait(&self) {
        let released = self.released.lock().unwrap();
        let _unused = self
            .changed
            .wait_timeout_while(released, Duration::from_secs(10), |r| !*r)
            .unwrap();
    }
}

impl Scorer {
    pub(crate) fn new(offset: f64) -> Self {
        Scorer {
            offset,
            ..Self::default()
        }
    }

    pub(crate) fn failing_one_in(self, n: u64) -> Self {
        self.fail_every.store(n, Ordering::SeqCst);
        self
    }

    pub(crate) fn busy(mut self, busy: Duration) -> Self {
        self.busy = busy;
        self
    }

    pub(crate) fn held(mut self, hold: &Arc<Hold>) -> Self {
        self.hold = Some(Arc::clone(hold));
        self
    }

    pub(crate) fn reporting_version(mut self, version: u64) -> Self {
        self.version = Some(version);
        self
    }

    pub(crate) fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }
}

impl Predict for Scorer {
    fn version(&self) -> Option<u64> {
        self.version
    }

    fn model_name(&self) -> &str {
        "scorer"
    }

    fn input_schema(&self) -> SchemaRef {
        Arc::new(Schema::new(vec![Field::new("x", DataType::Float64, true)]))
    }

    fn output_schema(&self) -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("label", DataType::Utf8, true),
            Field::new("proba_pos", DataType::Float32, true),
        ]))
    }

    fn predict_detailed(&self, batch: &RecordBatch) -> Result<Prediction> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if let Some(hold) = &self.hold {
            hold.wait();
        }
        if !self.busy.is_zero() {
            let until = Instant::now() + self.busy;
            while Instant::now() < until {
                std::hint::spin_loop();
            }
        }
        let every = self.fail_every.load(Ordering::SeqCst);
        if self.failing.load(Ordering::SeqCst) || (every > 0 && call.is_multiple_of(every)) {
            return Err(Error::inference(
                "model `scorer`",
                format!("injected failure on call {call}"),
            ));
        }
        let x = batch
            .column_by_name("x")
            .and_then(|c| c.as_primitive_opt::<Float64Type>())
            .ok_or_else(|| Error::SchemaMismatch {
                location: "model `scorer` input".into(),
                message: "needs Float64 `x`".into(),
            })?;
        let p: Vec<f32> = x
            .iter()
            .map(|v| sigmoid(v.unwrap_or(0.0) + self.offset) as f32)
            .collect();
        let labels: StringArray = p.iter().map(|&p| Some(if p > 0.5 { "pos" } else { "neg" })).collect();
        let out = RecordBatch::try_new(
            self.output_schema(),
            vec![Arc::new(labels), Arc::new(Float32Array::from(p))],
        )
        .unwrap();
        Ok(Prediction::clean(out))
    }
}

pub(crate) fn sigmoid(v: f64) -> f64 {
    1.0 / (1.0 + (-v).exp())
}

pub(crate) fn x(values: &[f64]) -> RecordBatch {
    RecordBatch::try_from_iter([("x", Arc::new(Float64Array::from(values.to_vec())) as _)]).unwrap()
}

/// A deployment of any predictor as `version`, in virtual time, with reproducible keys.
pub(crate) fn deployment_of(stable: Arc<dyn Predict>, version: u64) -> Arc<Deployment> {
    let config = DeploymentConfig::default()
        .with_clock(Arc::new(ManualClock::new()))
        .with_keys(Arc::new(SeededKeys::new(11)));
    Arc::new(Deployment::new("model", version, stable, config).unwrap())
}

/// A deployment of `stable` as version 1 in virtual time, with reproducible
/// keys and a shadow queue deep enough that tests never drop shadow work.
pub(crate) fn deployment(stable: Arc<Scorer>) -> (Arc<Deployment>, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new());
    let config = DeploymentConfig::default()
        .with_clock(clock.clone())
        .with_keys(Arc::new(SeededKeys::new(7)))
        .with_shadow_pool(1, 100_000);
    (Arc::new(Deployment::new("scorer", 1, stable, config).unwrap()), clock)
}

/// Sends `n` single-row requests with fresh keys; returns how many each version answered
/// (index = version) and the errors.
pub(crate) fn send(deployment: &Deployment, n: usize) -> ([u64; 8], u64) {
    let mut by_version = [0u64; 8];
    let mut errors = 0;
    let batch = x(&[0.25]);
    for _ in 0..n {
        match deployment.predict(None, &batch) {
            Ok(a) => by_version[a.version as usize] += 1,
            Err(_) => errors += 1,
        }
    }
    (by_version, errors)
}

/// Waits (at most 5 s) until the shadow pool has answered or failed every
/// request sent to `version`; the report then.
pub(crate) fn drain(d: &Deployment, version: u64) -> mlops_serve::deployment::ShadowReport {
    let start = Instant::now();
    loop {
        let r = d.shadow_report(version, None).unwrap();
        if r.failed + r.rows >= r.sent && d.shadow_queued() == 0 {
            return r;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "shadow pool never drained: {r:?}"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Flags drift when the means of two score samples differ by more than `threshold`.
#[derive(Debug)]
pub(crate) struct MeanShift(pub(crate) f64);

impl mlops_core::DriftDetector for MeanShift {
    fn method(&self) -> &str {
        "mean_shift"
    }

    fn detect(
        &self,
        reference: &dyn arrow_array::Array,
        current: &dyn arrow_array::Array,
    ) -> Result<mlops_core::DriftResult> {
        let mean = |a: &dyn arrow_array::Array| {
            let a = a.as_primitive::<Float64Type>();
            a.iter().flatten().sum::<f64>() / a.len().max(1) as f64
        };
        let d = (mean(current) - mean(reference)).abs();
        Ok(mlops_core::DriftResult::new(
            "mean_shift",
            d,
            None,
            d,
            self.0,
            d > self.0,
        ))
    }
}
