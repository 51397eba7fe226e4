//! Reading Arrow columns the way the transforms consume them: numbers widened
//! to `f64` with nulls kept in place, strings of any flavour row by row.
//!
//! Fitting and transforming go through the same functions, so a value is
//! converted identically at training and at serving time.

use std::collections::HashMap;

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::{Array, ArrayRef, Float64Array, LargeStringArray, StringArray, StringViewArray};
use arrow_buffer::NullBuffer;
use arrow_schema::DataType;

use crate::column::ingest::string_counts;
use crate::{Error, Result};

/// The Arrow types numeric transforms accept (what [`to_f64`] widens).
pub(super) const NUMERIC_TYPES: &str =
    "an integer (Int8..Int64, UInt8..UInt64), float (Float16/32/64) or decimal type, or a dictionary of one";

/// The Arrow types categorical transforms accept (what [`with_strings`] reads).
pub(super) const CATEGORICAL_TYPES: &str =
    "Utf8, LargeUtf8, Utf8View, an integer or Boolean type (read as its decimal text), or a dictionary of one";

/// What a column holds, as far as the transforms are concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ValueKind {
    /// Integers, floats and decimals.
    Numeric,
    /// Strings.
    Text,
}

impl ValueKind {
    /// `None` for types no transform reads (temporal, nested, binary...).
    pub(super) fn of(data_type: &DataType) -> Option<ValueKind> {
        match data_type {
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64
            | DataType::Float16
            | DataType::Float32
            | DataType::Float64
            | DataType::Decimal32(_, _)
            | DataType::Decimal64(_, _)
            | DataType::Decimal128(_, _)
            | DataType::Decimal256(_, _) => Some(ValueKind::Numeric),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Some(ValueKind::Text),
            DataType::Dictionary(_, values) => ValueKind::of(values),
            _ => None,
        }
    }
}

fn cast(array: &dyn Array, to: &DataType, column: &str) -> Result<ArrayRef> {
    arrow_cast::cast(array, to).map_err(|source| Error::Arrow {
        location: format!("column `{column}`"),
        source,
    })
}

/// Widens a numeric column to `Float64`, row for row, nulls kept as nulls.
///
/// Temporal types are refused: their unit would be a silent convention.
pub(super) fn to_f64(array: &dyn Array, column: &str) -> Result<Float64Array> {
    match ValueKind::of(array.data_type()) {
        Some(ValueKind::Numeric) => {}
        _ => {
            return Err(Error::TypeMismatch {
                column: column.to_owned(),
                expected: NUMERIC_TYPES.into(),
                found: array.data_type().to_string(),
            });
        }
    }
    if array.data_type() == &DataType::Float64 {
        return Ok(array.as_primitive::<Float64Type>().clone());
    }
    Ok(cast(array, &DataType::Float64, column)?
        .as_primitive::<Float64Type>()
        .clone())
}

/// How many rows of a numeric fit were left out, and why.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Skipped {
    pub(super) rows: usize,
    pub(super) nulls: usize,
    pub(super) nans: usize,
    pub(super) infinities: usize,
}

impl Skipped {
    pub(super) fn describe(&self) -> String {
        format!(
            "no finite values to fit on ({} rows: {} null, {} NaN, {} infinite)",
            self.rows, self.nulls, self.nans, self.infinities
        )
    }
}

/// The finite, non-null values of a numeric column over several arrays.
pub(super) fn finite_values(arrays: &[&dyn Array], column: &str) -> Result<(Vec<f64>, Skipped)> {
    let mut out = Vec::with_capacity(arrays.iter().map(|a| a.len()).sum());
    let mut skipped = Skipped::default();
    for &array in arrays {
        let values = to_f64(array, column)?;
        skipped.rows += values.len();
        skipped.nulls += values.null_count();
        for v in values.iter().flatten() {
            if v.is_finite() {
                out.push(v);
            } else if v.is_nan() {
                skipped.nans += 1;
            } else {
                skipped.infinities += 1;
            }
        }
    }
    Ok((out, skipped))
}

