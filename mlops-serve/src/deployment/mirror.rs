//! Shadow traffic: a sampled share of requests also goes to another version.

use std::sync::Arc;

use mlops_core::{DeploymentStrategy, Route};

use super::routing::{Weight, bucket_of};

/// Routes as `inner` does, and also sends `share` of the keys to `shadow`,
/// whose answers are compared, never returned.
///
/// The sample is sticky (by key) and independent of the inner split: the key
/// is salted before bucketing, so a mirrored 10 % is not the canary's 10 %.
///
/// ```
/// # use std::sync::Arc;
/// # use arrow_array::{Float64Array, RecordBatch};
/// # use mlops_serve::deployment::*;
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let (stable, candidate) = doc_support::two_versions();
/// let deployment = Deployment::new("churn", 1, stable, DeploymentConfig::default())?;
/// deployment.load(2, candidate)?;
/// // Everyone is answered by version 1; every request is also run on version 2.
/// deployment.set_strategy(Arc::new(Mirror::new(Arc::new(Split::all(1)), 2, Weight::ALL)))?;
///
/// let batch = RecordBatch::try_from_iter([("x", Arc::new(Float64Array::from(vec![1.0, 2.0])) as _)])?;
/// for _ in 0..10 {
///     assert_eq!(deployment.predict(None, &batch)?.version, 1);
/// }
/// # while deployment.shadow_report(2, None)?.rows < 20 { std::thread::yield_now(); }
/// let report = deployment.shadow_report(2, None)?;
/// assert_eq!(report.rows, 20);
/// assert!((report.mean_abs_score_diff.unwrap() - 0.001).abs() < 1e-9);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Mirror {
    inner: Arc<dyn DeploymentStrategy>,
    shadow: u64,
    share: Weight,
}

/// Salt that decorrelates the shadow sample from the primary split.
const SHADOW_SALT: u64 = 0x5AD0_5AD0_5AD0_5AD0;

impl Mirror {
    /// `inner`'s routing, plus `share` of the keys mirrored to `shadow`.
    pub fn new(inner: Arc<dyn DeploymentStrategy>, shadow: u64, share: Weight) -> Mirror {
        Mirror { inner, shadow, share }
    }

    /// The mirrored version.
    pub fn shadow(&self) -> u64 {
        self.shadow
    }

    /// The mirrored share.
    pub fn share(&self) -> Weight {
        self.share
    }
}

impl DeploymentStrategy for Mirror {
    fn name(&self) -> &str {
        "shadow"
    }

    fn route(&self, request_key: u64) -> Route {
        let mut route = self.inner.route(request_key);
        if route.primary != self.shadow && self.share.covers(bucket_of(request_key ^ SHADOW_SALT)) {
            route.shadows.push(self.shadow);
        }
        route
    }

    fn versions(&self) -> Vec<u64> {
        let mut versions = self.inner.versions();
        if !versions.contains(&self.shadow) {
            versions.push(self.shadow);
        }
        versions
    }
}
