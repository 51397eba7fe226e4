//! The recorded decisions of a rollout: what was seen, what was decided, and why.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::gate::GateReading;
use super::routing::Weight;
use crate::{Error, Result};

/// One thing that happened in a rollout.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum RolloutEvent {
    /// The rollout began.
    Started {
        /// `canary` or `blue_green`.
        strategy: String,
    },
    /// Traffic moved to a new step (canary) or phase (blue/green).
    Step {
        /// The step's index (0-based), or the phase's.
        step: usize,
        /// The candidate's share of traffic.
        weight: Weight,
    },
    /// The gates were evaluated.
    Checked {
        /// Why they ran now (`step_end`, `critical`, `preview`, `post_promotion`).
        reason: String,
        /// Every gate's reading.
        readings: Vec<GateReading>,
        /// Failed checks counted so far (by the failure policy).
        failures: u32,
    },
    /// Promotion waits for the confirmation hook.
    Held,
    /// The candidate took all traffic.
    Promoted {
        /// Why.
        reason: String,
    },
    /// All traffic went back to the stable version.
    RolledBack {
        /// Why.
        reason: String,
    },
    /// The old version was unloaded after its rollback window.
    Retired {
        /// The version unloaded.
        version: u64,
    },
}

/// An event and when it happened.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RolloutRecord {
    /// Wall time, ms since the Unix epoch (the deployment's clock).
    pub at_ms: i64,
    /// Time since the rollout started.
    pub elapsed: Duration,
    /// What happened.
    #[serde(flatten)]
    pub event: RolloutEvent,
}

/// Everything a rollout recorded, oldest first; serialisable as JSON.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RolloutHistory {
    /// The model.
    pub model: String,
    /// The version traffic came from.
    pub stable: u64,
    /// The version being rolled out.
    pub candidate: u64,
    /// What happened.
    pub records: Vec<RolloutRecord>,
}

impl RolloutHistory {
    /// The history as pretty JSON.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| Error::serialization("rollout history", e))
    }

    /// A history read back from [`to_json`](Self::to_json).
    pub fn from_json(json: &str) -> Result<RolloutHistory> {
        serde_json::from_str(json).map_err(|e| Error::serialization("rollout history", e))
    }

    /// The last gate checks recorded, if any.
    pub fn last_readings(&self) -> Option<&[GateReading]> {
        self.records.iter().rev().find_map(|r| match &r.event {
            RolloutEvent::Checked { readings, .. } => Some(readings.as_slice()),
            _ => None,
        })
    }
}
