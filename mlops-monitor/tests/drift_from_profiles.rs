//! Drift from profiles agrees with drift on the raw data within the stated bounds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray};
use mlops_data::{Profile, ProfileConfig, Profiler};
use mlops_monitor::drift::from_profiles::{ProfileMethod, compare_profiles};
use mlops_monitor::drift::methods::wasserstein::normed_wasserstein;
use mlops_monitor::drift::{DataDrift, DriftConfig, DriftMethod};

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

    let ks = compare_profiles(&rp, &cp, Some(ProfileMethod::Ks));
    let exact = mlops_monitor::stats::ks_2samp(&rx, &cx).unwrap();
    let x = ks.iter().find(|c| c.name == "x").unwrap();
    assert!(!x.exact);
    assert!(
        (x.statistic.unwrap() - exact.statistic).abs() <= x.error_bound.unwrap(),
        "{x:?} vs {exact:?}"
    );
    assert!(x.drifted);

    let w = compare_profiles(&rp, &cp, None);
    let wx = w.iter().find(|c| c.name == "x").unwrap();
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
    let chi = compare_profiles(&rp, &cp, Some(ProfileMethod::ChiSquare));
    let c = chi.iter().find(|c| c.name == "c").unwrap();
    assert!(c.exact && c.error_bound == Some(0.0));
    let raw = DataDrift::new(DriftConfig::default().with_column("c", Some(DriftMethod::ChiSquare), None))
        .compare(&[rb], &[cb])
        .unwrap();
    let rc = raw.column("c").unwrap();
    assert!(
        (c.p_value.unwrap() - rc.p_value.unwrap()).abs() <= 1e-12 * rc.p_value.unwrap().max(1e-300),
        "{c:?} vs {rc:?}"
    );
}

#[test]
fn identical_data_shows_no_drift_from_profiles() {
    let (x, c) = data(30_000, 0.0, 9);
    let b = batch(&x, &c);
    let p = profile(&b);
    for method in [
        ProfileMethod::Ks,
        ProfileMethod::Wasserstein,
        ProfileMethod::Psi,
        ProfileMethod::JensenShannon,
        ProfileMethod::Hellinger,
    ] {
        for col in compare_profiles(&p, &p, Some(method)) {
            assert!(!col.drifted, "{method:?} {col:?}");
        }
    }
    let empty = Profiler::profile_batches(ProfileConfig::default(), &[b.slice(0, 0)]).unwrap();
    let out = compare_profiles(&p, &empty, None);
    assert!(out.iter().all(|c| c.message.is_some() && !c.drifted));
}
