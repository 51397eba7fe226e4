//! `s3://` Parquet through DataFusion and through Ballista, against the
//! S3-compatible server on loopback (moto): the same profile as one machine
//! reading the same rows from disk.
//!
//! CI starts the server (`.ci/s3-server.sh start`) and exports its variables;
//! without them the test starts one through the same script. The library
//! reads S3 settings from the environment, so the checks run the
//! `profile_datafusion` example (and the cluster's processes) with the
//! server's variables. `MLOPS_SKIP_S3=1` skips explicitly.

use std::collections::HashMap;
use std::process::Command;

use mlops_data::Profile;

use crate::ballista::{Cluster, example};
use crate::support;

/// The loopback server's variables, or `None` with `MLOPS_SKIP_S3=1`.
fn s3_config() -> Option<HashMap<String, String>> {
    let settings = mlops_testkit::s3_settings();
    if settings.is_none() {
        eprintln!("MLOPS_SKIP_S3=1: skipping the DataFusion S3 test");
    }
    settings
}

/// Uploads the files of `dir` under a fresh prefix; returns `s3://bucket/prefix/`.
fn upload(cfg: &HashMap<String, String>, dir: &std::path::Path) -> String {
    let files: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    let paths: Vec<&std::path::Path> = files.iter().map(std::path::PathBuf::as_path).collect();
    mlops_testkit::s3_upload(cfg, "datafusion", &paths).0
}

fn profile_datafusion(args: &[&str], envs: &HashMap<String, String>) -> Profile {
    let out = Command::new(example("profile_datafusion"))
        .args(args)
        .envs(envs)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    Profile::from_json(String::from_utf8(out.stdout).unwrap().trim()).unwrap()
}

#[test]
fn s3_parquet_profiles_locally_and_on_ballista_like_one_machine() {
    let Some(cfg) = s3_config() else { return };
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let batches = support::write_parts(&data, 3);
    let expected = support::single_machine(&batches);
    let url = upload(&cfg, &data);

    let local = profile_datafusion(&["--parquet", &url], &cfg);
    support::assert_same_data(&local, &expected, &batches);

    // Each node reads the bucket with its own environment's credentials.
    let cluster = Cluster::start(2, true, work.path(), &cfg);
    let remote = profile_datafusion(&["--parquet", &url, "--cluster", &cluster.url()], &cfg);
    support::assert_same_data(&remote, &expected, &batches);
}
