//! Turning Arrow arrays into the values each statistic consumes.

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrowPrimitiveType};
use arrow_schema::{DataType, TimeUnit};

use super::string::BatchCounts;
use crate::{Error, Result};

/// Which statistics a column type gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StatsKind {
    Numeric,
    String,
    Boolean,
    Unsupported,
}

impl StatsKind {
    pub(crate) fn of(data_type: &DataType) -> StatsKind {
        use mlops_core::TypeFamily;
        match TypeFamily::of(data_type) {
            TypeFamily::Integer | TypeFamily::Float | TypeFamily::Temporal => StatsKind::Numeric,
            TypeFamily::String => StatsKind::String,
            TypeFamily::Boolean => StatsKind::Boolean,
            _ => StatsKind::Unsupported,
        }
    }
}

fn push_primitive<T: ArrowPrimitiveType>(array: &dyn Array, out: &mut Vec<f64>, to_f64: impl Fn(T::Native) -> f64) {
    let a = array.as_primitive::<T>();
    match a.nulls().filter(|n| n.null_count() > 0) {
        None => out.extend(a.values().iter().map(|&v| to_f64(v))),
        // Runs of valid values convert as slices; a bit-by-bit filter cost more
        // than the conversion itself.
        Some(nulls) => {
            let values = a.values();
            out.reserve(values.len() - nulls.null_count());
            for (start, end) in nulls.valid_slices() {
                if let Some(run) = values.get(start..end) {
                    out.extend(run.iter().map(|&v| to_f64(v)));
                }
            }
        }
    }
}

fn per_unit(unit: &TimeUnit) -> f64 {
    match unit {
        TimeUnit::Second => 1.0,
        TimeUnit::Millisecond => 1e3,
        TimeUnit::Microsecond => 1e6,
        TimeUnit::Nanosecond => 1e9,
    }
}

fn decimal_divisor(scale: i8) -> f64 {
    10f64.powi(i32::from(scale))
}

/// Appends the non-null values of a numeric, decimal or temporal array as `f64`
/// (temporal values as seconds since the epoch, or since midnight for times);
/// returns the null count.
pub(crate) fn numeric_values(array: &dyn Array, column: &str, out: &mut Vec<f64>) -> Result<u64> {
    out.clear();
    match array.data_type() {
        DataType::Int8 => push_primitive::<Int8Type>(array, out, f64::from),
        DataType::Int16 => push_primitive::<Int16Type>(array, out, f64::from),
        DataType::Int32 => push_primitive::<Int32Type>(array, out, f64::from),
        DataType::Int64 => push_primitive::<Int64Type>(array, out, |v| v as f64),
        DataType::UInt8 => push_primitive::<UInt8Type>(array, out, f64::from),
        DataType::UInt16 => push_primitive::<UInt16Type>(array, out, f64::from),
        DataType::UInt32 => push_primitive::<UInt32Type>(array, out, f64::from),
        DataType::UInt64 => push_primitive::<UInt64Type>(array, out, |v| v as f64),
        DataType::Float16 => push_primitive::<Float16Type>(array, out, |v| v.to_f64()),
        DataType::Float32 => push_primitive::<Float32Type>(array, out, f64::from),
        DataType::Float64 => push_primitive::<Float64Type>(array, out, |v| v),
        DataType::Decimal32(_, s) => {
            let d = decimal_divisor(*s);
            push_primitive::<Decimal32Type>(array, out, |v| f64::from(v) / d)
        }
        DataType::Decimal64(_, s) => {
            let d = decimal_divisor(*s);
            push_primitive::<Decimal64Type>(array, out, |v| v as f64 / d)
        }
        DataType::Decimal128(_, s) => {
            let d = decimal_divisor(*s);
            push_primitive::<Decimal128Type>(array, out, |v| v as f64 / d)
        }
        DataType::Decimal256(_, s) => {
            let d = decimal_divisor(*s);
            push_primitive::<Decimal256Type>(array, out, |v| i256_to_f64(v) / d)
        }
        DataType::Date32 => push_primitive::<Date32Type>(array, out, |v| f64::from(v) * 86_400.0),
        DataType::Date64 => push_primitive::<Date64Type>(array, out, |v| v as f64 / 1e3),
        DataType::Timestamp(unit, _) => {
            let d = per_unit(unit);
            match unit {
                TimeUnit::Second => push_primitive::<TimestampSecondType>(array, out, |v| v as f64 / d),
                TimeUnit::Millisecond => push_primitive::<TimestampMillisecondType>(array, out, |v| v as f64 / d),
                TimeUnit::Microsecond => push_primitive::<TimestampMicrosecondType>(array, out, |v| v as f64 / d),
                TimeUnit::Nanosecond => push_primitive::<TimestampNanosecondType>(array, out, |v| v as f64 / d),
            }
        }
        DataType::Time32(TimeUnit::Second) => push_primitive::<Time32SecondType>(array, out, f64::from),
        DataType::Time32(_) => push_primitive::<Time32MillisecondType>(array, out, |v| f64::from(v) / 1e3),
        DataType::Time64(TimeUnit::Nanosecond) => {
            push_primitive::<Time64NanosecondType>(array, out, |v| v as f64 / 1e9)
        }
        DataType::Time64(_) => push_primitive::<Time64MicrosecondType>(array, out, |v| v as f64 / 1e6),
        DataType::Dictionary(_, value_type) => {
            // Numeric dictionaries are rare; unpacking them keeps one code path.
            let unpacked = arrow_cast::cast(array, value_type).map_err(|source| Error::Arrow {
                location: format!("column `{column}`"),
                source,
            })?;
            return numeric_values(unpacked.as_ref(), column, out);
        }
        other => {
            return Err(Error::TypeMismatch {
                column: column.to_owned(),
                expected: "a numeric, decimal or temporal type".into(),
                found: other.to_string(),
            });
        }
    }
    Ok(array.null_count() as u64)
}

