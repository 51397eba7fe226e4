//! Sticky routing: request keys, the 10,000 buckets, and traffic weights.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The number of routing buckets. A key always falls in the same bucket, and
/// an arm with weight `w` owns `w` buckets: shares are exact to 0.01 %.
pub const BUCKETS: u16 = 10_000;

/// The bucket of a request key, in `0..BUCKETS`.
///
/// The key is mixed first (the SplitMix64 finaliser), so sequential keys,
/// small ids and hashes all spread evenly over the buckets.
pub fn bucket_of(key: u64) -> u16 {
    let mut z = key.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    // Lemire's multiply-shift: unbiased enough for 10^4 buckets of a 64-bit hash.
    ((u128::from(z) * u128::from(BUCKETS)) >> 64) as u16
}

/// A stable routing key for a user id, a session id or any other string: the
/// same text always gives the same key (XXH3, fixed seed), on every replica
/// and in every release.
pub fn routing_key(id: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(id.as_bytes())
}

/// A share of the traffic, in buckets (hundredths of a percent): `0..=10_000`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Weight(u16);

impl Weight {
    /// No traffic.
    pub const ZERO: Weight = Weight(0);
    /// All traffic.
    pub const ALL: Weight = Weight(BUCKETS);

    /// A weight of `buckets` hundredths of a percent; refuses more than 10,000.
    pub fn from_buckets(buckets: u16) -> Result<Weight> {
        if buckets > BUCKETS {
            return Err(Error::invalid_input(
                "traffic weight",
                "buckets",
                buckets.to_string(),
                format!("at most {BUCKETS} (100 %)"),
            ));
        }
        Ok(Weight(buckets))
    }

    /// A weight in percent (`12.5` is 1,250 buckets); refuses NaN and values
    /// outside 0–100, and rounds to the nearest bucket.
    pub fn percent(percent: f64) -> Result<Weight> {
        if !(0.0..=100.0).contains(&percent) {
            return Err(Error::invalid_input(
                "traffic weight",
                "percent",
                percent.to_string(),
                "a number from 0 to 100",
            ));
        }
        Ok(Weight((percent * 100.0).round() as u16))
    }

    /// The buckets it owns.
    pub fn buckets(self) -> u16 {
        self.0
    }

    /// The share as a percentage.
    pub fn as_percent(self) -> f64 {
        f64::from(self.0) / 100.0
    }

    /// The share as a fraction of 1.
    pub fn as_fraction(self) -> f64 {
        f64::from(self.0) / f64::from(BUCKETS)
    }

    /// Whether a key's bucket is among the first `self` buckets.
    pub fn covers(self, bucket: u16) -> bool {
        bucket < self.0
    }
}

impl fmt::Display for Weight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} %", self.as_percent())
    }
}

/// Where requests without a routing key get one.
///
/// Injectable so that tests and simulations route reproducibly.
pub trait KeySource: Send + Sync + fmt::Debug {
    /// A fresh key.
    fn next_key(&self) -> u64;
}

/// Random keys from a fast thread-local generator (the default).
#[derive(Debug, Default)]
pub struct RandomKeys;

impl KeySource for RandomKeys {
    fn next_key(&self) -> u64 {
        fastrand::u64(..)
    }
}

/// A reproducible sequence of keys (SplitMix64 from a seed), shared by all threads.
#[derive(Debug)]
pub struct SeededKeys {
    state: AtomicU64,
}

impl SeededKeys {
    /// The sequence that starts at `seed`.
    pub fn new(seed: u64) -> Self {
        SeededKeys {
            state: AtomicU64::new(seed),
        }
    }
}

impl KeySource for SeededKeys {
    fn next_key(&self) -> u64 {
        // Successive states are distinct; `bucket_of` mixes them.
        self.state.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_even_for_sequential_keys() {
        let mut counts = vec![0u32; usize::from(BUCKETS)];
        for key in 0..1_000_000u64 {
            counts[usize::from(bucket_of(key))] += 1;
        }
        // 100 expected per bucket; a fair hash keeps every bucket within ±50 %.
        assert!(
            counts.iter().all(|&c| (50..=150).contains(&c)),
            "{:?}",
            counts.iter().minmax()
        );
    }

    trait MinMax {
        fn minmax(self) -> (u32, u32);
    }
    impl<'a, I: Iterator<Item = &'a u32>> MinMax for I {
        fn minmax(self) -> (u32, u32) {
            self.fold((u32::MAX, 0), |(lo, hi), &c| (lo.min(c), hi.max(c)))
        }
    }

    #[test]
    fn weights_refuse_out_of_range_values() {
        assert!(Weight::percent(100.01).is_err());
        assert!(Weight::percent(f64::NAN).is_err());
        assert!(Weight::percent(-1.0).is_err());
        assert!(Weight::from_buckets(10_001).is_err());
        assert_eq!(Weight::percent(12.5).unwrap().buckets(), 1_250);
    }

    #[test]
    fn keys_and_buckets_are_stable_across_releases() {
        // Sticky assignments outlive a release: these values must never change.
        // Computed outside the project: Python's `xxhash.xxh3_64_intdigest`,
        // and SplitMix64's finaliser scaled by 10,000 (multiply-shift).
        assert_eq!(routing_key("user-42"), 0x50fe_4b21_cf7b_09cd);
        let buckets: Vec<u16> = [0, 1, 42, u64::MAX].into_iter().map(bucket_of).collect();
        assert_eq!(buckets, [8833, 5665, 7415, 8939]);
    }
}
