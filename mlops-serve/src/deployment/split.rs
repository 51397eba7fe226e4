//! Weighted, sticky splits of the key space: all-to-one, canary, A/B.

use std::sync::Arc;

use mlops_core::{DeploymentStrategy, Route};

use super::routing::{BUCKETS, Weight, bucket_of};
use crate::{Error, Result};

/// Sends each request to the arm whose bucket range holds its key's bucket.
///
/// Arms own contiguous ranges in the order given: the first arm owns buckets
/// `0..w1`, the next `w1..w1+w2`, and so on. A canary is the candidate first
/// and the stable arm last, so raising the candidate's weight from 10 % to
/// 20 % only moves keys *into* the candidate (buckets 1,000..2,000), never out.
///
/// ```
/// use mlops_core::DeploymentStrategy;
/// use mlops_serve::deployment::{Split, Weight};
///
/// let ten = Split::canary(1, 2, Weight::percent(10.0)?);
/// let twenty = Split::canary(1, 2, Weight::percent(20.0)?);
/// for key in 0..10_000u64 {
///     if ten.route(key).primary == 2 {
///         assert_eq!(twenty.route(key).primary, 2, "a canary key never leaves the canary");
///     }
/// }
/// # Ok::<(), mlops_serve::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split {
    name: &'static str,
    /// `(version, first bucket past its range)`, ascending ends; the last ends at `BUCKETS`.
    ranges: Arc<[(u64, u16)]>,
}

impl Split {
    /// Everything to `version`.
    pub fn all(version: u64) -> Split {
        Split {
            name: "fixed",
            ranges: Arc::from([(version, BUCKETS)]),
        }
    }

    /// `weight` of the keys to `candidate` (the lowest buckets), the rest to `stable`.
    pub fn canary(stable: u64, candidate: u64, weight: Weight) -> Split {
        Split {
            name: "canary",
            ranges: Arc::from([(candidate, weight.buckets()), (stable, BUCKETS)]),
        }
    }

    /// A fixed split between variants (A/B/n): the weights must add up to 100 %.
    pub fn weighted(variants: &[(u64, Weight)]) -> Result<Split> {
        let total: u32 = variants.iter().map(|(_, w)| u32::from(w.buckets())).sum();
        if variants.is_empty() || total != u32::from(BUCKETS) {
            return Err(Error::invalid_input(
                "A/B split",
                "variant weights",
                format!("{} variants adding up to {} buckets", variants.len(), total),
                format!("one or more variants whose weights add up to {BUCKETS} buckets (100 %)"),
            ));
        }
        let mut end = 0u16;
        let ranges = variants
            .iter()
            .map(|&(version, w)| {
                end += w.buckets();
                (version, end)
            })
            .collect::<Vec<_>>();
        Ok(Split {
            name: "ab",
            ranges: ranges.into(),
        })
    }

    /// The version that owns `bucket`.
    pub fn version_of_bucket(&self, bucket: u16) -> u64 {
        self.ranges
            .iter()
            .find(|&&(_, end)| bucket < end)
            .or(self.ranges.last())
            .map_or(0, |&(version, _)| version)
    }

    /// The weight of each arm, in range order.
    pub fn weights(&self) -> Vec<(u64, Weight)> {
        let mut start = 0;
        self.ranges
            .iter()
            .map(|&(version, end)| {
                let w = Weight::from_buckets(end - start).unwrap_or(Weight::ZERO);
                start = end;
                (version, w)
            })
            .collect()
    }
}

impl DeploymentStrategy for Split {
    fn name(&self) -> &str {
        self.name
    }

    fn route(&self, request_key: u64) -> Route {
        Route {
            primary: self.version_of_bucket(bucket_of(request_key)),
            shadows: Vec::new(),
        }
    }

    fn versions(&self) -> Vec<u64> {
        let mut versions: Vec<u64> = self.ranges.iter().map(|&(v, _)| v).collect();
        versions.dedup();
        versions
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_arm_owns_exactly_its_share_of_the_buckets() {
        let split = Split::weighted(&[
            (1, Weight::from_buckets(3_333).unwrap()),
            (2, Weight::from_buckets(3_333).unwrap()),
            (3, Weight::from_buckets(3_334).unwrap()),
        ])
        .unwrap();
        let mut owned = [0u32; 4];
        for b in 0..BUCKETS {
            owned[split.version_of_bucket(b) as usize] += 1;
        }
        assert_eq!(owned, [0, 3_333, 3_333, 3_334]);
    }

    #[test]
    fn weights_that_do_not_add_up_are_refused() {
        let half = Weight::percent(50.0).unwrap();
        assert!(Split::weighted(&[(1, half)]).is_err());
        assert!(Split::weighted(&[]).is_err());
        assert!(Split::weighted(&[(1, half), (2, half)]).is_ok());
    }
}