/// The string at `index` of a string array of any flavour (`None` when null).
fn str_at(values: &dyn Array, index: usize) -> Option<&str> {
    if values.is_null(index) {
        return None;
    }
    match values.data_type() {
        DataType::Utf8 => Some(values.as_string::<i32>().value(index)),
        DataType::LargeUtf8 => Some(values.as_string::<i64>().value(index)),
        DataType::Utf8View => Some(values.as_string_view().value(index)),
        _ => None,
    }
}

/// Counts each distinct non-null string of the array; returns the null count.
pub(crate) fn string_counts<'a>(array: &'a dyn Array, column: &str, counts: &mut BatchCounts<'a>) -> Result<u64> {
    fn count_all<'a>(iter: impl Iterator<Item = Option<&'a str>>, counts: &mut BatchCounts<'a>) -> u64 {
        let mut nulls = 0;
        for v in iter {
            match v {
                Some(s) => *counts.entry(s).or_insert(0) += 1,
                None => nulls += 1,
            }
        }
        nulls
    }
    let nulls = match array.data_type() {
        DataType::Utf8 => count_all(array.as_string::<i32>().iter(), counts),
        DataType::LargeUtf8 => count_all(array.as_string::<i64>().iter(), counts),
        DataType::Utf8View => count_all(array.as_string_view().iter(), counts),
        DataType::Dictionary(_, _) => {
            let dict = array.as_any_dictionary();
            let values = dict.values().as_ref();
            let keys = dict.normalized_keys();
            let mut per_key = vec![0u64; values.len()];
            let mut nulls = 0u64;
            let key_nulls = array.nulls();
            for (row, &k) in keys.iter().enumerate() {
                let valid = key_nulls.is_none_or(|n| n.is_valid(row));
                match per_key.get_mut(k) {
                    Some(c) if valid => *c += 1,
                    _ => nulls += 1,
                }
            }
            for (k, &c) in per_key.iter().enumerate() {
                if c == 0 {
                    continue;
                }
                match str_at(values, k) {
                    Some(s) => *counts.entry(s).or_insert(0) += c,
                    None => nulls += c,
                }
            }
            nulls
        }
        other => {
            return Err(Error::TypeMismatch {
                column: column.to_owned(),
                expected: "Utf8, LargeUtf8, Utf8View or a dictionary of them".into(),
                found: other.to_string(),
            });
        }
    };
    Ok(nulls)
}

/// Nearest `f64` of a 256-bit integer (decimal256 unscaled values).
fn i256_to_f64(v: arrow_buffer::i256) -> f64 {
    match v.to_i128() {
        Some(small) => small as f64,
        None => {
            let (low, high) = v.to_parts();
            high as f64 * 2f64.powi(128) + low as f64
        }
    }
}
