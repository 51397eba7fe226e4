#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The online detectors fire at exactly the indices river does.
//!
//! `fixtures/online_reference.json` is written by
//! `fixtures/online_make_reference.py` (river's version is recorded in it). It
//! stores generator specs rather than values: the streams are rebuilt here with
//! the same integer/IEEE-exact generator, and their checksums are checked
//! first so a generator mismatch cannot pass as a detector mismatch.

use mlops_monitor::online::{Adwin, AdwinConfig, Ddm, DdmConfig, OnlineDetector, PageHinkley, PageHinkleyConfig};
use serde_json::Value;

const FIXTURE: &str = include_str!("../fixtures/online_reference.json");

struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0)
    }

    fn normal(&mut self) -> f64 {
        let mut acc = 0.0;
        for _ in 0..12 {
            acc += self.uniform();
        }
        acc - 6.0
    }
}

fn generate(spec: &Value) -> Vec<f64> {
    let mut rng = SplitMix64(spec["seed"].as_u64().unwrap());
    let kind = spec["kind"].as_str().unwrap();
    let mut out = Vec::new();
    for seg in spec["segments"].as_array().unwrap() {
        let n = seg["len"].as_u64().unwrap();
        let (a, b, sd) = (
            seg["start"].as_f64().unwrap(),
            seg["end"].as_f64().unwrap(),
            seg["sd"].as_f64().unwrap(),
        );
        for j in 0..n {
            let level = a + (b - a) * (j as f64 / n as f64);
            out.push(match kind {
                "normal" => level + sd * rng.normal(),
                "bernoulli" => {
                    if rng.uniform() < level {
                        1.0
                    } else {
                        0.0
                    }
                }
                other => panic!("unknown stream kind {other}"),
            });
        }
    }
    out
}

fn fixture() -> Value {
    serde_json::from_str(FIXTURE).unwrap()
}

