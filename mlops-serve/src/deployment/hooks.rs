//! Callbacks at the turning points of a rollout.

use std::fmt::Debug;

use super::rollout::RolloutStatus;
use crate::Result;

/// Callbacks a rollout makes: notify a channel, run a load test, ask a person.
///
/// They run on the thread that drives the rollout (the one calling
/// [`Rollout::tick`](super::Rollout::tick)), never on a request path. Every
/// method has a default that does nothing (and confirms promotion).
pub trait RolloutHooks: Send + Sync + Debug {
    /// Before any traffic moves; an error stops the rollout before it starts.
    fn before_rollout(&self, status: &RolloutStatus) -> Result<()> {
        let _ = status;
        Ok(())
    }

    /// Traffic moved to a new step.
    fn on_step(&self, status: &RolloutStatus) {
        let _ = status;
    }

    /// Every check has passed: may the candidate take all traffic? `false`
    /// holds the rollout at its last step and asks again at the next tick;
    /// gates keep running meanwhile, and a failure still rolls back.
    fn confirm_promotion(&self, status: &RolloutStatus) -> bool {
        let _ = status;
        true
    }

    /// The candidate took all traffic.
    fn after_promotion(&self, status: &RolloutStatus) {
        let _ = status;
    }

    /// All traffic went back to the stable version.
    fn on_rollback(&self, status: &RolloutStatus) {
        let _ = status;
    }
}

/// Hooks that do nothing and always confirm.
#[derive(Debug, Default)]
pub struct NoHooks;

impl RolloutHooks for NoHooks {}
