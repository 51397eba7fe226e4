//! Promotion recorded in the model registry: the alias moves, the stage follows.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use mlops_core::{Registry, Stage};

use super::hooks::{NoHooks, RolloutHooks};
use super::rollout::RolloutStatus;
use crate::{Error, Result};

/// Rollout hooks that, when a candidate is promoted, point a registry alias
/// (e.g. `champion`) at it and move it to [`Stage::Production`] with the
/// promotion's reason; every other call goes to the hooks it wraps.
///
/// The version it replaced, if it was in production, moves to
/// [`Stage::Archived`] ("replaced by version N"), so the registry's stages
/// say what serves; [`keep_replaced`](Self::keep_replaced) leaves it alone.
///
/// The registry is async and hooks are not: the calls run on `runtime` from a
/// short-lived thread of their own, so this works from a rollout driver
/// thread and from inside async code alike. A registry failure never undoes
/// the promotion (traffic already moved); it is logged and kept in
/// [`outcome`](Self::outcome).
pub struct PromoteInRegistry {
    registry: Arc<dyn Registry>,
    alias: String,
    runtime: tokio::runtime::Handle,
    inner: Arc<dyn RolloutHooks>,
    archive_replaced: bool,
    outcome: Mutex<Option<Result<u64>>>,
}

impl fmt::Debug for PromoteInRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PromoteInRegistry")
            .field("alias", &self.alias)
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl PromoteInRegistry {
    /// Moves `alias` of the deployment's model in `registry` on promotion.
    pub fn new(registry: Arc<dyn Registry>, alias: &str, runtime: tokio::runtime::Handle) -> Self {
        PromoteInRegistry {
            registry,
            alias: alias.to_owned(),
            runtime,
            inner: Arc::new(NoHooks),
            archive_replaced: true,
            outcome: Mutex::new(None),
        }
    }

    /// Also calls `hooks` (before this one's registry update, at promotion).
    pub fn wrapping(mut self, hooks: Arc<dyn RolloutHooks>) -> Self {
        self.inner = hooks;
        self
    }

    /// Leaves the replaced version in its stage (e.g. when several versions
    /// serve side by side under other aliases).
    pub fn keep_replaced(mut self) -> Self {
        self.archive_replaced = false;
        self
    }

    /// The last promotion's registry update: the alias's new version, or why it failed.
    pub fn outcome(&self) -> Option<std::result::Result<u64, String>> {
        self.outcome
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(|r| r.as_ref().map(|&v| v).map_err(ToString::to_string))
    }

    async fn record(&self, status: &RolloutStatus) -> Result<u64> {
        let (model, version) = (status.model.as_str(), status.candidate);
        self.registry.set_alias(model, &self.alias, version).await?;
        let versions = self.registry.list_versions(model).await?;
        let stage_of = |v: u64| versions.iter().find(|i| i.version == v).map(|i| i.stage);
        let current = stage_of(version).ok_or_else(|| Error::NotFound {
            what: format!("version {version} of model `{model}` in the registry"),
        })?;
        if current != Stage::Production && current.can_move_to(Stage::Production) {
            let reason = status.last_decision.as_deref().unwrap_or("promoted by a rollout");
            self.registry
                .transition(
                    model,
                    version,
                    Stage::Production,
                    Some(&format!("{} rollout: {reason}", status.strategy)),
                )
                .await?;
        }
        let replaced = status.stable;
        if self.archive_replaced && replaced != version && stage_of(replaced) == Some(Stage::Production) {
            self.registry
                .transition(
                    model,
                    replaced,
                    Stage::Archived,
                    Some(&format!("replaced by version {version} ({} rollout)", status.strategy)),
                )
                .await?;
        }
        Ok(version)
    }
}

impl RolloutHooks for PromoteInRegistry {
    fn before_rollout(&self, status: &RolloutStatus) -> Result<()> {
        self.inner.before_rollout(status)
    }

    fn on_step(&self, status: &RolloutStatus) {
        self.inner.on_step(status);
    }

    fn confirm_promotion(&self, status: &RolloutStatus) -> bool {
        self.inner.confirm_promotion(status)
    }

    fn after_promotion(&self, status: &RolloutStatus) {
        self.inner.after_promotion(status);
        // A thread of its own: blocking on the runtime from inside one of its
        // tasks would panic, and the caller may be one.
        let outcome = std::thread::scope(|scope| {
            scope
                .spawn(|| self.runtime.block_on(self.record(status)))
                .join()
                .unwrap_or_else(|_| Err(Error::inference("registry update", "the registry call panicked")))
        });
        if let Err(e) = &outcome {
            tracing::warn!(model = %status.model, alias = %self.alias, error = %e, "promotion not recorded in the registry");
        }
        *self.outcome.lock().unwrap_or_else(PoisonError::into_inner) = Some(outcome);
    }

    fn on_rollback(&self, status: &RolloutStatus) {
        self.inner.on_rollback(status);
    }
}