fn stream(doc: &Value, name: &str) -> Vec<f64> {
    let spec = &doc["streams"][name];
    let values = generate(spec);
    let check = &spec["checksum"];
    assert_eq!(values.len() as u64, check["len"].as_u64().unwrap(), "{name}: length");
    let first: Vec<f64> = check["first"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(&values[..first.len()], &first[..], "{name}: first values");
    let sum = values.iter().fold(0.0, |acc, v| acc + v);
    assert_eq!(sum, check["sum"].as_f64().unwrap(), "{name}: checksum");
    values
}

fn build(detector: &str, config: &Value) -> Box<dyn OnlineDetector> {
    let config = config.clone();
    match detector {
        "adwin" => Box::new(Adwin::new(serde_json::from_value::<AdwinConfig>(config).unwrap()).unwrap()),
        "page_hinkley" => {
            Box::new(PageHinkley::new(serde_json::from_value::<PageHinkleyConfig>(config).unwrap()).unwrap())
        }
        "ddm" => Box::new(Ddm::new(serde_json::from_value::<DdmConfig>(config).unwrap()).unwrap()),
        other => panic!("unknown detector {other}"),
    }
}

#[derive(Debug, PartialEq)]
struct Hits {
    drifts: Vec<u64>,
    warning_runs: Vec<[u64; 2]>,
}

fn feed(d: &mut dyn OnlineDetector, xs: &[f64], offset: usize, hits: &mut Hits) {
    for (i, &x) in xs.iter().enumerate() {
        let i = (i + offset) as u64;
        d.update(x);
        if d.drift_detected() {
            hits.drifts.push(i);
        }
        if d.warning_detected() {
            match hits.warning_runs.last_mut() {
                Some(run) if run[1] + 1 == i => run[1] = i,
                _ => hits.warning_runs.push([i, i]),
            }
        }
    }
}

fn expected(case: &Value) -> Hits {
    let ints = |v: &Value| {
        v.as_array()
            .unwrap()
            .iter()
            .map(|i| i.as_u64().unwrap())
            .collect::<Vec<_>>()
    };
    Hits {
        drifts: ints(&case["drifts"]),
        warning_runs: case
            .get("warning_runs")
            .map(|runs| {
                runs.as_array()
                    .unwrap()
                    .iter()
                    .map(|r| {
                        let r = ints(r);
                        [r[0], r[1]]
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

fn label(case: &Value) -> String {
    format!("{} {} on {}", case["detector"], case["config"], case["stream"])
}

#[test]
fn fixture_was_recorded_with_river() {
    let doc = fixture();
    let version = doc["river_version"].as_str().unwrap();
    assert!(version.starts_with("0."), "river {version}");
    assert!(doc["cases"].as_array().unwrap().len() >= 20);
}

#[test]
fn detections_match_river_exactly() {
    let doc = fixture();
    let mut failures = Vec::new();
    for case in doc["cases"].as_array().unwrap() {
        let xs = stream(&doc, case["stream"].as_str().unwrap());
        let mut d = build(case["detector"].as_str().unwrap(), &case["config"]);
        let mut hits = Hits {
            drifts: Vec::new(),
            warning_runs: Vec::new(),
        };
        feed(d.as_mut(), &xs, 0, &mut hits);
        let want = expected(case);
        if hits != want {
            failures.push(format!("{}:\n  river {want:?}\n  ours  {hits:?}", label(case)));
        }
        assert_eq!(d.n_detections(), want.drifts.len() as u64, "{}", label(case));
        assert_eq!(d.n_ignored(), 0);
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Serialise mid-stream, restore, feed the rest: same detections as river
/// (and so as the uninterrupted run).
/// Cuts vary with the case (early, at and next to ADWIN's 32-value clock,
/// mid-stream) to keep the test fast.
fn resume_case<T>(k: usize, case: &Value, xs: &[f64], make: impl Fn() -> T)
where
    T: OnlineDetector + serde::Serialize + serde::de::DeserializeOwned,
{
    let want = expected(case);
    for cut in [[1, 31, 32, 33][k % 4], xs.len() / 2 + 7 * k] {
        let mut hits = Hits {
            drifts: Vec::new(),
            warning_runs: Vec::new(),
        };
        let mut d = make();
        feed(&mut d, &xs[..cut], 0, &mut hits);
        let json = serde_json::to_string(&d).unwrap();
        let mut restored: T = serde_json::from_str(&json).unwrap();
        assert_eq!(
            serde_json::to_string(&restored).unwrap(),
            json,
            "{} cut {cut}",
            label(case)
        );
        feed(&mut restored, &xs[cut..], cut, &mut hits);
        assert_eq!(hits, want, "{} resumed at {cut}", label(case));
    }
}

#[test]
fn checkpoints_resume_identically() {
    let doc = fixture();
    for (k, case) in doc["cases"].as_array().unwrap().iter().enumerate() {
        let xs = stream(&doc, case["stream"].as_str().unwrap());
        let config = case["config"].clone();
        match case["detector"].as_str().unwrap() {
            "adwin" => resume_case(k, case, &xs, || {
                Adwin::new(serde_json::from_value(config.clone()).unwrap()).unwrap()
            }),
            "page_hinkley" => resume_case(k, case, &xs, || {
                PageHinkley::new(serde_json::from_value(config.clone()).unwrap()).unwrap()
            }),
            "ddm" => resume_case(k, case, &xs, || {
                Ddm::new(serde_json::from_value(config.clone()).unwrap()).unwrap()
            }),
            other => panic!("unknown detector {other}"),
        }
    }
}

#[test]
fn invalid_values_do_not_change_detections() {
    let doc = fixture();
    for case in doc["cases"].as_array().unwrap() {
        let xs = stream(&doc, case["stream"].as_str().unwrap());
        let mut d = build(case["detector"].as_str().unwrap(), &case["config"]);
        let mut hits = Hits {
            drifts: Vec::new(),
            warning_runs: Vec::new(),
        };
        let mut ignored = 0;
        for (i, &x) in xs.iter().enumerate() {
            if i % 101 == 7 {
                for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, f64::MAX] {
                    d.update(bad);
                    ignored += 1;
                    assert!(!d.drift_detected());
                }
            }
            feed(d.as_mut(), &[x], i, &mut hits);
        }
        assert_eq!(hits, expected(case), "{} with invalid values", label(case));
        assert_eq!(d.n_ignored(), ignored);
        d.reset();
        assert_eq!((d.n_ignored(), d.n_detections(), d.drift_detected()), (0, 0, false));
    }
}

#[test]
fn reset_replays_identically() {
    let doc = fixture();
    let case = &doc["cases"][0];
    let xs = stream(&doc, case["stream"].as_str().unwrap());
    let mut d = build(case["detector"].as_str().unwrap(), &case["config"]);
    let mut first = Hits {
        drifts: Vec::new(),
        warning_runs: Vec::new(),
    };
    feed(d.as_mut(), &xs, 0, &mut first);
    d.reset();
    let mut second = Hits {
        drifts: Vec::new(),
        warning_runs: Vec::new(),
    };
    feed(d.as_mut(), &xs, 0, &mut second);
    assert_eq!(first, second);
    assert_eq!(first, expected(case));
}
