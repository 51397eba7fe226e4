//! The [`Deployment`]: the live versions of one model and how requests reach them.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use arc_swap::ArcSwap;
use arrow_array::RecordBatch;
use mlops_core::{DeploymentStrategy, DriftDetector};

use super::arm::Arm;
use super::clock::{Clock, SystemClock};
use super::routing::{KeySource, RandomKeys};
use super::shadow::{ShadowPool, ShadowReport};
use super::split::Split;
use super::window::WindowSnapshot;
use crate::{Error, Predict, Prediction, Result};

/// How a [`Deployment`] keeps time, draws keys and runs shadows.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct DeploymentConfig {
    /// Time for windows, steps and records (default: the system clock).
    pub clock: Arc<dyn Clock>,
    /// Keys for requests that carry none (default: random).
    pub keys: Arc<dyn KeySource>,
    /// Threads that run shadow requests: the shadow's concurrency budget (default 1).
    pub shadow_workers: usize,
    /// Shadow requests that may wait (default 64); more are dropped and counted.
    pub shadow_queue: usize,
}

impl Default for DeploymentConfig {
    fn default() -> Self {
        DeploymentConfig {
            clock: Arc::new(SystemClock::new()),
            keys: Arc::new(RandomKeys),
            shadow_workers: 1,
            shadow_queue: 64,
        }
    }
}

impl DeploymentConfig {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Sets the key source.
    pub fn with_keys(mut self, keys: Arc<dyn KeySource>) -> Self {
        self.keys = keys;
        self
    }

    /// Sets the shadow pool's threads and queue.
    pub fn with_shadow_pool(mut self, workers: usize, queue: usize) -> Self {
        self.shadow_workers = workers;
        self.shadow_queue = queue;
        self
    }
}

/// An answer, and which version gave it.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Answer {
    /// The version that answered.
    pub version: u64,
    /// The routing key the request was routed by.
    pub key: u64,
    /// The state generation the request was routed in (it grows by one per change).
    pub generation: u64,
    /// The answer.
    pub prediction: Prediction,
}

/// What is live: the loaded versions and the strategy that routes between them.
struct Live {
    strategy: Arc<dyn DeploymentStrategy>,
    arms: Vec<Arc<Arm>>,
    generation: u64,
}

impl Live {
    fn arm(&self, version: u64) -> Option<&Arc<Arm>> {
        self.arms.iter().find(|a| a.version == version)
    }
}

/// A read-only view of a deployment's live state.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeploymentState {
    /// The routing strategy's name.
    pub strategy: String,
    /// The versions the strategy routes to.
    pub routed: Vec<u64>,
    /// Every loaded version.
    pub loaded: Vec<u64>,
    /// Changes so far.
    pub generation: u64,
}

/// The live versions of one model, and one routing decision per request.
///
/// - **Atomic changes.** The loaded versions and the strategy live behind one
///   atomic pointer. A request loads it once and finishes on the version it
///   was routed to, whatever changes meanwhile; a change (load, unload, a new
///   strategy) is one pointer swap that the next request sees.
/// - **Sticky routing.** A request's key (a hash of a user id, see
///   [`routing_key`](super::routing_key)) falls in one of 10,000 buckets, and
///   the strategy gives each version a bucket range: the same key meets the
///   same version while the weights stand.
/// - **Bookkeeping.** Each version counts its requests, failures, refusals and
///   latencies in a window that rollouts open and judge.
/// - **Shadows** run on a bounded pool off the caller's path: when it is full
///   the shadow request is dropped and counted, and shadow errors never reach
///   the caller.
///
/// ```
/// # use std::sync::Arc;
/// # use arrow_array::{Float64Array, RecordBatch};
/// # use mlops_serve::deployment::{Deployment, DeploymentConfig, Split, Weight};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let (stable, candidate) = mlops_serve::deployment::doc_support::two_versions();
/// let deployment = Deployment::new("churn", 1, stable, DeploymentConfig::default())?;
/// deployment.load(2, candidate)?;
/// deployment.set_strategy(Arc::new(Split::canary(1, 2, Weight::percent(10.0)?)))?;
///
/// let batch = RecordBatch::try_from_iter([("x", Arc::new(Float64Array::from(vec![1.0])) as _)])?;
/// let answer = deployment.predict(Some(42), &batch)?;
/// assert!(answer.version == 1 || answer.version == 2);
/// // The same key meets the same version while the weights stand.
/// assert_eq!(deployment.predict(Some(42), &batch)?.version, answer.version);
/// # Ok(()) }
/// ```
pub struct Deployment {
    name: String,
    live: ArcSwap<Live>,
    /// Serialises changes (readers never take it).
    changing: std::sync::Mutex<()>,
    config: DeploymentConfig,
    shadows: ShadowPool,
    requests: AtomicU64,
}

