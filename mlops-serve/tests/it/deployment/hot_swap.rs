//! Swaps under load: 8 threads send without pause while the deployment changes
//! 100 times, runs a canary to promotion and another to rollback.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mlops_serve::deployment::{CanaryPlan, Phase, Rollout, ScoreDrift, Split, StepLength, Weight};

use super::support::{MeanShift, Scorer, deployment, x};

#[test]
fn nothing_fails_or_is_lost_while_versions_swap_under_load() {
    let (d, clock) = deployment(Arc::new(Scorer::new(0.0)));
    d.load(2, Arc::new(Scorer::new(0.01))).unwrap();
    // Version 3 answers fine but scores differently: its canary is rolled back
    // by a drift gate, with no request failing.
    d.load(3, Arc::new(Scorer::new(3.0))).unwrap();
    let routed: Arc<Mutex<HashMap<u64, Vec<u64>>>> = Arc::default();
    let record = |routed: &Mutex<HashMap<u64, Vec<u64>>>| {
        let s = d.state();
        routed.lock().unwrap().insert(s.generation, s.routed);
    };
    record(&routed);

    let stop = Arc::new(AtomicBool::new(false));
    let senders: Vec<_> = (0..8)
        .map(|t| {
            let (d, stop) = (d.clone(), stop.clone());
            std::thread::spawn(move || {
                let batch = x(&[0.5]);
                let mut seen = Vec::new();
                let mut failures = 0u64;
                let deadline = Instant::now() + Duration::from_secs(20);
                let mut key = t * 1_000_003;
                while !stop.load(Ordering::Acquire) && Instant::now() < deadline {
                    key += 1;
                    match d.predict(Some(key), &batch) {
                        Ok(a) => seen.push((a.version, a.generation)),
                        Err(_) => failures += 1,
                    }
                }
                (seen, failures)
            })
        })
        .collect();

    // 100 swaps: weights and arms change while requests fly.
    let pct = |p: f64| Weight::percent(p).unwrap();
    for i in 0..100u32 {
        let strategy: Arc<dyn mlops_core::DeploymentStrategy> = match i % 4 {
            0 => Arc::new(Split::canary(1, 2, pct(f64::from(i % 50)))),
            1 => Arc::new(Split::all(2)),
            2 => Arc::new(Split::weighted(&[(1, pct(30.0)), (2, pct(30.0)), (3, pct(40.0))]).unwrap()),
            _ => Arc::new(Split::all(1)),
        };
        d.set_strategy(strategy).unwrap();
        record(&routed);
        std::thread::sleep(Duration::from_micros(200));
    }

    // A canary 1 → 2, promoted.
    d.set_strategy(Arc::new(Split::all(1))).unwrap();
    record(&routed);
    let plan = || {
        CanaryPlan::stepped(pct(25.0), pct(75.0))
            .unwrap()
            .with_step_length(StepLength::both(Duration::from_secs(30), 50))
            .with_gate(Arc::new(ScoreDrift {
                detector: Arc::new(MeanShift(0.1)),
                min_samples: 50,
            }))
    };
    // Ticks a rollout to its end while the senders run, recording each state.
    let run = |canary: Rollout| {
        record(&routed);
        let started = Instant::now();
        while !canary.status().phase.is_finished() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "canary stuck: {:?}",
                canary.history().records.last()
            );
            std::thread::sleep(Duration::from_millis(5));
            clock.advance(Duration::from_secs(31));
            canary.tick().unwrap();
            record(&routed);
        }
        canary.status().phase
    };
    assert_eq!(run(Rollout::canary(d.clone(), 1, 2, plan()).unwrap()), Phase::Completed);
    // A canary 2 → 3, rolled back by its gate.
    assert_eq!(
        run(Rollout::canary(d.clone(), 2, 3, plan()).unwrap()),
        Phase::RolledBack
    );
    std::thread::sleep(Duration::from_millis(20));
    stop.store(true, Ordering::Release);

    let routed = routed.lock().unwrap();
    let mut answers = 0usize;
    for sender in senders {
        let (seen, failures) = sender.join().unwrap();
        assert_eq!(failures, 0);
        answers += seen.len();
        for (version, generation) in seen {
            let live = routed
                .get(&generation)
                .unwrap_or_else(|| panic!("generation {generation} was never recorded"));
            assert!(
                live.contains(&version),
                "version {version} answered in generation {generation} ({live:?})"
            );
        }
    }
    assert!(answers > 1_000, "only {answers} answers under load");
    assert_eq!(d.requests() as usize, answers);
    assert_eq!(d.state().routed, vec![2]);
}
