//! Reading one column of reference or current data out of Arrow arrays.

use std::collections::BTreeMap;

/// Per-call counting maps: never persisted, so a fast non-cryptographic hasher.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
type HashSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;

use std::borrow::Cow;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    ArrowDictionaryKeyType, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type,
    UInt64Type,
};
use arrow_array::{Array, ArrayRef, DictionaryArray, Float64Array};
use arrow_buffer::{ArrowNativeType, ScalarBuffer};
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

/// Numeric columns with at most this many distinct values keep their value
/// counts (enough for every unique-value threshold of the default selection
/// and for the categorical treatment of low-cardinality numbers).
pub(crate) const FEW_DISTINCT: usize = 20;

/// The usable values of one column and what was dropped.
///
/// Numeric values stay in the Arrow buffers they came in whenever a chunk has
/// no nulls, NaN or infinities (no copy); other chunks are compacted once.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ColumnSample {
    /// How the column is compared.
    pub kind: ColumnKind,
    /// Finite numeric values (numeric columns), chunk by chunk.
    chunks: Vec<ScalarBuffer<f64>>,
    /// Each distinct number's count, ascending by value, when there are at most
    /// [`FEW_DISTINCT`] of them (numeric columns).
    few_values: Option<Vec<(f64, u64)>>,
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
    pub(crate) fn empty(kind: ColumnKind) -> Self {
        ColumnSample {
            kind,
            chunks: vec![],
            few_values: Some(vec![]),
            categories: BTreeMap::new(),
            category_total: 0,
            rows: 0,
            missing: 0,
            integer: false,
        }
    }

    #[cfg(test)]
    /// A numeric sample of these values (non-finite ones are dropped and counted as missing).
    pub(crate) fn from_numbers(values: &[f64]) -> Self {
        let mut s = ColumnSample::empty(ColumnKind::Numeric);
        s.push_numbers(&Float64Array::from(values.to_vec()));
        s.finish_numbers();
        s
    }

    /// Values kept.
    pub(crate) fn len(&self) -> usize {
        match self.kind {
            ColumnKind::Numeric => self.chunks.iter().map(|c| c.len()).sum(),
            ColumnKind::Categorical => self.category_total,
        }
    }

    /// Whether no value was kept.
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The finite numbers, chunk by chunk, in input order.
    pub(crate) fn number_chunks(&self) -> Vec<&[f64]> {
        self.chunks.iter().map(|c| &c[..]).collect()
    }

    /// The finite numbers in one slice (borrowed when they already are).
    pub(crate) fn numbers(&self) -> Cow<'_, [f64]> {
        match self.chunks.as_slice() {
            [] => Cow::Borrowed(&[]),
            [one] => Cow::Borrowed(&one[..]),
            many => Cow::Owned(many.iter().flat_map(|c| c.iter().copied()).collect()),
        }
    }

    /// Smallest and largest number (`None` when there are none).
    pub(crate) fn number_range(&self) -> Option<(f64, f64)> {
        let mut out: Option<(f64, f64)> = None;
        for chunk in &self.chunks {
            if let Some((lo, hi)) = chunk_range(chunk) {
                out = Some(out.map_or((lo, hi), |(l, h)| (l.min(lo), h.max(hi))));
            }
        }
        out
    }

    /// Share of rows dropped as missing (0 for no rows).
    pub(crate) fn missing_share(&self) -> f64 {
        if self.rows == 0 {
            0.0
        } else {
            self.missing as f64 / self.rows as f64
        }
    }

    /// Count of each distinct value as a label (numbers print in their shortest
    /// exact form); numbers are counted by bit pattern first, so only distinct
    /// values are formatted.
    pub(crate) fn label_counts(&self) -> BTreeMap<String, u64> {
        match (self.kind, &self.few_values) {
            (ColumnKind::Categorical, _) => self.categories.clone(),
            (ColumnKind::Numeric, Some(few)) => few.iter().map(|&(v, c)| (format!("{v}"), c)).collect(),
            (ColumnKind::Numeric, None) => {
                let mut by_bits: HashMap<u64, u64> = HashMap::default();
                for chunk in &self.chunks {
                    for &v in chunk.iter() {
                        *by_bits.entry(canonical_bits(v)).or_insert(0) += 1;
                    }
                }
                by_bits
                    .into_iter()
                    .map(|(bits, c)| (format!("{}", f64::from_bits(bits)), c))
                    .collect()
            }
        }
    }

    /// Whether the numbers take at most [`FEW_DISTINCT`] distinct values (always
    /// false for categorical samples).
    pub(crate) fn has_few_numbers(&self) -> bool {
        self.kind == ColumnKind::Numeric && self.few_values.is_some()
    }

    /// Distinct values over this sample and `other`, counted up to
    /// [`FEW_DISTINCT`]` + 1` (any larger count is reported as that).
    pub(crate) fn distinct_capped(&self, other: Option<&ColumnSample>) -> usize {
        let cap = FEW_DISTINCT + 1;
        match self.kind {
            ColumnKind::Categorical => {
                let mut keys: std::collections::BTreeSet<&String> = self.categories.keys().collect();
                if let Some(o) = other {
                    keys.extend(o.categories.keys());
                }
                keys.len().min(cap)
            }
            ColumnKind::Numeric => {
                let Some(mine) = &self.few_values else { return cap };
                let mut bits: HashSet<u64> = mine.iter().map(|&(v, _)| canonical_bits(v)).collect();
                if let Some(o) = other {
                    let Some(theirs) = &o.few_values else { return cap };
                    bits.extend(theirs.iter().map(|&(v, _)| canonical_bits(v)));
                }
                bits.len().min(cap)
            }
        }
    }

    /// Adds one chunk of numbers; nulls and non-finite values are counted as missing.
    fn push_numbers(&mut self, values: &Float64Array) {
        self.rows += values.len();
        let raw = values.values();
        let non_finite = raw.iter().filter(|v| !v.is_finite()).count();
        if values.null_count() == 0 && non_finite == 0 {
            if !raw.is_empty() {
                self.chunks.push(raw.clone());
            }
            return;
        }
        let kept: Vec<f64> = values.iter().flatten().filter(|v| v.is_finite()).collect();
        self.missing += values.len() - kept.len();
        if !kept.is_empty() {
            self.chunks.push(ScalarBuffer::from(kept));
        }
    }

    /// Counts the distinct numbers once all chunks are in, giving up past [`FEW_DISTINCT`].
    fn finish_numbers(&mut self) {
        self.few_values = few_distinct(&self.chunks);
    }
}

