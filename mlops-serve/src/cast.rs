//! Lossless casts at the door: a column is brought to its declared type only
//! when no value changes (integers to wider integers or to floats that hold
//! them exactly, narrower floats to wider ones, dictionaries to their values,
//! between string encodings). Float to integer and string to number are
//! refused, as MLflow's schema enforcement does.

use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, Int64Type, UInt32Type, UInt64Type};
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType;
use mlops_core::{FieldSpec, RowViolation, RuleKind};

fn int_bits(t: &DataType) -> Option<(bool, u32)> {
    Some(match t {
        DataType::Int8 => (true, 8),
        DataType::Int16 => (true, 16),
        DataType::Int32 => (true, 32),
        DataType::Int64 => (true, 64),
        DataType::UInt8 => (false, 8),
        DataType::UInt16 => (false, 16),
        DataType::UInt32 => (false, 32),
        DataType::UInt64 => (false, 64),
        _ => return None,
    })
}

/// Bits of precision (the significand) of a float type.
fn float_precision(t: &DataType) -> Option<u32> {
    match t {
        DataType::Float16 => Some(11),
        DataType::Float32 => Some(24),
        DataType::Float64 => Some(53),
        _ => None,
    }
}

fn is_string(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

/// Whether every value of type `from` has an exact value of type `to`;
/// `Some(bits)` when only integers up to 2^bits in magnitude do (checked per value).
enum Widening {
    Always,
    IfMagnitudeAtMost(u32),
    Never,
}

fn widening(from: &DataType, to: &DataType) -> Widening {
    if from == to || (is_string(from) && is_string(to)) {
        return Widening::Always;
    }
    match (int_bits(from), int_bits(to), float_precision(from), float_precision(to)) {
        (Some((fs, fb)), Some((ts, tb)), _, _) => {
            let fits = match (fs, ts) {
                (false, false) | (true, true) => fb <= tb,
                (false, true) => fb < tb,
                (true, false) => false,
            };
            if fits { Widening::Always } else { Widening::Never }
        }
        (Some((signed, bits)), None, _, Some(precision)) => {
            let magnitude_bits = if signed { bits - 1 } else { bits };
            if magnitude_bits <= precision {
                Widening::Always
            } else {
                Widening::IfMagnitudeAtMost(precision)
            }
        }
        (None, None, Some(f), Some(t)) if f <= t => Widening::Always,
        _ => Widening::Never,
    }
}

/// The first row whose integer magnitude exceeds 2^bits, with its value.
fn first_too_large(array: &dyn Array, bits: u32) -> Option<(usize, String)> {
    let limit: u64 = 1u64 << bits;
    macro_rules! scan {
        ($t:ty) => {
            array
                .as_primitive::<$t>()
                .iter()
                .enumerate()
                .find(|(_, v)| v.is_some_and(|v| (v as i128).unsigned_abs() > u128::from(limit)))
                .map(|(i, v)| (i, v.map(|v| v.to_string()).unwrap_or_default()))
        };
    }
    match array.data_type() {
        DataType::Int32 => scan!(Int32Type),
        DataType::Int64 => scan!(Int64Type),
        DataType::UInt32 => scan!(UInt32Type),
        DataType::UInt64 => scan!(UInt64Type),
        _ => None,
    }
}

/// The column as its declared type, or the violation saying why it cannot be.
pub(crate) fn conform(field: &FieldSpec, array: &ArrayRef, max_rows: usize) -> Result<ArrayRef, RowViolation> {
    let to = &field.data_type;
    // Most columns arrive at their declared type: nothing to decide.
    if array.data_type() == to {
        return Ok(array.clone());
    }
    let refuse = |found: &DataType| {
        let mut v = RowViolation::new(
            &field.name,
            RuleKind::Type,
            format!("{to} or a type that widens to it without loss (found {found})"),
        );
        v.count = array.len();
        v
    };
    // Dictionaries are decoded to their values first; the values must then widen.
    let plain: ArrayRef = match array.data_type() {
        DataType::Dictionary(_, value) => {
            if matches!(widening(value, to), Widening::Never) {
                return Err(refuse(array.data_type()));
            }
            arrow_cast::cast(array, value).map_err(|_| refuse(array.data_type()))?
        }
        _ => array.clone(),
    };
    let from = plain.data_type().clone();
    match widening(&from, to) {
        Widening::Never => Err(refuse(&from)),
        Widening::Always if &from == to => Ok(plain),
        Widening::IfMagnitudeAtMost(bits) => {
            if let Some((row, value)) = first_too_large(plain.as_ref(), bits) {
                let mut v = RowViolation::new(
                    &field.name,
                    RuleKind::Type,
                    format!("integers of magnitude at most 2^{bits}, which {to} holds exactly"),
                );
                v.record(row, || value, max_rows);
                return Err(v);
            }
            arrow_cast::cast(&plain, to).map_err(|_| refuse(&from))
        }
        Widening::Always => arrow_cast::cast(&plain, to).map_err(|_| refuse(&from)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::Arc;

    use arrow_array::types::Int8Type;
    use arrow_array::{DictionaryArray, Float32Array, Float64Array, Int64Array, StringArray};

    use super::*;

    fn field(t: DataType) -> FieldSpec {
        FieldSpec::new("x", t, true)
    }

    #[test]
    fn widening_casts_apply_and_narrowing_ones_are_refused() {
        let ints: ArrayRef = Arc::new(Int64Array::from(vec![1, -2, 1 << 53]));
        let out = conform(&field(DataType::Float64), &ints, 5).unwrap();
        assert_eq!(
            out.as_primitive::<arrow_array::types::Float64Type>().values().to_vec(),
            [1.0, -2.0, 2f64.powi(53)]
        );
        let f32s: ArrayRef = Arc::new(Float32Array::from(vec![0.5]));
        assert_eq!(
            conform(&field(DataType::Float64), &f32s, 5).unwrap().data_type(),
            &DataType::Float64
        );
        let f64s: ArrayRef = Arc::new(Float64Array::from(vec![0.5]));
        let v = conform(&field(DataType::Int64), &f64s, 5).unwrap_err();
        assert_eq!((v.rule, v.column.as_str()), (RuleKind::Type, "x"));
        assert!(conform(&field(DataType::Float32), &f64s, 5).is_err());
        let strings: ArrayRef = Arc::new(StringArray::from(vec!["1.5"]));
        assert!(conform(&field(DataType::Float64), &strings, 5).is_err());
    }

    #[test]
    fn integers_too_large_for_the_float_name_their_row() {
        let ints: ArrayRef = Arc::new(Int64Array::from(vec![1, (1 << 53) + 1]));
        let v = conform(&field(DataType::Float64), &ints, 5).unwrap_err();
        assert_eq!(
            (v.rows.as_slice(), v.example.as_deref()),
            (&[1usize][..], Some("9007199254740993"))
        );
    }

    #[test]
    fn dictionaries_decode_to_their_values() {
        let dict: DictionaryArray<Int8Type> = vec!["a", "b", "a"].into_iter().collect();
        let out = conform(&field(DataType::Utf8), &(Arc::new(dict) as ArrayRef), 5).unwrap();
        assert_eq!(out.as_string::<i32>().value(2), "a");
    }
}
