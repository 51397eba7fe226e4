//! Drift from profiles agrees with drift on the raw data within the stated bounds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray};
use mlops_data::{Profile, ProfileConfig, Profiler};
use mlops_monitor::drift::from_profiles::compare_profiles;
use mlops_monitor::drift::methods::wasserstein::normed_wasserstein;
use mlops_monitor::drift::{ColumnStatus, DataDrift, DriftConfig, DriftMethod, DriftReport};

fn data(n: usize, shift: f64, seed: u64) -> (Vec<f64>, Vec<String>) {
    let mut s = seed;
    let mut next = || {
        s = s
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let x = (0..n)
        .map(|_| (-2.0 * next().max(1e-300).ln()).sqrt() * (std::f64::consts::TAU * next()).cos() + shift)
        .collect();
    let c = (0..n)
        .map(|_| format!("c{}", ((next() + shift / 10.0) * 6.0) as u32 % 6))
        .collect();
    (x, c)
}

fn batch(x: &[f64], c: &[String]) -> RecordBatch {
    RecordBatch::try_from_iter([
        ("x", Arc::new(Float64Array::from(x.to_vec())) as ArrayRef),
        ("c", Arc::new(StringArray::from(c.to_vec())) as ArrayRef),
    ])
    .unwrap()
}

fn profile(b: &RecordBatch) -> Profile {
    // Several batches, so the sketches really compact.
    let parts: Vec<RecordBatch> = (0..b.num_rows())
        .step_by(10_000)
        .map(|o| b.slice(o, 10_000.min(b.num_rows() - o)))
        .collect();
    Profiler::profile_batches(ProfileConfig::default(), &parts).unwrap()
}

#[test]
fn sketch_results_stay_within_their_bounds() {
    let (rx, rc) = data(60_000, 0.0, 1);
    let (cx, cc) = data(50_000, 0.15, 2);
    let (rb, cb) = (batch(&rx, &rc), batch(&cx, &cc));
    let (rp, cp) = (profile(&rb), profile(&cb));

    let ks = compare_profiles(
        &rp,
        &cp,
        &DriftConfig::default().with_column("x", Some(DriftMethod::Ks), None),
    )
    .unwrap();
    let exact = mlops_monitor::stats::ks_2samp(&rx, &cx).unwrap();
    let x = ks.column("x").unwrap();
    assert_eq!((x.method, x.threshold), (Some(DriftMethod::Ks), Some(0.05)));
    assert!(x.error_bound.unwrap() > 0.0, "the sketches compacted: an estimate");
    assert!(
        (x.statistic.unwrap() - exact.statistic).abs() <= x.error_bound.unwrap(),
        "{x:?} vs {exact:?}"
    );
    assert!(x.drifted);

    let w = compare_profiles(&rp, &cp, &DriftConfig::default()).unwrap();
    let wx = w.column("x").unwrap();
    assert_eq!(wx.method, Some(DriftMethod::Wasserstein));
    let exact_w = normed_wasserstein(&rx, &cx);
    assert!(
        (wx.statistic.unwrap() - exact_w).abs() <= wx.error_bound.unwrap(),
        "{} vs {exact_w}",
        wx.statistic.unwrap()
    );
    assert!(
        (wx.statistic.unwrap() - exact_w).abs() < 0.02,
        "and in practice much closer"
    );

    // Categorical counts are exact (6 categories): identical to the raw-data computation.
    let chi = compare_profiles(&rp, &cp, &DriftConfig::default().with_method(DriftMethod::ChiSquare)).unwrap_err();
    assert!(
        chi.to_string().contains("`x`"),
        "chi-square on numbers is refused, naming the column: {chi}"
    );
    let chi = compare_profiles(
        &rp,
        &cp,
        &DriftConfig::default().with_column("c", Some(DriftMethod::ChiSquare), None),
    )
    .unwrap();
    let c = chi.column("c").unwrap();
    assert_eq!(c.error_bound, Some(0.0));
    let raw = DataDrift::new(DriftConfig::default().with_column("c", Some(DriftMethod::ChiSquare), None))
        .compare(&[rb], &[cb])
        .unwrap();
    let rc = raw.column("c").unwrap();
    assert!(
        (c.p_value.unwrap() - rc.p_value.unwrap()).abs() <= 1e-12 * rc.p_value.unwrap().max(1e-300),
        "{c:?} vs {rc:?}"
    );
    // One vocabulary: the same report type, with the same verdict fields, as drift on data.
    let from_profiles: &DriftReport = &chi;
    assert_eq!(
        (c.drifted, c.status, c.threshold),
        (rc.drifted, rc.status, rc.threshold)
    );
    assert_eq!(from_profiles.number_of_columns, 2);
    assert_eq!(
        (from_profiles.reference_rows, from_profiles.current_rows),
        (60_000, 50_000)
    );
    assert_eq!(rc.error_bound, None, "drift on data is exact");
}

#[test]
fn identical_data_shows_no_drift_from_profiles() {
    let (x, c) = data(30_000, 0.0, 9);
    let b = batch(&x, &c);
    let p = profile(&b);
    for method in [
        DriftMethod::Ks,
        DriftMethod::Wasserstein,
        DriftMethod::Psi,
        DriftMethod::JensenShannon,
        DriftMethod::Hellinger,
    ] {
        let config = DriftConfig::default().with_column("x", Some(method), None);
        let report = compare_profiles(&p, &p, &config).unwrap();
        for col in &report.columns {
            assert!(!col.drifted, "{method:?} {col:?}");
        }
        assert!(!report.dataset_drift);
    }
    let empty = Profiler::profile_batches(ProfileConfig::default(), &[b.slice(0, 0)]).unwrap();
    let out = compare_profiles(&p, &empty, &DriftConfig::default()).unwrap();
    assert!(
        out.columns
            .iter()
            .all(|c| c.message.is_some() && !c.drifted && c.status == ColumnStatus::NotEnoughData)
    );
}
