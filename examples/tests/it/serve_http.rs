//! The HTTP service template with a real client on loopback: every status
//! code, the Open Inference Protocol both ways, throttling, a canary under
//! load, and the command line. Every wait is bounded.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mlops_core::Package;
use mlops_examples::http::auth::ApiKeys;
use mlops_examples::http::control::RolloutSettings;
use mlops_examples::http::{Service, ServiceConfig, serve};
use mlops_serve::BatcherConfig;
use mlops_serve::deployment::{StepLength, Weight};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::serve_cli::{fixture, import, json as read_json, stderr, write_inputs};

/// Two package directories of the fixture model `wine` (version 1 and a candidate).
fn packages(dir: &Path) -> (PathBuf, PathBuf) {
    let (sample, _, _) = write_inputs(dir);
    let mut out = Vec::new();
    for sub in ["v1", "v2"] {
        let parent = dir.join(sub);
        std::fs::create_dir_all(&parent).unwrap();
        let o = import(&parent, &sample, None);
        assert!(o.status.success(), "{}", stderr(&o));
        out.push(parent.join("pkg"));
    }
    (out[0].clone(), out[1].clone())
}

fn rows() -> (Vec<String>, Vec<Vec<f64>>, Vec<String>) {
    let inputs = read_json(&fixture().join("inputs.json"));
    let expected = read_json(&fixture().join("expected.json"));
    (
        serde_json::from_value(inputs["features"].clone()).unwrap(),
        serde_json::from_value(inputs["rows"].clone()).unwrap(),
        serde_json::from_value(expected["labels"].clone()).unwrap(),
    )
}

/// Rows as JSON objects `{feature: value}`, the `/predict` body's form.
fn row_objects(features: &[String], rows: &[Vec<f64>]) -> Vec<Value> {
    rows.iter()
        .map(|r| Value::Object(features.iter().cloned().zip(r.iter().map(|v| json!(v))).collect()))
        .collect()
}

/// The `label` of each prediction in a `/predict` answer.
fn predicted_labels(answer: &Value) -> Vec<&str> {
    answer["predictions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["label"].as_str().unwrap())
        .collect()
}

/// A running service on a loopback port; dropping it shuts the server down.
struct Running {
    base: String,
    service: Arc<Service>,
    runtime: tokio::runtime::Runtime,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Running {
    fn start(config: ServiceConfig, stable: &Package, candidate: Option<&Package>, live: bool) -> Running {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let service = Service::new("wine", config);
        if live {
            service.go_live(stable, candidate, None).unwrap();
        }
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let addr: SocketAddr = runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(serve(listener, service.clone(), async {
                let _ = stopped.await;
            }));
            addr
        });
        Running {
            base: format!("http://{addr}"),
            service,
            runtime,
            stop: Some(stop),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

fn read_packages(v1: &Path, v2: &Path) -> (Package, Package) {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        (
            mlops_examples::package_dir::read(v1).await.unwrap(),
            mlops_examples::package_dir::read(v2).await.unwrap(),
        )
    })
}

async fn send(req: reqwest::RequestBuilder) -> (StatusCode, Value, reqwest::header::HeaderMap) {
    let r = req.send().await.unwrap();
    let (status, headers) = (r.status(), r.headers().clone());
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
        headers,
    )
}

