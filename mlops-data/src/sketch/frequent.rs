//! Frequent items with guaranteed count bounds (Misra–Gries, mergeable form of
//! Agarwal et al., "Mergeable Summaries", PODS 2012).
//!
//! At most `capacity` counters are kept after each purge. A purge subtracts
//! the `(capacity+1)`-th largest count from every counter and drops the ones
//! that reach zero; the total subtracted so far is the `offset`. For every
//! value, `counter ≤ true count ≤ counter + offset`, and
//! `offset ≤ n / (capacity + 1)`. While a column has at most `capacity`
//! distinct values, nothing is ever subtracted and every count is exact.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};
use mlops_core::ItemCount;

/// A mergeable frequent-items summary over strings.
#[derive(Clone, Debug)]
pub struct FrequentItems {
    capacity: usize,
    counters: HashMap<String, u64, foldhash::fast::FixedState>,
    offset: u64,
    total: u64,
}

impl PartialEq for FrequentItems {
    fn eq(&self, other: &Self) -> bool {
        self.capacity == other.capacity
            && self.offset == other.offset
            && self.total == other.total
            && self.counters == other.counters
    }
}

impl FrequentItems {
    /// A summary keeping `capacity` counters (≥ 1).
    pub fn new(capacity: usize) -> Result<Self> {
        if capacity == 0 {
            return Err(Error::invalid_input(
                "frequent-items capacity",
                "FrequentItems::new",
                "0",
                "at least 1",
            ));
        }
        Ok(FrequentItems {
            capacity,
            counters: HashMap::default(),
            offset: 0,
            total: 0,
        })
    }

    /// Counts added (exact).
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The largest possible undercount of any value (0 means every count is exact).
    pub fn max_error(&self) -> u64 {
        self.offset
    }

    /// Whether every value ever added is present with its exact count.
    pub fn is_exact(&self) -> bool {
        self.offset == 0
    }

    /// Adds `count` occurrences of `value`.
    pub(crate) fn add(&mut self, value: &str, count: u64) {
        self.total += count;
        match self.counters.get_mut(value) {
            Some(c) => *c += count,
            None => {
                self.counters.insert(value.to_owned(), count);
            }
        }
        // Purging at twice the capacity amortises the selection over many inserts.
        if self.counters.len() > self.capacity.saturating_mul(2) {
            self.purge();
        }
    }

    fn purge(&mut self) {
        if self.counters.len() <= self.capacity {
            return;
        }
        let mut counts: Vec<u64> = self.counters.values().copied().collect();
        let (_, &mut cut, _) = counts.select_nth_unstable_by(self.capacity, |a, b| b.cmp(a));
        self.offset += cut;
        self.counters.retain(|_, c| {
            *c = c.saturating_sub(cut);
            *c > 0
        });
    }

    /// Adds every count of `other`. The result keeps the smaller capacity.
    pub fn merge(&mut self, other: &FrequentItems) {
        self.capacity = self.capacity.min(other.capacity);
        for (value, &count) in &other.counters {
            *self.counters.entry(value.clone()).or_insert(0) += count;
        }
        self.total += other.total;
        self.offset += other.offset;
        self.purge();
    }

    /// Items, most frequent first (ties by value), with `lower ≤ true ≤ upper`.
    pub fn items(&self) -> Vec<ItemCount> {
        let mut items: Vec<ItemCount> = self
            .counters
            .iter()
            .map(|(value, &c)| ItemCount {
                value: value.clone(),
                lower: c,
                upper: c + self.offset,
            })
            .collect();
        items.sort_unstable_by(|a, b| b.lower.cmp(&a.lower).then_with(|| a.value.cmp(&b.value)));
        items
    }

    /// Upper bound of the count of a value (also for values not retained).
    pub fn upper_bound(&self, value: &str) -> u64 {
        self.counters.get(value).copied().unwrap_or(0) + self.offset
    }

    /// Drops counters down to `capacity` (done before persisting, to keep profiles small).
    pub(crate) fn shrink(&mut self) {
        self.purge();
    }

    pub(crate) fn to_wire(&self) -> FrequentWire {
        FrequentWire {
            capacity: self.capacity,
            offset: self.offset,
            total: self.total,
            items: self.items().into_iter().map(|i| (i.value, i.lower)).collect(),
        }
    }

    pub(crate) fn from_wire(wire: FrequentWire, location: &str) -> Result<Self> {
        let mut f = FrequentItems::new(wire.capacity)
            .map_err(|_| Error::corrupt(location, "frequent items with capacity 0"))?;
        let mut sum = 0u64;
        for (value, count) in wire.items {
            if count == 0 || f.counters.insert(value, count).is_some() {
                return Err(Error::corrupt(location, "frequent items: zero or duplicate counter"));
            }
            sum = sum.saturating_add(count);
        }
        if f.counters.len() > f.capacity.saturating_mul(2) || sum > wire.total {
            return Err(Error::corrupt(
                location,
                "frequent items: more counters or counts than recorded",
            ));
        }
        f.offset = wire.offset;
        f.total = wire.total;
        Ok(f)
    }
}

/// Serialised frequent items: `[value, count]` pairs, most frequent first.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FrequentWire {
    capacity: usize,
    offset: u64,
    total: u64,
    items: Vec<(String, u64)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(n: u64) -> Vec<String> {
        // Zipf-like: value i appears about n / (i+1) times.
        (0..n)
            .map(|i| format!("v{}", crate::sketch::hash::mix64(i).trailing_zeros()))
            .collect()
    }

    #[test]
    fn exact_while_few_distinct() {
        let mut f = FrequentItems::new(8).unwrap();
        for v in ["a", "b", "a", "c", "a", "b"] {
            f.add(v, 1);
        }
        let items = f.items();
        assert_eq!(
            items[0],
            ItemCount {
                value: "a".into(),
                lower: 3,
                upper: 3
            }
        );
        assert_eq!(items[1].value, "b");
        assert!(f.is_exact());
    }

    #[test]
    fn bounds_always_contain_true_counts() {
        let data = stream(100_000);
        let mut exact: HashMap<&str, u64> = HashMap::new();
        let mut parts = Vec::new();
        for part in data.chunks(7_001) {
            let mut f = FrequentItems::new(4).unwrap();
            for v in part {
                *exact.entry(v).or_default() += 1;
                f.add(v, 1);
            }
            parts.push(f);
        }
        let mut merged = FrequentItems::new(4).unwrap();
        for p in &parts {
            merged.merge(p);
        }
        assert_eq!(merged.total(), 100_000);
        assert!(merged.max_error() <= 100_000 / 5);
        for (v, &c) in &exact {
            let lower = merged.items().iter().find(|i| i.value == *v).map_or(0, |i| i.lower);
            assert!(
                lower <= c && c <= merged.upper_bound(v),
                "{v}: {lower} <= {c} <= {}",
                merged.upper_bound(v)
            );
        }
        // The heaviest value (about half the stream) is always retained.
        assert_eq!(merged.items()[0].value, "v0");
    }

    #[test]
    fn wire_round_trip_and_validation() {
        let mut f = FrequentItems::new(3).unwrap();
        for v in stream(1000) {
            f.add(&v, 1);
        }
        let back = FrequentItems::from_wire(f.to_wire(), "t").unwrap();
        assert_eq!(back, f);
        let mut wire = f.to_wire();
        wire.total = 0;
        assert!(FrequentItems::from_wire(wire, "t").is_err());
    }
}
