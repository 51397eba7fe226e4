//! Canary rollouts in virtual time: steps, gates, failure counting, hooks.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mlops_serve::deployment::{
    CanaryPlan, ErrorRate, ErrorRateVsBaseline, FailurePolicy, LatencyVsBaseline, Phase, Rollout, RolloutEvent,
    RolloutHistory, RolloutHooks, RolloutStatus, StepLength, Verdict, Weight,
};
use mlops_serve::{Error, Result};

use super::support::{Scorer, deployment, send};

fn pct(p: f64) -> Weight {
    Weight::percent(p).unwrap()
}

#[test]
fn a_healthy_canary_walks_its_steps_and_is_promoted() {
    let (d, clock) = deployment(Arc::new(Scorer::new(0.0)));
    d.load(2, Arc::new(Scorer::new(0.01))).unwrap();
    let plan = CanaryPlan::stepped(pct(10.0), pct(50.0))
        .unwrap()
        .with_step_length(StepLength::both(Duration::from_secs(60), 50))
        .with_gate(Arc::new(ErrorRate {
            max: 0.01,
            min_samples: 50,
        }))
        .with_gate(Arc::new(ErrorRateVsBaseline {
            alpha: 0.05,
            min_samples: 50,
        }));
    let rollout = Rollout::canary(d.clone(), 1, 2, plan).unwrap();
    let mut shares = Vec::new();
    for _ in 0..20 {
        let (by_version, errors) = send(&d, 2_000);
        assert_eq!(errors, 0);
        shares.push(by_version[2] as f64 / 2_000.0);
        clock.advance(Duration::from_secs(61));
        if rollout.tick().unwrap().is_finished() {
            break;
        }
    }
    assert_eq!(rollout.status().phase, Phase::Completed);
    // One step per minute: 10 %, 20 %, … 50 % of the traffic (±3σ of 2,000 requests).
    assert_eq!(shares.len(), 5, "{shares:?}");
    for (share, expected) in shares.iter().zip([0.1, 0.2, 0.3, 0.4, 0.5]) {
        assert!((share - expected).abs() < 0.035, "{shares:?}");
    }
    assert_eq!(send(&d, 100).0[2], 100);

    let history = rollout.history();
    let kinds: Vec<&str> = history
        .records
        .iter()
        .map(|r| match &r.event {
            RolloutEvent::Started { .. } => "started",
            RolloutEvent::Step { .. } => "step",
            RolloutEvent::Checked { .. } => "checked",
            RolloutEvent::Held => "held",
            RolloutEvent::Promoted { .. } => "promoted",
            RolloutEvent::RolledBack { .. } => "rolled_back",
            RolloutEvent::Retired { .. } => "retired",
            _ => "other",
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "started", "step", "checked", "step", "checked", "step", "checked", "step", "checked", "step", "checked",
            "held", "promoted"
        ]
    );
    // Every check recorded its gates, values and sample sizes.
    let readings = history.last_readings().unwrap();
    assert_eq!(readings.len(), 2);
    assert!(
        readings
            .iter()
            .all(|r| r.verdict == Verdict::Pass && r.candidate_samples >= 50)
    );
    assert_eq!(readings[1].baseline_samples.map(|n| n > 500), Some(true));
    // The history reads back from JSON as it was written.
    let json = history.to_json().unwrap();
    assert!(json.contains("\"event\": \"promoted\""), "{json}");
    assert_eq!(RolloutHistory::from_json(&json).unwrap(), history);
    assert_eq!(history.records.last().unwrap().elapsed, Duration::from_secs(5 * 61));
}

