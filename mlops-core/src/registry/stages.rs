//! Lifecycle stages: transitions and purges appended to one stream per version.

use super::records::Op;
use super::store::StoreRegistry;
use super::types::{Stage, StageEvent};
use crate::error::{Error, Result};

impl StoreRegistry {
    pub(super) async fn stage_of(&self, name: &str, version: u64) -> Result<(Stage, bool)> {
        let events = self.events(&self.layout.stage_stream(name, version)).await?;
        let mut stage = Stage::Registered;
        let mut purged = false;
        for e in events {
            match e.change {
                Op::Transition { to, .. } => stage = to,
                Op::Purge { .. } => purged = true,
                _ => {}
            }
        }
        Ok((stage, purged))
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
        .append(&reg.layout.stage_stream(name, version), true, move |events| {
            let mut from = Stage::Registered;
            for e in events {
                if let Op::Transition { to, .. } = e.change {
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
        .events(&reg.layout.stage_stream(name, version))
        .await?
        .into_iter()
        .filter_map(|e| match e.change {
            Op::Transition { from, to, reason, .. } => Some(StageEvent {
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
