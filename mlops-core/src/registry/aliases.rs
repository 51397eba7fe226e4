//! Aliases: moves and deletions appended to one stream per alias.

use std::collections::BTreeMap;

use super::Registry;
use super::event_log::Read;
use super::io::storage;
use super::records::{EventRecord, Op};
use super::store::StoreRegistry;
use super::types::AliasEvent;
use crate::error::{Error, Result};
use crate::names::validate_name;

pub(super) fn alias_event(e: &EventRecord) -> Option<AliasEvent> {
    match &e.change {
        Op::SetAlias { version, previous, .. } => Some(AliasEvent {
            seq: e.seq,
            version: Some(*version),
            previous: *previous,
            at_ms: e.at_ms,
            actor: e.actor.clone(),
        }),
        Op::DeleteAlias { previous, .. } => Some(AliasEvent {
            seq: e.seq,
            version: None,
            previous: *previous,
            at_ms: e.at_ms,
            actor: e.actor.clone(),
        }),
        _ => None,
    }
}

pub(super) fn current_alias(events: &[EventRecord]) -> Option<u64> {
    events.last().and_then(|e| match e.change {
        Op::SetAlias { version, .. } => Some(version),
        _ => None,
    })
}

impl StoreRegistry {
    pub(super) async fn alias_names(&self, name: &str) -> Result<Vec<String>> {
        let events = self.layout.events(name);
        let listing = self
            .store
            .list_with_delimiter(Some(&events))
            .await
            .map_err(storage(&events))?;
        Ok(listing
            .common_prefixes
            .iter()
            .filter_map(|p| p.filename().and_then(|f| f.strip_prefix("alias.")).map(str::to_owned))
            .collect())
    }

    /// Current alias → version map of a model.
    pub async fn aliases(&self, name: &str) -> Result<BTreeMap<String, u64>> {
        validate_name("model name", name)?;
        let mut out = BTreeMap::new();
        for alias in self.alias_names(name).await? {
            if let Some(e) = self.last_event(&self.layout.alias_stream(name, &alias)).await?
                && let Op::SetAlias { version, .. } = e.change
            {
                out.insert(alias, version);
            }
        }
        Ok(out)
    }
}

pub(super) async fn set_alias(reg: &StoreRegistry, name: &str, alias: &str, version: u64) -> Result<AliasEvent> {
    validate_name("alias", alias)?;
    reg.ensure_version(name, version).await?;
    let alias_owned = alias.to_owned();
    let e = reg
        .append(&reg.layout.alias_stream(name, alias), Read::Last, move |events| {
            Ok(Op::SetAlias {
                alias: alias_owned.clone(),
                version,
                previous: current_alias(events),
            })
        })
        .await?;
    alias_event(&e).ok_or_else(|| Error::corrupt("alias stream", "appended event is not an alias move"))
}

pub(super) async fn delete_alias(reg: &StoreRegistry, name: &str, alias: &str) -> Result<AliasEvent> {
    validate_name("model name", name)?;
    validate_name("alias", alias)?;
    let alias_owned = alias.to_owned();
    let model = name.to_owned();
    let e = reg
        .append(
            &reg.layout.alias_stream(name, alias),
            Read::Last,
            move |events| match current_alias(events) {
                Some(previous) => Ok(Op::DeleteAlias {
                    alias: alias_owned.clone(),
                    previous: Some(previous),
                }),
                None => Err(Error::NotFound {
                    what: format!("alias `{alias_owned}` of model `{model}`"),
                }),
            },
        )
        .await?;
    alias_event(&e).ok_or_else(|| Error::corrupt("alias stream", "appended event is not an alias move"))
}

pub(super) async fn alias_history(reg: &StoreRegistry, name: &str, alias: &str) -> Result<Vec<AliasEvent>> {
    validate_name("model name", name)?;
    validate_name("alias", alias)?;
    Ok(reg
        .events(&reg.layout.alias_stream(name, alias))
        .await?
        .iter()
        .filter_map(alias_event)
        .collect())
}

pub(super) async fn alias_at(reg: &StoreRegistry, name: &str, alias: &str, at_ms: i64) -> Result<Option<u64>> {
    let history = reg.alias_history(name, alias).await?;
    Ok(history
        .iter()
        .take_while(|e| e.at_ms <= at_ms)
        .last()
        .and_then(|e| e.version))
}
