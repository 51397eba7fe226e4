//! Deterministic data generators shared by the benchmarks.

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};

/// A small, fast, deterministic generator (splitmix64), so runs are comparable.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u = self.uniform().max(1e-300);
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// `rows` rows of `numeric` float/int columns plus `strings` string columns,
/// split into batches of `batch_rows`; about 1 % nulls in numeric columns.
pub fn mixed_batches(rows: usize, numeric: usize, strings: usize, batch_rows: usize, seed: u64) -> Vec<RecordBatch> {
    let mut rng = Rng::new(seed);
    let mut batches = Vec::new();
    let mut start = 0;
    while start < rows {
        let n = batch_rows.min(rows - start);
        let mut columns: Vec<(String, ArrayRef)> = Vec::new();
        for c in 0..numeric {
            let array: ArrayRef = if c % 3 == 2 {
                Arc::new(Int64Array::from_iter((0..n).map(|_| {
                    let v = rng.next_u64();
                    (!v.is_multiple_of(100)).then_some((v >> 40) as i64 % 10_000)
                })))
            } else {
                Arc::new(Float64Array::from_iter((0..n).map(|_| {
                    let null = rng.next_u64().is_multiple_of(100);
                    (!null).then(|| 50.0 + 10.0 * rng.normal() * (c + 1) as f64)
                })))
            };
            columns.push((format!("n{c}"), array));
        }
        for c in 0..strings {
            let cardinality = if c % 2 == 0 { 20 } else { 50_000 };
            let values: Vec<String> = (0..n).map(|_| format!("v{}", rng.next_u64() % cardinality)).collect();
            columns.push((format!("s{c}"), Arc::new(StringArray::from(values))));
        }
        batches
            .push(RecordBatch::try_from_iter(columns).unwrap_or_else(|e| unreachable!("generated columns agree: {e}")));
        start += n;
    }
    batches
}