/// Calls `f` with a string view of the column; integer and Boolean columns
/// (and dictionaries of them) are first cast to their decimal/`true`/`false` text.
pub(super) fn with_strings<R>(
    array: &dyn Array,
    column: &str,
    f: impl FnOnce(&StringColumn<'_>) -> Result<R>,
) -> Result<R> {
    let reads_directly = |t: &DataType| matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View);
    let direct = match array.data_type() {
        DataType::Dictionary(_, values) => reads_directly(values),
        t => reads_directly(t),
    };
    if direct {
        return f(&StringColumn::new(array, column)?);
    }
    let castable = |t: &DataType| t.is_integer() || t == &DataType::Boolean;
    let cast_ok = match array.data_type() {
        DataType::Dictionary(_, values) => castable(values),
        t => castable(t),
    };
    if !cast_ok {
        return Err(Error::TypeMismatch {
            column: column.to_owned(),
            expected: CATEGORICAL_TYPES.into(),
            found: array.data_type().to_string(),
        });
    }
    let text = cast(array, &DataType::Utf8, column)?;
    f(&StringColumn::new(text.as_ref(), column)?)
}

/// Counts the non-null strings of several arrays; returns the null count.
pub(super) fn count_strings(arrays: &[&dyn Array], column: &str, counts: &mut HashMap<String, u64>) -> Result<u64> {
    let mut nulls = 0;
    for &array in arrays {
        nulls += with_strings(array, column, |strings| {
            let mut batch: HashMap<&str, u64, foldhash::fast::RandomState> = HashMap::default();
            let nulls = string_counts(strings.array, column, &mut batch)?;
            for (value, count) in batch {
                match counts.get_mut(value) {
                    Some(c) => *c += count,
                    None => {
                        counts.insert(value.to_owned(), count);
                    }
                }
            }
            Ok(nulls)
        })?;
    }
    Ok(nulls)
}

/// One flavour of string array.
#[derive(Clone, Copy)]
enum Flavour<'a> {
    Utf8(&'a StringArray),
    Large(&'a LargeStringArray),
    View(&'a StringViewArray),
}

impl<'a> Flavour<'a> {
    fn of(array: &'a dyn Array, column: &str) -> Result<Self> {
        match array.data_type() {
            DataType::Utf8 => Ok(Flavour::Utf8(array.as_string::<i32>())),
            DataType::LargeUtf8 => Ok(Flavour::Large(array.as_string::<i64>())),
            DataType::Utf8View => Ok(Flavour::View(array.as_string_view())),
            other => Err(Error::TypeMismatch {
                column: column.to_owned(),
                expected: CATEGORICAL_TYPES.into(),
                found: other.to_string(),
            }),
        }
    }

    fn get(&self, index: usize) -> Option<&'a str> {
        match *self {
            Flavour::Utf8(a) => (index < a.len() && a.is_valid(index)).then(|| a.value(index)),
            Flavour::Large(a) => (index < a.len() && a.is_valid(index)).then(|| a.value(index)),
            Flavour::View(a) => (index < a.len() && a.is_valid(index)).then(|| a.value(index)),
        }
    }
}

/// Row-by-row access to a string column of any flavour, dictionaries included.
pub(super) struct StringColumn<'a> {
    array: &'a dyn Array,
    values: Flavour<'a>,
    /// Dictionary keys (as indices into `values`) and their validity.
    keys: Option<(Vec<usize>, Option<&'a NullBuffer>)>,
}

impl<'a> StringColumn<'a> {
    fn new(array: &'a dyn Array, column: &str) -> Result<Self> {
        match array.data_type() {
            DataType::Dictionary(_, _) => {
                let dict = array.as_any_dictionary();
                Ok(StringColumn {
                    array,
                    values: Flavour::of(dict.values().as_ref(), column)?,
                    keys: Some((dict.normalized_keys(), array.nulls())),
                })
            }
            _ => Ok(StringColumn {
                array,
                values: Flavour::of(array, column)?,
                keys: None,
            }),
        }
    }

    /// Number of rows.
    pub(super) fn len(&self) -> usize {
        self.array.len()
    }

    /// The string at `row`; `None` when it is null (or out of range).
    pub(super) fn get(&self, row: usize) -> Option<&'a str> {
        match &self.keys {
            None => self.values.get(row),
            Some((keys, nulls)) => {
                if nulls.is_some_and(|n| row >= n.len() || n.is_null(row)) {
                    return None;
                }
                self.values.get(*keys.get(row)?)
            }
        }
    }
}