/// −0.0 and +0.0 count as one value.
#[inline]
fn canonical_bits(v: f64) -> u64 {
    if v == 0.0 { 0 } else { v.to_bits() }
}

fn chunk_range(chunk: &[f64]) -> Option<(f64, f64)> {
    let first = *chunk.first()?;
    // Independent lanes, so the loop runs in vector registers.
    let mut lo = [first; 8];
    let mut hi = [first; 8];
    let mut blocks = chunk.chunks_exact(8);
    for block in &mut blocks {
        for i in 0..8 {
            lo[i] = if block[i] < lo[i] { block[i] } else { lo[i] };
            hi[i] = if block[i] > hi[i] { block[i] } else { hi[i] };
        }
    }
    let (mut l, mut h) = (first, first);
    for &x in lo.iter().chain(blocks.remainder()) {
        l = l.min(x);
    }
    for &x in hi.iter().chain(blocks.remainder()) {
        h = h.max(x);
    }
    Some((l, h))
}

/// Value counts when there are at most [`FEW_DISTINCT`] distinct values, in a
/// small open-addressing table (a general hash map costs several times more per
/// value on the low-cardinality columns this is for).
fn few_distinct(chunks: &[ScalarBuffer<f64>]) -> Option<Vec<(f64, u64)>> {
    const SLOTS: usize = 64;
    let mut keys = [0u64; SLOTS];
    let mut counts = [0u64; SLOTS];
    let mut used = [false; SLOTS];
    let mut distinct = 0usize;
    for chunk in chunks {
        for &v in chunk.iter() {
            let bits = canonical_bits(v);
            let mut slot = (bits.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58) as usize;
            loop {
                if !used[slot] {
                    distinct += 1;
                    if distinct > FEW_DISTINCT {
                        return None;
                    }
                    used[slot] = true;
                    keys[slot] = bits;
                    counts[slot] = 1;
                    break;
                }
                if keys[slot] == bits {
                    counts[slot] += 1;
                    break;
                }
                slot = (slot + 1) % SLOTS;
            }
        }
    }
    let mut out: Vec<(f64, u64)> = (0..SLOTS)
        .filter(|&i| used[i])
        .map(|i| (f64::from_bits(keys[i]), counts[i]))
        .collect();
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    Some(out)
}

