//! Property tests: profiling partitions and merging equals profiling the whole,
//! and merging is associative and commutative.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use arrow_array::{BooleanArray, Float64Array, Int32Array, RecordBatch, StringArray};
use common::{arc, batch, close};
use mlops_core::DataProfile;
use mlops_data::{ColumnStats, Profile, ProfileConfig, Profiler};
use proptest::prelude::*;

#[derive(Clone, Debug)]
struct Row {
    x: Option<f64>,
    k: Option<i32>,
    s: Option<String>,
    b: Option<bool>,
}

fn row() -> impl Strategy<Value = Row> {
    let x = prop_oneof![
        8 => (-1e6f64..1e6).prop_map(Some),
        1 => Just(None),
        1 => prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(f64::NEG_INFINITY), Just(0.0), Just(-0.0)].prop_map(Some),
    ];
    let k = proptest::option::weighted(0.9, -50i32..50);
    let s = proptest::option::weighted(0.9, "[a-e]{1,2}");
    let b = proptest::option::weighted(0.8, any::<bool>());
    (x, k, s, b).prop_map(|(x, k, s, b)| Row { x, k, s, b })
}

fn to_batch(rows: &[Row]) -> RecordBatch {
    batch(vec![
        (
            "x",
            arc(Float64Array::from(rows.iter().map(|r| r.x).collect::<Vec<_>>())),
        ),
        ("k", arc(Int32Array::from(rows.iter().map(|r| r.k).collect::<Vec<_>>()))),
        (
            "s",
            arc(StringArray::from(rows.iter().map(|r| r.s.clone()).collect::<Vec<_>>())),
        ),
        (
            "b",
            arc(BooleanArray::from(rows.iter().map(|r| r.b).collect::<Vec<_>>())),
        ),
    ])
}

fn profile(rows: &[Row]) -> Profile {
    Profiler::profile_batches(ProfileConfig::default(), &[to_batch(rows)]).unwrap()
}

fn merged(parts: &[Profile]) -> Profile {
    let mut p = Profile::empty(ProfileConfig::default());
    for part in parts {
        p.merge(part).unwrap();
    }
    p
}

/// Exact fields equal, moments within 1e-12 relative, sketch answers within bounds.
fn assert_equivalent(a: &Profile, b: &Profile) {
    assert_eq!(a.num_rows(), b.num_rows());
    for name in a.column_names() {
        let (x, y) = (a.summary(&name).unwrap(), b.summary(&name).unwrap());
        assert_eq!(
            (
                x.count,
                x.null_count,
                x.nan_count,
                x.pos_inf_count,
                x.neg_inf_count,
                x.min,
                x.max,
                x.true_count,
                x.distinct
            ),
            (
                y.count,
                y.null_count,
                y.nan_count,
                y.pos_inf_count,
                y.neg_inf_count,
                y.min,
                y.max,
                y.true_count,
                y.distinct
            ),
            "{name}"
        );
        for (u, v) in [(x.mean, y.mean), (x.std, y.std)] {
            match (u, v) {
                (Some(u), Some(v)) => assert!(close(u, v, 1e-12) || (u - v).abs() < 1e-9, "{name}: {u} vs {v}"),
                (u, v) => assert_eq!(u, v, "{name}"),
            }
        }
        if let (ColumnStats::Numeric(p), ColumnStats::Numeric(q)) =
            (a.column(&name).unwrap().stats(), b.column(&name).unwrap().stats())
        {
            assert_eq!(p.zero_count(), q.zero_count());
            // Both sketches are exact at these sizes (fewer values than k): same quantiles.
            assert_eq!(p.quantile(0.5), q.quantile(0.5), "{name} median");
        }
        if let (Some(f), Some(g)) = (a.frequent_items(&name), b.frequent_items(&name)) {
            assert_eq!(f, g, "{name} frequent items");
        }
    }
}

proptest! {
    // A fixed seed: every run draws the same cases (CI must not fail at random).
    #![proptest_config(ProptestConfig { cases: 64, rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed_0001), ..ProptestConfig::default() })]

    #[test]
    fn merge_of_partitions_equals_whole(rows in proptest::collection::vec(row(), 1..300), cuts in proptest::collection::vec(0usize..300, 0..5)) {
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % rows.len()).collect();
        cuts.sort_unstable();
        let mut parts = Vec::new();
        let mut start = 0;
        for c in cuts.into_iter().chain([rows.len()]) {
            if c > start {
                parts.push(profile(&rows[start..c]));
                start = c;
            }
        }
        assert_equivalent(&merged(&parts), &profile(&rows));
    }

    #[test]
    fn merge_is_associative_and_commutative(a in proptest::collection::vec(row(), 1..100), b in proptest::collection::vec(row(), 1..100), c in proptest::collection::vec(row(), 1..100)) {
        let (pa, pb, pc) = (profile(&a), profile(&b), profile(&c));
        let left = merged(&[merged(&[pa.clone(), pb.clone()]), pc.clone()]);
        let right = merged(&[pa.clone(), merged(&[pb.clone(), pc.clone()])]);
        let swapped = merged(&[pc, pb, pa]);
        assert_equivalent(&left, &right);
        assert_equivalent(&left, &swapped);
    }
}

#[test]
fn large_merges_keep_sketch_bounds() {
    // 200k values in 16 partitions: quantiles stay within the rank bound of the exact ones.
    let values: Vec<f64> = (0..200_000u64)
        .map(|i| ((i * 2_654_435_761) % 1_000_003) as f64 / 7.0)
        .collect();
    let parts: Vec<Profile> = values
        .chunks(12_500)
        .map(|c| {
            Profiler::profile_batches(
                ProfileConfig::default(),
                &[batch(vec![("x", arc(Float64Array::from(c.to_vec())))])],
            )
            .unwrap()
        })
        .collect();
    let p = merged(&parts);
    let mut sorted = values.clone();
    sorted.sort_by(f64::total_cmp);
    let eps = p.rank_error("x").unwrap();
    for q in [0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99] {
        let est = p.quantile("x", q).unwrap();
        let rank = sorted.partition_point(|&v| v <= est) as f64 / sorted.len() as f64;
        assert!((rank - q).abs() <= eps, "q{q}: rank {rank}");
    }
    let distinct = p.summary("x").unwrap().distinct.unwrap();
    let exact = {
        let mut d = sorted.clone();
        d.dedup();
        d.len() as f64
    };
    assert!(close(distinct, exact, 0.02), "{distinct} vs {exact}");
}
