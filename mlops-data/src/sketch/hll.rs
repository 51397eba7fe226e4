//! HyperLogLog distinct counting, exact while small.
//!
//! Up to [`SPARSE_LIMIT`](HyperLogLog::sparse_limit) distinct hashes are kept
//! exactly (sorted), so small cardinalities — the categories of a categorical
//! column, the levels of a code — are counted without error. Past that the
//! sketch switches to `2^p` six-bit registers and Ertl's improved raw estimator
//! ("New cardinality estimation algorithms for HyperLogLog sketches", 2017,
//! algorithm 6), which is unbiased over the whole range without empirical bias
//! tables. Relative standard error is `1.04 / sqrt(2^p)`: 0.81 % at the default
//! `p = 14`, so 95 % of estimates are within 1.6 %.

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Smallest and largest accepted precision.
const PRECISION_RANGE: std::ops::RangeInclusive<u8> = 4..=18;

/// A mergeable distinct-count sketch over 64-bit hashes.
#[derive(Clone, Debug, PartialEq)]
pub struct HyperLogLog {
    precision: u8,
    repr: Repr,
}

/// The hashes are already uniformly distributed, so the set uses them as they are.
#[derive(Clone, Copy, Debug, Default)]
struct IdentityHasher(u64);

impl std::hash::Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

type HashSet64 = std::collections::HashSet<u64, std::hash::BuildHasherDefault<IdentityHasher>>;

#[derive(Clone, Debug, PartialEq)]
enum Repr {
    /// Distinct hashes: exact counting.
    Sparse(HashSet64),
    /// One register per bucket: the maximum leading-zero rank seen.
    Dense(Vec<u8>),
}

impl HyperLogLog {
    /// A sketch with `2^precision` registers (4 ≤ precision ≤ 18).
    pub fn new(precision: u8) -> Result<Self> {
        if !PRECISION_RANGE.contains(&precision) {
            return Err(Error::invalid_input(
                "HyperLogLog precision",
                "HyperLogLog::new",
                precision.to_string(),
                "4..=18",
            ));
        }
        Ok(HyperLogLog {
            precision,
            repr: Repr::Sparse(HashSet64::default()),
        })
    }

    /// The precision `p`.
    pub fn precision(&self) -> u8 {
        self.precision
    }

    /// Relative standard error of the estimate once past the exact range.
    pub fn relative_standard_error(&self) -> f64 {
        1.04 / ((1u64 << self.precision) as f64).sqrt()
    }

    /// Distinct hashes kept exactly before switching to registers (one eighth of
    /// the register bytes, so the exact form is never larger than the dense one).
    pub fn sparse_limit(&self) -> usize {
        (1usize << self.precision) / 8
    }

    /// Whether the count is still exact.
    pub fn is_exact(&self) -> bool {
        matches!(self.repr, Repr::Sparse(_))
    }

    /// Adds finite numbers: straight into the registers once dense, without a hash buffer.
    pub(crate) fn insert_f64s(&mut self, values: &[f64], buffer: &mut Vec<u64>) {
        use super::hash::hash_f64;
        match &mut self.repr {
            // With the default precision spelled out, the compiler turns the
            // shifts and the sentinel bit of the hot loop into constants.
            Repr::Dense(registers) => match self.precision {
                14 => insert_dense(registers, 14, values),
                p => insert_dense(registers, p, values),
            },
            Repr::Sparse(_) => {
                buffer.clear();
                buffer.extend(values.iter().map(|&v| hash_f64(v)));
                self.insert_hashes(buffer);
            }
        }
    }

    /// Adds hashes.
    pub(crate) fn insert_hashes(&mut self, hashes: &[u64]) {
        match &mut self.repr {
            Repr::Dense(registers) => {
                for &h in hashes.iter() {
                    update_register(registers, self.precision, h);
                }
            }
            Repr::Sparse(set) => {
                let limit = (1usize << self.precision) / 8;
                for &h in hashes {
                    set.insert(h);
                    if set.len() > limit {
                        break;
                    }
                }
                if set.len() > limit {
                    self.densify();
                    // Hashes after the switch go straight to the registers (re-adding is idempotent).
                    self.insert_hashes(hashes);
                }
            }
        }
    }

    fn densify(&mut self) {
        if let Repr::Sparse(set) = &self.repr {
            let mut registers = vec![0u8; 1 << self.precision];
            for &h in set {
                update_register(&mut registers, self.precision, h);
            }
            self.repr = Repr::Dense(registers);
        }
    }

