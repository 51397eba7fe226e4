//! A real Ballista cluster on loopback: our scheduler and two executors (the
//! `ballista_scheduler` and `ballista_executor` examples, as processes),
//! profiling Parquet files; and an executor without the function, which must
//! fail the query with an error that names it, not hang.
//!
//! Everything binds 127.0.0.1, every wait is bounded, and the processes are
//! killed when the test ends (or panics).

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mlops_core::DataProfile;
use mlops_data::ProfileConfig;

use crate::support;

/// A bound on every wait: starting a process, a query.
const PATIENCE: Duration = Duration::from_secs(120);

pub(crate) fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().join("examples").join(name)
}

/// Ports the OS says are free now (closed again before use; a clash is
/// possible but unlikely on loopback).
fn free_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> = (0..n).map(|_| TcpListener::bind("127.0.0.1:0").unwrap()).collect();
    listeners.iter().map(|l| l.local_addr().unwrap().port()).collect()
}

/// A child process, killed on drop, whose stderr lines are kept.
pub(crate) struct Node {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Node {
    pub(crate) fn start(name: &str, args: &[String], envs: &HashMap<String, String>) -> Node {
        let mut child = Command::new(example(name))
            .args(args)
            .envs(envs)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .env("RUST_LOG", "warn")
            .spawn()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Node { child, lines }
    }

