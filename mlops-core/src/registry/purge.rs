//! Purge: deleting the files of an archived version that nothing else uses.

use std::collections::BTreeSet;

use object_store::ObjectStoreExt;

use super::Registry;
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
    if !purged {
        let reason = reason.map(str::to_owned);
        reg.append(&reg.layout.stage_stream(name, version), true, move |_| {
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
        for r in reg.version_records(&model).await? {
            if (model != name || r.version != version) && !reg.stage_of(&model, r.version).await?.1 {
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