    /// Estimated number of distinct values inserted.
    pub fn estimate(&self) -> f64 {
        match &self.repr {
            Repr::Sparse(set) => set.len() as f64,
            Repr::Dense(registers) => ertl_estimate(registers, self.precision),
        }
    }

    /// Adds every value of `other`; both must have the same precision.
    pub fn merge(&mut self, other: &HyperLogLog) -> Result<()> {
        if self.precision != other.precision {
            return Err(Error::invalid_input(
                "HyperLogLog merge",
                "HyperLogLog::merge",
                format!("precision {} merged into precision {}", other.precision, self.precision),
                "equal precisions (profiles built with the same configuration)",
            ));
        }
        match &other.repr {
            Repr::Sparse(set) => {
                let hashes: Vec<u64> = set.iter().copied().collect();
                self.insert_hashes(&hashes);
            }
            Repr::Dense(theirs) => {
                self.densify();
                if let Repr::Dense(ours) = &mut self.repr {
                    for (a, &b) in ours.iter_mut().zip(theirs) {
                        *a = (*a).max(b);
                    }
                }
            }
        }
        Ok(())
    }

    pub(crate) fn to_wire(&self) -> HllWire {
        match &self.repr {
            Repr::Sparse(set) => {
                let mut sorted: Vec<u64> = set.iter().copied().collect();
                sorted.sort_unstable();
                HllWire {
                    precision: self.precision,
                    exact: Some(sorted),
                    registers: None,
                }
            }
            Repr::Dense(registers) => HllWire {
                precision: self.precision,
                exact: None,
                registers: Some(base64::engine::general_purpose::STANDARD.encode(registers)),
            },
        }
    }

    pub(crate) fn from_wire(wire: HllWire, location: &str) -> Result<Self> {
        let mut sketch = HyperLogLog::new(wire.precision).map_err(|_| {
            Error::corrupt(
                location,
                format!("HyperLogLog precision {} outside 4..=18", wire.precision),
            )
        })?;
        match (wire.exact, wire.registers) {
            (Some(set), None) => {
                if set.len() > sketch.sparse_limit() || set.windows(2).any(|w| w[0] >= w[1]) {
                    return Err(Error::corrupt(
                        location,
                        "exact HyperLogLog hashes are not sorted, unique and within the limit",
                    ));
                }
                sketch.repr = Repr::Sparse(set.into_iter().collect());
            }
            (None, Some(b64)) => {
                let registers = base64::engine::general_purpose::STANDARD
                    .decode(b64.as_bytes())
                    .map_err(|e| Error::corrupt(location, format!("HyperLogLog registers are not base64: {e}")))?;
                let max_rank = 64 - wire.precision + 1;
                if registers.len() != 1 << wire.precision || registers.iter().any(|&r| r > max_rank) {
                    return Err(Error::corrupt(
                        location,
                        "HyperLogLog registers have the wrong length or out-of-range values",
                    ));
                }
                sketch.repr = Repr::Dense(registers);
            }
            _ => {
                return Err(Error::corrupt(
                    location,
                    "HyperLogLog needs exactly one of `exact` and `registers`",
                ));
            }
        }
        Ok(sketch)
    }
}

/// Serialised HyperLogLog: either the exact hash set or base64 registers.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HllWire {
    precision: u8,
    exact: Option<Vec<u64>>,
    registers: Option<String>,
}

#[inline(always)]
fn insert_dense(registers: &mut [u8], precision: u8, values: &[f64]) {
    for &v in values {
        update_register(registers, precision, super::hash::hash_f64(v));
    }
}

#[inline]
fn update_register(registers: &mut [u8], precision: u8, hash: u64) {
    let index = (hash >> (64 - precision)) as usize;
    // A sentinel bit below the remaining 64-p bits caps the rank at 64-p+1.
    let rest = (hash << precision) | (1u64 << (precision - 1));
    let rank = rest.leading_zeros() as u8 + 1;
    if let Some(r) = registers.get_mut(index)
        && rank > *r
    {
        *r = rank;
    }
}

/// Ertl 2017, algorithm 6 (improved raw estimator).
fn ertl_estimate(registers: &[u8], precision: u8) -> f64 {
    let m = registers.len() as f64;
    let q = 64 - precision as usize;
    let mut histogram = vec![0u32; q + 2];
    for &r in registers {
        if let Some(c) = histogram.get_mut(r as usize) {
            *c += 1;
        }
    }
    let mut z = m * tau(1.0 - f64::from(histogram[q + 1]) / m);
    for k in (1..=q).rev() {
        z = 0.5 * (z + f64::from(histogram[k]));
    }
    z += m * sigma(f64::from(histogram[0]) / m);
    let alpha_inf = 1.0 / (2.0 * std::f64::consts::LN_2);
    alpha_inf * m * m / z
}

