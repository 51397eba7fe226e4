//! Every prediction event names the version that answered (real predictors,
//! real packages, one sink shared by both versions).

use std::sync::{Arc, Mutex};

use mlops_core::{LabelValue, PredictionEvent, PredictionSink};
use mlops_serve::deployment::{Split, Weight};
use mlops_serve::{Predictor, PredictorConfig};

use super::support::deployment_of;
use crate::support::{feature_batch, mlp_package};

#[derive(Debug, Default)]
struct Events(Mutex<Vec<PredictionEvent>>);

impl PredictionSink for Events {
    fn record(&self, event: PredictionEvent) {
        self.0.lock().unwrap().push(event);
    }

    fn record_label(&self, _: &str, _: &str, _: i64, _: LabelValue) {}
}

#[test]
fn each_event_is_tagged_with_the_version_that_answered() {
    let sink = Arc::new(Events::default());
    let predictor = |version: u64, seed: u64| {
        let config = PredictorConfig::default()
            .with_version(version)
            .with_sink(sink.clone() as Arc<dyn PredictionSink>);
        Arc::new(Predictor::from_package(&mlp_package(&[4, 8, 1], "identity", None, seed), config).unwrap())
    };
    let d = deployment_of(predictor(7, 1), 7);
    d.load(8, predictor(8, 2)).unwrap();
    d.set_strategy(Arc::new(Split::canary(7, 8, Weight::percent(30.0).unwrap())))
        .unwrap();
    let batch = feature_batch(4, 1, 5);
    let mut answered = [0usize; 2];
    for _ in 0..500 {
        let answer = d.predict(None, &batch).unwrap();
        answered[(answer.version - 7) as usize] += 1;
    }
    let events = sink.0.lock().unwrap();
    let tagged = |v: u64| events.iter().filter(|e| e.version == v).count();
    assert_eq!((tagged(7), tagged(8)), (answered[0], answered[1]));
    assert!(answered[1] > 100, "{answered:?}");
}
