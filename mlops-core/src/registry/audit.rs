//! The audit log: every mutation of a model, who, when, before and after.

use super::io::storage;
use super::records::Op;
use super::store::StoreRegistry;
use super::types::AuditEntry;
use crate::error::Result;
use crate::names::validate_name;

pub(super) async fn audit_log(reg: &StoreRegistry, name: &str) -> Result<Vec<AuditEntry>> {
    validate_name("model name", name)?;
    let mut out = Vec::new();
    for r in reg.version_records(name).await? {
        out.push(AuditEntry {
            at_ms: r.at_ms,
            actor: r.actor.clone(),
            operation: "register".into(),
            target: format!("version {}", r.version),
            before: serde_json::Value::Null,
            after: serde_json::json!({"version": r.version, "digest": r.manifest.to_string()}),
        });
    }
    let events_root = reg.layout.events(name);
    let listing = reg
        .store
        .list_with_delimiter(Some(&events_root))
        .await
        .map_err(storage(&events_root))?;
    for stream in listing.common_prefixes {
        for e in reg.events(&stream).await? {
            use serde_json::json;
            let (operation, target, before, after) = match &e.change {
                Op::SetAlias {
                    alias,
                    version,
                    previous,
                } => ("set_alias", format!("alias {alias}"), json!(previous), json!(version)),
                Op::DeleteAlias { alias, previous } => {
                    ("delete_alias", format!("alias {alias}"), json!(previous), json!(null))
                }
                Op::Transition {
                    version,
                    from,
                    to,
                    reason,
                } => (
                    "transition",
                    format!("version {version}"),
                    json!(from),
                    json!({"stage": to, "reason": reason}),
                ),
                Op::Purge { version, reason } => (
                    "purge",
                    format!("version {version}"),
                    json!("archived"),
                    json!({"purged": true, "reason": reason}),
                ),
                Op::SetTag {
                    version,
                    key,
                    value,
                    previous,
                } => (
                    "set_tag",
                    version.map_or("model".to_owned(), |v| format!("version {v}")),
                    json!({ key.as_str(): previous }),
                    json!({ key.as_str(): value }),
                ),
                Op::SetDescription {
                    version,
                    text,
                    previous,
                } => (
                    "set_description",
                    version.map_or("model".to_owned(), |v| format!("version {v}")),
                    json!(previous),
                    json!(text),
                ),
            };
            out.push(AuditEntry {
                at_ms: e.at_ms,
                actor: e.actor,
                operation: operation.into(),
                target,
                before,
                after,
            });
        }
    }
    out.sort_by_key(|a| a.at_ms);
    Ok(out)
}
