//! The event log: sequence-numbered streams of create-only records, and the
//! compare-and-append that retries a lost race after a backoff.

use futures::TryStreamExt;
use object_store::path::Path;

use super::io::{json, storage};
use super::records::{EventRecord, Op, parse_seq_key, seq_key};
use super::store::StoreRegistry;
use crate::error::{Error, Result};

/// What `decide` sees of a stream before an append.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Read<'a> {
    /// Only the last event (alias streams: the current target is all that matters).
    Last,
    /// The model's stage stream, through its snapshot.
    Stages(&'a str),
    /// The model's meta stream, through its snapshot.
    Meta(&'a str),
}

impl StoreRegistry {
    /// Sequence numbers present under a prefix, ascending.
    pub(super) async fn list_seqs(&self, prefix: &Path) -> Result<Vec<u64>> {
        self.list_seqs_after(prefix, None).await
    }

    /// Sequence numbers above `after` under a prefix, ascending.
    pub(super) async fn list_seqs_after(&self, prefix: &Path, after: Option<u64>) -> Result<Vec<u64>> {
        let metas: Vec<_> = match after {
            Some(n) => {
                let offset = prefix.clone().join(seq_key(n));
                self.store
                    .list_with_offset(Some(prefix), &offset)
                    .try_collect()
                    .await
                    .map_err(storage(prefix))?
            }
            None => self
                .store
                .list(Some(prefix))
                .try_collect()
                .await
                .map_err(storage(prefix))?,
        };
        let mut seqs: Vec<u64> = metas
            .iter()
            .filter(|m| {
                m.location
                    .prefix_match(prefix)
                    .is_some_and(|mut rest| rest.next().is_some() && rest.next().is_none())
            })
            .filter_map(|m| m.location.filename().and_then(parse_seq_key))
            .collect();
        seqs.sort_unstable();
        Ok(seqs)
    }

    pub(super) async fn events(&self, stream: &Path) -> Result<Vec<EventRecord>> {
        let mut out = Vec::new();
        for seq in self.list_seqs(stream).await? {
            let path = stream.clone().join(seq_key(seq));
            if let Some(e) = self.read_json::<EventRecord>(&path).await? {
                out.push(e);
            }
        }
        Ok(out)
    }

    fn cached_head(&self, stream: &Path) -> Option<EventRecord> {
        self.heads.lock().ok()?.get(stream.as_ref()).cloned()
    }

    fn remember_head(&self, stream: &Path, event: &EventRecord) {
        if let Ok(mut heads) = self.heads.lock() {
            let newer = heads.get(stream.as_ref()).is_none_or(|h| h.seq < event.seq);
            if newer {
                heads.insert(stream.to_string(), event.clone());
            }
        }
    }

    /// The last event of a stream: with a cached head, one probe of the next
    /// key (absent: the head is still the last); otherwise, or if the stream
    /// has grown, a listing.
    pub(super) async fn last_event(&self, stream: &Path) -> Result<Option<EventRecord>> {
        let head = self.cached_head(stream);
        if let Some(h) = &head
            && self.get_opt(&stream.clone().join(seq_key(h.seq + 1))).await?.is_none()
        {
            return Ok(head);
        }
        let after = head.as_ref().map(|h| h.seq);
        let last = match self.list_seqs_after(stream, after).await?.last() {
            Some(&seq) => {
                self.read_json::<EventRecord>(&stream.clone().join(seq_key(seq)))
                    .await?
            }
            None => None,
        };
        if let Some(e) = &last {
            self.remember_head(stream, e);
        }
        Ok(last.or(head))
    }

    /// Appends to an event stream with compare-and-append semantics: `decide`
    /// sees the stream's current events and returns the change (or refuses it);
    /// losing the create-only race re-reads and decides again.
    pub(super) async fn append<F>(&self, stream: &Path, read: Read<'_>, decide: F) -> Result<EventRecord>
    where
        F: Fn(&[EventRecord]) -> Result<Op> + Send + Sync,
    {
        let mut attempt = 0;
        while self.retry.allows(attempt) {
            let events = match read {
                Read::Last => self.last_event(stream).await?.into_iter().collect(),
                Read::Stages(name) => self.model_records(name).await?.stage_events,
                Read::Meta(name) => self.model_records(name).await?.meta_events,
            };
            let last = events.last();
            let change = decide(&events)?;
            let record = EventRecord {
                seq: last.map_or(1, |e| e.seq + 1),
                // Clocks of different writers disagree; history stays monotonic.
                at_ms: crate::time::now_ms().max(last.map_or(i64::MIN, |e| e.at_ms)),
                actor: self.actor.clone(),
                change,
            };
            let path = stream.clone().join(seq_key(record.seq));
            match self.put_create(&path, json(&record, "registry event")?).await {
                Ok(()) => {
                    self.remember_head(stream, &record);
                    return Ok(record);
                }
                Err(Error::AlreadyExists { .. }) => self.retry.pause(attempt).await,
                Err(e) => return Err(e),
            }
            attempt += 1;
        }
        Err(self.retry.exhausted(format!("event stream {stream}")))
    }
}