#[test]
fn every_route_answers_with_the_documented_status_and_body() {
    let dir = tempfile::tempdir().unwrap();
    let (v1, v2) = packages(dir.path());
    let (stable, candidate) = read_packages(&v1, &v2);
    let (features, rows, labels) = rows();
    let config = ServiceConfig {
        api_keys: Some(ApiKeys::parse("user-key-1\nuser-key-2").unwrap()),
        admin_keys: Some(ApiKeys::parse("admin-key").unwrap()),
        max_body_bytes: 64 * 1024,
        ..ServiceConfig::default()
    };
    let s = Running::start(config, &stable, Some(&candidate), true);
    let c = client();
    let auth = |r: reqwest::RequestBuilder| r.bearer_auth("user-key-1");
    let admin = |r: reqwest::RequestBuilder| r.bearer_auth("admin-key");
    s.runtime.block_on(async {
        let (st, body, _) = send(c.get(s.url("/v2/health/live"))).await;
        assert_eq!((st, body), (StatusCode::OK, json!({"live": true})));
        let (st, body, _) = send(c.get(s.url("/v2/health/ready"))).await;
        assert_eq!((st, body), (StatusCode::OK, json!({"ready": true})));

        // Metadata: inputs from the signature, outputs from the predictor.
        let (st, meta, _) = send(auth(c.get(s.url("/v2/models/wine")))).await;
        assert_eq!(st, StatusCode::OK, "{meta}");
        assert_eq!(meta["inputs"].as_array().unwrap().len(), 13);
        assert_eq!(
            meta["inputs"][0],
            json!({"name": "f0", "datatype": "FP64", "shape": [-1]})
        );
        let outputs: Vec<&str> = meta["outputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["name"].as_str().unwrap())
            .collect();
        assert_eq!(outputs, ["label", "proba_0", "proba_1", "proba_2"]);
        assert_eq!(meta["versions"], json!(["1", "2"]));

        // Auth: none or a wrong key is 401, and the answer never echoes the key.
        let (st, body, headers) = send(c.get(s.url("/v2/models/wine"))).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
        assert_eq!(headers.get("www-authenticate").unwrap(), "Bearer");
        let (st, body2, _) = send(c.get(s.url("/v2/models/wine")).bearer_auth("stolen-key")).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
        assert!(!body2.to_string().contains("stolen-key") && body["error"].is_string());
        // Unknown model: 404.
        let (st, _, _) = send(auth(c.get(s.url("/v2/models/beer")))).await;
        assert_eq!(st, StatusCode::NOT_FOUND);

        // OIP, one tensor per column ([N] and [N, 1] mixed), answers as scikit-learn.
        let n = rows.len();
        let inputs: Vec<Value> = features
            .iter()
            .enumerate()
            .map(|(j, f)| {
                let column: Vec<f64> = rows.iter().map(|r| r[j]).collect();
                if j % 2 == 0 {
                    json!({"name": f, "shape": [n], "datatype": "FP64", "data": column})
                } else {
                    let nested: Vec<Vec<f64>> = column.iter().map(|v| vec![*v]).collect();
                    json!({"name": f, "shape": [n, 1], "datatype": "FP64", "data": nested})
                }
            })
            .collect();
        let (st, answer, _) =
            send(auth(c.post(s.url("/v2/models/wine/infer"))).json(&json!({"id": "r1", "inputs": inputs}))).await;
        assert_eq!(st, StatusCode::OK, "{answer}");
        assert_eq!(
            (answer["model_name"].as_str(), answer["id"].as_str()),
            (Some("wine"), Some("r1"))
        );
        assert_eq!(answer["outputs"][0]["name"], "label");
        assert_eq!(answer["outputs"][0]["datatype"], "BYTES");
        let got: Vec<String> = serde_json::from_value(answer["outputs"][0]["data"].clone()).unwrap();
        assert_eq!(got, labels);
        // The same rows as one [N, F] tensor in signature order.
        let flat: Vec<f64> = rows.iter().flatten().copied().collect();
        let matrix = json!({"inputs": [{"name": "features", "shape": [n, 13], "datatype": "FP32", "data": flat}]});
        let (st, answer, _) = send(auth(c.post(s.url("/v2/models/wine/infer"))).json(&matrix)).await;
        assert_eq!(st, StatusCode::OK, "{answer}");
        let got: Vec<String> = serde_json::from_value(answer["outputs"][0]["data"].clone()).unwrap();
        assert_eq!(got, labels);

        // JSON rows.
        let objects = row_objects(&features, &rows);
        let (st, answer, _) = send(auth(c.post(s.url("/predict"))).json(&json!({"rows": objects}))).await;
        assert_eq!(st, StatusCode::OK, "{answer}");
        let got = predicted_labels(&answer);
        assert_eq!(got, labels);
        assert_eq!(answer["version"], 1);

        // Bad input: 400 naming what was wrong.
        let mut missing = objects[0].clone();
        missing.as_object_mut().unwrap().remove("f7");
        let (st, body, _) = send(auth(c.post(s.url("/predict"))).json(&json!([missing]))).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert!(body["error"].as_str().unwrap().contains("f7"), "{body}");
        let mut text = objects[0].clone();
        text["f3"] = json!("twelve");
        let (st, body, _) = send(auth(c.post(s.url("/predict"))).json(&json!([text]))).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert!(body["error"].as_str().unwrap().contains("f3"), "{body}");
        let only_f0 = json!({"inputs": [{"name": "f0", "shape": [1], "datatype": "FP64", "data": [0.1]}]});
        let (st, body, _) = send(auth(c.post(s.url("/v2/models/wine/infer"))).json(&only_f0)).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert!(
            body["error"].as_str().unwrap().contains("f1"),
            "the first missing column is named: {body}"
        );
        let (st, _, _) = send(auth(c.post(s.url("/v2/models/wine/infer"))).body("{not json")).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        // Over the body limit: 413.
        let huge = "x".repeat(100 * 1024);
        let (st, _, _) = send(auth(c.post(s.url("/predict"))).body(huge)).await;
        assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE);

        // Admin: a user key is not an admin key; no rollout to promote yet.
        let (st, _, _) = send(auth(c.post(s.url("/admin/rollout/start")))).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
        let (st, _, _) = send(admin(c.post(s.url("/admin/rollout/promote")))).await;
        assert_eq!(st, StatusCode::CONFLICT);
        let (st, body, _) = send(admin(c.post(s.url("/admin/rollout/start"))).json(&json!({"strategy": "ab"}))).await;
        assert_eq!(st, StatusCode::OK, "{body}");
        assert_eq!(body["routed"], json!([1, 2]));
        let (st, _, _) = send(admin(c.post(s.url("/admin/rollout/start"))).json(&json!({"strategy": "canary"}))).await;
        assert_eq!(st, StatusCode::CONFLICT, "one rollout at a time");
        let (st, body, _) = send(admin(c.post(s.url("/admin/rollout/abort"))).json(&json!({"reason": "test"}))).await;
        assert_eq!((st, body["routed"].clone()), (StatusCode::OK, json!([1])));
        let (st, _, _) = send(admin(c.post(s.url("/admin/rollout/start"))).json(&json!({"strategy": "zigzag"}))).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);

        // Metrics: requests per version, responses per status, rollout state.
        let metrics = c.get(s.url("/metrics")).send().await.unwrap().text().await.unwrap();
        assert!(
            metrics.contains("mlops_model_requests_total{model=\"wine\",version=\"1\"} 4"),
            "{metrics}"
        );
        // The refused request counts as an error of the version it was routed to.
        assert!(
            metrics.contains("mlops_model_errors_total{model=\"wine\",version=\"1\"} 1"),
            "{metrics}"
        );
        assert!(
            metrics.contains("mlops_model_request_duration_seconds_bucket{model=\"wine\",version=\"1\",le=\"+Inf\"} 4")
        );
        assert!(
            metrics.contains("mlops_http_responses_total{code=\"401\"}"),
            "{metrics}"
        );
        assert!(
            metrics.contains("mlops_rollout_phase{model=\"wine\",strategy=\"ab\",phase=\"rolled_back\"} 1"),
            "{metrics}"
        );
    });
    assert_eq!(s.service.model, "wine");
}

