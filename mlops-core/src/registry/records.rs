//! What the registry stores: immutable, create-only JSON records.
//!
//! Layout under the registry root:
//!
//! ```text
//! blobs/sha256/<hex>                               file contents, content-addressed
//! models/<name>/versions/<v:012>.json              one VersionRecord per version (publishes it)
//! models/<name>/events/alias.<alias>/<seq:012>.json  alias moves
//! models/<name>/events/stages/<seq:012>.json      stage transitions and purges of every version
//! models/<name>/events/meta/<seq:012>.json         tags and descriptions
//! models/<name>/purged/<v:012>.json                written before a purge deletes any blob
//! models/<name>/requests/<id>/<claim:012>.json     idempotent register: which number a request claims
//! models/<name>/snapshots/<v>-<s>-<m>.json         derived: every record up to these cursors
//! ```
//!
//! Snapshots are the listing index. They are derived data: the records above
//! stay the source of truth, a snapshot only says "versions 1..=v, stage events
//! 1..=s and meta events 1..=m are these", and every stream is dense and
//! append-only, so a reader takes the newest snapshot and reads only what was
//! appended after its cursors. A snapshot can never be wrong, only old; losing
//! one (or all) costs requests, never correctness.
//!
//! Every record is written with `PutMode::Create`: two writers can never both
//! create `versions/000000000007.json`, so they can never both get version 7,
//! and an event stream can never lose an append. Blobs are written first and
//! the record that makes them visible last, so a writer killed at any moment
//! leaves at worst unreferenced blobs, never a half-visible version.

use std::collections::BTreeMap;

use object_store::path::Path;
use serde::{Deserialize, Serialize};

use super::types::Stage;
use crate::digest::Digest;
use crate::package::PackageSignature;

/// Version records and event streams use 12-digit, zero-padded numbers so that
/// lexicographic listing order is numeric order.
pub(crate) fn seq_key(n: u64) -> String {
    format!("{n:012}.json")
}

pub(crate) fn parse_seq_key(file: &str) -> Option<u64> {
    file.strip_suffix(".json")
        .filter(|s| s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()))?
        .parse()
        .ok()
}

#[derive(Clone, Debug)]
pub(crate) struct Layout {
    pub(crate) root: Path,
}

impl Layout {
    pub(crate) fn blob(&self, digest: &Digest) -> Path {
        self.root.clone().join("blobs").join("sha256").join(digest.to_hex())
    }
    pub(crate) fn models(&self) -> Path {
        self.root.clone().join("models")
    }
    pub(crate) fn versions(&self, name: &str) -> Path {
        self.models().join(name).join("versions")
    }
    pub(crate) fn version(&self, name: &str, version: u64) -> Path {
        self.versions(name).join(seq_key(version))
    }
    pub(crate) fn events(&self, name: &str) -> Path {
        self.models().join(name).join("events")
    }
    pub(crate) fn alias_stream(&self, name: &str, alias: &str) -> Path {
        self.events(name).join(format!("alias.{alias}"))
    }
    pub(crate) fn stage_stream(&self, name: &str) -> Path {
        self.events(name).join("stages")
    }
    pub(crate) fn purged(&self, name: &str, version: u64) -> Path {
        self.models().join(name).join("purged").join(seq_key(version))
    }
    pub(crate) fn requests(&self, name: &str, request_id: &str) -> Path {
        self.models().join(name).join("requests").join(request_id)
    }
    pub(crate) fn snapshots(&self, name: &str) -> Path {
        self.models().join(name).join("snapshots")
    }
    pub(crate) fn snapshot(&self, name: &str, cursors: Cursors) -> Path {
        self.snapshots(name).join(cursors.key())
    }
    pub(crate) fn meta_stream(&self, name: &str) -> Path {
        self.events(name).join("meta")
    }
}

/// How far a snapshot reaches in each stream a listing reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Cursors {
    /// Highest version record included.
    pub(crate) versions: u64,
    /// Highest stage event included.
    pub(crate) stages: u64,
    /// Highest meta event included.
    pub(crate) meta: u64,
}

impl Cursors {
    pub(crate) fn key(self) -> String {
        format!("{:012}-{:012}-{:012}.json", self.versions, self.stages, self.meta)
    }

    pub(crate) fn parse(file: &str) -> Option<Cursors> {
        let mut parts = file.strip_suffix(".json")?.split('-');
        let mut next = || -> Option<u64> {
            parts
                .next()
                .filter(|p| p.len() == 12 && p.bytes().all(|b| b.is_ascii_digit()))?
                .parse()
                .ok()
        };
        let c = Cursors {
            versions: next()?,
            stages: next()?,
            meta: next()?,
        };
        parts.next().is_none().then_some(c)
    }

    /// Records covered: the newest snapshot is the one with the most.
    pub(crate) fn covered(self) -> u64 {
        self.versions.saturating_add(self.stages).saturating_add(self.meta)
    }
}

/// A model's records up to some cursors: what a snapshot stores and what a
/// listing folds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ModelRecords {
    /// Version records, ascending and dense (1, 2, 3 …).
    pub(crate) versions: Vec<VersionRecord>,
    /// The model's stage stream, ascending.
    pub(crate) stage_events: Vec<EventRecord>,
    /// The model's meta stream (tags, descriptions), ascending.
    pub(crate) meta_events: Vec<EventRecord>,
}

impl ModelRecords {
    pub(crate) fn cursors(&self) -> Cursors {
        Cursors {
            versions: self.versions.last().map_or(0, |r| r.version),
            stages: self.stage_events.last().map_or(0, |e| e.seq),
            meta: self.meta_events.last().map_or(0, |e| e.seq),
        }
    }
}

/// Publishes a version: which manifest and files it consists of.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct VersionRecord {
    pub(crate) version: u64,
    pub(crate) at_ms: i64,
    pub(crate) actor: String,
    /// SHA-256 of the manifest bytes: the package digest.
    pub(crate) manifest: Digest,
    /// Package file name → blob digest.
    pub(crate) files: BTreeMap<String, Digest>,
    pub(crate) signature: Option<PackageSignature>,
    /// Copied from the manifest so search needs no manifest reads.
    pub(crate) metrics: BTreeMap<String, f64>,
    /// The client's request id, for an idempotent register.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) request_id: Option<String>,
    /// The package's content digest (absent in records written before it existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) content: Option<Digest>,
}

/// An idempotent register's claim on a version number. Claims of one request
/// are numbered 1, 2, 3 …: a claim whose number another register took is
/// followed by the next claim, so the newest claim is the one that counts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RequestClaim {
    /// The version number the request means to publish.
    pub(crate) version: u64,
    /// The package digest: a request id stands for one package.
    pub(crate) manifest: Digest,
    pub(crate) at_ms: i64,
    pub(crate) actor: String,
}

/// A change recorded in an event stream.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum Op {
    SetAlias {
        alias: String,
        version: u64,
        previous: Option<u64>,
    },
    DeleteAlias {
        alias: String,
        previous: Option<u64>,
    },
    Transition {
        version: u64,
        from: Stage,
        to: Stage,
        reason: Option<String>,
    },
    Purge {
        version: u64,
        reason: Option<String>,
    },
    SetTag {
        version: Option<u64>,
        key: String,
        value: Option<String>,
        previous: Option<String>,
    },
    SetDescription {
        version: Option<u64>,
        text: Option<String>,
        previous: Option<String>,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventRecord {
    pub(crate) seq: u64,
    pub(crate) at_ms: i64,
    pub(crate) actor: String,
    pub(crate) change: Op,
}
