//! The service's state: the model, its deployment, keys, throttling, metrics.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Instant;

use arrow_schema::SchemaRef;
use axum::http::{HeaderMap, StatusCode, header};
use mlops_core::{ModelPackage, Package, Signature};
use mlops_monitor::export::OperationalMetrics;
use mlops_serve::deployment::{Answer, Deployment, DeploymentConfig, routing_key};
use mlops_serve::{Batcher, BatcherConfig, Predict, Predictor, PredictorConfig};
use tokio::sync::OwnedSemaphorePermit;

use super::auth::{ApiKeys, ClientId};
use super::control::{Control, RolloutSettings, StrategyKind};
use super::errors::ApiError;
use super::throttle::{Refusal, Throttle};

/// How the service admits requests.
#[derive(Clone, Debug)]
pub struct ServiceConfig {
    /// Keys for inference and metadata (`None`: no authentication).
    pub api_keys: Option<ApiKeys>,
    /// Keys for the admin endpoints (`None`: admin endpoints refuse everyone).
    pub admin_keys: Option<ApiKeys>,
    /// Requests per second per client key (`None`: unlimited).
    pub rate: Option<f64>,
    /// Requests a client may burst above its rate.
    pub burst: f64,
    /// Requests in flight at once, over all clients.
    pub max_in_flight: usize,
    /// Largest request body, bytes (over it: 413).
    pub max_body_bytes: usize,
    /// How rollouts run.
    pub rollout: RolloutSettings,
    /// The micro-batcher in front of each version.
    pub batcher: BatcherConfig,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            api_keys: None,
            admin_keys: None,
            rate: None,
            burst: 20.0,
            max_in_flight: 256,
            max_body_bytes: 4 << 20,
            rollout: RolloutSettings::default(),
            batcher: BatcherConfig::default(),
        }
    }
}

/// What exists once the model is loaded and smoke-tested.
pub struct Live {
    /// The versions and the routing between them.
    pub deployment: Arc<Deployment>,
    /// The input columns.
    pub signature: Signature,
    /// The output columns.
    pub outputs: SchemaRef,
    /// Rollout control.
    pub control: Mutex<Control>,
}

/// The service: shared by every request handler.
pub struct Service {
    /// The model's name (its package name).
    pub model: String,
    /// Settings.
    pub config: ServiceConfig,
    live: OnceLock<Live>,
    throttle: Throttle,
    metrics: OperationalMetrics,
    responses: Mutex<BTreeMap<u16, u64>>,
    in_flight: AtomicU64,
}

impl Service {
    /// A service for `model`, not ready until [`go_live`](Self::go_live).
    pub fn new(model: &str, config: ServiceConfig) -> Arc<Service> {
        Arc::new(Service {
            model: model.to_owned(),
            throttle: Throttle::new(config.rate, config.burst, config.max_in_flight),
            config,
            live: OnceLock::new(),
            metrics: OperationalMetrics::new(),
            responses: Mutex::new(BTreeMap::new()),
            in_flight: AtomicU64::new(0),
        })
    }

    /// Loads the stable package (version 1) and the candidate (version 2), each
    /// smoke-tested and behind its own micro-batcher, and starts `strategy`
    /// if one is given. Blocking: call it off the async executor.
    pub fn go_live(
        &self,
        stable: &Package,
        candidate: Option<&Package>,
        strategy: Option<StrategyKind>,
    ) -> Result<(), String> {
        let arm = |package: &Package, version: u64| -> Result<Arc<dyn Predict>, String> {
            let predictor = Predictor::from_package(package, PredictorConfig::default().with_version(version))
                .map_err(|e| format!("package `{}`: {e}", package.name()))?;
            let batcher = Batcher::new(Arc::new(predictor), self.config.batcher.clone()).map_err(|e| e.to_string())?;
            Ok(Arc::new(batcher))
        };
        if let Some(package) = candidate
            && package.name() != stable.name()
        {
            return Err(format!(
                "the candidate package is `{}`, the stable one `{}`: a rollout is between versions of one model",
                package.name(),
                stable.name()
            ));
        }
        let first = arm(stable, 1)?;
        let second = candidate.map(|p| arm(p, 2)).transpose()?;
        self.go_live_with(first, second, stable.input_signature().clone(), strategy)
    }

    /// Puts predictors of your own live: `stable` as version 1, `candidate`
    /// as version 2 (put a [`Batcher`] in front of each to merge concurrent
    /// requests), with the input `signature` the routes decode requests by.
    pub fn go_live_with(
        &self,
        stable: Arc<dyn Predict>,
        candidate: Option<Arc<dyn Predict>>,
        signature: Signature,
        strategy: Option<StrategyKind>,
    ) -> Result<(), String> {
        let outputs = stable.output_schema();
        let deployment =
            Arc::new(Deployment::new(&self.model, 1, stable, DeploymentConfig::default()).map_err(|e| e.to_string())?);
        let candidate_version = match candidate {
            Some(predictor) => {
                deployment.load(2, predictor).map_err(|e| e.to_string())?;
                Some(2)
            }
            None => None,
        };
        let mut control = Control::new(
            Arc::clone(&deployment),
            1,
            candidate_version,
            self.config.rollout.clone(),
        );
        if let Some(kind) = strategy {
            control.start(kind)?;
        }
        self.live
            .set(Live {
                deployment,
                signature,
                outputs,
                control: Mutex::new(control),
            })
            .map_err(|_| "the service is already live".to_owned())
    }

