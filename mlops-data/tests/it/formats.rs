//! The JSON and binary forms round-trip losslessly and reject damage with typed errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use common::fixture;
use mlops_data::{Error, ParquetProfiler, Profile, ProfileConfig};

fn sample() -> Profile {
    ParquetProfiler::new(ProfileConfig::default())
        .profile_file(fixture("mixed.parquet"))
        .unwrap()
}

#[test]
fn json_round_trip_is_lossless() {
    let p = sample();
    let json = p.to_json().unwrap();
    let back = Profile::from_json(&json).unwrap();
    assert_eq!(back.to_json().unwrap(), json);
    let pretty = Profile::from_json(&p.to_json_pretty().unwrap()).unwrap();
    assert_eq!(pretty.to_json().unwrap(), json);
    // Lossless means it still merges exactly like the original.
    let mut a = p.clone();
    a.merge(&p).unwrap();
    let mut b = back.clone();
    b.merge(&back).unwrap();
    assert_eq!(a.to_json().unwrap(), b.to_json().unwrap());
}

#[test]
fn binary_round_trip_is_lossless_and_compact() {
    let p = sample();
    let bytes = p.to_bytes().unwrap();
    let back = Profile::from_bytes(&bytes).unwrap();
    assert_eq!(back.to_json().unwrap(), p.to_json().unwrap());
    assert_eq!(back.to_bytes().unwrap(), bytes);
    assert!(bytes.len() < p.to_json().unwrap().len());
}

#[test]
fn json_has_the_documented_readable_fields() {
    let v: serde_json::Value = serde_json::from_str(&sample().to_json().unwrap()).unwrap();
    assert_eq!(v["format"], "mlops-profile");
    assert_eq!(v["format_version"], 1);
    assert_eq!(v["num_rows"], 5000);
    let cols = v["columns"].as_array().unwrap();
    let f64c = cols.iter().find(|c| c["name"] == "f64").unwrap();
    for key in [
        "count",
        "null_count",
        "min",
        "max",
        "mean",
        "std",
        "distinct",
        "quantiles",
        "state",
    ] {
        assert!(f64c.get(key).is_some(), "numeric column lacks {key}");
    }
    assert_eq!(f64c["quantiles"].as_object().unwrap().len(), 7);
    assert!(f64c["quantiles"].get("0.5").is_some() && f64c["quantiles"].get("0.01").is_some());
    let s = cols.iter().find(|c| c["name"] == "s").unwrap();
    assert_eq!(s["top"][0]["value"], "alpha");
    assert_eq!(s["top"][0]["count"], 1922);
    let b = cols.iter().find(|c| c["name"] == "b").unwrap();
    assert_eq!(b["true_count"], 2719);
}

#[test]
fn newer_versions_are_refused_clearly() {
    let json = sample()
        .to_json()
        .unwrap()
        .replacen("\"format_version\":1", "\"format_version\":7", 1);
    match Profile::from_json(&json) {
        Err(Error::UnsupportedVersion {
            found: 7, supported: 1, ..
        }) => {}
        other => panic!("{other:?}"),
    }
    let mut bytes = sample().to_bytes().unwrap();
    bytes[8] = 2;
    assert!(matches!(
        Profile::from_bytes(&bytes),
        Err(Error::UnsupportedVersion { found: 2, .. })
    ));
    assert!(matches!(
        Profile::from_json("{\"format\":\"other\"}"),
        Err(Error::Corrupt { .. })
    ));
    assert!(Profile::from_json("not json").is_err());
}

#[test]
fn every_truncation_and_bit_flip_of_the_binary_form_is_an_error() {
    let bytes = sample().to_bytes().unwrap();
    for len in (0..bytes.len()).step_by(97).chain([bytes.len() - 1]) {
        assert!(Profile::from_bytes(&bytes[..len]).is_err(), "truncated to {len}");
    }
    for pos in (0..bytes.len()).step_by(61) {
        let mut damaged = bytes.clone();
        damaged[pos] ^= 0x20;
        assert!(Profile::from_bytes(&damaged).is_err(), "flip at {pos}");
    }
}

#[test]
fn tampered_json_state_is_rejected_not_trusted() {
    let json = sample().to_json().unwrap();
    // Claim more values than rows: the counts no longer add up.
    let tampered = json.replacen("\"count\":4750", "\"count\":4751", 1);
    assert_ne!(tampered, json);
    assert!(matches!(Profile::from_json(&tampered), Err(Error::Corrupt { .. })));
    // Derived fields are ignored, state is what counts: a changed derived
    // field (and an unknown one) reads back as the untouched profile.
    let cosmetic = json.replacen("\"mean_len\":", "\"mean_len\":1e9,\"x\":", 1);
    assert_ne!(cosmetic, json);
    let back = Profile::from_json(&cosmetic).expect("derived fields do not decide validity");
    assert_eq!(back.to_json().unwrap(), json);
}

proptest::proptest! {
    // A fixed seed: every run draws the same cases (CI must not fail at random).
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed_0005), ..Default::default() })]
    #[test]
    fn arbitrary_json_and_bytes_never_panic(s in ".{0,200}", bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
        // No panic, and what is refused is refused with a typed error naming the format.
        let typed = |e: &Error| matches!(e, Error::Corrupt { .. } | Error::Serialization { .. } | Error::UnsupportedVersion { .. });
        let json = Profile::from_json(&s);
        proptest::prop_assert!(json.as_ref().is_err_and(typed), "{:?}", json.map(|_| ()));
        let raw = Profile::from_bytes(&bytes);
        proptest::prop_assert!(raw.as_ref().is_err_and(typed), "{:?}", raw.map(|_| ()));
        // A well-framed envelope (magic, version, length, checksum) around arbitrary bytes.
        let mut framed = b"MLOPSPRF\x01\x00\x00\x00".to_vec();
        framed.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        framed.extend_from_slice(&bytes);
        framed.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(&bytes).to_le_bytes());
        if let Err(e) = Profile::from_bytes(&framed) {
            proptest::prop_assert!(typed(&e), "{e}");
        }
    }
}
