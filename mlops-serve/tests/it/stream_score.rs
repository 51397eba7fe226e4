//! Stream scoring: order, backpressure, errors in position.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::StreamExt;
use mlops_serve::{Error, Predict, StreamConfig, score_stream};

use crate::doubler::{Affine, BOMB, POISON, xs, ys};

async fn collect<S: futures::Stream + Unpin>(stream: S) -> Vec<S::Item> {
    tokio::time::timeout(Duration::from_secs(10), stream.collect::<Vec<_>>())
        .await
        .expect("timed out")
}

#[tokio::test]
async fn answers_come_out_in_input_order() {
    // Even batches are slow, so answers finish out of order.
    let predictor: Arc<dyn Predict> = Arc::new(Affine::new().with_delay(Duration::from_millis(3)).uneven());
    let inputs: Vec<Vec<f64>> = (0..120)
        .map(|i| (0..1 + i % 4).map(|k| f64::from(i * 10 + k)).collect())
        .collect();
    let input = futures::stream::iter(inputs.clone()).map(|v| Ok(xs(&v)));
    let answers = collect(Box::pin(score_stream(
        predictor,
        input,
        StreamConfig::default().with_max_in_flight(6),
    )))
    .await;
    assert_eq!(answers.len(), inputs.len());
    for (values, answer) in inputs.iter().zip(answers) {
        let expected: Vec<Option<f64>> = values.iter().map(|x| Some(2.0 * x + 1.0)).collect();
        assert_eq!(ys(&answer.unwrap()), expected);
    }
}

#[tokio::test]
async fn the_input_is_not_pulled_past_the_buffer() {
    let predictor: Arc<dyn Predict> = Arc::new(Affine::new());
    let pulled = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&pulled);
    let input = futures::stream::iter(0..1000).map(move |i| {
        counter.fetch_add(1, Ordering::SeqCst);
        Ok(xs(&[f64::from(i) + 0.25])) // never BOMB
    });
    let n = 4;
    let mut answers = Box::pin(score_stream(
        predictor,
        input,
        StreamConfig::default().with_max_in_flight(n),
    ));
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(pulled.load(Ordering::SeqCst), 0, "pulled before the first poll");
    let first = tokio::time::timeout(Duration::from_secs(5), answers.next())
        .await
        .expect("timed out");
    assert_eq!(ys(&first.unwrap().unwrap()), [Some(1.5)]);
    // The consumer stops polling: whatever the compute threads do, the input stays put.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let held = pulled.load(Ordering::SeqCst);
    assert!(held <= n + 1, "pulled {held} items with {n} in flight");
    let rest = collect(answers).await;
    assert_eq!(rest.len(), 999);
    assert!(rest.iter().all(Result::is_ok));
    assert_eq!(pulled.load(Ordering::SeqCst), 1000);
}

#[tokio::test]
async fn errors_keep_their_position_and_the_stream_continues() {
    let predictor: Arc<dyn Predict> = Arc::new(Affine::new());
    let input = futures::stream::iter(vec![
        Ok(xs(&[1.0])),
        Err(Error::corrupt("input.parquet, row group 1", "bad page")),
        Ok(xs(&[2.0, POISON])),
        Ok(xs(&[BOMB])),
        Ok(xs(&[3.0, f64::NAN])),
    ]);
    let answers = collect(Box::pin(score_stream(
        predictor,
        input,
        StreamConfig::default().with_max_in_flight(3),
    )))
    .await;
    assert_eq!(answers.len(), 5);
    assert_eq!(ys(answers[0].as_ref().unwrap()), [Some(3.0)]);
    assert!(matches!(&answers[1], Err(Error::Corrupt { location, .. }) if location.contains("row group 1")));
    assert!(
        matches!(&answers[2], Err(Error::InvalidInput { .. })),
        "{:?}",
        answers[2]
    );
    assert!(
        matches!(&answers[3], Err(Error::Inference { source, .. }) if source.to_string().contains("panicked")),
        "{:?}",
        answers[3]
    );
    let last = answers[4].as_ref().unwrap();
    assert_eq!(ys(last), [Some(7.0), None]);
    assert_eq!(last.rejected_rows, [1]);
}