#[test]
fn a_failing_critical_gate_rolls_back_mid_step_at_the_next_tick() {
    let (d, _clock) = deployment(Arc::new(Scorer::new(0.0)));
    d.load(2, Arc::new(Scorer::new(0.0).failing_one_in(10))).unwrap();
    let plan = CanaryPlan::stepped(pct(20.0), pct(80.0))
        .unwrap()
        .with_step_length(StepLength::time(Duration::from_secs(3600)))
        .with_critical_gate(Arc::new(ErrorRate {
            max: 0.01,
            min_samples: 100,
        }));
    let rollout = Rollout::canary(d.clone(), 1, 2, plan).unwrap();
    // Too few candidate requests yet: nothing to judge, nothing counted.
    send(&d, 100);
    assert_eq!(
        rollout.tick().unwrap(),
        Phase::Progressing {
            step: 0,
            weight: pct(20.0)
        }
    );
    send(&d, 2_000);
    // No time passed: the step is far from over, but a critical gate acts at once.
    assert_eq!(rollout.tick().unwrap(), Phase::RolledBack);
    let (by_version, errors) = send(&d, 1_000);
    assert_eq!((by_version[1], errors), (1_000, 0));
    let history = rollout.history();
    let n = history.records.len();
    match (&history.records[n - 2].event, &history.records[n - 1].event) {
        (RolloutEvent::Checked { reason, readings, .. }, RolloutEvent::RolledBack { reason: why }) => {
            assert_eq!(reason, "critical");
            assert_eq!(readings[0].verdict, Verdict::Fail);
            assert!(why.contains("critical gate `error_rate` failed"), "{why}");
        }
        other => panic!("unexpected last records {other:?}"),
    }
    // A finished rollout stays finished.
    assert_eq!(rollout.tick().unwrap(), Phase::RolledBack);
}

/// Runs steps where the candidate fails or not, returning the phase after each judged step.
fn run_steps(policy: FailurePolicy, failing: &[bool]) -> Vec<Phase> {
    let (d, clock) = deployment(Arc::new(Scorer::new(0.0)));
    let candidate = Arc::new(Scorer::new(0.0));
    d.load(2, candidate.clone()).unwrap();
    let plan = CanaryPlan::with_steps(vec![pct(10.0), pct(20.0), pct(30.0), pct(40.0), pct(50.0)])
        .unwrap()
        .with_step_length(StepLength::time(Duration::from_secs(60)))
        .with_gate(Arc::new(ErrorRate {
            max: 0.05,
            min_samples: 20,
        }))
        .with_failure_policy(policy);
    let rollout = Rollout::canary(d.clone(), 1, 2, plan).unwrap();
    failing
        .iter()
        .map(|&fail| {
            candidate.set_failing(fail);
            send(&d, 1_000);
            clock.advance(Duration::from_secs(61));
            rollout.tick().unwrap()
        })
        .collect()
}

#[test]
fn failed_checks_count_in_all_or_in_a_row_as_chosen() {
    let fail_pass_fail = [true, false, true];
    // Flagger's threshold: two failed checks in all roll back, a pass in between or not.
    let total = run_steps(FailurePolicy::Threshold(2), &fail_pass_fail);
    assert_eq!(
        total[0],
        Phase::Progressing {
            step: 0,
            weight: pct(10.0)
        }
    );
    assert_eq!(
        total[1],
        Phase::Progressing {
            step: 1,
            weight: pct(20.0)
        }
    );
    assert_eq!(total[2], Phase::RolledBack);
    // Consecutive: the pass reset the count, so the second failure does not.
    let in_a_row = run_steps(FailurePolicy::Consecutive(2), &fail_pass_fail);
    assert_eq!(
        in_a_row[2],
        Phase::Progressing {
            step: 1,
            weight: pct(20.0)
        }
    );
    let twice = run_steps(FailurePolicy::Consecutive(2), &[true, true]);
    assert_eq!(twice[1], Phase::RolledBack);
}

#[test]
fn plans_refuse_steps_that_leave_nothing_to_compare_with() {
    assert!(CanaryPlan::stepped(pct(25.0), pct(100.0)).is_err());
    assert!(CanaryPlan::with_steps(vec![pct(10.0), pct(100.0)]).is_err());
    assert!(CanaryPlan::with_steps(vec![pct(20.0), pct(10.0)]).is_err());
    assert!(CanaryPlan::with_steps(vec![Weight::ZERO, pct(10.0)]).is_err());
    assert!(CanaryPlan::with_steps(vec![]).is_err());
    assert!(CanaryPlan::stepped(pct(60.0), pct(50.0)).is_err());
}

