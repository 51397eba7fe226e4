#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `mlops_monitor::stats` against SciPy.
//!
//! `fixtures/stats_reference.json` is produced by
//! `fixtures/stats_make_reference.py` (SciPy version recorded in the file).
//!
//! Tolerances, per quantity, and why (observed errors against SciPy 1.17.1 in
//! brackets; the tests print them with `--nocapture`):
//!
//! * KS statistic: **bit-identical** [0]. It is `h / lcm` (exact branch) or
//!   `i/n1 - j/n2` (asymptotic branch): the same IEEE operations as SciPy's.
//! * KS exact p-values: relative `1e-13` [0: bit-identical]. The recursions
//!   use only `+ - * /` in SciPy's order; the margin only allows for a
//!   compiler contracting SciPy's pythran loop into FMAs on another platform.
//! * KS asymptotic p-values, `kstwo.sf` and `smirnov`: relative `1e-11`,
//!   absolute `1e-15` [`smirnov` and the KS fixture cases: 0; `kstwo.sf` grid:
//!   3.9e-13 relative]. Same algorithms, cut-offs and double-double powers as
//!   SciPy; what remains is the Pomeranz recursion (`n <= 140`,
//!   `0.75 < n d^2 <= 4`), whose `np.convolve` sums in BLAS `ddot` order, and
//!   `sf = 1 - cdf`, which turns those last-ulp differences of a cdf near 1
//!   into ~1e-13 relative differences of a small sf.
//! * Anderson–Darling: statistic relative `1e-12` (absolute `1e-12` near 0,
//!   since it is `(A - (k-1)) / sigma`) [0: bit-identical, NumPy's pairwise
//!   summation is reproduced]; critical values `1e-15`; interpolated p-value
//!   relative `1e-12` [< 5e-15] (SciPy fits the quadratic by LAPACK SVD least
//!   squares, we use Householder QR).
//! * Cramér–von Mises: statistic relative `1e-12` / absolute `1e-14` [0];
//!   exact p-values relative `1e-14` [0: exact integer counts, one division];
//!   asymptotic p-values relative `1e-9` / absolute `1e-14` [absolute
//!   <= 1.6e-15, i.e. 1.8e-10 relative at p = 8.7e-6 and 1.9e-5 relative at
//!   p = 6.5e-11]. The series needs `K_{1/4}`: SciPy's AMOS `kv` is off by up
//!   to ~7e-14 relative (checked against mpmath), ours by ~1e-16, and
//!   `p = 1 - cdf` exposes that absolute error when p is tiny. Where they
//!   differ, ours is the closer one to the exact series (mpmath, 50 digits).

use mlops_monitor::stats::{
    PValueBound, TestResult, anderson_ksamp, cramervonmises_2samp, ks_2samp, kstwo_sf, smirnov_sf,
};
use proptest::prelude::*;
use serde::Deserialize;
use std::sync::OnceLock;
use std::time::Instant;

#[derive(Deserialize)]
struct Fixture {
    scipy_version: String,
    ks: Vec<TwoSampleCase>,
    kstwo_sf: Vec<DistCase>,
    smirnov_sf: Vec<DistCase>,
    anderson: Vec<AndersonCase>,
    cvm: Vec<TwoSampleCase>,
    wasserstein: Vec<WassersteinCase>,
}

#[derive(Deserialize)]
struct WassersteinCase {
    name: String,
    a: Sample,
    b: Sample,
    distance: f64,
    reference_std: f64,
    normed: f64,
}

#[derive(Deserialize)]
struct TwoSampleCase {
    name: String,
    a: Sample,
    b: Sample,
    method: String,
    statistic: f64,
    pvalue: f64,
}

#[derive(Deserialize)]
struct DistCase {
    n: u64,
    d: f64,
    sf: f64,
}

#[derive(Deserialize)]
struct AndersonCase {
    name: String,
    samples: Vec<Sample>,
    statistic: f64,
    critical_values: Vec<f64>,
    pvalue: f64,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Sample {
    Values(Vec<f64>),
    Generated { splitmix64: SplitMix },
}

#[derive(Deserialize)]
struct SplitMix {
    seed: u64,
    n: usize,
    terms: usize,
    shift: f64,
    scale: f64,
    /// Round down (integer-valued data with ties).
    #[serde(default)]
    floor: bool,
}

impl Sample {
    /// The sample's values; generated ones are rebuilt exactly as the Python script does.
    fn values(&self) -> Vec<f64> {
        match self {
            Sample::Values(v) => v.clone(),
            Sample::Generated { splitmix64: g } => {
                let mut state = g.seed;
                (0..g.n)
                    .map(|_| {
                        let mut s = 0.0;
                        for _ in 0..g.terms {
                            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
                            let mut z = state;
                            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                            z ^= z >> 31;
                            s += (z >> 11) as f64 * 2f64.powi(-53);
                        }
                        let v = g.shift + g.scale * s;
                        if g.floor { v.floor() } else { v }
                    })
                    .collect()
            }
        }
    }
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/stats_reference.json");
        let text = std::fs::read_to_string(path).unwrap();
        serde_json::from_str(&text).unwrap()
    })
}

