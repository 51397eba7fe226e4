//! Idempotent register: a client-supplied request id makes a retried register
//! return the version the first attempt created instead of a duplicate.
//!
//! Order of writes, each create-only:
//! 1. blobs (content-addressed, as in every register);
//! 2. a claim `requests/<id>/<k>.json` naming version number `n`;
//! 3. the version record `versions/<n>.json`, carrying the request id.
//!
//! Every attempt with the id (a retry after a timeout, a concurrent duplicate,
//! a retry after a crash) follows the newest claim: if `versions/<n>` is free
//! it publishes it, if it carries the id it returns `n`, and if another
//! register took `n` it writes claim `k + 1` with a fresh number. A crash
//! between any two writes leaves a state every later attempt completes, and
//! whichever attempt wins a create, all of them agree on the one version.

use super::records::{RequestClaim, VersionRecord, seq_key};
use super::store::StoreRegistry;
use crate::error::{Error, Result};
use crate::names::validate_name;
use crate::package::ModelPackage;

pub(super) async fn register_idempotent(
    reg: &StoreRegistry,
    package: &dyn ModelPackage,
    request_id: &str,
) -> Result<u64> {
    validate_name("request id", request_id)?;
    let staged = reg.stage_package(package).await?;
    let name = staged.name.clone();
    let claims = reg.layout.requests(&name, request_id);
    let mut attempt = 0;
    while reg.retry.allows(attempt) {
        // The newest claim of this request, if any.
        let newest = reg.list_seqs(&claims).await?.last().copied();
        let claim = match newest {
            Some(k) => reg
                .read_json::<RequestClaim>(&claims.clone().join(seq_key(k)))
                .await?
                .map(|c| (k, c)),
            None => None,
        };
        if let Some((_, c)) = &claim
            && c.manifest != staged.manifest
        {
            return Err(Error::invalid_input(
                "request id",
                format!("`{request_id}` of model `{name}`"),
                format!("it was first used for package {}, not {}", c.manifest, staged.manifest),
                "a new request id for a different package",
            ));
        }
        if let Some((_, c)) = &claim {
            let record = reg.version_record_for(package, &staged, c.version, Some(request_id));
            match reg
                .put_create(&reg.layout.version(&name, c.version), json_record(&record)?)
                .await
            {
                Ok(()) => {
                    reg.published(&name, c.version, &staged.manifest).await;
                    return Ok(c.version);
                }
                Err(Error::AlreadyExists { .. }) => {
                    let holder = reg.version_record(&name, c.version).await?;
                    if holder.request_id.as_deref() == Some(request_id) {
                        reg.saw_version(&name, c.version);
                        return Ok(c.version);
                    }
                    // Another register took the number: claim a fresh one below.
                    reg.saw_version(&name, c.version);
                }
                Err(e) => return Err(e),
            }
        }
        let k = claim.as_ref().map_or(1, |(k, _)| k + 1);
        let hint = reg.version_hints.lock().ok().and_then(|h| h.get(&name).copied());
        let latest = match hint {
            Some(_) => reg
                .list_seqs_after(&reg.layout.versions(&name), hint)
                .await?
                .last()
                .copied()
                .max(hint),
            None => reg.latest_version(&name).await?,
        };
        let next = RequestClaim {
            version: latest.map_or(1, |v| v + 1),
            manifest: staged.manifest,
            at_ms: crate::time::now_ms(),
            actor: reg.actor.clone(),
        };
        let bytes = super::io::json(&next, "request claim")?;
        match reg.put_create(&claims.clone().join(seq_key(k)), bytes).await {
            // Either way the next round follows the newest claim.
            Ok(()) => {}
            Err(Error::AlreadyExists { .. }) => reg.retry.pause(attempt).await,
            Err(e) => return Err(e),
        }
        attempt += 1;
    }
    Err(reg
        .retry
        .exhausted(format!("request `{request_id}` of model `{name}` under {claims}")))
}

fn json_record(record: &VersionRecord) -> Result<bytes::Bytes> {
    super::io::json(record, "version record")
}