    fn stderr(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_for_port(port: u16, node: &mut Node) {
    let deadline = Instant::now() + PATIENCE;
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    while TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err() {
        if let Ok(Some(status)) = node.child.try_wait() {
            panic!("exited with {status} before listening: {:?}", node.stderr());
        }
        assert!(
            Instant::now() < deadline,
            "nothing listening on {port}: {:?}",
            node.stderr()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A scheduler and `executors` executors (with or without the function).
pub(crate) struct Cluster {
    scheduler_port: u16,
    nodes: Vec<Node>,
}

impl Cluster {
    /// Every node gets `envs` (e.g. the S3 server's variables).
    pub(crate) fn start(executors: usize, with_profile: bool, work: &Path, envs: &HashMap<String, String>) -> Cluster {
        let ports = free_ports(1 + 2 * executors);
        let mut scheduler = Node::start("ballista_scheduler", &["--port".into(), ports[0].to_string()], envs);
        wait_for_port(ports[0], &mut scheduler);
        let mut nodes = vec![scheduler];
        for i in 0..executors {
            let dir = work.join(format!("executor-{i}"));
            std::fs::create_dir_all(&dir).unwrap();
            let mut args = vec![
                "--scheduler-port".to_string(),
                ports[0].to_string(),
                "--port".into(),
                ports[1 + 2 * i].to_string(),
                "--grpc-port".into(),
                ports[2 + 2 * i].to_string(),
                "--work-dir".into(),
                dir.display().to_string(),
                "--concurrent-tasks".into(),
                "1".into(),
            ];
            if !with_profile {
                args.push("--without-profile".into());
            }
            let mut node = Node::start("ballista_executor", &args, envs);
            wait_for_port(ports[1 + 2 * i], &mut node);
            nodes.push(node);
        }
        Cluster {
            scheduler_port: ports[0],
            nodes,
        }
    }

    pub(crate) fn url(&self) -> String {
        format!("df://127.0.0.1:{}", self.scheduler_port)
    }
}

/// The last `key=value` of the work lines an executor printed.
fn reported(node: &Node, key: &str) -> u64 {
    node.stderr()
        .iter()
        .rev()
        .find(|l| l.starts_with("mlops_profile work:"))
        .and_then(|l| {
            l.split_whitespace()
                .find_map(|kv| kv.strip_prefix(&format!("{key}=")).map(str::to_owned))
        })
        .map_or(0, |v| v.parse().unwrap())
}

#[test]
fn two_executors_profile_parquet_files_like_one_machine() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let batches = support::write_parts(&data, 4);
    let cluster = Cluster::start(2, true, work.path(), &HashMap::new());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let profile_with = |config: ProfileConfig| {
        runtime.block_on(async {
            let ctx = mlops_datafusion::connect(&cluster.url(), config).await.unwrap();
            tokio::time::timeout(
                PATIENCE,
                mlops_datafusion::profile_parquet(&ctx, &format!("{}/", data.display())),
            )
            .await
            .expect("the cluster answered in time")
            .unwrap()
        })
    };
    let profile = profile_with(ProfileConfig::default());
    support::assert_same_data(&profile, &support::single_machine(&batches), &batches);
    // Each row was profiled once, on an executor; the states shipped are
    // sketches, not rows (reports come every 200 ms: give them a moment).
    std::thread::sleep(Duration::from_millis(600));
    let rows: Vec<u64> = cluster.nodes[1..]
        .iter()
        .map(|n| reported(n, "rows_profiled"))
        .collect();
    let bytes: Vec<u64> = cluster.nodes[1..].iter().map(|n| reported(n, "state_bytes")).collect();
    let states: Vec<u64> = cluster.nodes[1..]
        .iter()
        .map(|n| reported(n, "states_shipped"))
        .collect();
    eprintln!("per executor: rows profiled {rows:?}, states shipped {states:?}, state bytes {bytes:?}");
    assert_eq!(rows.iter().sum::<u64>(), 20_000, "{rows:?}");
    let per_state = bytes.iter().sum::<u64>() / states.iter().sum::<u64>().max(1);
    assert!(
        per_state < 400_000,
        "a partial profile is sketch-sized: {per_state} bytes"
    );
    assert_eq!(profile.column_names().len(), 8);
    // The client's configuration reaches the executors inside the plan
    // (they were started knowing only the default one).
    let small = profile_with(ProfileConfig::default().with_kll_k(64).with_frequent_items(8));
    assert_eq!((small.config().kll_k, small.config().frequent_items), (64, 8));
    assert_eq!(small.num_rows(), 20_000);
    // SQL with GROUP BY on the cluster: one profile per segment.
    let segments = runtime.block_on(async {
        let ctx = mlops_datafusion::connect(&cluster.url(), ProfileConfig::default())
            .await
            .unwrap();
        ctx.register_parquet("loans", format!("{}/", data.display()), Default::default())
            .await
            .unwrap();
        let sql = "SELECT employment, mlops_profile(income, credit_score) AS profile FROM loans GROUP BY employment";
        let rows = tokio::time::timeout(PATIENCE, async { ctx.sql(sql).await.unwrap().collect().await })
            .await
            .expect("the cluster answered in time")
            .unwrap();
        mlops_datafusion::decode(&rows, "profile", sql).unwrap()
    });
    assert_eq!(segments.len(), 5);
    assert_eq!(segments.iter().map(|p| p.num_rows()).sum::<u64>(), 20_000);
}

#[test]
fn an_executor_without_the_function_fails_the_query_with_its_name() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    support::write_parts(&data, 2);
    let cluster = Cluster::start(1, false, work.path(), &HashMap::new());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let started = Instant::now();
    let outcome = runtime.block_on(async {
        let ctx = mlops_datafusion::connect(&cluster.url(), ProfileConfig::default())
            .await
            .unwrap();
        tokio::time::timeout(
            PATIENCE,
            mlops_datafusion::profile_parquet(&ctx, &format!("{}/", data.display())),
        )
        .await
    });
    let err = match outcome {
        Ok(Err(e)) => e.to_string(),
        Ok(Ok(p)) => panic!("profiled {} rows without the function", p.num_rows()),
        Err(_) => panic!("the query hung for {PATIENCE:?}"),
    };
    assert!(
        err.contains("mlops_profile") && err.contains("rejected by executor"),
        "{err}"
    );
    eprintln!("failed in {:.1?}: {err}", started.elapsed());
}
