//! The content digest: what a package *is*, independent of when, by whom and
//! with what commentary it was built.
//!
//! The package digest covers the manifest's bytes, creation time included, so
//! two builds of the same model differ. The content digest covers what
//! determines the model's behaviour and provenance — every file (weights,
//! transforms, profile, example), the model config, both signatures, the
//! training data's fingerprints, schemas and row counts, params, metrics, code
//! version and parent — and leaves out the creation time, the creator, the
//! description and the data's URIs (where a data set lives is not what it is).
//! Same data fingerprint, seed and parameters: same content digest.

use std::collections::BTreeMap;

use serde::Serialize;

use super::manifest::{FileEntry, Manifest, ModelRef};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::signature::Signature;

/// The domain tag hashed ahead of the content, so a content digest can never
/// equal a package digest or a file digest of the same bytes.
const DOMAIN: &[u8] = b"mlops-package-content/1\n";

#[derive(Serialize)]
struct DatasetContent<'a> {
    fingerprint: &'a Digest,
    schema: &'a arrow_schema::Schema,
    num_rows: u64,
}

#[derive(Serialize)]
struct Content<'a> {
    format: &'a str,
    format_version: u32,
    name: &'a str,
    files: &'a BTreeMap<String, FileEntry>,
    model_config: &'a serde_json::Value,
    input_signature: &'a Signature,
    output_signature: &'a Signature,
    datasets: Vec<DatasetContent<'a>>,
    params: &'a BTreeMap<String, serde_json::Value>,
    metrics: &'a BTreeMap<String, f64>,
    code_version: Option<&'a str>,
    parent: Option<&'a ModelRef>,
}

impl Manifest {
    /// The content digest (see the module docs): SHA-256 of a domain tag and
    /// the canonical JSON of the manifest's content fields.
    pub fn content_digest(&self) -> Result<Digest> {
        let content = Content {
            format: &self.format,
            format_version: self.format_version,
            name: &self.name,
            files: &self.files,
            model_config: &self.model_config,
            input_signature: &self.input_signature,
            output_signature: &self.output_signature,
            datasets: self
                .datasets
                .iter()
                .map(|d| DatasetContent {
                    fingerprint: &d.fingerprint,
                    schema: &d.schema,
                    num_rows: d.num_rows,
                })
                .collect(),
            params: &self.params,
            metrics: &self.metrics,
            code_version: self.code_version.as_deref(),
            parent: self.parent.as_ref(),
        };
        // serde_json writes struct fields in declaration order and BTreeMaps
        // sorted; `model_config` and params keep the order they were parsed
        // in, so they are canonicalised (keys sorted at every depth) first.
        let mut bytes = DOMAIN.to_vec();
        let value = serde_json::to_value(&content).map_err(|e| Error::serialization("package content", e))?;
        serde_json::to_writer(&mut bytes, &sorted(value)).map_err(|e| Error::serialization("package content", e))?;
        Ok(Digest::of(&bytes))
    }
}

/// `value` with the keys of every object sorted.
fn sorted(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let ordered: BTreeMap<String, serde_json::Value> = map.into_iter().map(|(k, v)| (k, sorted(v))).collect();
            serde_json::Value::Object(ordered.into_iter().collect())
        }
        serde_json::Value::Array(items) => serde_json::Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use arrow_schema::{DataType, Field, Schema};

    use crate::{DatasetRef, Digest, ModelPackage, PackageBuilder};

    fn dataset(uri: &str, rows: &[u8]) -> DatasetRef {
        DatasetRef {
            uri: uri.into(),
            fingerprint: Digest::of(rows),
            schema: Schema::new(vec![Field::new("x", DataType::Float64, true)]),
            num_rows: 3,
        }
    }

    fn build(f: impl FnOnce(PackageBuilder) -> PackageBuilder) -> Digest {
        let base = PackageBuilder::new("m")
            .weights(crate::testing::safetensors_f32(&[("w", &[2], &[1.0, 2.0])]))
            .model_config(serde_json::from_str(r#"{"b": 1, "a": {"y": 2, "x": 1}}"#).unwrap())
            .dataset(dataset("file:///data/train.parquet", b"rows"))
            .param("seed", serde_json::json!(42))
            .metric("auc", 0.9);
        f(base).build().unwrap().content_digest().unwrap()
    }

    #[test]
    fn time_creator_description_and_data_location_do_not_count() {
        let reference = build(|b| b);
        let rebuilt = build(|b| b.created_at_ms(7).creator("someone").description("another text"));
        assert_eq!(rebuilt, reference);
        // The same data at another URI: the dataset's content is what counts.
        let moved = PackageBuilder::new("m")
            .weights(crate::testing::safetensors_f32(&[("w", &[2], &[1.0, 2.0])]))
            .model_config(serde_json::from_str(r#"{"b": 1, "a": {"y": 2, "x": 1}}"#).unwrap())
            .dataset(dataset("s3://bucket/copy.parquet", b"rows"))
            .param("seed", serde_json::json!(42))
            .metric("auc", 0.9)
            .build()
            .unwrap();
        assert_eq!(moved.content_digest().unwrap(), reference);
        // JSON key order in the model config does not count either.
        let reordered = build(|b| b.model_config(serde_json::from_str(r#"{"a": {"x": 1, "y": 2}, "b": 1}"#).unwrap()));
        assert_eq!(reordered, reference);
    }

    #[test]
    fn everything_that_shapes_the_model_counts() {
        let reference = build(|b| b);
        let changed = [
            build(|b| b.weights(crate::testing::safetensors_f32(&[("w", &[2], &[1.0, 2.5])]))),
            build(|b| b.param("seed", serde_json::json!(43))),
            build(|b| b.metric("auc", 0.91)),
            build(|b| b.code_version("abc")),
            build(|b| b.parent("base", 2)),
            build(|b| b.model_config(serde_json::json!({"b": 2}))),
        ];
        for (i, d) in changed.iter().enumerate() {
            assert_ne!(*d, reference, "change {i} left the content digest unchanged");
        }
        // Data with other rows: another fingerprint, another content.
        let other_data = PackageBuilder::new("m")
            .weights(crate::testing::safetensors_f32(&[("w", &[2], &[1.0, 2.0])]))
            .model_config(serde_json::from_str(r#"{"b": 1, "a": {"y": 2, "x": 1}}"#).unwrap())
            .dataset(dataset("file:///data/train.parquet", b"other rows"))
            .param("seed", serde_json::json!(42))
            .metric("auc", 0.9)
            .build()
            .unwrap();
        assert_ne!(other_data.content_digest().unwrap(), reference);
    }
}
