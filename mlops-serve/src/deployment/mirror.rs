//! Shadow traffic: a sampled share of requests also goes to another version.

use std::sync::Arc;

use mlops_core::{DeploymentStrategy, Route};

use super::routing::{Weight, bucket_of};

/// Routes as `inner` does, and also sends `share` of the keys to `shadow`,
/// whose answers are compared, never returned.
///
/// The sample is sticky (by key) and independent of the inner split: the key
/// is salted before bucketing, so a mirrored 10 % is not the canary's 10 %.
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
