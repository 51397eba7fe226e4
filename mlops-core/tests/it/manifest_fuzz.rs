//! The manifest parser and package loader never panic on malformed input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use bytes::Bytes;
use mlops_core::{Error, Manifest, ModelPackage, Package, PackageBuilder};
use proptest::prelude::*;

fn real() -> Package {
    PackageBuilder::new("fuzz")
        .weights(mlops_core::testing::tiny_safetensors())
        .metric("auc", 0.5)
        .build()
        .unwrap()
}

proptest! {
    // A fixed seed: every run draws the same cases (CI must not fail at random).
    #![proptest_config(ProptestConfig { cases: 512, rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed_0004), ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Manifest::from_bytes(&bytes);
    }

    #[test]
    fn mutated_real_manifests(pos in 0usize..4096, byte in any::<u8>(), cut in 0usize..4096) {
        let p = real();
        let mut m = p.manifest_bytes().to_vec();
        let i = pos % m.len();
        m[i] = byte;
        let files: BTreeMap<String, Bytes> = p.file_names().into_iter().map(|n| { let b = p.read_file(&n).unwrap(); (n, b) }).collect();
        // A changed byte is either refused, or (a free-text field still valid JSON) gives
        // another package whose every file still verifies; the unchanged bytes load as before.
        let unchanged = m == p.manifest_bytes().as_ref();
        match Package::from_parts(Bytes::from(m.clone()), files.clone(), None) {
            Ok(q) => {
                prop_assert_eq!(q.digest() == p.digest(), unchanged);
                for name in q.file_names() {
                    prop_assert!(q.read_file(&name).is_ok(), "{} does not verify", name);
                }
            }
            Err(e) => prop_assert!(!unchanged, "the original manifest was refused: {}", e),
        }
        m.truncate(cut % m.len());
        prop_assert!(Package::from_parts(Bytes::from(m), files, None).is_err());
    }

    #[test]
    fn arbitrary_json_values(s in "\\{(\"[a-z_]{1,12}\":(null|1|\"x\"|\\[\\]|\\{\\}),?){0,8}\\}") {
        let _ = Manifest::from_bytes(s.as_bytes());
    }
}

#[test]
fn version_and_format_are_checked_first() {
    let p = real();
    let text = String::from_utf8(p.manifest_bytes().to_vec()).unwrap();
    let newer = text.replacen("\"format_version\":1", "\"format_version\":2", 1);
    assert!(matches!(
        Manifest::from_bytes(newer.as_bytes()),
        Err(Error::UnsupportedVersion { found: 2, .. })
    ));
    let other = text.replacen("mlops-package", "pickle", 1);
    assert!(matches!(
        Manifest::from_bytes(other.as_bytes()),
        Err(Error::Corrupt { .. })
    ));
    let traversal = text.replacen("weights.safetensors", "../../etc/passwd", 1);
    assert!(matches!(
        Manifest::from_bytes(traversal.as_bytes()),
        Err(Error::InvalidInput { .. })
    ));
    let nan = text.replacen("0.5", "1e999", 1);
    assert!(Manifest::from_bytes(nan.as_bytes()).is_err());
}

#[test]
fn builder_refuses_non_safetensors_weights_and_reserved_names() {
    let pickle = b"\x80\x04\x95\x00\x00cos\nsystem\n".to_vec();
    let weights = mlops_core::testing::tiny_safetensors;
    // Setters never fail; build() rejects and names the field.
    let invalid = |b: PackageBuilder, field: &str| match b.build() {
        Err(Error::InvalidInput { location, .. }) => {
            assert!(location.contains(field), "{location} should name {field}")
        }
        other => panic!("{field}: expected InvalidInput, got {other:?}"),
    };
    invalid(PackageBuilder::new("m").weights(pickle), "weights");
    invalid(PackageBuilder::new("m"), "weights");
    invalid(
        PackageBuilder::new("m")
            .weights(weights())
            .file("manifest.json", mlops_core::FileRole::Other, vec![1]),
        "manifest.json",
    );
    invalid(
        PackageBuilder::new("m")
            .weights(weights())
            .file("../x", mlops_core::FileRole::Other, vec![1]),
        "../x",
    );
    invalid(
        PackageBuilder::new("m").weights(weights()).metric("auc", f64::NAN),
        "metric `auc`",
    );
    invalid(PackageBuilder::new("../m").weights(weights()), "../m");
}

#[test]
fn from_parts_names_missing_extra_and_altered_files() {
    let p = real();
    let files: BTreeMap<String, Bytes> = p
        .file_names()
        .into_iter()
        .map(|n| {
            let b = p.read_file(&n).unwrap();
            (n, b)
        })
        .collect();
    let mut missing = files.clone();
    missing.clear();
    assert!(
        matches!(Package::from_parts(p.manifest_bytes(), missing, None), Err(Error::NotFound { what }) if what.contains("weights.safetensors"))
    );
    let mut extra = files.clone();
    extra.insert("evil.py".into(), Bytes::from_static(b"import os"));
    assert!(
        matches!(Package::from_parts(p.manifest_bytes(), extra, None), Err(Error::Corrupt { location, .. }) if location.contains("evil.py"))
    );
    let mut altered = files.clone();
    let mut w = altered["weights.safetensors"].to_vec();
    let last = w.len() - 1;
    w[last] ^= 1;
    altered.insert("weights.safetensors".into(), Bytes::from(w));
    assert!(
        matches!(Package::from_parts(p.manifest_bytes(), altered, None), Err(Error::DigestMismatch { location, .. }) if location.contains("weights.safetensors"))
    );
    let ok = Package::from_parts(p.manifest_bytes(), files, None).unwrap();
    assert_eq!(ok.digest(), p.digest());
}

#[tokio::test]
async fn package_directory_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let store = object_store::local::LocalFileSystem::new_with_prefix(dir.path()).unwrap();
    let mut p = real();
    p.sign(&mlops_core::PackageSigner::from_secret([3; 32]));
    let prefix = object_store::path::Path::from("pkg");
    p.write_to(&store, &prefix).await.unwrap();
    let back = Package::read_from(&store, &prefix).await.unwrap();
    assert_eq!(back.digest(), p.digest());
    assert_eq!(back.package_signature(), p.package_signature());
    std::fs::write(dir.path().join("pkg/weights.safetensors"), b"tampered").unwrap();
    assert!(matches!(
        Package::read_from(&store, &prefix).await,
        Err(Error::DigestMismatch { .. })
    ));
}