/// Relative error, with an absolute floor: `|got - want| / max(|want|, abs_floor / rel_tol)`
/// expressed as "is within tolerance".
fn close(got: f64, want: f64, rel: f64, abs: f64) -> bool {
    got == want || (got - want).abs() <= abs.max(rel * want.abs())
}

fn rel_err(got: f64, want: f64) -> f64 {
    if got == want {
        0.0
    } else {
        (got - want).abs() / want.abs().max(f64::MIN_POSITIVE)
    }
}

/// Tracks the worst relative error seen, for the summary printed by each test.
#[derive(Default)]
struct Worst {
    err: f64,
    what: String,
}

impl Worst {
    fn see(&mut self, got: f64, want: f64, what: &str) {
        let e = rel_err(got, want);
        if e > self.err {
            self.err = e;
            self.what = format!("{what}: got {got:e}, scipy {want:e}");
        }
    }
}

#[test]
fn fixture_records_scipy_version() {
    let f = fixture();
    assert!(f.scipy_version.starts_with("1."), "{}", f.scipy_version);
    assert!(f.ks.len() >= 30 && f.anderson.len() >= 15 && f.cvm.len() >= 20);
}

#[test]
fn ks_2samp_matches_scipy() {
    let mut worst_exact = Worst::default();
    let mut worst_asymp = Worst::default();
    for case in &fixture().ks {
        let (a, b) = (case.a.values(), case.b.values());
        let start = Instant::now();
        let r = ks_2samp(&a, &b).unwrap();
        let elapsed = start.elapsed();
        if elapsed.as_millis() > 50 {
            eprintln!("ks_2samp {} ({}): {elapsed:?}", case.name, case.method);
        }
        assert_eq!(
            r.statistic.to_bits(),
            case.statistic.to_bits(),
            "{}: statistic {} vs scipy {}",
            case.name,
            r.statistic,
            case.statistic
        );
        let (rel, abs, worst) = if case.method == "exact" {
            (1e-13, 0.0, &mut worst_exact)
        } else {
            (1e-11, 1e-15, &mut worst_asymp)
        };
        worst.see(r.p_value, case.pvalue, &case.name);
        assert!(
            close(r.p_value, case.pvalue, rel, abs),
            "{} ({}): p-value {:e} vs scipy {:e}",
            case.name,
            case.method,
            r.p_value,
            case.pvalue
        );
    }
    eprintln!(
        "ks_2samp worst relative p-value error: exact {:e} ({}), asymptotic {:e} ({})",
        worst_exact.err, worst_exact.what, worst_asymp.err, worst_asymp.what
    );
}

#[test]
fn kstwo_sf_matches_scipy() {
    let mut worst = Worst::default();
    for c in &fixture().kstwo_sf {
        let got = kstwo_sf(c.d, c.n);
        worst.see(got, c.sf, &format!("n={} d={}", c.n, c.d));
        assert!(
            close(got, c.sf, 1e-11, 1e-15),
            "kstwo.sf({}, {}) = {got:e}, scipy {:e}",
            c.d,
            c.n,
            c.sf
        );
    }
    eprintln!("kstwo.sf worst relative error {:e} ({})", worst.err, worst.what);
}

#[test]
fn smirnov_sf_matches_scipy() {
    let mut worst = Worst::default();
    for c in &fixture().smirnov_sf {
        let got = smirnov_sf(c.n, c.d);
        worst.see(got, c.sf, &format!("n={} d={}", c.n, c.d));
        assert!(
            close(got, c.sf, 1e-11, 1e-15),
            "smirnov({}, {}) = {got:e}, scipy {:e}",
            c.n,
            c.d,
            c.sf
        );
    }
    eprintln!("smirnov worst relative error {:e} ({})", worst.err, worst.what);
}