#[test]
fn a_quiet_canary_waits_and_no_data_never_counts_as_failure() {
    let (d, clock) = deployment(Arc::new(Scorer::new(0.0)));
    d.load(2, Arc::new(Scorer::new(0.0))).unwrap();
    let plan = CanaryPlan::stepped(pct(10.0), pct(30.0))
        .unwrap()
        .with_step_length(StepLength::time(Duration::from_secs(60)))
        .with_gate(Arc::new(ErrorRate {
            max: 0.01,
            min_samples: 500,
        }))
        .with_failure_policy(FailurePolicy::Threshold(1));
    let rollout = Rollout::canary(d.clone(), 1, 2, plan).unwrap();
    // A day of hourly ticks with a trickle of traffic: never judged, never failed.
    for _ in 0..24 {
        send(&d, 10);
        clock.advance(Duration::from_secs(3600));
        assert_eq!(
            rollout.tick().unwrap(),
            Phase::Progressing {
                step: 0,
                weight: pct(10.0)
            }
        );
    }
    let status = rollout.status();
    assert_eq!(status.failures, 0);
    let readings = rollout.history().last_readings().unwrap().to_vec();
    assert_eq!(readings[0].verdict, Verdict::NeedMoreData);
    // Once traffic comes, the same step is judged and passes.
    send(&d, 6_000);
    assert_eq!(
        rollout.tick().unwrap(),
        Phase::Progressing {
            step: 1,
            weight: pct(20.0)
        }
    );
}

#[derive(Debug)]
struct Recorder {
    calls: Mutex<Vec<String>>,
    refuse_start: bool,
    /// When set, `confirm_promotion` waits for an answer here (at most 10 s).
    confirm: Mutex<Option<mpsc::Receiver<bool>>>,
    confirm_entered: Mutex<Option<mpsc::Sender<()>>>,
}

impl Recorder {
    fn new() -> Self {
        Recorder {
            calls: Mutex::new(Vec::new()),
            refuse_start: false,
            confirm: Mutex::new(None),
            confirm_entered: Mutex::new(None),
        }
    }

    fn log(&self, what: &str, status: &RolloutStatus) {
        self.calls.lock().unwrap().push(format!("{what}:{:?}", status.phase));
    }
}

impl RolloutHooks for Recorder {
    fn before_rollout(&self, status: &RolloutStatus) -> Result<()> {
        self.log("before", status);
        if self.refuse_start {
            return Err(Error::invalid_input("rollout", "hook", "change freeze", "no freeze"));
        }
        Ok(())
    }

    fn on_step(&self, status: &RolloutStatus) {
        self.log("step", status);
    }

    fn confirm_promotion(&self, status: &RolloutStatus) -> bool {
        self.log("confirm", status);
        if let Some(entered) = self.confirm_entered.lock().unwrap().take() {
            entered.send(()).unwrap();
        }
        match self.confirm.lock().unwrap().take() {
            Some(answer) => answer.recv_timeout(Duration::from_secs(10)).unwrap_or(false),
            None => true,
        }
    }

    fn after_promotion(&self, status: &RolloutStatus) {
        self.log("promoted", status);
    }

    fn on_rollback(&self, status: &RolloutStatus) {
        self.log("rollback", status);
    }
}

fn two_step_plan(hooks: Arc<Recorder>) -> CanaryPlan {
    CanaryPlan::stepped(pct(40.0), pct(80.0))
        .unwrap()
        .with_step_length(StepLength::requests(10))
        .with_gate(Arc::new(ErrorRate {
            max: 0.01,
            min_samples: 10,
        }))
        .with_hooks(hooks)
}