    /// The live state, or 503 while the model loads.
    pub fn live(&self) -> Result<&Live, ApiError> {
        self.live
            .get()
            .ok_or_else(|| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "the model is still loading"))
    }

    /// Whether the model is loaded and smoke-tested.
    pub fn is_ready(&self) -> bool {
        self.live.get().is_some()
    }

    /// 404 unless `name` is the model's.
    pub fn check_model(&self, name: &str) -> Result<(), ApiError> {
        if name == self.model {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::NOT_FOUND,
                format!("unknown model `{name}` (this service serves `{}`)", self.model),
            ))
        }
    }

    /// Who is calling: the API key's client id (401 without a valid key when
    /// keys are configured), else the peer's address.
    pub fn authenticate(&self, headers: &HeaderMap, peer: SocketAddr) -> Result<ClientId, ApiError> {
        match &self.config.api_keys {
            None => Ok(ClientId(peer.ip().to_string())),
            Some(keys) => keys.check(bearer(headers)).ok_or_else(|| {
                // The key itself is never logged.
                tracing::info!(%peer, "request with a missing or invalid API key");
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "missing or invalid API key (Authorization: Bearer <key>)",
                )
            }),
        }
    }

    /// 401/403 unless the request carries an admin key.
    pub fn authenticate_admin(&self, headers: &HeaderMap) -> Result<ClientId, ApiError> {
        let Some(keys) = &self.config.admin_keys else {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "admin endpoints are disabled (start the service with --admin-keys FILE)",
            ));
        };
        keys.check(bearer(headers))
            .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "missing or invalid admin key"))
    }

    /// Lets a request in (429 over the client's rate or the in-flight cap).
    pub fn admit(&self, client: &ClientId) -> Result<OwnedSemaphorePermit, ApiError> {
        self.throttle.admit(client).map_err(|refusal| match refusal {
            Refusal::RateLimited { retry_after } => {
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate limit exceeded for this key")
                    .retry_after(retry_after)
            }
            Refusal::Busy => ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too many requests in flight")
                .retry_after(std::time::Duration::from_secs(1)),
        })
    }

    /// Answers `batch` on the version its routing key picks, off the async
    /// executor (the batcher blocks its caller), and records the metrics.
    pub async fn predict(&self, headers: &HeaderMap, batch: arrow_array::RecordBatch) -> Result<Answer, ApiError> {
        let live = self.live()?;
        let key = headers
            .get("x-routing-key")
            .and_then(|v| v.to_str().ok())
            .map(routing_key);
        let deployment = Arc::clone(&live.deployment);
        let started = Instant::now();
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        let result = tokio::task::spawn_blocking(move || deployment.predict_routed(key, &batch)).await;
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
        let (version, answer) =
            result.map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("worker failed: {e}")))?;
        let version = version.map_or_else(|| "unrouted".to_owned(), |v| v.to_string());
        self.metrics
            .record(&self.model, &version, started.elapsed(), answer.is_ok());
        answer.map_err(|e| ApiError::from_runtime(&e))
    }

    /// Counts an answer by status code.
    pub fn count_response(&self, status: StatusCode) {
        *self
            .responses
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(status.as_u16())
            .or_default() += 1;
    }

    /// The Prometheus page: per-version requests, errors and latency
    /// histograms, responses by status, requests in flight, rollout state.
    pub fn metrics_text(&self) -> String {
        let mut text = self.metrics.render();
        text.push_str("# HELP mlops_http_responses_total HTTP answers by status code.\n");
        text.push_str("# TYPE mlops_http_responses_total counter\n");
        for (code, n) in self.responses.lock().unwrap_or_else(PoisonError::into_inner).iter() {
            text.push_str(&format!("mlops_http_responses_total{{code=\"{code}\"}} {n}\n"));
        }
        text.push_str("# HELP mlops_http_in_flight Requests being answered now.\n# TYPE mlops_http_in_flight gauge\n");
        text.push_str(&format!(
            "mlops_http_in_flight {}\n",
            self.in_flight.load(Ordering::Relaxed)
        ));
        if let Some(live) = self.live.get() {
            let (strategy, phase) = live.control.lock().unwrap_or_else(PoisonError::into_inner).phase();
            let state = live.deployment.state();
            text.push_str("# HELP mlops_rollout_phase The rollout running now (1 for its strategy and phase).\n");
            text.push_str("# TYPE mlops_rollout_phase gauge\n");
            text.push_str(&format!(
                "mlops_rollout_phase{{model=\"{}\",strategy=\"{strategy}\",phase=\"{phase}\"}} 1\n",
                self.model
            ));
            text.push_str("# HELP mlops_deployment_generation Changes to the deployment's routing so far.\n");
            text.push_str("# TYPE mlops_deployment_generation counter\n");
            text.push_str(&format!(
                "mlops_deployment_generation{{model=\"{}\"}} {}\n",
                self.model, state.generation
            ));
        }
        text
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok())
}
