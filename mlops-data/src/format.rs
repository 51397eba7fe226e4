//! The persisted forms of a [`Profile`]: versioned JSON and compact binary.
//!
//! # JSON form (`format_version` 1)
//!
//! ```text
//! {
//!   "format": "mlops-profile",
//!   "format_version": 1,
//!   "num_rows": 5000,
//!   "config": { "kll_k": 400, "hll_precision": 14, "frequent_items": 128, "batch_size": 8192 },
//!   "columns": [
//!     { "name": "age", "data_type": "Int64", "kind": "numeric",
//!       "count": 4990, "null_count": 10,                        // count = non-null values
//!       "nan_count": 0, "pos_inf_count": 0, "neg_inf_count": 0, "zero_count": 3,
//!       "min": 18.0, "max": 90.0, "mean": 41.2, "std": 12.1, "sum": 205588.0,
//!       "quantiles": { "0.01": 19.0, "0.05": 21.0, …, "0.99": 85.0 },
//!       "distinct": 73.0,
//!       "state": { "numeric": { … } } },                       // sketches: what merges
//!     { "name": "city", "data_type": "Utf8", "kind": "categorical",
//!       "count": …, "null_count": …, "distinct": 12.0,
//!       "top": [ { "value": "paris", "count": 812 }, … ],       // most frequent first
//!       "min_len": 4, "max_len": 9, "mean_len": 6.1,
//!       "state": { "string": { … } } },
//!     { "name": "active", "data_type": "Boolean", "kind": "boolean",
//!       "count": …, "null_count": …, "true_count": 3100, "false_count": 1890,
//!       "state": { "boolean": { "true_count": 3100 } } }
//!   ]
//! }
//! ```
//!
//! Everything outside `state` is derived from `state` and the counts: a reader
//! ignores it, so the readable fields can never disagree with what merges.
//! `std` is the sample standard deviation (ddof = 1); numeric statistics cover
//! finite values only; times are seconds since the epoch. `top` counts are
//! lower bounds, exact when `top_exact` is true. Reading a document whose
//! `format_version` is newer than this build's is an
//! [`Error::UnsupportedVersion`].
//!
//! # Binary form
//!
//! `b"MLOPSPRF"`, the format version (u32 LE), the payload length (u64 LE),
//! the payload ([postcard](https://docs.rs/postcard) encoding of the same
//! state), and an XXH3-64 checksum of the payload (u64 LE). A truncated or
//! altered file is an [`Error::Corrupt`].

use std::collections::BTreeMap;
use std::str::FromStr;

use arrow_schema::DataType;
use mlops_core::SemanticKind;
use serde::{Deserialize, Serialize};

use crate::column::{
    BooleanStats, ColumnProfile, ColumnStats, NumericStats, NumericWire, StringStats, StringWire, UnsupportedStats,
};
use crate::config::ProfileConfig;
use crate::profile::{Profile, REPORT_QUANTILES};
use crate::{Error, Result};

/// The format version this build writes and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;
const FORMAT_NAME: &str = "mlops-profile";
const MAGIC: &[u8; 8] = b"MLOPSPRF";
/// Frequent items shown in the readable `top` list.
const TOP_SHOWN: usize = 20;

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum StateDoc {
    Numeric(NumericWire),
    String(StringWire),
    Boolean { true_count: u64 },
    Unsupported {},
}

#[derive(Serialize, Deserialize)]
struct TopItem {
    value: String,
    count: u64,
}

#[derive(Serialize, Deserialize)]
struct ColumnDoc {
    name: String,
    data_type: String,
    kind: SemanticKind,
    count: u64,
    null_count: u64,
    #[serde(flatten, skip_deserializing)]
    readable: Option<Readable>,
    state: StateDoc,
}

/// Derived fields, flattened into the column object when written.
#[derive(Serialize, Default)]
struct Readable {
    #[serde(flatten)]
    fields: BTreeMap<&'static str, serde_json::Value>,
}

#[derive(Serialize, Deserialize)]
struct ProfileDoc {
    format: String,
    format_version: u32,
    num_rows: u64,
    config: ProfileConfig,
    columns: Vec<ColumnDoc>,
}

#[derive(Deserialize)]
struct VersionProbe {
    format: Option<String>,
    format_version: Option<u32>,
}

/// The binary payload: the same state without the derived fields.
#[derive(Serialize, Deserialize)]
struct BinaryColumn {
    name: String,
    data_type: String,
    count: u64,
    null_count: u64,
    state: StateDoc,
}

#[derive(Serialize, Deserialize)]
struct BinaryDoc {
    num_rows: u64,
    config: ProfileConfig,
    columns: Vec<BinaryColumn>,
}

fn state_of(c: &ColumnProfile) -> StateDoc {
    match &c.stats {
        ColumnStats::Numeric(s) => StateDoc::Numeric(s.to_wire()),
        ColumnStats::String(s) => StateDoc::String(s.to_wire()),
        ColumnStats::Boolean(s) => StateDoc::Boolean {
            true_count: s.true_count,
        },
        ColumnStats::Unsupported(_) => StateDoc::Unsupported {},
    }
}