#[test]
fn anderson_ksamp_matches_scipy() {
    let mut worst_stat = Worst::default();
    let mut worst_p = Worst::default();
    for case in &fixture().anderson {
        let values: Vec<Vec<f64>> = case.samples.iter().map(Sample::values).collect();
        let slices: Vec<&[f64]> = values.iter().map(Vec::as_slice).collect();
        let r = anderson_ksamp(&slices).unwrap();
        worst_stat.see(r.statistic, case.statistic, &case.name);
        assert!(
            close(r.statistic, case.statistic, 1e-12, 1e-12),
            "{}: statistic {} vs scipy {}",
            case.name,
            r.statistic,
            case.statistic
        );
        for (got, want) in r.critical_values.iter().zip(&case.critical_values) {
            assert!(
                close(*got, *want, 1e-15, 0.0),
                "{}: critical {got} vs {want}",
                case.name
            );
        }
        worst_p.see(r.significance_level, case.pvalue, &case.name);
        assert!(
            close(r.significance_level, case.pvalue, 1e-12, 0.0),
            "{}: p-value {} vs scipy {}",
            case.name,
            r.significance_level,
            case.pvalue
        );
        let expected_bound = if case.pvalue == 0.25 {
            PValueBound::Capped
        } else if case.pvalue == 0.001 {
            PValueBound::Floored
        } else {
            PValueBound::Interpolated
        };
        assert_eq!(r.p_value_bound, expected_bound, "{}", case.name);
    }
    eprintln!(
        "anderson_ksamp worst relative error: statistic {:e} ({}), p-value {:e} ({})",
        worst_stat.err, worst_stat.what, worst_p.err, worst_p.what
    );
}

#[test]
fn cramervonmises_2samp_matches_scipy() {
    let mut worst_stat = Worst::default();
    let mut worst_exact = Worst::default();
    let mut worst_asymp = Worst::default();
    let mut worst_asymp_moderate = Worst::default();
    for case in &fixture().cvm {
        let (a, b) = (case.a.values(), case.b.values());
        let start = Instant::now();
        let r = cramervonmises_2samp(&a, &b).unwrap();
        let elapsed = start.elapsed();
        if elapsed.as_millis() > 50 {
            eprintln!("cramervonmises_2samp {} ({}): {elapsed:?}", case.name, case.method);
        }
        worst_stat.see(r.statistic, case.statistic, &case.name);
        assert!(
            close(r.statistic, case.statistic, 1e-12, 1e-14),
            "{}: statistic {} vs scipy {}",
            case.name,
            r.statistic,
            case.statistic
        );
        let (rel, abs, worst) = if case.method == "exact" {
            (1e-14, 0.0, &mut worst_exact)
        } else {
            (1e-9, 1e-14, &mut worst_asymp)
        };
        worst.see(r.p_value, case.pvalue, &case.name);
        if case.method != "exact" && case.pvalue >= 1e-6 {
            worst_asymp_moderate.see(r.p_value, case.pvalue, &case.name);
        }
        assert!(
            close(r.p_value, case.pvalue, rel, abs),
            "{} ({}): p-value {:e} vs scipy {:e}",
            case.name,
            case.method,
            r.p_value,
            case.pvalue
        );
    }
    eprintln!(
        "cramervonmises_2samp worst relative error: statistic {:e} ({})",
        worst_stat.err, worst_stat.what
    );
    eprintln!(
        "  exact p {:e} ({}); asymptotic p {:e} ({}); asymptotic p >= 1e-6 {:e} ({})",
        worst_exact.err,
        worst_exact.what,
        worst_asymp.err,
        worst_asymp.what,
        worst_asymp_moderate.err,
        worst_asymp_moderate.what
    );
}

/// `scipy.stats.wasserstein_distance` sorts and walks; ours buckets above 4096
/// values (see `drift::methods::wasserstein`), so the two sum in different
/// orders: relative `1e-11` [observed < 1e-12], absolute `1e-15` for zero.
#[test]
fn wasserstein_matches_scipy() {
    use mlops_monitor::drift::methods::wasserstein::{
        normed_wasserstein_chunked, population_std, wasserstein_distance,
    };
    let mut worst = Worst::default();
    for case in &fixture().wasserstein {
        let (a, b) = (case.a.values(), case.b.values());
        let w = wasserstein_distance(&a, &b);
        worst.see(w, case.distance, &case.name);
        assert!(
            close(w, case.distance, 1e-11, 1e-15),
            "{}: {w:e} vs scipy {:e}",
            case.name,
            case.distance
        );
        assert!(
            close(population_std(&a), case.reference_std, 1e-12, 1e-15),
            "{}: std",
            case.name
        );
        // Chunk boundaries do not matter.
        let (a1, a2) = a.split_at(a.len() / 3);
        let (b1, b2) = b.split_at(b.len() / 2);
        let normed = normed_wasserstein_chunked(&[a1, a2], &[b1, b2]);
        assert!(
            close(normed, case.normed, 1e-11, 1e-15),
            "{}: normed {normed:e} vs {:e}",
            case.name,
            case.normed
        );
    }
    eprintln!(
        "wasserstein_distance worst relative error {:e} ({})",
        worst.err, worst.what
    );
}

