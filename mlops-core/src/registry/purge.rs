//! Purge: deleting the files of an archived version that nothing else uses.

use std::collections::BTreeSet;

use object_store::ObjectStoreExt;

use super::Registry;
use super::event_log::Read;
use super::io::json;
use super::records::Op;
use super::store::StoreRegistry;
use super::types::Stage;
use crate::error::{Error, Result};

pub(super) async fn purge(reg: &StoreRegistry, name: &str, version: u64, reason: Option<&str>) -> Result<()> {
    let record = reg.version_record(name, version).await?;
    let (stage, purged) = reg.stage_of(name, version).await?;
    if stage != Stage::Archived {
        return Err(Error::invalid_input(
            "purge",
            format!("`{name}` version {version}"),
            format!("the version is {stage:?}"),
            "an archived version",
        ));
    }
    // The marker first: from now on `load` refuses the version, before any blob goes.
    let marker = serde_json::json!({"version": version, "reason": reason});
    match reg
        .put_create(&reg.layout.purged(name, version), json(&marker, "purge marker")?)
        .await
    {
        Ok(()) | Err(Error::AlreadyExists { .. }) => {}
        Err(e) => return Err(e),
    }
    if !purged {
        let reason = reason.map(str::to_owned);
        reg.append(&reg.layout.stage_stream(name), Read::Stages(name), move |_| {
            Ok(Op::Purge {
                version,
                reason: reason.clone(),
            })
        })
        .await?;
    }
    // Blobs still used by any version not purged (of any model) are kept.
    let mut keep = BTreeSet::new();
    for model in reg.list_models().await? {
        let records = reg.model_records(&model).await?;
        let stages = StoreRegistry::fold_stages(&records.stage_events);
        for r in &records.versions {
            let purged = stages.get(&r.version).is_some_and(|s| s.1);
            if (model != name || r.version != version) && !purged {
                keep.insert(r.manifest);
                keep.extend(r.files.values().copied());
            }
        }
    }
    for digest in std::iter::once(&record.manifest).chain(record.files.values()) {
        if !keep.contains(digest) {
            let path = reg.layout.blob(digest);
            match reg.store.delete(&path).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(Error::storage(path.to_string(), e)),
            }
        }
    }
    Ok(())
}
