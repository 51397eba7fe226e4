//! The listing index: create-only snapshots of a model's records.
//!
//! A reader lists `snapshots/` (one request while there are fewer than 1,000
//! snapshots, and writers prune them), reads the newest, then reads only the
//! version records and stage/meta events appended after its cursors. A reader
//! that finds more than [`SNAPSHOT_EVERY`] records after the newest snapshot
//! writes a new one, as does `register` every [`REGISTER_SNAPSHOT_EVERY`] versions, so
//! with any number of versions a listing costs a bounded number of requests.
//!
//! Correct under concurrent writers and crashes because streams are dense and
//! append-only: a snapshot is "records up to these cursors", true forever once
//! written. Two writers may snapshot at once (create-only: one wins or both
//! write different cursors, both true); a crash leaves at worst no snapshot.

use futures::{StreamExt, TryStreamExt};
use object_store::ObjectStoreExt;
use object_store::path::Path;

use super::io::{json, storage};
use super::records::{Cursors, EventRecord, ModelRecords, VersionRecord, seq_key};
use super::store::StoreRegistry;
use crate::error::{Error, Result};

/// Records appended after the newest snapshot before a reader writes a new one.
pub(crate) const SNAPSHOT_EVERY: u64 = 64;

/// `register` brings the snapshot up to date every this many versions. Larger
/// than [`SNAPSHOT_EVERY`] because a refresh rewrites the whole snapshot
/// (O(versions) bytes); readers catch up the rest, so a listing after a burst
/// of registrations reads at most this many records before the next snapshot.
pub(crate) const REGISTER_SNAPSHOT_EVERY: u64 = 256;

/// Concurrent reads of the records after a snapshot.
const READ_AHEAD: usize = 16;

impl StoreRegistry {
    /// Snapshot cursors present, most covering first.
    async fn snapshot_cursors(&self, name: &str) -> Result<Vec<Cursors>> {
        let dir = self.layout.snapshots(name);
        let metas: Vec<_> = self.store.list(Some(&dir)).try_collect().await.map_err(storage(&dir))?;
        let mut found: Vec<Cursors> = metas
            .iter()
            .filter_map(|m| m.location.filename().and_then(Cursors::parse))
            .collect();
        found.sort_by_key(|c| std::cmp::Reverse(c.covered()));
        Ok(found)
    }

    /// The newest readable snapshot, or empty records if there is none.
    async fn newest_snapshot(&self, name: &str) -> Result<(ModelRecords, Option<Cursors>)> {
        for cursors in self.snapshot_cursors(name).await?.into_iter().take(3) {
            let path = self.layout.snapshot(name, cursors);
            // Pruned between the listing and this read: take the next one.
            let Some(bytes) = self.get_opt(&path).await? else {
                continue;
            };
            match serde_json::from_slice::<ModelRecords>(&bytes) {
                Ok(records) if records.cursors() == cursors => return Ok((records, Some(cursors))),
                // Derived data: a bad snapshot costs requests, never a wrong answer.
                Ok(_) => tracing::warn!(snapshot = %path, "snapshot content does not match its name; ignored"),
                Err(e) => tracing::warn!(snapshot = %path, error = %e, "unreadable snapshot; ignored"),
            }
        }
        Ok((ModelRecords::default(), None))
    }

    /// Reads the records at `seqs` under `stream`, in order, a few at a time.
    async fn read_records<T>(&self, stream: &Path, seqs: Vec<u64>) -> Result<Vec<T>>
    where
        T: serde::de::DeserializeOwned + Send,
    {
        let found: Vec<Option<T>> = futures::stream::iter(seqs)
            .map(|seq| {
                let path = stream.clone().join(seq_key(seq));
                async move { self.read_json::<T>(&path).await }
            })
            .buffered(READ_AHEAD)
            .try_collect()
            .await?;
        Ok(found.into_iter().flatten().collect())
    }

    async fn tail_of(&self, stream: &Path, after: u64) -> Result<Vec<u64>> {
        self.list_seqs_after(stream, (after > 0).then_some(after)).await
    }

    /// Every version record and stage/meta event of a model: the newest
    /// snapshot plus what was appended after it. Writes a new snapshot when
    /// the tail has grown past [`SNAPSHOT_EVERY`].
    pub(crate) async fn model_records(&self, name: &str) -> Result<ModelRecords> {
        let (mut records, base) = self.newest_snapshot(name).await?;
        let at = records.cursors();
        let (versions, stages, meta) = (
            self.layout.versions(name),
            self.layout.stage_stream(name),
            self.layout.meta_stream(name),
        );
        let (new_versions, new_stages, new_meta) = futures::try_join!(
            self.tail_of(&versions, at.versions),
            self.tail_of(&stages, at.stages),
            self.tail_of(&meta, at.meta),
        )?;
        let tail = (new_versions.len() + new_stages.len() + new_meta.len()) as u64;
        let (v, s, m) = futures::try_join!(
            self.read_records::<VersionRecord>(&versions, new_versions),
            self.read_records::<EventRecord>(&stages, new_stages),
            self.read_records::<EventRecord>(&meta, new_meta),
        )?;
        records.versions.extend(v);
        records.stage_events.extend(s);
        records.meta_events.extend(m);
        if tail >= SNAPSHOT_EVERY {
            self.write_snapshot(name, &records, base).await;
        }
        Ok(records)
    }

    /// Brings the snapshot up to date if it lags (used by `register`).
    pub(crate) async fn refresh_snapshot(&self, name: &str) {
        if let Err(e) = self.model_records(name).await {
            tracing::warn!(model = %name, error = %e, "could not refresh the listing snapshot");
        }
    }

    /// Best effort: a registry on read-only credentials still lists, only slower.
    async fn write_snapshot(&self, name: &str, records: &ModelRecords, base: Option<Cursors>) {
        let cursors = records.cursors();
        let path = self.layout.snapshot(name, cursors);
        let written = match json(records, "registry snapshot") {
            Ok(bytes) => self.put_create(&path, bytes).await,
            Err(e) => Err(e),
        };
        match written {
            Ok(()) => {
                // The base is superseded; readers that listed it fall back to the next.
                if let Some(old) = base.filter(|b| *b != cursors) {
                    let old = self.layout.snapshot(name, old);
                    if let Err(e) = self.store.delete(&old).await {
                        tracing::debug!(snapshot = %old, error = %e, "could not prune a snapshot");
                    }
                }
            }
            Err(Error::AlreadyExists { .. }) => {}
            Err(e) => tracing::warn!(snapshot = %path, error = %e, "could not write a listing snapshot"),
        }
    }

    /// The highest version: the newest snapshot's cursor plus one listing, no reads.
    pub(crate) async fn latest_version(&self, name: &str) -> Result<Option<u64>> {
        let floor = self.snapshot_cursors(name).await?.first().map_or(0, |c| c.versions);
        let after = self.tail_of(&self.layout.versions(name), floor).await?;
        Ok(after.last().copied().or((floor > 0).then_some(floor)))
    }
}