#[test]
fn too_little_or_bad_data_is_an_error() {
    use mlops_core::Error;
    let some = [1.0, 2.0, 3.0];
    assert!(matches!(ks_2samp(&[], &some), Err(Error::NotEnoughData { .. })));
    assert!(matches!(ks_2samp(&some, &[]), Err(Error::NotEnoughData { .. })));
    assert!(matches!(
        ks_2samp(&[1.0, f64::NAN], &some),
        Err(Error::InvalidInput { .. })
    ));
    assert!(matches!(
        cramervonmises_2samp(&[1.0], &some),
        Err(Error::NotEnoughData { .. })
    ));
    assert!(matches!(
        cramervonmises_2samp(&some, &[f64::INFINITY, 1.0]),
        Err(Error::InvalidInput { .. })
    ));
    assert!(matches!(anderson_ksamp(&[&some]), Err(Error::InvalidInput { .. })));
    assert!(matches!(
        anderson_ksamp(&[&some, &[]]),
        Err(Error::NotEnoughData { .. })
    ));
    assert!(matches!(
        anderson_ksamp(&[&[1.0, 2.0], &[3.0]]),
        Err(Error::NotEnoughData { .. })
    ));
    assert!(matches!(
        anderson_ksamp(&[&[2.0, 2.0], &[2.0, 2.0]]),
        Err(Error::NotEnoughData { .. })
    ));
    assert!(kstwo_sf(0.5, 0).is_nan());
    assert!(smirnov_sf(10, 1.5).is_nan());
}

#[test]
fn results_serialize() {
    let r = TestResult {
        statistic: 0.25,
        p_value: 0.5,
    };
    let json = serde_json::to_string(&r).unwrap();
    assert_eq!(json, r#"{"statistic":0.25,"p_value":0.5}"#);
    assert_eq!(serde_json::from_str::<TestResult>(&json).unwrap(), r);
    let ad = anderson_ksamp(&[&[1.0, 2.0, 3.0], &[2.5, 4.0, 5.0]]).unwrap();
    let back: mlops_monitor::stats::AndersonResult =
        serde_json::from_str(&serde_json::to_string(&ad).unwrap()).unwrap();
    assert_eq!(back, ad);
}

/// SciPy's interpolation range for k samples, from
/// `fixtures/anderson_interpolation_range.json` (written by
/// `fixtures/anderson_interpolation_range.py` with SciPy 1.17.1).
#[derive(Deserialize)]
struct InterpolationRange {
    k: usize,
    critical_min: f64,
    critical_max: f64,
    p_min: f64,
    p_max: f64,
}

fn interpolation_range(k: usize) -> InterpolationRange {
    #[derive(Deserialize)]
    struct File {
        ranges: Vec<InterpolationRange>,
    }
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/anderson_interpolation_range.json"),
    )
    .unwrap();
    let file: File = serde_json::from_str(&text).unwrap();
    file.ranges.into_iter().find(|r| r.k == k).unwrap()
}

/// The p-value SciPy's table gives, checked against what SciPy says about the table:
/// capped or floored outside it, and inside it within the range of SciPy's
/// least-squares fit, which reaches slightly past [0.001, 0.25] at the ends.
fn check_anderson_p_value(r: &mlops_monitor::stats::AndersonResult, k: usize) -> Result<(), TestCaseError> {
    let range = interpolation_range(k);
    let (cmin, cmax) = (r.critical_values[0], r.critical_values[6]);
    prop_assert!(
        (cmin - range.critical_min).abs() < 1e-12 && (cmax - range.critical_max).abs() < 1e-12,
        "{r:?}"
    );
    match r.p_value_bound {
        PValueBound::Capped => prop_assert!(r.statistic < cmin && r.significance_level == 0.25, "{r:?}"),
        PValueBound::Floored => prop_assert!(r.statistic > cmax && r.significance_level == 0.001, "{r:?}"),
        PValueBound::Interpolated => {
            prop_assert!((cmin..=cmax).contains(&r.statistic), "{r:?}");
            let slack = 1e-12;
            prop_assert!(
                (range.p_min * (1.0 - slack)..=range.p_max * (1.0 + slack)).contains(&r.significance_level),
                "{r:?} outside SciPy's interpolation range [{}, {}]",
                range.p_min,
                range.p_max
            );
        }
    }
    Ok(())
}