#[test]
fn not_ready_until_loaded_and_a_full_batcher_queue_is_503() {
    let dir = tempfile::tempdir().unwrap();
    let (v1, v2) = packages(dir.path());
    let (stable, _) = read_packages(&v1, &v2);
    // Not loaded yet: live, not ready, inference refused with 503.
    let s = Running::start(ServiceConfig::default(), &stable, None, false);
    let c = client();
    s.runtime.block_on(async {
        let (st, _, _) = send(c.get(s.url("/v2/health/live"))).await;
        assert_eq!(st, StatusCode::OK);
        let (st, body, _) = send(c.get(s.url("/v2/health/ready"))).await;
        assert_eq!((st, body), (StatusCode::SERVICE_UNAVAILABLE, json!({"ready": false})));
        let (st, _, _) = send(c.post(s.url("/predict")).json(&json!([]))).await;
        assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE);
    });
    s.service.go_live(&stable, None, None).unwrap();
    s.runtime.block_on(async {
        let (st, _, _) = send(c.get(s.url("/v2/health/ready"))).await;
        assert_eq!(st, StatusCode::OK);
    });
    drop(s);

    // One worker and one waiting place, and a model held until released: the
    // first request occupies the worker, the second waits, the third is 503.
    let predictor = mlops_serve::Predictor::from_package(&stable, mlops_serve::PredictorConfig::default()).unwrap();
    let held = Arc::new(Held::new(Arc::new(predictor)));
    let batcher = Arc::new(
        mlops_serve::Batcher::new(
            held.clone(),
            BatcherConfig::default().with_workers(1).with_queue_capacity(1),
        )
        .unwrap(),
    );
    let s = Running::start(ServiceConfig::default(), &stable, None, false);
    s.service
        .go_live_with(
            batcher.clone(),
            None,
            mlops_core::ModelPackage::input_signature(&stable).clone(),
            None,
        )
        .unwrap();
    let (features, rows, _) = rows();
    let row = Value::Array(row_objects(&features, &rows[..1]));
    let c = client();
    s.runtime.block_on(async {
        let post = |c: &reqwest::Client| c.post(s.url("/predict")).json(&row).send();
        let first = tokio::spawn(post(&c));
        wait_until(|| held.entered() == 1).await;
        let second = tokio::spawn(post(&c));
        wait_until(|| batcher.queued() == 1).await;
        let (st, body, headers) = send(c.post(s.url("/predict")).json(&row)).await;
        assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_eq!(headers.get("retry-after").unwrap(), "1");
        assert!(body["error"].as_str().unwrap().contains("overloaded"), "{body}");
        held.release();
        assert_eq!(first.await.unwrap().unwrap().status(), StatusCode::OK);
        assert_eq!(second.await.unwrap().unwrap().status(), StatusCode::OK);
    });
}

