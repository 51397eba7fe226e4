//! The `profile_arrow/1M_rows_x_10_numeric` workload without criterion, for
//! instruction counting: `valgrind --tool=callgrind --toggle-collect='*profile_batches*'`.
//!
//! Usage: `profile_workload [rows] [repeats]` (defaults 1 000 000 and 1). The data
//! matches the benchmark's numeric columns (same generator, same seed).

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch};
use mlops_data::{ProfileConfig, Profiler};

/// splitmix64, as `mlops_benches::Rng`, so the values equal the benchmark's.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn normal(&mut self) -> f64 {
        let u = self.uniform().max(1e-300);
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// `mlops_benches::mixed_batches(rows, 10, 0, 8192, 1)`.
fn numeric_batches(rows: usize) -> Result<Vec<RecordBatch>, arrow_schema::ArrowError> {
    let mut rng = Rng(1);
    let mut batches = Vec::new();
    let mut start = 0;
    while start < rows {
        let n = 8192.min(rows - start);
        let mut columns: Vec<(String, ArrayRef)> = Vec::new();
        for c in 0..10 {
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
        batches.push(RecordBatch::try_from_iter(columns)?);
        start += n;
    }
    Ok(batches)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let rows: usize = args.next().map_or(Ok(1_000_000), |a| a.parse())?;
    let repeats: usize = args.next().map_or(Ok(1), |a| a.parse())?;
    let batches = numeric_batches(rows)?;
    let mut checksum = 0.0;
    for _ in 0..repeats {
        let profile = Profiler::profile_batches(ProfileConfig::default(), &batches)?;
        checksum += profile.columns().iter().filter_map(|c| c.summary().mean).sum::<f64>();
    }
    eprintln!("{rows} rows x 10 numeric x {repeats}: checksum {checksum}");
    Ok(())
}
