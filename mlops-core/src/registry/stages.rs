//! Lifecycle stages: transitions and purges of every version, appended to one stream per model
//! (so that a listing reads one stream, through its snapshot, not one per version).

use std::collections::BTreeMap;

use super::event_log::Read;
use super::records::{EventRecord, Op};
use super::store::StoreRegistry;
use super::types::{Stage, StageEvent};
use crate::error::{Error, Result};

impl StoreRegistry {
    /// Current stage and purge state of every version that has stage events.
    pub(super) fn fold_stages(events: &[EventRecord]) -> BTreeMap<u64, (Stage, bool)> {
        let mut out: BTreeMap<u64, (Stage, bool)> = BTreeMap::new();
        for e in events {
            match e.change {
                Op::Transition { version, to, .. } => out.entry(version).or_insert((Stage::Registered, false)).0 = to,
                Op::Purge { version, .. } => out.entry(version).or_insert((Stage::Registered, false)).1 = true,
                _ => {}
            }
        }
        out
    }

    pub(super) async fn stage_of(&self, name: &str, version: u64) -> Result<(Stage, bool)> {
        let events = self.model_records(name).await?.stage_events;
        Ok(Self::fold_stages(&events)
            .get(&version)
            .copied()
            .unwrap_or((Stage::Registered, false)))
    }
}

pub(super) async fn transition(
    reg: &StoreRegistry,
    name: &str,
    version: u64,
    to: Stage,
    reason: Option<&str>,
) -> Result<StageEvent> {
    reg.ensure_version(name, version).await?;
    if to == Stage::Archived && reason.is_none_or(str::is_empty) {
        return Err(Error::invalid_input(
            "transition",
            format!("`{name}` version {version}"),
            "archiving needs a reason",
            "a non-empty reason",
        ));
    }
    let reason = reason.map(str::to_owned);
    let e = reg
        .append(&reg.layout.stage_stream(name), Read::Stages(name), move |events| {
            let mut from = Stage::Registered;
            for e in events {
                if let Op::Transition { version: v, to, .. } = e.change
                    && v == version
                {
                    from = to;
                }
            }
            if !from.can_move_to(to) {
                return Err(Error::invalid_input(
                    "stage transition",
                    format!("version {version}"),
                    format!("{from:?} → {to:?} is not allowed"),
                    "registered → staging → production → archived (see Stage)",
                ));
            }
            Ok(Op::Transition {
                version,
                from,
                to,
                reason: reason.clone(),
            })
        })
        .await?;
    match e.change {
        Op::Transition { from, to, reason, .. } => Ok(StageEvent {
            seq: e.seq,
            from,
            to,
            reason,
            at_ms: e.at_ms,
            actor: e.actor,
        }),
        _ => Err(Error::corrupt("stage stream", "appended event is not a transition")),
    }
}

pub(super) async fn stage_history(reg: &StoreRegistry, name: &str, version: u64) -> Result<Vec<StageEvent>> {
    reg.ensure_version(name, version).await?;
    Ok(reg
        .model_records(name)
        .await?
        .stage_events
        .into_iter()
        .filter_map(|e| match e.change {
            Op::Transition {
                version: v,
                from,
                to,
                reason,
            } if v == version => Some(StageEvent {
                seq: e.seq,
                from,
                to,
                reason,
                at_ms: e.at_ms,
                actor: e.actor,
            }),
            _ => None,
        })
        .collect())
}