/// Polls `done` every millisecond, for at most 10 s.
async fn wait_until(done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(10), "condition never held");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// A predictor whose calls wait until released (at most 10 s), then answer.
#[derive(Debug)]
struct Held {
    inner: Arc<dyn mlops_serve::Predict>,
    released: std::sync::Mutex<bool>,
    changed: std::sync::Condvar,
    entered: std::sync::atomic::AtomicUsize,
}

impl Held {
    fn new(inner: Arc<dyn mlops_serve::Predict>) -> Self {
        Held {
            inner,
            released: std::sync::Mutex::new(false),
            changed: std::sync::Condvar::new(),
            entered: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    fn entered(&self) -> usize {
        self.entered.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn release(&self) {
        *self.released.lock().unwrap() = true;
        self.changed.notify_all();
    }
}

impl mlops_serve::Predict for Held {
    fn model_name(&self) -> &str {
        self.inner.model_name()
    }

    fn input_schema(&self) -> arrow_schema::SchemaRef {
        self.inner.input_schema()
    }

    fn output_schema(&self) -> arrow_schema::SchemaRef {
        self.inner.output_schema()
    }

    fn predict_detailed(&self, batch: &arrow_array::RecordBatch) -> mlops_serve::Result<mlops_serve::Prediction> {
        self.entered.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let released = self.released.lock().unwrap();
        let _unused = self
            .changed
            .wait_timeout_while(released, Duration::from_secs(10), |r| !*r)
            .unwrap();
        self.inner.predict_detailed(batch)
    }
}

#[test]
fn a_throttled_client_sees_429s_while_others_are_unaffected() {
    let dir = tempfile::tempdir().unwrap();
    let (v1, v2) = packages(dir.path());
    let (stable, _) = read_packages(&v1, &v2);
    let config = ServiceConfig {
        api_keys: Some(ApiKeys::parse("greedy\npolite").unwrap()),
        rate: Some(2.0),
        burst: 5.0,
        ..ServiceConfig::default()
    };
    let s = Running::start(config, &stable, None, true);
    let (features, rows, _) = rows();
    let row = row_objects(&features, &rows[..1]).remove(0);
    let c = client();
    s.runtime.block_on(async {
        let mut greedy = Vec::new();
        for _ in 0..30 {
            let (st, _, headers) = send(c.post(s.url("/predict")).bearer_auth("greedy").json(&json!([row]))).await;
            greedy.push((st, headers.get("retry-after").map(|v| v.to_str().unwrap().to_owned())));
        }
        let ok = greedy.iter().filter(|(st, _)| *st == StatusCode::OK).count();
        let limited: Vec<_> = greedy
            .iter()
            .filter(|(st, _)| *st == StatusCode::TOO_MANY_REQUESTS)
            .collect();
        // A burst of 5 (plus what 2/s refills meanwhile), then 429 with a Retry-After.
        assert!(ok >= 5 && limited.len() >= 10, "{greedy:?}");
        assert_eq!(ok + limited.len(), 30);
        assert!(limited.iter().all(|(_, r)| r.as_deref() == Some("1")), "{greedy:?}");
        // The other key has its own bucket.
        for _ in 0..5 {
            let (st, _, _) = send(c.post(s.url("/predict")).bearer_auth("polite").json(&json!([row]))).await;
            assert_eq!(st, StatusCode::OK);
        }
    });
}

#[test]
fn twenty_thousand_requests_over_sixteen_connections_while_a_canary_is_promoted_get_no_5xx() {
    let dir = tempfile::tempdir().unwrap();
    let (v1, v2) = packages(dir.path());
    let (stable, candidate) = read_packages(&v1, &v2);
    let config = ServiceConfig {
        admin_keys: Some(ApiKeys::parse("admin").unwrap()),
        rollout: RolloutSettings {
            step: StepLength::requests(200),
            tick: Duration::from_millis(5),
            canary_step: Weight::percent(10.0).unwrap(),
            canary_max: Weight::percent(50.0).unwrap(),
            ..RolloutSettings::default()
        },
        ..ServiceConfig::default()
    };
    let s = Running::start(config, &stable, Some(&candidate), true);
    let (features, rows, _) = rows();
    let bodies: Arc<Vec<String>> = Arc::new(
        row_objects(&features, &rows)
            .into_iter()
            .map(|o| json!([o]).to_string())
            .collect(),
    );
    let c = client();
    let (statuses, versions, phase) = s.runtime.block_on(async {
        let (st, _, _) = send(
            c.post(s.url("/admin/rollout/start"))
                .bearer_auth("admin")
                .json(&json!({"strategy": "canary"})),
        )
        .await;
        assert_eq!(st, StatusCode::OK);
        let started = Instant::now();
        let tasks: Vec<_> = (0..16)
            .map(|t| {
                let (c, url, bodies) = (c.clone(), s.url("/predict"), bodies.clone());
                tokio::spawn(async move {
                    let mut seen = Vec::with_capacity(1_250);
                    for i in 0..1_250 {
                        let body = bodies[(t * 7 + i) % bodies.len()].clone();
                        let r = c
                            .post(&url)
                            .header("content-type", "application/json")
                            .body(body)
                            .send()
                            .await
                            .unwrap();
                        let status = r.status();
                        let version = r.json::<Value>().await.ok().and_then(|v| v["version"].as_u64());
                        seen.push((status, version));
                    }
                    seen
                })
            })
            .collect();
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        assert!(started.elapsed() < Duration::from_secs(300));
        let (_, status, _) = send(c.get(s.url("/admin/rollout")).bearer_auth("admin")).await;
        let statuses: Vec<StatusCode> = all.iter().map(|(s, _)| *s).collect();
        let versions: Vec<Option<u64>> = all.iter().map(|(_, v)| *v).collect();
        (
            statuses,
            versions,
            status["rollout"]["status"]["phase"]["phase"].clone(),
        )
    });
    assert_eq!(statuses.len(), 20_000);
    let server_errors = statuses.iter().filter(|s| s.is_server_error()).count();
    assert_eq!(server_errors, 0);
    assert!(statuses.iter().all(|s| *s == StatusCode::OK));
    assert_eq!(phase, json!("completed"), "the canary was promoted during the run");
    // Both versions answered, and the last answers all came from the candidate.
    assert!(versions.contains(&Some(1)) && versions.contains(&Some(2)));
    assert_eq!(versions.last(), Some(&Some(2)));
}

#[test]
fn the_command_line_serves_a_package_rolls_out_a_candidate_and_stops_gracefully() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let dir = tempfile::tempdir().unwrap();
    let (v1, v2) = packages(dir.path());
    let keys = dir.path().join("keys.txt");
    std::fs::write(&keys, "# one key per line\nsecret-1\n").unwrap();
    let help = Command::new(crate::cli::example("serve_http"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(help.status.success());
    let child = Command::new(crate::cli::example("serve_http"))
        .args(["--package", v1.to_str().unwrap(), "--candidate", v2.to_str().unwrap()])
        .args([
            "--strategy",
            "shadow",
            "--listen",
            "127.0.0.1:0",
            "--api-keys",
            keys.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Killed if the test fails before it stops by itself: no server outlives the test.
    let mut child = KillOnDrop(child);
    let child = &mut child.0;
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let base = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line: {first}"))
        .to_owned();
    let (features, rows, labels) = rows();
    let objects = row_objects(&features, &rows);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let c = client();
    runtime.block_on(async {
        let start = Instant::now();
        loop {
            match c.get(format!("{base}/v2/health/ready")).send().await {
                Ok(r) if r.status() == StatusCode::OK => break,
                _ => assert!(start.elapsed() < Duration::from_secs(30), "never ready"),
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let (st, _, _) = send(c.post(format!("{base}/predict")).json(&objects)).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
        let (st, answer, _) = send(c.post(format!("{base}/predict")).bearer_auth("secret-1").json(&objects)).await;
        assert_eq!(st, StatusCode::OK, "{answer}");
        let got = predicted_labels(&answer);
        assert_eq!(got, labels);
        assert_eq!(answer["version"], 1, "a shadow never answers");
        let metrics = c
            .get(format!("{base}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(metrics.contains("strategy=\"shadow\",phase=\"running\""), "{metrics}");
    });
    // SIGTERM: stop accepting, finish what is in flight, exit 0.
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "did not stop after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(status.success(), "{err}");
    assert!(err.contains("model `wine` ready") && err.contains("stopped"), "{err}");
    assert!(!err.contains("secret-1"), "a key reached the logs: {err}");
}

struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}
