//! Safe rollouts in-process: several versions of a model live side by side,
//! one routing decision per request, and gates that promote or roll back.
//!
//! ```text
//!   request ─key─▶ Deployment ─route(key)─▶ arm (stable │ candidate │ shadow copy)
//!                      │  one atomic pointer: {strategy, arms}; a change is one swap
//!                      ▼
//!   per-arm window: requests, errors, refusals, latencies, scores
//!                      │
//!   Rollout::tick ─▶ gates (Pass │ Fail │ NeedMoreData) ─▶ next step │ promote │ roll back
//!                      └─▶ RolloutHistory (JSON)
//! ```
//!
//! - [`Deployment`]: the live versions and the [`DeploymentStrategy`](mlops_core::DeploymentStrategy).
//! - Routing: [`Split`] (all-to-one, canary, A/B), [`Mirror`] (shadow), [`Preview`] (blue/green),
//!   keys hashed into [`BUCKETS`] fixed buckets.
//! - [`Rollout`]: canary ([`CanaryPlan`]) and blue/green ([`BlueGreenPlan`]) in real or virtual time ([`Clock`]).
//! - [`gate`]: absolute and relative gates with three outcomes.
//! - A/B analysis: [`Deployment::ab_report`], [`compare_rates`], [`compare_values`]; [`stats`] has the tests.

mod ab;
mod arm;
mod clock;
#[doc(hidden)]
pub mod doc_support;
pub mod gate;
mod history;
mod hooks;
mod live;
mod mirror;
mod plan;
mod preview;
mod registry_hook;
mod reservoir;
mod rollout;
mod routing;
mod shadow;
mod split;
pub mod stats;
mod window;

pub use ab::{AbComparison, AbMetric, ContinuousTest, compare_rates, compare_values};
pub use clock::{Clock, ManualClock, SystemClock};
pub use gate::{
    ErrorRate, ErrorRateVsBaseline, Gate, GateInput, GateReading, LabelledMetric, LatencyQuantile, LatencyVsBaseline,
    MetricReading, MetricVsBaseline, OutputInvalidRate, RejectedShare, ScoreDrift, Verdict,
};
pub use history::{RolloutEvent, RolloutHistory, RolloutRecord};
pub use hooks::{NoHooks, RolloutHooks};
pub use live::{Answer, Deployment, DeploymentConfig, DeploymentState};
pub use mirror::Mirror;
pub use plan::{BlueGreenPlan, CanaryPlan, FailurePolicy, GateSpec, StepLength};
pub use preview::Preview;
pub use registry_hook::PromoteInRegistry;
pub use rollout::{Phase, Rollout, RolloutDriver, RolloutStatus};
pub use routing::{BUCKETS, KeySource, RandomKeys, SeededKeys, Weight, bucket_of, routing_key};
pub use shadow::ShadowReport;
pub use split::Split;
pub use window::WindowSnapshot;