fn readable_of(c: &ColumnProfile) -> Readable {
    use serde_json::json;
    let mut f: BTreeMap<&'static str, serde_json::Value> = BTreeMap::new();
    if let Some(d) = c.distinct() {
        f.insert("distinct", json!(d));
    }
    match &c.stats {
        ColumnStats::Numeric(s) => {
            f.insert("nan_count", json!(s.nan_count));
            f.insert("pos_inf_count", json!(s.pos_inf_count));
            f.insert("neg_inf_count", json!(s.neg_inf_count));
            f.insert("zero_count", json!(s.zero_count));
            f.insert("min", json!(s.min()));
            f.insert("max", json!(s.max()));
            f.insert("mean", json!(s.mean()));
            f.insert("std", json!(s.std()));
            f.insert("sum", json!(s.sum()));
            let qs = s.quantiles_at(&REPORT_QUANTILES);
            let map: BTreeMap<String, Option<f64>> = REPORT_QUANTILES
                .iter()
                .enumerate()
                .map(|(i, q)| (format!("{q}"), qs.as_ref().and_then(|v| v.get(i).copied())))
                .collect();
            f.insert("quantiles", json!(map));
            f.insert("rank_error", json!(s.quantiles.rank_error()));
            f.insert("distinct_exact", json!(s.distinct.is_exact()));
        }
        ColumnStats::String(s) => {
            let top: Vec<TopItem> = s
                .frequent
                .items()
                .into_iter()
                .take(TOP_SHOWN)
                .map(|i| TopItem {
                    value: i.value,
                    count: i.lower,
                })
                .collect();
            f.insert("top", json!(top));
            f.insert("top_exact", json!(s.frequent.is_exact()));
            f.insert("top_max_error", json!(s.frequent.max_error()));
            f.insert("min_len", json!(s.min_len()));
            f.insert("max_len", json!(s.max_len()));
            f.insert("mean_len", json!(s.mean_len()));
            f.insert("distinct_exact", json!(s.distinct.is_exact()));
        }
        ColumnStats::Boolean(s) => {
            f.insert("true_count", json!(s.true_count()));
            f.insert("false_count", json!(s.false_count()));
        }
        ColumnStats::Unsupported(_) => {
            f.insert("profiled", json!(false));
        }
    }
    Readable { fields: f }
}

fn column_from_state(
    name: String,
    data_type: &str,
    count: u64,
    null_count: u64,
    state: StateDoc,
    location: &str,
) -> Result<ColumnProfile> {
    let location = format!("{location}, column `{name}`");
    let data_type = DataType::from_str(data_type)
        .map_err(|e| Error::corrupt(&location, format!("unknown data type `{data_type}`: {e}")))?;
    let expected = crate::column::ingest::StatsKind::of(&data_type);
    use crate::column::ingest::StatsKind;
    let stats = match (state, expected) {
        (StateDoc::Numeric(w), StatsKind::Numeric) => {
            ColumnStats::Numeric(NumericStats::from_wire(w, count, null_count, &location)?)
        }
        (StateDoc::String(w), StatsKind::String) => {
            ColumnStats::String(StringStats::from_wire(w, count, null_count, &location)?)
        }
        (StateDoc::Boolean { true_count }, StatsKind::Boolean) if true_count <= count => {
            ColumnStats::Boolean(BooleanStats {
                count,
                null_count,
                true_count,
            })
        }
        (StateDoc::Unsupported {}, StatsKind::Unsupported) => {
            ColumnStats::Unsupported(UnsupportedStats { count, null_count })
        }
        _ => {
            return Err(Error::corrupt(
                &location,
                format!("state does not match data type {data_type}"),
            ));
        }
    };
    Ok(ColumnProfile { name, data_type, stats })
}

/// Rebuilds a profile from decoded columns, checking the configuration and every invariant.
fn assemble(
    config: ProfileConfig,
    num_rows: u64,
    columns: impl Iterator<Item = BinaryColumn>,
    location: &str,
) -> Result<Profile> {
    // A stored configuration that could never have been built means a damaged file:
    // say so, naming the file's format, rather than reporting a bad setting.
    config
        .validate()
        .map_err(|e| Error::corrupt(location, format!("invalid stored configuration: {e}")))?;
    let columns = columns
        .map(|c| column_from_state(c.name, &c.data_type, c.count, c.null_count, c.state, location))
        .collect::<Result<Vec<_>>>()?;
    let profile = Profile {
        config,
        num_rows,
        columns,
    };
    check_rows(&profile, location)?;
    Ok(profile)
}

fn check_rows(p: &Profile, location: &str) -> Result<()> {
    if let Some(c) = p.columns.iter().find(|c| c.count() + c.null_count() != p.num_rows) {
        return Err(Error::corrupt(
            location,
            format!(
                "column `{}` has {} values and nulls, the profile {} rows",
                c.name,
                c.count() + c.null_count(),
                p.num_rows
            ),
        ));
    }
    Ok(())
}

