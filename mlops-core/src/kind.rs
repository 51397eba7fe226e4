//! How a column's values are interpreted: the semantic kind and the type family.

use arrow_schema::DataType;
use serde::{Deserialize, Serialize};

/// What a column's values mean, independent of their physical width.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SemanticKind {
    /// Integers and floats of every width, and decimals.
    Numeric,
    /// Strings or dictionaries with few distinct values relative to the row count.
    Categorical,
    /// Free text: strings with many distinct values.
    Text,
    /// Booleans.
    Boolean,
    /// Dates, times and timestamps, profiled as instants (seconds since the epoch).
    Time,
    /// Nested or otherwise unsupported types: counted, not profiled.
    Unsupported,
}

/// Groups Arrow types whose values are interchangeable for validation: a
/// `Utf8View` column satisfies a `Utf8` field, an `Int32` satisfies `Int64`.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TypeFamily {
    /// Signed and unsigned integers.
    Integer,
    /// Floating point and decimals.
    Float,
    /// `Utf8`, `LargeUtf8`, `Utf8View` and dictionaries of them.
    String,
    /// `Boolean`.
    Boolean,
    /// Dates, times, timestamps.
    Temporal,
    /// Anything else (nested, binary, intervals...).
    Other,
}

impl TypeFamily {
    /// The family of an Arrow data type. Dictionaries take their value type's family.
    pub fn of(data_type: &DataType) -> Self {
        use DataType::*;
        match data_type {
            Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | UInt64 => TypeFamily::Integer,
            Float16 | Float32 | Float64 | Decimal32(..) | Decimal64(..) | Decimal128(..) | Decimal256(..) => {
                TypeFamily::Float
            }
            Utf8 | LargeUtf8 | Utf8View => TypeFamily::String,
            Boolean => TypeFamily::Boolean,
            Date32 | Date64 | Timestamp(..) | Time32(..) | Time64(..) => TypeFamily::Temporal,
            Dictionary(_, value) => TypeFamily::of(value),
            _ => TypeFamily::Other,
        }
    }

    /// Whether a value of family `found` can be accepted where `self` is declared.
    /// Integers are accepted for floats (they convert exactly up to 2^53); nothing else crosses families.
    pub fn accepts(self, found: TypeFamily) -> bool {
        self == found || (self == TypeFamily::Float && found == TypeFamily::Integer)
    }
}

impl SemanticKind {
    /// The kind implied by the type alone; strings start as categorical and a
    /// profile may re-classify them as text once it has seen their cardinality.
    pub fn from_type(data_type: &DataType) -> Self {
        match TypeFamily::of(data_type) {
            TypeFamily::Integer | TypeFamily::Float => SemanticKind::Numeric,
            TypeFamily::String => SemanticKind::Categorical,
            TypeFamily::Boolean => SemanticKind::Boolean,
            TypeFamily::Temporal => SemanticKind::Time,
            TypeFamily::Other => SemanticKind::Unsupported,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_schema::TimeUnit;

    #[test]
    fn families_cover_every_width() {
        assert_eq!(TypeFamily::of(&DataType::UInt8), TypeFamily::Integer);
        assert_eq!(TypeFamily::of(&DataType::Float16), TypeFamily::Float);
        assert_eq!(
            TypeFamily::of(&DataType::Dictionary(
                Box::new(DataType::Int32),
                Box::new(DataType::Utf8View)
            )),
            TypeFamily::String
        );
        assert_eq!(
            TypeFamily::of(&DataType::Timestamp(TimeUnit::Nanosecond, None)),
            TypeFamily::Temporal
        );
        assert_eq!(
            SemanticKind::from_type(&DataType::new_list(DataType::Int32, true)),
            SemanticKind::Unsupported
        );
        assert!(TypeFamily::Float.accepts(TypeFamily::Integer));
        assert!(!TypeFamily::Integer.accepts(TypeFamily::Float));
    }
}
