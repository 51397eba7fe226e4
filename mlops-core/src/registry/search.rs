//! Listings and search: what the registry knows of each version.

use std::collections::BTreeMap;

use super::Registry;
use super::io::storage;
use super::records::{EventRecord, VersionRecord};
use super::store::StoreRegistry;
use super::types::{Cmp, SearchQuery, VersionInfo};
use crate::error::Result;
use crate::names::validate_name;

impl StoreRegistry {
    pub(super) async fn info(
        &self,
        name: &str,
        record: &VersionRecord,
        aliases: &BTreeMap<String, u64>,
        meta: &[EventRecord],
    ) -> Result<VersionInfo> {
        let (stage, purged) = self.stage_of(name, record.version).await?;
        let (tags, description) = Self::fold_meta(meta, Some(record.version));
        Ok(VersionInfo {
            name: name.to_owned(),
            version: record.version,
            digest: record.manifest,
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
        })
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
    let aliases = reg.aliases(name).await?;
    let meta = reg.events(&reg.layout.meta_stream(name)).await?;
    let mut out = Vec::new();
    for record in reg.version_records(name).await? {
        out.push(reg.info(name, &record, &aliases, &meta).await?);
    }
    Ok(out)
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