impl Profile {
    /// The documented JSON form (compact).
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string(&self.to_doc()).map_err(|e| Error::serialization("profile JSON", e))
    }

    /// The documented JSON form, indented for people.
    pub fn to_json_pretty(&self) -> Result<String> {
        serde_json::to_string_pretty(&self.to_doc()).map_err(|e| Error::serialization("profile JSON", e))
    }

    fn to_doc(&self) -> ProfileDoc {
        let mut this = self.clone();
        this.compact();
        ProfileDoc {
            format: FORMAT_NAME.into(),
            format_version: FORMAT_VERSION,
            num_rows: this.num_rows,
            config: this.config.clone(),
            columns: this
                .columns
                .iter()
                .map(|c| ColumnDoc {
                    name: c.name.clone(),
                    data_type: c.data_type.to_string(),
                    kind: c.kind(),
                    count: c.count(),
                    null_count: c.null_count(),
                    readable: Some(readable_of(c)),
                    state: state_of(c),
                })
                .collect(),
        }
    }

    /// Reads the JSON form, checking the version first and every invariant after.
    pub fn from_json(json: &str) -> Result<Profile> {
        const LOCATION: &str = "profile JSON";
        let probe: VersionProbe = serde_json::from_str(json).map_err(|e| Error::serialization(LOCATION, e))?;
        if probe.format.as_deref() != Some(FORMAT_NAME) {
            return Err(Error::corrupt(
                LOCATION,
                format!("`format` is {:?}, expected \"{FORMAT_NAME}\"", probe.format),
            ));
        }
        match probe.format_version {
            Some(v) if v > FORMAT_VERSION || v == 0 => {
                return Err(Error::UnsupportedVersion {
                    location: LOCATION.into(),
                    found: v,
                    supported: FORMAT_VERSION,
                });
            }
            None => return Err(Error::corrupt(LOCATION, "missing `format_version`")),
            Some(_) => {}
        }
        let doc: ProfileDoc = serde_json::from_str(json).map_err(|e| Error::serialization(LOCATION, e))?;
        let columns = doc.columns.into_iter().map(|c| BinaryColumn {
            name: c.name,
            data_type: c.data_type,
            count: c.count,
            null_count: c.null_count,
            state: c.state,
        });
        assemble(doc.config, doc.num_rows, columns, LOCATION)
    }

    /// The compact binary form.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut this = self.clone();
        this.compact();
        let doc = BinaryDoc {
            num_rows: this.num_rows,
            config: this.config.clone(),
            columns: this
                .columns
                .iter()
                .map(|c| BinaryColumn {
                    name: c.name.clone(),
                    data_type: c.data_type.to_string(),
                    count: c.count(),
                    null_count: c.null_count(),
                    state: state_of(c),
                })
                .collect(),
        };
        let payload = postcard::to_stdvec(&doc).map_err(|e| Error::serialization("profile binary", e))?;
        let mut out = Vec::with_capacity(payload.len() + 28);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        out.extend_from_slice(&payload);
        out.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(&payload).to_le_bytes());
        Ok(out)
    }

    /// Reads the binary form; truncation, tampering and newer versions are errors.
    pub fn from_bytes(bytes: &[u8]) -> Result<Profile> {
        const LOCATION: &str = "profile binary";
        let header = bytes
            .get(..20)
            .ok_or_else(|| Error::corrupt(LOCATION, "shorter than its 20-byte header"))?;
        if &header[..8] != MAGIC {
            return Err(Error::corrupt(LOCATION, "missing the MLOPSPRF magic bytes"));
        }
        let version = u32::from_le_bytes([header[8], header[9], header[10], header[11]]);
        if version > FORMAT_VERSION || version == 0 {
            return Err(Error::UnsupportedVersion {
                location: LOCATION.into(),
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        let mut len_bytes = [0u8; 8];
        len_bytes.copy_from_slice(&header[12..20]);
        let len = usize::try_from(u64::from_le_bytes(len_bytes)).unwrap_or(usize::MAX);
        let expected_total = len.saturating_add(28);
        if bytes.len() != expected_total {
            return Err(Error::corrupt(
                LOCATION,
                format!("{} bytes, the header announces {}", bytes.len(), expected_total),
            ));
        }
        let payload = &bytes[20..20 + len];
        let mut sum = [0u8; 8];
        sum.copy_from_slice(&bytes[20 + len..]);
        if u64::from_le_bytes(sum) != xxhash_rust::xxh3::xxh3_64(payload) {
            return Err(Error::corrupt(LOCATION, "checksum mismatch: the payload was altered"));
        }
        let doc: BinaryDoc = postcard::from_bytes(payload).map_err(|e| Error::corrupt(LOCATION, e.to_string()))?;
        assemble(doc.config, doc.num_rows, doc.columns.into_iter(), LOCATION)
    }
}
