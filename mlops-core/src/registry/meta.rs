//! Tags and descriptions, appended to one stream per model.

use std::collections::BTreeMap;

use super::event_log::Read;
use super::records::{EventRecord, Op};
use super::store::StoreRegistry;
use crate::error::Result;
use crate::names::validate_name;

impl StoreRegistry {
    pub(super) fn fold_meta(
        events: &[EventRecord],
        version: Option<u64>,
    ) -> (BTreeMap<String, String>, Option<String>) {
        let mut tags = BTreeMap::new();
        let mut description = None;
        for e in events {
            match &e.change {
                Op::SetTag {
                    version: v, key, value, ..
                } if *v == version => match value {
                    Some(val) => {
                        tags.insert(key.clone(), val.clone());
                    }
                    None => {
                        tags.remove(key);
                    }
                },
                Op::SetDescription { version: v, text, .. } if *v == version => description = text.clone(),
                _ => {}
            }
        }
        (tags, description)
    }

    /// Tags and description of a model (`version = None`) or of one version.
    pub async fn tags(&self, name: &str, version: Option<u64>) -> Result<(BTreeMap<String, String>, Option<String>)> {
        validate_name("model name", name)?;
        let events = self.model_records(name).await?.meta_events;
        Ok(Self::fold_meta(&events, version))
    }
}

pub(super) async fn set_tag(
    reg: &StoreRegistry,
    name: &str,
    version: Option<u64>,
    key: &str,
    value: Option<&str>,
) -> Result<()> {
    validate_name("model name", name)?;
    validate_name("tag key", key)?;
    if let Some(v) = version {
        reg.ensure_version(name, v).await?;
    }
    let (key, value) = (key.to_owned(), value.map(str::to_owned));
    reg.append(&reg.layout.meta_stream(name), Read::Meta(name), move |events| {
        let (tags, _) = StoreRegistry::fold_meta(events, version);
        Ok(Op::SetTag {
            version,
            key: key.clone(),
            value: value.clone(),
            previous: tags.get(&key).cloned(),
        })
    })
    .await
    .map(|_| ())
}

pub(super) async fn set_description(
    reg: &StoreRegistry,
    name: &str,
    version: Option<u64>,
    text: Option<&str>,
) -> Result<()> {
    validate_name("model name", name)?;
    if let Some(v) = version {
        reg.ensure_version(name, v).await?;
    }
    let text = text.map(str::to_owned);
    reg.append(&reg.layout.meta_stream(name), Read::Meta(name), move |events| {
        let (_, previous) = StoreRegistry::fold_meta(events, version);
        Ok(Op::SetDescription {
            version,
            text: text.clone(),
            previous,
        })
    })
    .await
    .map(|_| ())
}
