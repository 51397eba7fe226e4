//! Ballista: the client state, the scheduler's session builder and the
//! executor's function registry, each knowing `mlops_profile` and its codec.

use std::sync::Arc;

use ballista_core::extension::SessionConfigExt;
use ballista_core::registry::BallistaFunctionRegistry;
use datafusion::common::Result as DfResult;
use datafusion::execution::FunctionRegistry;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::execution::session_state::{SessionState, SessionStateBuilder};
use datafusion::prelude::{SessionConfig, SessionContext};
use mlops_data::ProfileConfig;

use crate::Result;
use crate::codec::ProfileCodec;
use crate::udaf::{PROFILE_FUNCTION, ProfileUdaf};

/// The runtime every node reads files with: with the `aws` feature (on by
/// default), `s3://` URLs resolve from the usual AWS variables
/// ([`object_stores`](crate::object_stores)); local paths always work.
pub fn runtime() -> DfResult<Arc<RuntimeEnv>> {
    #[cfg(feature = "aws")]
    {
        crate::object_stores::runtime_env()
    }
    #[cfg(not(feature = "aws"))]
    {
        Ok(Arc::new(RuntimeEnv::default()))
    }
}

/// What an executor's runtime producer returns: [`runtime`], whatever the configuration.
pub fn executor_runtime(_config: &SessionConfig) -> DfResult<Arc<RuntimeEnv>> {
    runtime()
}

/// A local context that can call `mlops_profile` (default configuration)
/// and read `s3://` with the `aws` feature.
pub fn local_context(config: SessionConfig) -> Result<SessionContext> {
    let ctx = SessionContext::new_with_config_rt(config, runtime()?);
    crate::register(&ctx);
    Ok(ctx)
}

/// A session configuration with Ballista's settings and [`ProfileCodec`] for plans.
pub fn ballista_config() -> SessionConfig {
    let codec = Arc::new(ProfileCodec::default());
    SessionConfig::new_with_ballista()
        .with_ballista_logical_extension_codec(codec.clone())
        .with_ballista_physical_extension_codec(codec)
}

/// The client's session state: Ballista's configuration, our codec, and
/// `mlops_profile` with `config`.
pub fn ballista_state(config: ProfileConfig) -> Result<SessionState> {
    let mut state = SessionStateBuilder::new()
        .with_default_features()
        .with_config(ballista_config())
        .with_runtime_env(runtime()?)
        .build();
    state.register_udaf(Arc::new(ProfileUdaf::udaf(config)))?;
    Ok(state)
}

/// A client of the Ballista scheduler at `url` (`df://host:port`) that can
/// call `mlops_profile` (profiling with `config`).
pub async fn connect(url: &str, config: ProfileConfig) -> Result<SessionContext> {
    use ballista::prelude::SessionContextExt;
    let ctx = SessionContext::remote_with_state(url, ballista_state(config.clone())?).await?;
    // Ballista's upgrade of the state replaces its aggregate functions with
    // its own list: the function is registered again on the result.
    ctx.register_udaf(ProfileUdaf::udaf(config));
    Ok(ctx)
}

/// What the scheduler builds a session from: Ballista's default session
/// with `mlops_profile` registered (it decodes the client's plans).
pub fn scheduler_session(config: SessionConfig) -> DfResult<SessionState> {
    let state = ballista_core::utils::default_session_builder(config)?;
    let mut state = SessionStateBuilder::new_from_existing(state)
        .with_runtime_env(runtime()?)
        .build();
    state.register_udaf(Arc::new(ProfileUdaf::udaf(ProfileConfig::default())))?;
    Ok(state)
}

/// The functions an executor decodes physical plans with: DataFusion's
/// built-ins and `mlops_profile` (plans carry their own configuration).
pub fn executor_functions() -> BallistaFunctionRegistry {
    let mut registry = BallistaFunctionRegistry::default();
    registry.aggregate_functions.insert(
        PROFILE_FUNCTION.to_owned(),
        Arc::new(ProfileUdaf::udaf(ProfileConfig::default())),
    );
    registry
}
