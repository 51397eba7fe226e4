//! Blue/green in virtual time: preview, switch, post-promotion gates, retirement.

use std::sync::Arc;
use std::time::Duration;

use mlops_serve::deployment::{BlueGreenPlan, ErrorRate, Phase, Rollout, RolloutEvent, StepLength, Weight};

use super::support::{Scorer, deployment, drain, send, x};

fn plan() -> BlueGreenPlan {
    BlueGreenPlan::new()
        .with_preview_keys([11, 12, 13])
        .with_mirrored_share(Weight::percent(20.0).unwrap())
        .with_preview_length(StepLength::both(Duration::from_secs(60), 200))
        .with_pre_promotion_gate(Arc::new(ErrorRate {
            max: 0.01,
            min_samples: 200,
        }))
        .with_post_promotion_gate(Arc::new(ErrorRate {
            max: 0.01,
            min_samples: 100,
        }))
        .with_rollback_window(Duration::from_secs(600))
}

#[test]
fn green_previews_on_its_keys_and_mirrored_traffic_then_takes_over_and_blue_retires() {
    let (d, clock) = deployment(Arc::new(Scorer::new(0.0)));
    d.load(2, Arc::new(Scorer::new(0.0))).unwrap();
    let rollout = Rollout::blue_green(d.clone(), 1, 2, plan()).unwrap();

    // Only the preview keys reach green; everyone else gets blue.
    let batch = x(&[0.5]);
    for key in [11, 12, 13] {
        assert_eq!(d.predict(Some(key), &batch).unwrap().version, 2);
    }
    let (by_version, errors) = send(&d, 2_000);
    assert_eq!((by_version[1], by_version[2], errors), (2_000, 0, 0));
    drain(&d, 2);
    // Green was judged on mirrored traffic (about 20 % of it).
    let report = d.shadow_report(2, None).unwrap();
    assert_eq!(report.dropped, 0);
    assert!((300..500).contains(&report.sent), "{report:?}");
    assert_eq!(report.label_disagreement_rate, Some(0.0));

    clock.advance(Duration::from_secs(61));
    assert_eq!(rollout.tick().unwrap(), Phase::Promoted);
    assert_eq!(send(&d, 500).0[2], 500, "one switch: all traffic on green");
    assert_eq!(
        d.state().loaded,
        vec![1, 2],
        "blue stays loaded for its rollback window"
    );

    clock.advance(Duration::from_secs(601));
    assert_eq!(rollout.tick().unwrap(), Phase::Completed);
    assert_eq!(d.state().loaded, vec![2]);
    assert!(matches!(
        rollout.history().records.last().unwrap().event,
        RolloutEvent::Retired { version: 1 }
    ));
}

#[test]
fn a_post_promotion_failure_switches_back_by_itself() {
    let (d, clock) = deployment(Arc::new(Scorer::new(0.0)));
    let green = Arc::new(Scorer::new(0.0));
    d.load(2, green.clone()).unwrap();
    let rollout = Rollout::blue_green(d.clone(), 1, 2, plan()).unwrap();
    send(&d, 2_000);
    drain(&d, 2);
    clock.advance(Duration::from_secs(61));
    assert_eq!(rollout.tick().unwrap(), Phase::Promoted);

    // Green goes bad after the switch: callers see its errors until the next tick…
    green.set_failing(true);
    let (_, errors) = send(&d, 200);
    assert_eq!(errors, 200);
    // …which switches everything back to blue, still loaded.
    assert_eq!(rollout.tick().unwrap(), Phase::RolledBack);
    let (by_version, errors) = send(&d, 200);
    assert_eq!((by_version[1], errors), (200, 0));
}

#[test]
fn a_bad_preview_never_reaches_callers_and_is_rolled_back() {
    let (d, clock) = deployment(Arc::new(Scorer::new(0.0)));
    d.load(2, Arc::new(Scorer::new(0.0).failing_one_in(5))).unwrap();
    let rollout = Rollout::blue_green(d.clone(), 1, 2, plan()).unwrap();
    let (by_version, errors) = send(&d, 2_000);
    assert_eq!(
        (by_version[1], errors),
        (2_000, 0),
        "mirrored failures are invisible to callers"
    );
    drain(&d, 2);
    assert!(d.shadow_report(2, None).unwrap().failed > 0);
    clock.advance(Duration::from_secs(61));
    assert_eq!(rollout.tick().unwrap(), Phase::RolledBack);
    assert_eq!(d.state().routed, vec![1]);
}
