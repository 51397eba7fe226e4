//! Lineage: references to data sets that a model was trained or evaluated on.

use arrow_schema::Schema;
use serde::{Deserialize, Serialize};

use crate::digest::Digest;

/// Points at a data set without copying it: where it lives, what it contains
/// (a fingerprint over schema and values) and its shape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DatasetRef {
    /// Where the data lives (`file:///…`, `s3://…`); informative only, the
    /// fingerprint is what identifies the content.
    pub uri: String,
    /// Content fingerprint, independent of file names and of batch or row-group boundaries.
    pub fingerprint: Digest,
    /// The data set's Arrow schema.
    pub schema: Schema,
    /// Number of rows.
    pub num_rows: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_schema::{DataType, Field};

    #[test]
    fn dataset_ref_round_trips_as_json() {
        let r = DatasetRef {
            uri: "file:///data/train.parquet".into(),
            fingerprint: Digest::of(b"rows"),
            schema: Schema::new(vec![Field::new("x", DataType::Float64, true)]),
            num_rows: 3,
        };
        let back: DatasetRef = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
    }
}
