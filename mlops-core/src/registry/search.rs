//! Listings and search: what the registry knows of each version.

use std::collections::BTreeMap;

use super::Registry;
use super::io::storage;
use super::records::{EventRecord, Op, VersionRecord};
use super::store::StoreRegistry;
use super::types::{Cmp, SearchQuery, Stage, VersionInfo};
use crate::error::Result;
use crate::names::validate_name;

impl StoreRegistry {
    pub(super) fn info(
        name: &str,
        record: &VersionRecord,
        aliases: &BTreeMap<String, u64>,
        stages: &BTreeMap<u64, (Stage, bool)>,
        meta: &[EventRecord],
    ) -> VersionInfo {
        let (stage, purged) = stages
            .get(&record.version)
            .copied()
            .unwrap_or((Stage::Registered, false));
        let (tags, description) = Self::fold_meta(meta, Some(record.version));
        VersionInfo {
            name: name.to_owned(),
            version: record.version,
            digest: record.manifest,
            content_digest: record.content,
            registered_at_ms: record.at_ms,
            actor: record.actor.clone(),
            stage,
            purged,
            aliases: aliases
                .iter()
                .filter(|(_, v)| **v == record.version)
                .map(|(a, _)| a.clone())
                .collect(),
            tags,
            description,
            metrics: record.metrics.clone(),
        }
    }
}

pub(super) async fn list_models(reg: &StoreRegistry) -> Result<Vec<String>> {
    let models = reg.layout.models();
    let listing = reg
        .store
        .list_with_delimiter(Some(&models))
        .await
        .map_err(storage(&models))?;
    let mut names: Vec<String> = listing
        .common_prefixes
        .iter()
        .filter_map(|p| p.filename().map(str::to_owned))
        .collect();
    names.sort();
    Ok(names)
}

pub(super) async fn list_versions(reg: &StoreRegistry, name: &str) -> Result<Vec<VersionInfo>> {
    validate_name("model name", name)?;
    let (aliases, records) = futures::try_join!(reg.aliases(name), reg.model_records(name))?;
    let stages = StoreRegistry::fold_stages(&records.stage_events);
    let meta = by_version(&records.meta_events);
    let none = Vec::new();
    Ok(records
        .versions
        .iter()
        .map(|r| StoreRegistry::info(name, r, &aliases, &stages, meta.get(&r.version).unwrap_or(&none)))
        .collect())
}

pub(super) async fn search(reg: &StoreRegistry, query: &SearchQuery) -> Result<Vec<VersionInfo>> {
    let mut out = Vec::new();
    for name in reg.list_models().await? {
        if query.name_contains.as_ref().is_some_and(|n| !name.contains(n.as_str())) {
            continue;
        }
        for info in reg.list_versions(&name).await? {
            let tag_ok = query.tag.as_ref().is_none_or(|(k, v)| info.tags.get(k) == Some(v));
            let stage_ok = query.stage.is_none_or(|s| s == info.stage);
            let metric_ok = query.metric.as_ref().is_none_or(|(m, cmp, t)| {
                info.metrics.get(m).is_some_and(|x| match cmp {
                    Cmp::AtLeast => *x >= *t,
                    Cmp::AtMost => *x <= *t,
                })
            });
            if tag_ok && stage_ok && metric_ok {
                out.push(info);
            }
        }
    }
    Ok(out)
}

/// Meta events grouped by the version they concern, so each version folds only its own.
fn by_version(events: &[EventRecord]) -> BTreeMap<u64, Vec<EventRecord>> {
    let mut out: BTreeMap<u64, Vec<EventRecord>> = BTreeMap::new();
    for e in events {
        let version = match &e.change {
            Op::SetTag { version, .. } | Op::SetDescription { version, .. } => *version,
            _ => None,
        };
        if let Some(v) = version {
            out.entry(v).or_default().push(e.clone());
        }
    }
    out
}
