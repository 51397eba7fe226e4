//! The [`DeploymentStrategy`] contract: which model version serves a request.

use serde::{Deserialize, Serialize};

/// Where one request goes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    /// The version whose answer is returned to the caller.
    pub primary: u64,
    /// Versions that also receive the request, whose answers are only recorded (shadow traffic).
    pub shadows: Vec<u64>,
}

/// Decides, per request, which version answers (blue/green, canary, shadow, A/B).
///
/// Contract: [`route`](Self::route) is a pure function of the strategy's current
/// state and the request key, so a request key is routed the same way by every
/// replica holding the same state (sticky A/B assignment); it is cheap and never
/// blocks, because it runs on the request path.
pub trait DeploymentStrategy: Send + Sync + std::fmt::Debug {
    /// A short name for logs and metrics (`"canary"`, `"blue_green"`).
    fn name(&self) -> &str;

    /// Routes a request identified by a stable key (e.g. a hash of the user id).
    fn route(&self, request_key: u64) -> Route;

    /// Every version [`route`](Self::route) may name, as primary or shadow: a
    /// deployment checks that each is loaded before it puts the strategy live.
    fn versions(&self) -> Vec<u64>;
}
