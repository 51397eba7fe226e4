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
    let reg = dir.path().join("reg");
    let store = format!("file://{}", reg.display());
    // 2 MiB of fresh weights per writer, so every writer really writes its blobs
    // (identical content would already be stored and skip most of the writing).
    let fresh_weights = |i: usize| {
        let w = weights(dir.path(), &format!("w{i}.safetensors"), 1 << 19, i as f32);
        w.to_str().unwrap().to_owned()
    };
    let spawn = |w: &str| {
        Command::new(example("registry"))
            .args(["--store", &store, "register", "--name", "crashy", "--weights", w])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    // Calibrate on one writer: most of a process's life is start-up and hashing, so
    // find how long its writing to the store lasts.
    let blobs = reg.join("blobs").join("sha256");
    let w = fresh_weights(0);
    let mut child = spawn(&w);
    let (first_write, done) = watch_first_write(&mut child, &reg);
    let first_write = first_write.expect("the calibration writer wrote to the store");
    let mut write_span = (done - first_write).as_micros().max(1000) as u64;
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    // Run writers until 60 of them have been SIGKILLed while still running; writers that
    // finish before their kill point are counted apart. Three kills in four are aimed at
    // the writing phase: once the writer's first file appears, it gets a random delay
    // within (a little more than) the calibrated write time. The fourth lands anywhere
    // before that. A writer that finishes before its kill point shortens the span (one
    // calibration run on a loaded machine can overestimate it several times over, and the
    // kills then come too late). Bounded in trials and time.
    let (mut killed, mut killed_mid_write, mut finished) = (0, 0, 0);
    let deadline = Instant::now() + Duration::from_secs(240);
    let mut trial = 0;
    while killed < 60 {
        assert!(
            trial < 240 && Instant::now() < deadline,
            "crash test ran past its bound at trial {trial} ({killed} killed, {finished} finished)"
        );
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let w = fresh_weights(trial + 1);
        let files_before = count_files(&reg);
        let mut child = spawn(&w);
        if trial % 4 == 0 {
            std::thread::sleep(Duration::from_micros(rng % (first_write.as_micros() as u64).max(1)));
        } else {
            wait_for_change(&mut child, &blobs, Duration::from_secs(20));
            std::thread::sleep(Duration::from_micros(rng % (write_span * 6 / 5)));
        }
        match child.try_wait().unwrap() {
            Some(_) => {
                finished += 1;
                if trial % 4 != 0 {
                    write_span = (write_span * 4 / 5).max(200);
                }
            }
            None => {
                child.kill().unwrap(); // SIGKILL on Unix
                child.wait().unwrap();
                killed += 1;
                // Something of the package (a staged temporary file, a blob, a record)
                // reached the store before the kill: the writer died mid-write.
                if count_files(&reg) != files_before {
                    killed_mid_write += 1;
                }
            }
        }
        std::fs::remove_file(&w).unwrap();
        trial += 1;
        if trial % 10 == 0 {
            check_all_versions_load(&store, "crashy");
        }
    }
    assert!(
        killed_mid_write >= 30,
        "only {killed_mid_write} of {killed} kills landed after the writer had started writing"
    );
    let before = check_all_versions_load(&store, "crashy");
    let next = stdout(&run(
        &store,
        &["register", "--name", "crashy", "--weights", &fresh_weights(999)],
    ))
    .trim()
    .parse::<usize>()
    .unwrap();
    assert_eq!(next, before + 1, "the next registration takes the next number");
    eprintln!(
        "{killed} writers killed ({killed_mid_write} after they had written to the store), \
         {finished} finished, {before} versions visible, all verified"
    );
}

/// Watches a running writer: when something first changed under `dir`, and when it exited.
fn watch_first_write(child: &mut std::process::Child, dir: &Path) -> (Option<Duration>, Duration) {
    let before = count_files(dir);
    let started = Instant::now();
    let mut first = None;
    while child.try_wait().unwrap().is_none() {
        assert!(started.elapsed() < Duration::from_secs(60), "calibration writer hangs");
        if first.is_none() && count_files(dir) != before {
            first = Some(started.elapsed());
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    (first, started.elapsed())
}

/// Polls until the number of entries in `dir` changes, the child exits, or `limit` passes.
fn wait_for_change(child: &mut std::process::Child, dir: &Path, limit: Duration) {
    let entries = |d: &Path| std::fs::read_dir(d).map(|r| r.count()).unwrap_or(0);
    let before = entries(dir);
    let started = Instant::now();
    while entries(dir) == before && child.try_wait().unwrap().is_none() && started.elapsed() < limit {
        std::thread::sleep(Duration::from_micros(100));
    }
}

/// Files under `dir`, recursively (blobs, records and temporary files a writer stages).
fn count_files(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.file_type() {
                    Ok(t) if t.is_dir() => count_files(&e.path()),
                    _ => 1,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// Environment for child processes that points the AWS SDK variables at the
/// loopback S3 server; `None` with `MLOPS_SKIP_S3=1`.
fn s3_env() -> Option<Vec<(String, String)>> {
    mlops_testkit::s3_settings().map(|settings| settings.into_iter().collect())
}

#[test]
fn cli_works_against_s3_with_the_usual_aws_variables() {
    let Some(env) = s3_env() else {
        eprintln!("MLOPS_SKIP_S3=1: skipping the registry CLI S3 test");
        return;
    };
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