#[test]
fn hooks_are_called_at_each_turning_point_and_can_stop_a_start() {
    let (d, _) = deployment(Arc::new(Scorer::new(0.0)));
    d.load(2, Arc::new(Scorer::new(0.0))).unwrap();
    let hooks = Arc::new(Recorder::new());
    let rollout = Rollout::canary(d.clone(), 1, 2, two_step_plan(hooks.clone())).unwrap();
    while !rollout.tick().unwrap().is_finished() {
        send(&d, 100);
    }
    assert_eq!(
        *hooks.calls.lock().unwrap(),
        [
            "before:Progressing { step: 0, weight: Weight(4000) }",
            "step:Progressing { step: 0, weight: Weight(4000) }",
            "step:Progressing { step: 1, weight: Weight(8000) }",
            "confirm:AwaitingConfirmation",
            "promoted:Completed",
        ]
    );

    let (d, _) = deployment(Arc::new(Scorer::new(0.0)));
    d.load(2, Arc::new(Scorer::new(0.0))).unwrap();
    let refusing = Arc::new(Recorder {
        refuse_start: true,
        ..Recorder::new()
    });
    assert!(Rollout::canary(d.clone(), 1, 2, two_step_plan(refusing)).is_err());
    assert_eq!(d.state().routed, vec![1], "a refused start moves no traffic");
}

#[test]
fn a_pending_confirmation_never_blocks_a_rollback() {
    let (d, _) = deployment(Arc::new(Scorer::new(0.0)));
    d.load(2, Arc::new(Scorer::new(0.0))).unwrap();
    let hooks = Arc::new(Recorder::new());
    let (answer, waiting) = mpsc::channel();
    let (entered_tx, entered) = mpsc::channel();
    *hooks.confirm.lock().unwrap() = Some(waiting);
    *hooks.confirm_entered.lock().unwrap() = Some(entered_tx);
    let rollout = Arc::new(Rollout::canary(d.clone(), 1, 2, two_step_plan(hooks.clone())).unwrap());
    send(&d, 100);
    rollout.tick().unwrap();
    send(&d, 100);
    let ticking = {
        let rollout = rollout.clone();
        std::thread::spawn(move || rollout.tick())
    };
    // The tick is now inside the confirmation hook, waiting for a person.
    entered.recv_timeout(Duration::from_secs(5)).unwrap();
    let started = Instant::now();
    assert_eq!(
        rollout.abort("operator saw a bad dashboard").unwrap(),
        Phase::RolledBack
    );
    assert!(started.elapsed() < Duration::from_secs(2), "abort waited for the hook");
    assert_eq!(send(&d, 100).0[1], 100);
    // The person says yes too late: the rollback stands.
    answer.send(true).unwrap();
    assert_eq!(ticking.join().unwrap().unwrap(), Phase::RolledBack);
    assert_eq!(rollout.status().phase, Phase::RolledBack);
    assert_eq!(send(&d, 100).0[1], 100);
}

#[test]
fn a_slower_candidate_fails_the_relative_latency_gate() {
    // Real time here: the candidate spins 300 µs per call, the stable none.
    let (d, _) = deployment(Arc::new(Scorer::new(0.0)));
    d.load(2, Arc::new(Scorer::new(0.0).busy(Duration::from_micros(300))))
        .unwrap();
    let plan = CanaryPlan::stepped(pct(50.0), pct(50.0))
        .unwrap()
        .with_step_length(StepLength::requests(1_000))
        .with_critical_gate(Arc::new(LatencyVsBaseline {
            allowed_increase: 0.5,
            alpha: 0.01,
            min_samples: 100,
        }));
    let rollout = Rollout::canary(d.clone(), 1, 2, plan).unwrap();
    send(&d, 400);
    assert_eq!(rollout.tick().unwrap(), Phase::RolledBack);
    let readings = rollout.history().last_readings().unwrap().to_vec();
    assert_eq!(readings[0].gate, "latency_vs_baseline");
    assert!(readings[0].value.unwrap() < 1e-6, "{readings:?}");
}
