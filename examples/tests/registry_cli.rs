//! The `registry` example as separate processes: concurrent writers and writers killed mid-flight.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().join("examples").join(name)
}

fn run(store: &str, args: &[&str]) -> Output {
    Command::new(example("registry"))
        .arg("--store")
        .arg(store)
        .args(args)
        .output()
        .unwrap()
}

fn weights(dir: &Path, name: &str, floats: usize, seed: f32) -> PathBuf {
    let values: Vec<f32> = (0..floats).map(|i| seed + i as f32).collect();
    let bytes = mlops_core::testing::safetensors_f32(&[("w", &[floats], &values)]);
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn stdout(o: &Output) -> String {
    assert!(o.status.success(), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// Every listed version loads and verifies; returns how many there are.
fn check_all_versions_load(store: &str, name: &str) -> usize {
    let out = run(store, &["versions", "--name", name]);
    let listed = stdout(&out);
    let versions: Vec<u64> = listed
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["version"]
                .as_u64()
                .unwrap()
        })
        .collect();
    for v in &versions {
        let o = run(store, &["verify", "--name", name, "--version", &v.to_string()]);
        assert!(
            o.status.success(),
            "version {v} is listed but does not verify: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    versions.len()
}

#[test]
fn cli_commands_work_as_documented() {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("file://{}", dir.path().join("reg").display());
    let w = weights(dir.path(), "w.safetensors", 4, 1.0);
    let w = w.to_str().unwrap();
    let out = stdout(&run(
        &store,
        &["register", "--name", "fraud", "--weights", w, "--tag", "team=risk"],
    ));
    assert_eq!(out.lines().last(), Some("1"));
    assert_eq!(
        stdout(&run(&store, &["register", "--name", "fraud", "--weights", w])).trim(),
        "2"
    );
    stdout(&run(
        &store,
        &["alias", "--name", "fraud", "--alias", "champion", "--version", "1"],
    ));
    stdout(&run(
        &store,
        &["alias", "--name", "fraud", "--alias", "champion", "--version", "2"],
    ));
    assert_eq!(
        stdout(&run(&store, &["resolve", "--name", "fraud", "--alias", "champion"])).trim(),
        "2"
    );
    let history = stdout(&run(&store, &["history", "--name", "fraud", "--alias", "champion"]));
    let lines: Vec<serde_json::Value> = history.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        (lines[0]["version"].as_u64(), lines[1]["version"].as_u64()),
        (Some(1), Some(2))
    );
    assert!(lines[0]["at"].as_str().unwrap().ends_with('Z') && lines[0]["actor"].is_string());
    assert!(
        run(&store, &["verify", "--name", "fraud", "--version", "2"])
            .status
            .success()
    );

    // Errors: stderr and a non-zero exit.
    for bad in [
        vec!["resolve", "--name", "../x", "--alias", "a"],
        vec!["verify", "--name", "fraud", "--version", "9"],
        vec!["register", "--name", "fraud", "--weights", "/no/such/file"],
    ] {
        let o = run(&store, &bad);
        assert!(
            !o.status.success() && !o.stderr.is_empty() && o.stdout.is_empty(),
            "{bad:?}"
        );
    }
    // Tamper with the stored weights: verify fails naming the file.
    let blobs = dir.path().join("reg/blobs/sha256");
    // The weights blob is shared by both versions; its key is its digest.
    let victim = blobs.join(mlops_core::Digest::of(&std::fs::read(w).unwrap()).to_hex());
    let mut bytes = std::fs::read(&victim).unwrap();
    bytes[20] ^= 1;
    std::fs::write(&victim, bytes).unwrap();
    let o = run(&store, &["verify", "--name", "fraud", "--version", "2"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("weights.safetensors"), "{err}");
}

#[test]
fn eight_processes_times_25_registrations_get_versions_1_to_200() {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("file://{}", dir.path().join("reg").display());
    let w = weights(dir.path(), "w.safetensors", 16, 0.0);
    let threads: Vec<_> = (0..8)
        .map(|p| {
            let (store, w) = (store.clone(), w.clone());
            std::thread::spawn(move || {
                (0..25)
                    .map(|i| {
                        let o = run(
                            &store,
                            &[
                                "register",
                                "--name",
                                "busy",
                                "--weights",
                                w.to_str().unwrap(),
                                "--actor",
                                &format!("p{p}-{i}"),
                            ],
                        );
                        stdout(&o).trim().parse::<u64>().unwrap()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut versions: Vec<u64> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
    versions.sort_unstable();
    assert_eq!(versions, (1..=200).collect::<Vec<_>>());
    assert_eq!(check_all_versions_load(&store, "busy"), 200);
}

#[test]
fn concurrent_alias_moves_from_processes_keep_a_complete_history() {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("file://{}", dir.path().join("reg").display());
    let w = weights(dir.path(), "w.safetensors", 4, 0.0);
    for _ in 0..4 {
        stdout(&run(
            &store,
            &["register", "--name", "m", "--weights", w.to_str().unwrap()],
        ));
    }
    let threads: Vec<_> = (0..8)
        .map(|p| {
            let store = store.clone();
            std::thread::spawn(move || {
                for i in 0..5 {
                    let v = ((p + i) % 4 + 1).to_string();
                    stdout(&run(
                        &store,
                        &["alias", "--name", "m", "--alias", "champion", "--version", &v],
                    ));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let history = stdout(&run(&store, &["history", "--name", "m", "--alias", "champion"]));
    let seqs: Vec<u64> = history
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["seq"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(
        seqs,
        (1..=40).collect::<Vec<_>>(),
        "every one of the 40 moves is recorded, in order"
    );
}

#[test]
fn writers_killed_at_random_points_never_leave_a_half_visible_version() {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("file://{}", dir.path().join("reg").display());
    // 2 MiB of weights so that a registration takes long enough to be interrupted.
    let w = weights(dir.path(), "big.safetensors", 1 << 19, 0.5);
    let w = w.to_str().unwrap().to_owned();
    // Calibrate: kill points are spread over the whole duration of one registration, and past it.
    let started = Instant::now();
    stdout(&run(&store, &["register", "--name", "calibration", "--weights", &w]));
    let mut span = started.elapsed().as_micros() as u64 * 6 / 5;
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let (mut killed, mut finished) = (0, 0);
    let deadline = Instant::now() + Duration::from_secs(240);
    for trial in 0..60 {
        assert!(
            Instant::now() < deadline,
            "crash test ran past its time bound at trial {trial}"
        );
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        // Two thirds of the kills land in the first half of a registration (blob writes), the rest anywhere.
        let window = if trial % 3 == 0 { span } else { span / 2 };
        let delay = Duration::from_micros(rng % window.max(1));
        let mut child = Command::new(example("registry"))
            .args(["--store", &store, "register", "--name", "crashy", "--weights", &w])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        match child.try_wait().unwrap() {
            // The machine's speed varies under load: keep the kill window near one registration's length.
            Some(_) => {
                finished += 1;
                span = span * 4 / 5;
            }
            None => {
                child.kill().unwrap(); // SIGKILL on Unix
                killed += 1;
                span = span * 21 / 20;
            }
        }
        child.wait().unwrap();
        if trial % 10 == 9 {
            check_all_versions_load(&store, "crashy");
        }
    }
    assert!(
        killed >= 10,
        "only {killed} writers were killed mid-flight ({finished} finished)"
    );
    assert!(finished >= 1 || killed == 60, "kill points cover the whole write");
    let before = check_all_versions_load(&store, "crashy");
    let next = stdout(&run(&store, &["register", "--name", "crashy", "--weights", &w]))
        .trim()
        .parse::<usize>()
        .unwrap();
    assert_eq!(next, before + 1, "the next registration takes the next number");
    eprintln!("{killed} writers killed, {finished} finished, {before} versions visible, all verified");
}

/// Environment for child processes that points the AWS SDK variables at the loopback S3 server.
fn s3_env() -> Vec<(String, String)> {
    if std::env::var("AWS_ENDPOINT").is_ok() && std::env::var("MLOPS_TEST_S3_URL").is_ok() {
        return std::env::vars()
            .filter(|(k, _)| k.starts_with("AWS_") || k.starts_with("MLOPS_TEST_S3"))
            .collect();
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.ci/s3-server.sh");
    let start = Command::new("bash")
        .arg(&script)
        .arg("start")
        .env("S3_SERVER_WATCH_PID", std::process::id().to_string())
        .output()
        .unwrap();
    assert!(
        start.status.success(),
        "could not start the S3 test server: {}",
        String::from_utf8_lossy(&start.stderr)
    );
    String::from_utf8_lossy(&start.stdout)
        .lines()
        .filter_map(|l| l.trim().trim_start_matches("export ").split_once('='))
        .map(|(k, v)| (k.to_owned(), v.trim_matches('"').trim_matches('\'').to_owned()))
        .collect()
}

#[test]
fn cli_works_against_s3_with_the_usual_aws_variables() {
    let env = s3_env();
    let url = env
        .iter()
        .find(|(k, _)| k == "MLOPS_TEST_S3_URL")
        .map(|(_, v)| v.clone())
        .unwrap();
    let store = format!("{url}/cli-{}-{}", std::process::id(), mlops_core::time::now_ms());
    let dir = tempfile::tempdir().unwrap();
    let w = weights(dir.path(), "w.safetensors", 8, 2.0);
    let cli = |args: &[&str]| {
        Command::new(example("registry"))
            .arg("--store")
            .arg(&store)
            .args(args)
            .envs(env.clone())
            .output()
            .unwrap()
    };
    assert_eq!(
        stdout(&cli(&[
            "register",
            "--name",
            "s3model",
            "--weights",
            w.to_str().unwrap()
        ]))
        .trim(),
        "1"
    );
    assert_eq!(
        stdout(&cli(&[
            "register",
            "--name",
            "s3model",
            "--weights",
            w.to_str().unwrap()
        ]))
        .trim(),
        "2"
    );
    stdout(&cli(&[
        "alias",
        "--name",
        "s3model",
        "--alias",
        "champion",
        "--version",
        "2",
    ]));
    assert_eq!(
        stdout(&cli(&["resolve", "--name", "s3model", "--alias", "champion"])).trim(),
        "2"
    );
    assert_eq!(
        stdout(&cli(&["history", "--name", "s3model", "--alias", "champion"]))
            .lines()
            .count(),
        1
    );
    assert!(cli(&["verify", "--name", "s3model", "--version", "1"]).status.success());
    assert!(!cli(&["verify", "--name", "s3model", "--version", "3"]).status.success());
}