/// The kind a column type is compared as; `None` for nested and other types.
pub(crate) fn kind_of(data_type: &DataType) -> Option<ColumnKind> {
    match TypeFamily::of(data_type) {
        TypeFamily::Integer | TypeFamily::Float | TypeFamily::Temporal => Some(ColumnKind::Numeric),
        TypeFamily::String | TypeFamily::Boolean => Some(ColumnKind::Categorical),
        _ => None,
    }
}

/// Concatenates one column's arrays, dropping nulls, NaN and ±infinity.
///
/// `data_type` is the column's declared type: it decides the kind even when
/// there are no arrays (a file with no rows still has a categorical column),
/// and every array must be of the same kind.
pub(crate) fn sample(column: &str, data_type: &DataType, arrays: &[ArrayRef]) -> Result<ColumnSample> {
    let kind = kind_of(data_type).ok_or_else(|| Error::TypeMismatch {
        column: column.to_owned(),
        expected: "a numeric, temporal, string, dictionary or boolean type".into(),
        found: data_type.to_string(),
    })?;
    let mut s = ColumnSample::empty(kind);
    s.integer = TypeFamily::of(data_type) == TypeFamily::Integer;
    for array in arrays {
        if kind_of(array.data_type()) != Some(kind) {
            return Err(Error::SchemaMismatch {
                location: format!("column `{column}`"),
                message: format!("{data_type} declared, {} in a batch", array.data_type()),
            });
        }
        match kind {
            ColumnKind::Numeric => {
                let as_f64 = numeric_as_f64(column, array.as_ref())?;
                s.push_numbers(as_f64.as_primitive::<Float64Type>());
            }
            ColumnKind::Categorical => {
                s.rows += array.len();
                count_categories(column, array.as_ref(), &mut s)?;
            }
        }
    }
    if kind == ColumnKind::Numeric {
        s.finish_numbers();
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

/// Adds one chunk's category counts to `s`, reading strings, string views,
/// dictionaries and booleans in place (a cast to strings would copy every value).
fn count_categories(column: &str, array: &dyn Array, s: &mut ColumnSample) -> Result<()> {
    let mut counts: HashMap<&str, u64> = HashMap::default();
    let mut missing = 0usize;
    match array.data_type() {
        DataType::Utf8 => count_strings(array.as_string::<i32>().iter(), &mut counts, &mut missing),
        DataType::LargeUtf8 => count_strings(array.as_string::<i64>().iter(), &mut counts, &mut missing),
        DataType::Utf8View => count_strings(array.as_string_view().iter(), &mut counts, &mut missing),
        DataType::Boolean => {
            let b = array.as_boolean();
            let trues = b.true_count() as u64;
            let nulls = b.null_count();
            let falses = (b.len() - nulls) as u64 - trues;
            missing += nulls;
            for (label, c) in [("false", falses), ("true", trues)] {
                if c > 0 {
                    counts.insert(label, c);
                }
            }
        }
        DataType::Dictionary(key, _) => {
            let counted = match key.as_ref() {
                DataType::Int8 => count_dictionary(column, array.as_dictionary_opt::<Int8Type>(), s)?,
                DataType::Int16 => count_dictionary(column, array.as_dictionary_opt::<Int16Type>(), s)?,
                DataType::Int32 => count_dictionary(column, array.as_dictionary_opt::<Int32Type>(), s)?,
                DataType::Int64 => count_dictionary(column, array.as_dictionary_opt::<Int64Type>(), s)?,
                DataType::UInt8 => count_dictionary(column, array.as_dictionary_opt::<UInt8Type>(), s)?,
                DataType::UInt16 => count_dictionary(column, array.as_dictionary_opt::<UInt16Type>(), s)?,
                DataType::UInt32 => count_dictionary(column, array.as_dictionary_opt::<UInt32Type>(), s)?,
                DataType::UInt64 => count_dictionary(column, array.as_dictionary_opt::<UInt64Type>(), s)?,
                _ => false,
            };
            if !counted {
                return count_cast(column, array, s);
            }
            return Ok(());
        }
        _ => return count_cast(column, array, s),
    }
    add_counts(s, counts, missing);
    Ok(())
}

fn count_strings<'a>(
    values: impl Iterator<Item = Option<&'a str>>,
    counts: &mut HashMap<&'a str, u64>,
    missing: &mut usize,
) {
    for v in values {
        match v {
            Some(x) => *counts.entry(x).or_insert(0) += 1,
            None => *missing += 1,
        }
    }
}

fn add_counts(s: &mut ColumnSample, counts: HashMap<&str, u64>, missing: usize) {
    s.missing += missing;
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

/// Any other categorical type: through a cast to strings.
fn count_cast(column: &str, array: &dyn Array, s: &mut ColumnSample) -> Result<()> {
    let text = arrow_cast::cast(array, &DataType::Utf8).map_err(|source| Error::Arrow {
        location: format!("column `{column}`"),
        source,
    })?;
    let mut counts: HashMap<&str, u64> = HashMap::default();
    let mut missing = 0usize;
    count_strings(text.as_string::<i32>().iter(), &mut counts, &mut missing);
    add_counts(s, counts, missing);
    Ok(())
}

/// Counts a dictionary's keys, then labels each used entry once. Returns false
/// when the dictionary's values are not strings (the caller casts instead).
fn count_dictionary<K: ArrowDictionaryKeyType>(
    column: &str,
    dictionary: Option<&DictionaryArray<K>>,
    s: &mut ColumnSample,
) -> Result<bool> {
    let Some(dictionary) = dictionary else { return Ok(false) };
    let values = dictionary.values();
    if !matches!(
        values.data_type(),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    ) {
        return Ok(false);
    }
    let mut per_key = vec![0u64; values.len()];
    let mut missing = 0usize;
    let keys = dictionary.keys();
    let mut out_of_range = false;
    let mut count = |k: K::Native| match per_key.get_mut(k.as_usize()) {
        Some(c) => *c += 1,
        None => out_of_range = true,
    };
    match keys.nulls() {
        None => keys.values().iter().for_each(|&k| count(k)),
        Some(nulls) => {
            missing += nulls.null_count();
            for (i, &k) in keys.values().iter().enumerate() {
                if nulls.is_valid(i) {
                    count(k);
                }
            }
        }
    }
    if out_of_range {
        return Err(Error::invalid_input(
            "dictionary key",
            format!("column `{column}`"),
            "a key past the end of the dictionary",
            format!("keys below {}", values.len()),
        ));
    }
    let text = arrow_cast::cast(values.as_ref(), &DataType::Utf8).map_err(|source| Error::Arrow {
        location: format!("column `{column}`"),
        source,
    })?;
    let text = text.as_string::<i32>();
    let mut counts: HashMap<&str, u64> = HashMap::default();
    for (i, &c) in per_key.iter().enumerate() {
        if c == 0 {
            continue;
        }
        match text.is_valid(i) {
            true => *counts.entry(text.value(i)).or_insert(0) += c,
            // A null dictionary entry is a null value.
            false => missing += c as usize,
        }
    }
    add_counts(s, counts, missing);
    Ok(true)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn clean_chunks_are_borrowed_and_dirty_ones_compacted() {
        let clean: ArrayRef = Arc::new(Float64Array::from(vec![1.0, 2.0, 3.0]));
        let dirty: ArrayRef = Arc::new(Float64Array::from(vec![
            Some(4.0),
            None,
            Some(f64::NAN),
            Some(f64::NEG_INFINITY),
            Some(-0.0),
        ]));
        let s = sample("x", &DataType::Float64, &[clean.clone(), dirty]).unwrap();
        assert_eq!((s.rows, s.missing, s.len()), (8, 3, 5));
        assert_eq!(s.numbers().as_ref(), &[1.0, 2.0, 3.0, 4.0, -0.0]);
        // The clean chunk is the Arrow buffer itself, not a copy.
        let values = clean.as_primitive::<Float64Type>().values();
        assert_eq!(s.number_chunks()[0].as_ptr(), values.as_ptr());
        assert_eq!(s.number_range(), Some((-0.0, 4.0)));
    }

    #[test]
    fn few_distinct_values_are_counted_and_many_are_not() {
        let s = ColumnSample::from_numbers(&[3.0, 1.0, 3.0, 0.0, -0.0, 3.0]);
        assert!(s.has_few_numbers());
        let labels = s.label_counts();
        assert_eq!(labels.get("3"), Some(&3));
        assert_eq!(labels.get("0"), Some(&2), "-0 and +0 are one value");
        assert_eq!(s.distinct_capped(None), 3);
        let many: Vec<f64> = (0..=FEW_DISTINCT).map(|i| i as f64).collect();
        let m = ColumnSample::from_numbers(&many);
        assert!(!m.has_few_numbers());
        assert_eq!(m.distinct_capped(Some(&s)), FEW_DISTINCT + 1);
        assert_eq!(m.label_counts().len(), FEW_DISTINCT + 1, "counted the slow way");
        // Union of two few-valued samples.
        let t = ColumnSample::from_numbers(&[7.0, 1.0]);
        assert_eq!(s.distinct_capped(Some(&t)), 4);
    }

    #[test]
    fn integer_and_temporal_columns_are_numbers() {
        let ints: ArrayRef = Arc::new(arrow_array::Int64Array::from(vec![Some(5), None, Some(-2)]));
        let s = sample("i", &DataType::Int64, &[ints]).unwrap();
        assert!(s.integer);
        assert_eq!((s.numbers().as_ref(), s.missing), (&[5.0, -2.0][..], 1));
        let dates: ArrayRef = Arc::new(arrow_array::Date32Array::from(vec![19_000, 19_001]));
        assert_eq!(
            sample("d", &DataType::Date32, &[dates]).unwrap().numbers().as_ref(),
            &[19_000.0, 19_001.0]
        );
        let mixed: ArrayRef = Arc::new(arrow_array::StringArray::from(vec!["a"]));
        let floats: ArrayRef = Arc::new(Float64Array::from(vec![1.0]));
        assert!(matches!(
            sample("m", &DataType::Float64, &[floats, mixed]),
            Err(Error::SchemaMismatch { .. })
        ));
        // No arrays: the declared type still decides the kind.
        let none = sample("s", &DataType::Utf8, &[]).unwrap();
        assert_eq!((none.kind, none.len()), (ColumnKind::Categorical, 0));
        assert!(matches!(
            sample("l", &DataType::new_list(DataType::Int8, true), &[]),
            Err(Error::TypeMismatch { .. })
        ));
    }
}
