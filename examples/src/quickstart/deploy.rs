//! Stages 8 and 9: the champion deployed behind a [`Deployment`] on a virtual
//! clock, with a monitor on its prediction events; today's traffic answered
//! through it, and its drift against the training data reported.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use arrow_array::Array;
use arrow_array::cast::AsArray;
use arrow_array::types::Float32Type;
use mlops_core::{PredictionSink, Registry, StoreRegistry};
use mlops_monitor::drift::{DataDrift, DriftConfig, html as drift_html};
use mlops_monitor::monitor::{Alert, AlertPolicy, Monitor, MonitorConfig};
use mlops_serve::deployment::{Deployment, DeploymentConfig, ManualClock, SeededKeys, routing_key};
use mlops_serve::{Predict, Predictor};

use super::gate::serving_config;
use super::labels::{DelayedLabels, LABEL};
use super::traffic::Pool;
use super::training::Lab;
use super::{BoxError, MODEL, Settings};

/// Virtual time between two requests.
pub(crate) const REQUEST_INTERVAL: Duration = Duration::from_millis(500);
/// Rows the monitor compares with the training data at a time.
const DRIFT_WINDOW_ROWS: usize = 1000;
/// The share of drifted feature columns that raises the monitor's alert.
pub(crate) const DRIFT_ALERT_SHARE: f64 = 0.5;

/// The running deployment and everything around it.
pub(crate) struct Deployed {
    /// Routes requests between loaded versions.
    pub deployment: Arc<Deployment>,
    /// The deployment's virtual clock.
    pub clock: Arc<ManualClock>,
    /// Receives prediction events (features included) from every version.
    pub monitor: Monitor,
    /// Where the monitor's alert callback puts the alerts it raised.
    pub alerts: Receiver<Alert>,
    /// The version taking all traffic.
    pub stable: u64,
    /// Requests served so far (request ids and routing keys come from it).
    pub served: u64,
    /// Async runtime for the registry calls made from rollout hooks.
    pub runtime: tokio::runtime::Handle,
}

/// A predictor for `version` of the registry's model, reporting to `sink`.
async fn load_predictor(
    registry: &StoreRegistry,
    sink: Arc<dyn PredictionSink>,
    version: u64,
) -> Result<Arc<dyn Predict>, BoxError> {
    let package = registry.load(MODEL, version).await?;
    Ok(Arc::new(Predictor::from_package(
        &package,
        serving_config(version).with_sink(sink),
    )?))
}

impl Deployed {
    /// A predictor for `version` of the registry's model, reporting to the monitor.
    pub(crate) async fn predictor(&self, registry: &StoreRegistry, version: u64) -> Result<Arc<dyn Predict>, BoxError> {
        load_predictor(registry, self.monitor.sink(), version).await
    }

    /// Sends row `row` of `pool` as one request, half a virtual second after
    /// the previous one; its label goes to `labels`, to arrive later. A
    /// failed request is the deployment's to count (its windows feed the gates).
    pub(crate) fn serve(&mut self, pool: &Pool, row: usize, labels: Option<&DelayedLabels>) {
        self.clock.advance(REQUEST_INTERVAL);
        self.served += 1;
        let (batch, truth) = pool.request(row);
        let key = routing_key(&format!("application-{}", self.served));
        let (version, answer) = self.deployment.predict_routed(Some(key), &batch);
        let score = answer.ok().and_then(|a| {
            let proba = a.prediction.batch.column_by_name("proba_defaulted")?;
            let proba = proba.as_primitive_opt::<Float32Type>()?;
            (proba.len() == 1 && proba.is_valid(0)).then(|| f64::from(proba.value(0)))
        });
        if let (Some(labels), Some(version), Some(score)) = (labels, version, score) {
            labels.answered(version, score, truth);
        }
    }
}

