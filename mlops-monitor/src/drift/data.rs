//! Reading one column of reference or current data out of Arrow arrays.

use std::collections::BTreeMap;

/// Per-call counting maps: never persisted, so a fast non-cryptographic hasher.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
type HashSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType;
use mlops_core::{Error, Result, TypeFamily};

/// Whether a column is compared as numbers or as categories.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    /// Integers, floats, decimals, dates and timestamps (as numbers).
    Numeric,
    /// Strings, dictionaries and booleans.
    Categorical,
}

/// The usable values of one column and what was dropped.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnSample {
    /// How the column is compared.
    pub kind: ColumnKind,
    /// Finite numeric values (numeric columns).
    pub numbers: Vec<f64>,
    /// Count of each category (categorical columns).
    pub categories: BTreeMap<String, u64>,
    /// Values counted in `categories`.
    pub category_total: usize,
    /// Rows seen.
    pub rows: usize,
    /// Nulls, NaN and ±infinity dropped.
    pub missing: usize,
    /// Whether the values are integers (numpy bins integer data at least 1 wide).
    pub integer: bool,
}

impl ColumnSample {
    /// A sample with no rows.
    pub fn empty(kind: ColumnKind) -> Self {
        ColumnSample {
            kind,
            numbers: vec![],
            categories: BTreeMap::new(),
            category_total: 0,
            rows: 0,
            missing: 0,
            integer: false,
        }
    }

    /// Values kept.
    pub fn len(&self) -> usize {
        match self.kind {
            ColumnKind::Numeric => self.numbers.len(),
            ColumnKind::Categorical => self.category_total,
        }
    }

    /// Whether no value was kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Share of rows dropped as missing (0 for no rows).
    pub fn missing_share(&self) -> f64 {
        if self.rows == 0 {
            0.0
        } else {
            self.missing as f64 / self.rows as f64
        }
    }

    /// Count of each distinct value as a label (numbers print in their shortest
    /// exact form); numbers are counted by bit pattern first, so only distinct
    /// values are formatted.
    pub fn label_counts(&self) -> BTreeMap<String, u64> {
        match self.kind {
            ColumnKind::Categorical => self.categories.clone(),
            ColumnKind::Numeric => {
                let mut by_bits: HashMap<u64, u64> = HashMap::default();
                for &v in &self.numbers {
                    let v = if v == 0.0 { 0.0f64 } else { v };
                    *by_bits.entry(v.to_bits()).or_insert(0) += 1;
                }
                by_bits
                    .into_iter()
                    .map(|(bits, c)| (format!("{}", f64::from_bits(bits)), c))
                    .collect()
            }
        }
    }

    /// Distinct values, counting at most to `cap + 1` (enough for every threshold the selection uses).
    pub fn distinct_capped(&self, other: Option<&ColumnSample>, cap: usize) -> usize {
        match self.kind {
            ColumnKind::Categorical => {
                let mut keys: std::collections::BTreeSet<&String> = self.categories.keys().collect();
                if let Some(o) = other {
                    keys.extend(o.categories.keys());
                }
                keys.len()
            }
            ColumnKind::Numeric => {
                let mut seen: HashSet<u64> = HashSet::default();
                let others = other.map_or(&[][..], |o| o.numbers.as_slice());
                for &v in self.numbers.iter().chain(others) {
                    seen.insert(if v == 0.0 { 0 } else { v.to_bits() });
                    if seen.len() > cap {
                        break;
                    }
                }
                seen.len()
            }
        }
    }
}

/// The kind a column type is compared as; `None` for nested and other types.
pub fn kind_of(data_type: &DataType) -> Option<ColumnKind> {
    match TypeFamily::of(data_type) {
        TypeFamily::Integer | TypeFamily::Float | TypeFamily::Temporal => Some(ColumnKind::Numeric),
        TypeFamily::String | TypeFamily::Boolean => Some(ColumnKind::Categorical),
        _ => None,
    }
}

/// Concatenates one column's arrays, dropping nulls, NaN and ±infinity.
pub fn sample(column: &str, arrays: &[ArrayRef]) -> Result<ColumnSample> {
    let Some(first) = arrays.first() else {
        return Ok(ColumnSample::empty(ColumnKind::Numeric));
    };
    let kind = kind_of(first.data_type()).ok_or_else(|| Error::TypeMismatch {
        column: column.to_owned(),
        expected: "a numeric, temporal, string, dictionary or boolean type".into(),
        found: first.data_type().to_string(),
    })?;
    let mut s = ColumnSample::empty(kind);
    s.integer = TypeFamily::of(first.data_type()) == TypeFamily::Integer;
    for array in arrays {
        if kind_of(array.data_type()) != Some(kind) {
            return Err(Error::SchemaMismatch {
                location: format!("column `{column}`"),
                message: format!("{} in one batch, {} in another", first.data_type(), array.data_type()),
            });
        }
        s.rows += array.len();
        match kind {
            ColumnKind::Numeric => {
                let as_f64 = numeric_as_f64(column, array.as_ref())?;
                let values = as_f64.as_primitive::<Float64Type>();
                for v in values.iter() {
                    match v {
                        Some(x) if x.is_finite() => s.numbers.push(x),
                        _ => s.missing += 1,
                    }
                }
            }
            ColumnKind::Categorical => {
                let text = arrow_cast::cast(array.as_ref(), &DataType::Utf8).map_err(|source| Error::Arrow {
                    location: format!("column `{column}`"),
                    source,
                })?;
                let mut counts: HashMap<&str, u64> = HashMap::default();
                for v in text.as_string::<i32>().iter() {
                    match v {
                        Some(x) => *counts.entry(x).or_insert(0) += 1,
                        None => s.missing += 1,
                    }
                }
                for (k, c) in counts {
                    s.category_total += c as usize;
                    match s.categories.get_mut(k) {
                        Some(total) => *total += c,
                        None => {
                            s.categories.insert(k.to_owned(), c);
                        }
                    }
                }
            }
        }
    }
    Ok(s)
}

fn numeric_as_f64(column: &str, array: &dyn Array) -> Result<ArrayRef> {
    let arrow = |source| Error::Arrow {
        location: format!("column `{column}`"),
        source,
    };
    // Temporal values compare as their integer instants (casts go through Int64).
    let intermediate = match array.data_type() {
        DataType::Date32 | DataType::Time32(_) => Some(DataType::Int32),
        DataType::Date64 | DataType::Timestamp(..) | DataType::Time64(_) => Some(DataType::Int64),
        _ => None,
    };
    match intermediate {
        Some(t) => {
            let ints = arrow_cast::cast(array, &t).map_err(arrow)?;
            arrow_cast::cast(ints.as_ref(), &DataType::Float64).map_err(arrow)
        }
        None => arrow_cast::cast(array, &DataType::Float64).map_err(arrow),
    }
}
