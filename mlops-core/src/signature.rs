//! Signatures: an Arrow schema plus per-field constraints.
//!
//! A profile of training data produces a [`Signature`] (see `mlops-data`'s
//! rule inference); a validator checks batches or other profiles against it;
//! a model package stores one for its inputs and one for its outputs.

use std::collections::BTreeSet;

use arrow_schema::{DataType, Field, Schema};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::kind::TypeFamily;

/// Inclusive bounds on the finite values of a numeric field.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct NumericRange {
    /// Smallest accepted value.
    pub min: f64,
    /// Largest accepted value.
    pub max: f64,
}

impl NumericRange {
    /// A range; fails when either bound is not finite or `min > max`.
    pub fn new(min: f64, max: f64) -> Result<Self> {
        if !(min.is_finite() && max.is_finite() && min <= max) {
            return Err(Error::invalid_input(
                "numeric range",
                "NumericRange::new",
                format!("[{min}, {max}]"),
                "finite bounds with min <= max",
            ));
        }
        Ok(NumericRange { min, max })
    }

    /// Whether `x` lies inside the range.
    pub fn contains(&self, x: f64) -> bool {
        x >= self.min && x <= self.max
    }
}

/// Constraints on one field's values beyond its type.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FieldConstraints {
    /// Largest accepted share of nulls in a batch (0 forbids nulls); `None` accepts any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_null_fraction: Option<f64>,
    /// Accepted range of finite numeric values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<NumericRange>,
    /// Whether NaN and ±infinity are accepted in a numeric field.
    #[serde(default)]
    pub allow_non_finite: bool,
    /// The closed set of accepted categories of a string field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_values: Option<BTreeSet<String>>,
}

impl FieldConstraints {
    /// No constraint at all.
    pub fn none() -> Self {
        Self::default()
    }

    /// Sets the largest accepted null share.
    pub fn with_max_null_fraction(mut self, fraction: f64) -> Self {
        self.max_null_fraction = Some(fraction);
        self
    }

    /// Sets the numeric range.
    pub fn with_range(mut self, range: NumericRange) -> Self {
        self.range = Some(range);
        self
    }

    /// Accepts or rejects NaN and ±infinity.
    pub fn with_non_finite(mut self, allow: bool) -> Self {
        self.allow_non_finite = allow;
        self
    }

    /// Sets the allowed categories.
    pub fn with_allowed_values<I, S>(mut self, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.allowed_values = Some(values.into_iter().map(Into::into).collect());
        self
    }
}

/// One field of a signature.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldSpec {
    /// Column name.
    pub name: String,
    /// Declared Arrow type; values of the same [`TypeFamily`] are accepted.
    pub data_type: DataType,
    /// Whether nulls may appear at all.
    pub nullable: bool,
    /// Value constraints.
    #[serde(default)]
    pub constraints: FieldConstraints,
}

impl FieldSpec {
    /// A field with no value constraints.
    pub fn new(name: impl Into<String>, data_type: DataType, nullable: bool) -> Self {
        FieldSpec {
            name: name.into(),
            data_type,
            nullable,
            constraints: FieldConstraints::none(),
        }
    }

    /// Replaces the constraints.
    pub fn with_constraints(mut self, constraints: FieldConstraints) -> Self {
        self.constraints = constraints;
        self
    }

    /// Whether a column of type `found` satisfies this field's declared type.
    pub fn accepts_type(&self, found: &DataType) -> bool {
        TypeFamily::of(&self.data_type).accepts(TypeFamily::of(found))
    }
}

/// An ordered set of fields: the contract of a data set, a model input or a model output.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Signature {
    /// The fields, in column order.
    pub fields: Vec<FieldSpec>,
}

impl Signature {
    /// A signature from fields; fails on duplicate names.
    pub fn new(fields: Vec<FieldSpec>) -> Result<Self> {
        let mut seen = BTreeSet::new();
        for f in &fields {
            if !seen.insert(f.name.as_str()) {
                return Err(Error::invalid_input(
                    "signature",
                    format!("field `{}`", f.name),
                    "the name appears twice",
                    "unique field names",
                ));
            }
        }
        Ok(Signature { fields })
    }

    /// A signature with the schema's fields and no value constraints.
    pub fn from_schema(schema: &Schema) -> Result<Self> {
        Signature::new(
            schema
                .fields()
                .iter()
                .map(|f| FieldSpec::new(f.name(), f.data_type().clone(), f.is_nullable()))
                .collect(),
        )
    }

    /// The Arrow schema the signature declares.
    pub fn to_arrow_schema(&self) -> Schema {
        Schema::new(
            self.fields
                .iter()
                .map(|f| Field::new(&f.name, f.data_type.clone(), f.nullable))
                .collect::<Vec<_>>(),
        )
    }

    /// The field with this name.
    pub fn field(&self, name: &str) -> Option<&FieldSpec> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Serialises to pretty JSON.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| Error::serialization("signature", e))
    }

    /// Parses the JSON form.
    pub fn from_json(json: &str) -> Result<Self> {
        let sig: Signature = serde_json::from_str(json).map_err(|e| Error::serialization("signature", e))?;
        Signature::new(sig.fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_and_duplicate_names() {
        let sig = Signature::new(vec![
            FieldSpec::new("age", DataType::Int64, false)
                .with_constraints(FieldConstraints::none().with_range(NumericRange::new(0.0, 120.0).unwrap())),
            FieldSpec::new("city", DataType::Utf8, true).with_constraints(
                FieldConstraints::none()
                    .with_allowed_values(["paris", "rome"])
                    .with_max_null_fraction(0.1),
            ),
        ])
        .unwrap();
        let back = Signature::from_json(&sig.to_json().unwrap()).unwrap();
        assert_eq!(back, sig);
        assert_eq!(back.to_arrow_schema().field(1).name(), "city");
        let dup = Signature::new(vec![
            FieldSpec::new("a", DataType::Int8, true),
            FieldSpec::new("a", DataType::Int8, true),
        ]);
        assert!(matches!(dup, Err(Error::InvalidInput { .. })));
    }

    #[test]
    fn range_rejects_nan_and_inverted_bounds() {
        assert!(NumericRange::new(f64::NAN, 1.0).is_err());
        assert!(NumericRange::new(2.0, 1.0).is_err());
        assert!(NumericRange::new(1.0, 1.0).unwrap().contains(1.0));
    }

    #[test]
    fn type_families_are_accepted() {
        let f = FieldSpec::new("x", DataType::Float64, true);
        assert!(f.accepts_type(&DataType::Int32));
        assert!(!f.accepts_type(&DataType::Utf8));
    }
}