impl fmt::Debug for Deployment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Deployment")
            .field("name", &self.name)
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

impl Deployment {
    /// A deployment of `name` where `stable` (version `version`) answers everything.
    pub fn new(name: &str, version: u64, stable: Arc<dyn Predict>, config: DeploymentConfig) -> Result<Deployment> {
        if config.shadow_workers == 0 {
            return Err(Error::invalid_input(
                "deployment setting",
                "DeploymentConfig::shadow_workers",
                "0",
                "at least 1",
            ));
        }
        let arm = Arc::new(Arm::new(version, stable, config.clock.elapsed())?);
        let shadows = ShadowPool::start(name, config.shadow_workers, config.shadow_queue)?;
        Ok(Deployment {
            name: name.to_owned(),
            live: ArcSwap::from_pointee(Live {
                strategy: Arc::new(Split::all(version)),
                arms: vec![arm],
                generation: 0,
            }),
            changing: std::sync::Mutex::new(()),
            config,
            shadows,
            requests: AtomicU64::new(0),
        })
    }

    /// The model's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The deployment's clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.config.clock
    }

    /// Answers `batch` on the version its key routes to (a fresh key when `None`).
    ///
    /// The version's errors are returned as they are; a shadow's never are.
    pub fn predict(&self, key: Option<u64>, batch: &RecordBatch) -> Result<Answer> {
        self.predict_routed(key, batch).1
    }

    /// Like [`predict`](Self::predict), and also says which version the
    /// request was routed to, failed or not (`None` only when the strategy
    /// named a version that is not loaded): per-version error counts need it.
    pub fn predict_routed(&self, key: Option<u64>, batch: &RecordBatch) -> (Option<u64>, Result<Answer>) {
        let started = Instant::now();
        let key = key.unwrap_or_else(|| self.config.keys.next_key());
        let live = self.live.load_full();
        let route = live.strategy.route(key);
        let Some(arm) = live.arm(route.primary) else {
            let error = Error::NotFound {
                what: format!(
                    "version {} of model `{}` (routed by strategy `{}`, not loaded)",
                    route.primary,
                    self.name,
                    live.strategy.name()
                ),
            };
            return (None, Err(error));
        };
        self.requests.fetch_add(1, Ordering::Relaxed);
        let prediction = match arm.answer(batch, started) {
            Ok(p) => p,
            Err(e) => return (Some(arm.version), Err(e)),
        };
        for shadow in route.shadows.iter().filter_map(|&v| live.arm(v)) {
            self.shadows
                .offer(Arc::clone(shadow), batch, &prediction.batch, arm.score_column());
        }
        let answer = Answer {
            version: arm.version,
            key,
            generation: live.generation,
            prediction,
        };
        (Some(arm.version), Ok(answer))
    }

    /// Loads `predictor` as `version`, routed to by no one until a strategy says so.
    ///
    /// Refuses a version already loaded, and a predictor that reports another version.
    pub fn load(&self, version: u64, predictor: Arc<dyn Predict>) -> Result<()> {
        let arm = Arc::new(Arm::new(version, predictor, self.config.clock.elapsed())?);
        self.change(|live| {
            if live.arm(version).is_some() {
                return Err(Error::AlreadyExists {
                    what: format!("version {version} in deployment `{}`", self.name),
                });
            }
            let mut arms = live.arms.clone();
            arms.push(Arc::clone(&arm));
            Ok((Arc::clone(&live.strategy), arms))
        })
    }

    /// Unloads `version`; refused while the strategy routes to it.
    pub fn unload(&self, version: u64) -> Result<()> {
        self.change(|live| {
            if live.strategy.versions().contains(&version) {
                return Err(Error::invalid_input(
                    "deployment change",
                    format!("version {version} of `{}`", self.name),
                    format!("still routed to by strategy `{}`", live.strategy.name()),
                    "a version no strategy routes to (set another strategy first)",
                ));
            }
            let arms: Vec<_> = live.arms.iter().filter(|a| a.version != version).cloned().collect();
            if arms.len() == live.arms.len() {
                return Err(Error::NotFound {
                    what: format!("version {version} in deployment `{}`", self.name),
                });
            }
            Ok((Arc::clone(&live.strategy), arms))
        })
    }

    /// Puts `strategy` live in one swap; refused when it names a version not loaded.
    pub fn set_strategy(&self, strategy: Arc<dyn DeploymentStrategy>) -> Result<()> {
        self.change(|live| {
            if let Some(missing) = strategy.versions().into_iter().find(|&v| live.arm(v).is_none()) {
                return Err(Error::NotFound {
                    what: format!(
                        "version {missing} in deployment `{}` (named by strategy `{}`; load it first)",
                        self.name,
                        strategy.name()
                    ),
                });
            }
            Ok((Arc::clone(&strategy), live.arms.clone()))
        })
    }

    /// Applies one change to the live state: computed from the current state
    /// under the change lock, published in one swap.
    fn change(&self, f: impl FnOnce(&Live) -> Result<(Arc<dyn DeploymentStrategy>, Vec<Arc<Arm>>)>) -> Result<()> {
        let _one_at_a_time = self.changing.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let live = self.live.load();
        let (strategy, arms) = f(&live)?;
        self.live.store(Arc::new(Live {
            strategy,
            arms,
            generation: live.generation + 1,
        }));
        Ok(())
    }

    /// The live state.
    pub fn state(&self) -> DeploymentState {
        let live = self.live.load();
        DeploymentState {
            strategy: live.strategy.name().to_owned(),
            routed: live.strategy.versions(),
            loaded: live.arms.iter().map(|a| a.version).collect(),
            generation: live.generation,
        }
    }

    /// The live strategy.
    pub fn strategy(&self) -> Arc<dyn DeploymentStrategy> {
        Arc::clone(&self.live.load().strategy)
    }

    /// Requests answered or refused so far (shadow requests not counted).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// What `version` did since its window opened.
    pub fn window(&self, version: u64) -> Option<WindowSnapshot> {
        let now = self.config.clock.elapsed();
        self.live.load().arm(version).map(|a| a.snapshot(now))
    }

    /// Requests `version` has seen since its window opened (cheap: one load).
    pub fn window_requests(&self, version: u64) -> Option<u64> {
        self.live.load().arm(version).map(|a| a.window_requests())
    }

    /// Opens a new window for each of `versions` (all at the same instant, so
    /// arms are compared over the same stretch of traffic).
    pub fn open_windows(&self, versions: &[u64]) {
        let now = self.config.clock.elapsed();
        let live = self.live.load();
        for arm in versions.iter().filter_map(|&v| live.arm(v)) {
            arm.open_window(now);
        }
    }

    /// How shadow `version`'s answers compare with the callers' answers; with
    /// a detector, also whether its score distribution drifted from theirs.
    pub fn shadow_report(&self, version: u64, detector: Option<&dyn DriftDetector>) -> Result<ShadowReport> {
        let live = self.live.load();
        let arm = live.arm(version).ok_or_else(|| Error::NotFound {
            what: format!("version {version} in deployment `{}`", self.name),
        })?;
        arm.pairs.report(version, detector)
    }

    /// Shadow requests waiting for the pool.
    pub fn shadow_queued(&self) -> usize {
        self.shadows.queued()
    }
}