fn sigma(x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let (mut x, mut y, mut z) = (x, 1.0, x);
    loop {
        x *= x;
        let previous = z;
        z += x * y;
        y += y;
        if previous == z {
            return z;
        }
    }
}

fn tau(x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let (mut x, mut y, mut z) = (x, 1.0, 1.0 - x);
    loop {
        x = x.sqrt();
        let previous = z;
        y *= 0.5;
        z -= (1.0 - x).powi(2) * y;
        if previous == z {
            return z / 3.0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sketch::hash::{hash_f64, mix64};

    fn sketch_of(range: std::ops::Range<u64>, p: u8) -> HyperLogLog {
        let mut h = HyperLogLog::new(p).unwrap();
        let hashes: Vec<u64> = range.map(mix64).collect();
        for chunk in hashes.chunks(8192) {
            h.insert_hashes(chunk);
        }
        h
    }

    #[test]
    fn exact_while_small() {
        let mut h = HyperLogLog::new(14).unwrap();
        let hashes: Vec<u64> = [1.0, 2.0, 2.0, -0.0, 0.0, 3.5].iter().map(|&x| hash_f64(x)).collect();
        h.insert_hashes(&hashes);
        assert_eq!(h.estimate(), 4.0);
        assert!(h.is_exact());
        let h = sketch_of(0..2048, 14);
        assert_eq!(h.estimate(), 2048.0);
    }

    #[test]
    fn number_path_matches_hash_path_at_every_precision() {
        // insert_f64s has its own dense loop, specialised for the default precision.
        let values: Vec<f64> = (0..100_000).map(|i| f64::from(i) * 0.5 - 7.0).collect();
        let hashes: Vec<u64> = values.iter().map(|&v| hash_f64(v)).collect();
        for p in [4, 12, 14, 18] {
            let (mut a, mut b, mut buffer) = (HyperLogLog::new(p).unwrap(), HyperLogLog::new(p).unwrap(), Vec::new());
            for (v, h) in values.chunks(8192).zip(hashes.chunks(8192)) {
                a.insert_f64s(v, &mut buffer);
                b.insert_hashes(h);
            }
            assert!(!a.is_exact(), "p {p}: the dense loop must run");
            assert_eq!(a, b, "p {p}");
        }
    }

    #[test]
    fn relative_error_within_two_percent_at_default_precision() {
        // 4 standard errors at p = 14 is 3.2 %; every point below must be within 2 %.
        for n in [2_049u64, 5_000, 20_000, 50_000, 200_000, 1_000_000, 3_000_000] {
            let h = sketch_of(1_000_000_000..1_000_000_000 + n, 14);
            let err = (h.estimate() - n as f64).abs() / n as f64;
            assert!(err < 0.02, "n={n} estimate={} err={err}", h.estimate());
        }
    }

    #[test]
    fn merge_equals_union_and_is_commutative() {
        let a = sketch_of(0..60_000, 12);
        let b = sketch_of(30_000..100_000, 12);
        let mut ab = a.clone();
        ab.merge(&b).unwrap();
        let mut ba = b.clone();
        ba.merge(&a).unwrap();
        assert_eq!(ab, ba);
        assert_eq!(ab, sketch_of(0..100_000, 12));
        let small = sketch_of(0..10, 12);
        let mut mixed = small.clone();
        mixed.merge(&a).unwrap();
        let mut mixed2 = a.clone();
        mixed2.merge(&small).unwrap();
        assert_eq!(mixed, mixed2);
        assert!(ab.merge(&HyperLogLog::new(14).unwrap()).is_err());
    }

    #[test]
    fn wire_round_trip_and_rejects_corruption() {
        for h in [sketch_of(0..100, 12), sketch_of(0..100_000, 12)] {
            let back = HyperLogLog::from_wire(h.to_wire(), "t").unwrap();
            assert_eq!(back, h);
        }
        let mut wire = sketch_of(0..100, 12).to_wire();
        wire.precision = 30;
        assert!(HyperLogLog::from_wire(wire, "t").is_err());
        let bad = HllWire {
            precision: 12,
            exact: Some(vec![3, 2]),
            registers: None,
        };
        assert!(HyperLogLog::from_wire(bad, "t").is_err());
        let bad = HllWire {
            precision: 12,
            exact: None,
            registers: Some("AAAA".into()),
        };
        assert!(HyperLogLog::from_wire(bad, "t").is_err());
    }
}