#[test]
fn anderson_p_value_may_fall_just_below_the_table_like_scipy() {
    // CI once failed here: a statistic just under the last critical value gets an
    // interpolated p-value just under 0.001. SciPy 1.17.1 gives for these samples
    // statistic 5.563564095308374, p-value 0.000999452288387009.
    let a = [-0.4, 1.6];
    let b = [1.8, 0.0, 4.0, 3.5, 3.7, 0.8];
    let c = [3.8, 6.6, 5.3, 5.0, 5.5, 5.2, 7.0, 6.6, 4.0];
    let r = anderson_ksamp(&[&a, &b, &c]).unwrap();
    assert!((r.statistic - 5.563564095308374).abs() <= 1e-12 * 5.6, "{r:?}");
    assert!(
        (r.significance_level - 0.000999452288387009).abs() <= 1e-12 * 0.001,
        "{r:?}"
    );
    assert_eq!(r.p_value_bound, PValueBound::Interpolated);
    assert!(r.significance_level < 0.001);
    check_anderson_p_value(&r, 3).unwrap();
}

/// Samples that are either continuous or integer-valued (many ties).
fn sample(min_len: usize, max_len: usize) -> impl Strategy<Value = Vec<f64>> {
    prop_oneof![
        prop::collection::vec(-1e3f64..1e3, min_len..max_len),
        prop::collection::vec((0i32..6).prop_map(f64::from), min_len..max_len),
    ]
}

proptest! {
    // A fixed seed: every run, in CI or here, draws the same cases. Change the seed
    // by hand to explore others; a failure found that way becomes a named test.
    #![proptest_config(ProptestConfig {
        cases: 96,
        failure_persistence: None,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed_0003),
        ..ProptestConfig::default()
    })]
    #[test]
    fn ks_is_a_symmetric_probability(a in sample(1, 60), b in sample(1, 60)) {
        let ab = ks_2samp(&a, &b).unwrap();
        let ba = ks_2samp(&b, &a).unwrap();
        prop_assert!((0.0..=1.0).contains(&ab.p_value));
        prop_assert!((0.0..=1.0).contains(&ab.statistic));
        prop_assert_eq!(ab, ba);
        let same = ks_2samp(&a, &a).unwrap();
        prop_assert_eq!(same, TestResult { statistic: 0.0, p_value: 1.0 });
    }

    #[test]
    fn cvm_is_a_symmetric_probability(a in sample(2, 26), b in sample(2, 26)) {
        let ab = cramervonmises_2samp(&a, &b).unwrap();
        let ba = cramervonmises_2samp(&b, &a).unwrap();
        prop_assert!((0.0..=1.0).contains(&ab.p_value), "{:?}", ab);
        prop_assert!((ab.statistic - ba.statistic).abs() <= 1e-12 * ab.statistic.abs().max(1.0));
        prop_assert!((ab.p_value - ba.p_value).abs() <= 1e-12);
        let same = cramervonmises_2samp(&a, &a).unwrap();
        prop_assert!(same.statistic.abs() < 1e-12, "{:?}", same);
        prop_assert!(same.p_value > 0.99, "{:?}", same);
    }

    #[test]
    fn anderson_p_value_is_within_scipys_range(a in sample(2, 40), b in sample(2, 40), c in sample(2, 40)) {
        // All-equal pooled data is rejected (SciPy raises); anything else must succeed.
        let all_equal = a.iter().chain(&b).all(|&v| v == a[0]);
        match anderson_ksamp(&[&a, &b]) {
            Ok(r) => {
                check_anderson_p_value(&r, 2)?;
                prop_assert!(r.statistic.is_finite());
                let swapped = anderson_ksamp(&[&b, &a]).unwrap();
                prop_assert!((r.statistic - swapped.statistic).abs() <= 1e-9 * r.statistic.abs().max(1.0));
            }
            Err(e) => prop_assert!(all_equal, "{e}"),
        }
        if let Ok(r) = anderson_ksamp(&[&a, &b, &c]) {
            check_anderson_p_value(&r, 3)?;
        }
    }
}
