//! Deployments: what routing and per-arm bookkeeping add to a request, and how
//! long a rollback takes from a failing gate to all traffic on the stable version.
//!
//! `cargo bench -p mlops-benches --bench bench_main -- deployment_`

use std::sync::Arc;
use std::time::Duration;

use arrow_array::{Float64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use criterion::{BatchSize, Criterion, criterion_group};
use mlops_serve::deployment::{
    CanaryPlan, Deployment, DeploymentConfig, ErrorRate, ManualClock, Mirror, Phase, Rollout, SeededKeys, Split,
    StepLength, Weight,
};
use mlops_serve::{Error, Predict, Prediction, Result};

/// Answers with a fixed batch: the cheapest possible model, so that what a
/// deployment adds is all that is measured. Fails every call when `failing`.
#[derive(Debug)]
struct Echo {
    answer: RecordBatch,
    failing: bool,
}

impl Echo {
    fn new(failing: bool) -> std::result::Result<Echo, arrow_schema::ArrowError> {
        let schema = Arc::new(Schema::new(vec![Field::new("prediction", DataType::Float64, true)]));
        Ok(Echo {
            answer: RecordBatch::try_new(schema, vec![Arc::new(Float64Array::from(vec![0.5]))])?,
            failing,
        })
    }
}

impl Predict for Echo {
    fn model_name(&self) -> &str {
        "echo"
    }

    fn input_schema(&self) -> SchemaRef {
        Arc::new(Schema::new(vec![Field::new("x", DataType::Float64, true)]))
    }

    fn output_schema(&self) -> SchemaRef {
        self.answer.schema()
    }

    fn predict_detailed(&self, _batch: &RecordBatch) -> Result<Prediction> {
        if self.failing {
            return Err(Error::inference("model `echo`", "injected failure"));
        }
        Ok(Prediction::clean(self.answer.clone()))
    }
}

type Setup<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn input() -> Setup<RecordBatch> {
    Ok(RecordBatch::try_from_iter([(
        "x",
        Arc::new(Float64Array::from(vec![1.0])) as _,
    )])?)
}

fn routing(c: &mut Criterion) {
    let setup = || -> Setup<_> {
        let stable: Arc<dyn Predict> = Arc::new(Echo::new(false)?);
        let config = DeploymentConfig::default().with_keys(Arc::new(SeededKeys::new(1)));
        let canary = Deployment::new("echo", 1, Arc::clone(&stable), config.clone())?;
        canary.load(2, Arc::new(Echo::new(false)?))?;
        canary.set_strategy(Arc::new(Split::canary(1, 2, Weight::percent(10.0)?)))?;
        // Mirrors 0 % (the shadow check runs, nothing is sent).
        let mirror = Deployment::new("echo", 1, Arc::clone(&stable), config)?;
        mirror.load(2, Arc::new(Echo::new(false)?))?;
        mirror.set_strategy(Arc::new(Mirror::new(Arc::new(Split::all(1)), 2, Weight::ZERO)))?;
        Ok((stable, canary, mirror, input()?))
    };
    let (stable, canary, mirror, batch) = match setup() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("deployment benchmark setup failed: {e}");
            return;
        }
    };
    let mut group = c.benchmark_group("deployment_request");
    group.bench_function("predictor_alone", |b| b.iter(|| stable.predict_detailed(&batch)));
    group.bench_function("canary_10_percent", |b| b.iter(|| canary.predict(None, &batch)));
    group.bench_function("mirror_0_percent", |b| b.iter(|| mirror.predict(None, &batch)));
    group.finish();
}

/// A canary whose candidate has failed 200 requests under a critical error-rate gate.
fn failing_canary() -> Setup<(Arc<Deployment>, Rollout)> {
    let clock = Arc::new(ManualClock::new());
    let config = DeploymentConfig::default()
        .with_clock(clock)
        .with_keys(Arc::new(SeededKeys::new(5)));
    let deployment = Arc::new(Deployment::new("echo", 1, Arc::new(Echo::new(false)?), config)?);
    deployment.load(2, Arc::new(Echo::new(true)?))?;
    let plan = CanaryPlan::stepped(Weight::percent(20.0)?, Weight::percent(60.0)?)?
        .with_step_length(StepLength::time(Duration::from_secs(3600)))
        .with_critical_gate(Arc::new(ErrorRate {
            max: 0.01,
            min_samples: 100,
        }));
    let rollout = Rollout::canary(Arc::clone(&deployment), 1, 2, plan)?;
    let batch = input()?;
    for _ in 0..1_000 {
        let _answer = deployment.predict(None, &batch);
    }
    Ok((deployment, rollout))
}

fn rollback(c: &mut Criterion) {
    if let Err(e) = failing_canary() {
        eprintln!("rollback benchmark setup failed: {e}");
        return;
    }
    let mut group = c.benchmark_group("deployment_rollback");
    // From the tick that finds the critical gate failing to all traffic on
    // the stable version (gate evaluation, the swap and the record).
    group.bench_function("critical_gate_tick", |b| {
        b.iter_batched(
            || failing_canary().ok(),
            // The deployment is returned, so that its teardown is not timed.
            |setup| {
                let phase = setup
                    .as_ref()
                    .map(|(_, rollout)| rollout.tick().map(|p| p == Phase::RolledBack));
                (setup, phase)
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function("abort", |b| {
        b.iter_batched(
            || failing_canary().ok(),
            |setup| {
                let phase = setup.as_ref().map(|(_, rollout)| rollout.abort("benchmark"));
                (setup, phase)
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, routing, rollback);