/// Stage 8: deploys `champion`, answers today's traffic, then stage 9: its drift report.
pub(crate) async fn run(
    settings: &Settings,
    lab: &Lab,
    registry: &StoreRegistry,
    champion: u64,
) -> Result<Deployed, BoxError> {
    let (sender, alerts) = channel::<Alert>();
    // The callback only hands the alert over: retraining is slow, and a
    // callback runs on the monitor's worker, which must keep draining events.
    let sender = Mutex::new(sender);
    let forward = move |alert: &Alert| {
        let sender: &Sender<Alert> = &sender.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = sender.send(alert.clone());
    };
    let reference = Pool::from_batches(&lab.fit)?.features().clone();
    let mut config = MonitorConfig::default()
        .with_reference(vec![reference], DRIFT_WINDOW_ROWS)
        .with_policy(AlertPolicy::DriftShareAtLeast(DRIFT_ALERT_SHARE))
        .with_callback(Arc::new(forward));
    config.max_buffered_rows = DRIFT_WINDOW_ROWS;
    let monitor = Monitor::start(config)?;
    let clock = Arc::new(ManualClock::new());
    let deployment_config = DeploymentConfig::default()
        .with_clock(clock.clone())
        .with_keys(Arc::new(SeededKeys::new(7)));
    let predictor = load_predictor(registry, monitor.sink(), champion).await?;
    let deployed = Deployed {
        deployment: Arc::new(Deployment::new(MODEL, champion, predictor, deployment_config)?),
        clock,
        monitor,
        alerts,
        stable: champion,
        served: 0,
        runtime: tokio::runtime::Handle::current(),
    };

    let (mut answered, mut refused, mut flagged) = (0usize, 0usize, 0usize);
    let (mut predicted, mut actual) = (0.0f64, 0usize);
    for batch in &lab.serving {
        let answer = deployed.deployment.predict(None, batch)?.prediction;
        refused += answer.rejected_rows.len();
        flagged += answer.flagged.iter().map(|v| v.count).sum::<usize>();
        answered += batch.num_rows() - answer.rejected_rows.len();
        let p = answer
            .batch
            .column_by_name("proba_defaulted")
            .ok_or("no proba_defaulted column")?;
        predicted += p
            .as_primitive::<Float32Type>()
            .iter()
            .flatten()
            .map(f64::from)
            .sum::<f64>();
        actual += batch
            .column_by_name(LABEL)
            .ok_or("no label column")?
            .as_boolean()
            .true_count();
    }
    println!(
        "\n== 8. Deployed version {champion} and served today's traffic: {answered} rows answered, {refused} refused at the door, \
         {flagged} values flagged; mean predicted default probability {:.4}, observed default rate {:.4}",
        predicted / answered.max(1) as f64,
        actual as f64 / answered.max(1) as f64
    );
    drift_of_todays_traffic(settings).await?;
    Ok(deployed)
}

/// Stage 9: Evidently's default methods, serving traffic against training data.
async fn drift_of_todays_traffic(settings: &Settings) -> Result<(), BoxError> {
    println!("\n== 9. Drift of serving traffic against training data");
    // CPU-bound work on rayon: keep it off the async runtime's threads.
    let (reference, current) = (settings.train.clone(), settings.serving.clone());
    let drift =
        tokio::task::spawn_blocking(move || DataDrift::new(DriftConfig::default()).compare_parquet(reference, current))
            .await??;
    for c in drift.columns.iter().filter(|c| c.drifted) {
        println!(
            "drifted: {:<14} {:<14} score {:.4} (threshold {})",
            c.name,
            c.method.map_or("–", |m| m.name()),
            c.score.unwrap_or(f64::NAN),
            c.threshold.unwrap_or(f64::NAN)
        );
    }
    let out = &settings.out;
    std::fs::write(out.join("drift.json"), drift.to_json_pretty()?)?;
    std::fs::write(
        out.join("drift.html"),
        drift_html::render(&drift, "Serving traffic vs training data"),
    )?;
    println!(
        "{} of {} columns drifted (dataset drift: {}); wrote {} and drift.html",
        drift.number_of_drifted_columns,
        drift.number_of_columns,
        drift.dataset_drift,
        out.join("drift.json").display()
    );
    Ok(())
}
