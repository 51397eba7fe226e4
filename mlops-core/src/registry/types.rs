//! Public types of the registry API.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::lineage::DatasetRef;
use crate::package::ModelRef;

/// How a caller names a version.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VersionSelector {
    /// An exact version number (1, 2, 3 … per model).
    Version(u64),
    /// The version an alias (e.g. `champion`) points to now.
    Alias(String),
    /// The highest registered version.
    Latest,
}

/// Lifecycle stage of a version.
///
/// Allowed transitions: `registered → staging | production | archived`,
/// `staging → production | archived | registered`, `production → staging | archived`.
/// `archived` is final (blobs are kept until [`purge`](crate::Registry::purge)).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Just registered.
    Registered,
    /// Under evaluation.
    Staging,
    /// Serving traffic.
    Production,
    /// Retired (decommissioned).
    Archived,
}

impl Stage {
    /// Whether `self → to` is an allowed transition.
    pub fn can_move_to(self, to: Stage) -> bool {
        use Stage::*;
        matches!(
            (self, to),
            (Registered, Staging | Production | Archived)
                | (Staging, Production | Archived | Registered)
                | (Production, Staging | Archived)
        )
    }

    /// Parses `registered`, `staging`, `production`, `archived`.
    pub fn parse(text: &str) -> Option<Stage> {
        match text {
            "registered" => Some(Stage::Registered),
            "staging" => Some(Stage::Staging),
            "production" => Some(Stage::Production),
            "archived" => Some(Stage::Archived),
            _ => None,
        }
    }
}

/// One move of an alias.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AliasEvent {
    /// Position in the alias's history (1, 2, 3 …).
    pub seq: u64,
    /// The version the alias points to after the move (`None`: deleted).
    pub version: Option<u64>,
    /// The version it pointed to before.
    pub previous: Option<u64>,
    /// When, in milliseconds since the epoch (never earlier than the previous move).
    pub at_ms: i64,
    /// Who moved it.
    pub actor: String,
}

/// One stage transition of a version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageEvent {
    /// Position in the version's stage history.
    pub seq: u64,
    /// Stage before.
    pub from: Stage,
    /// Stage after.
    pub to: Stage,
    /// Why (required for archiving).
    pub reason: Option<String>,
    /// When.
    pub at_ms: i64,
    /// Who.
    pub actor: String,
}

/// What the registry knows of one version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct VersionInfo {
    /// Model name.
    pub name: String,
    /// Version number.
    pub version: u64,
    /// Package digest.
    pub digest: Digest,
    /// Content digest (see [`ModelPackage::content_digest`](crate::ModelPackage::content_digest));
    /// `None` for versions registered before it was recorded.
    pub content_digest: Option<Digest>,
    /// When it was registered.
    pub registered_at_ms: i64,
    /// Who registered it.
    pub actor: String,
    /// Current stage.
    pub stage: Stage,
    /// Whether its blobs were purged.
    pub purged: bool,
    /// Aliases pointing at it now.
    pub aliases: Vec<String>,
    /// Its tags.
    pub tags: BTreeMap<String, String>,
    /// Its description.
    pub description: Option<String>,
    /// Metrics from its manifest.
    pub metrics: BTreeMap<String, f64>,
}

/// Comparison for metric filters.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    /// `≥`
    AtLeast,
    /// `≤`
    AtMost,
}

/// Filters for [`Registry::search`](crate::Registry::search); all given filters must hold.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SearchQuery {
    /// Model name contains this text.
    pub name_contains: Option<String>,
    /// The version has this tag with this value.
    pub tag: Option<(String, String)>,
    /// The version is in this stage.
    pub stage: Option<Stage>,
    /// The version's metric compares so with the threshold.
    pub metric: Option<(String, Cmp, f64)>,
}

/// Where a version comes from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Lineage {
    /// Model name.
    pub name: String,
    /// Version.
    pub version: u64,
    /// Package digest.
    pub digest: Digest,
    /// Data sets with fingerprints.
    pub datasets: Vec<DatasetRef>,
    /// The parent version.
    pub parent: Option<ModelRef>,
    /// Training parameters.
    pub params: BTreeMap<String, serde_json::Value>,
    /// Metrics.
    pub metrics: BTreeMap<String, f64>,
    /// Code version.
    pub code_version: Option<String>,
    /// Who built the package.
    pub creator: Option<String>,
}

/// One mutation in a model's audit log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// When.
    pub at_ms: i64,
    /// Who.
    pub actor: String,
    /// What (`register`, `set_alias`, `delete_alias`, `transition`, `purge`, `set_tag`, `set_description`).
    pub operation: String,
    /// On what (`version 3`, `alias champion`, `model`).
    pub target: String,
    /// State before.
    pub before: serde_json::Value,
    /// State after.
    pub after: serde_json::Value,
}

/// The tag a deduplicated register puts on a version whose content an earlier
/// version already has (value: that version's number).
pub const DUPLICATE_OF_TAG: &str = "duplicate_of";

/// What [`Registry::register_deduplicated`](super::Registry::register_deduplicated)
/// does when the content is already registered.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnDuplicate {
    /// Register nothing; return the existing version.
    ReturnExisting,
    /// Register a new version tagged [`DUPLICATE_OF_TAG`] = the existing one.
    RegisterTagged,
}

/// The outcome of a deduplicated register.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    /// The version that holds the content (new or existing).
    pub version: u64,
    /// Whether a new version was registered.
    pub created: bool,
    /// The earlier version with the same content, if any.
    pub duplicate_of: Option<u64>,
    /// The package's content digest.
    pub content_digest: Digest,
}
