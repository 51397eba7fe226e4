//! The micro-batcher, with real worker threads. Every wait is bounded.

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use arrow_array::{Float64Array, Int64Array, RecordBatch};
use mlops_serve::{Batcher, BatcherConfig, Error, Predict, Request};

use crate::doubler::{Affine, BOMB, Gate, POISON, within, xs, xs32, ys};

fn start(predictor: &Arc<Affine>, config: BatcherConfig) -> Arc<Batcher> {
    Arc::new(Batcher::new(Arc::clone(predictor) as Arc<dyn Predict>, config).unwrap())
}

#[test]
fn concurrent_single_rows_are_merged_into_batches() {
    let predictor = Arc::new(Affine::new().with_delay(Duration::from_millis(5)));
    let batcher = start(
        &predictor,
        BatcherConfig::default().with_workers(1).with_max_batch_rows(64),
    );
    let n = 40;
    let barrier = Arc::new(Barrier::new(n));
    let callers: Vec<_> = (0..n)
        .map(|i| {
            let (batcher, barrier) = (Arc::clone(&batcher), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                (i, batcher.predict(xs(&[i as f64])))
            })
        })
        .collect();
    within(10, move || {
        for caller in callers {
            let (i, answer) = caller.join().unwrap();
            assert_eq!(ys(&answer.unwrap()), [Some(2.0 * i as f64 + 1.0)]);
        }
    });
    let stats = batcher.stats();
    assert_eq!((stats.requests, stats.rows), (n as u64, n as u64));
    assert!(stats.batches < stats.requests, "no merging: {stats:?}");
    assert!(stats.mean_batch_rows() > 1.0);
    assert_eq!(predictor.calls().iter().sum::<usize>(), n);
    assert!(
        predictor.calls().iter().any(|&rows| rows > 1),
        "{:?}",
        predictor.calls()
    );
}

#[test]
fn batched_answers_equal_unbatched_answers_row_for_row() {
    let predictor = Arc::new(Affine::new().with_delay(Duration::from_millis(1)));
    let config = BatcherConfig::default()
        .with_workers(2)
        .with_max_batch_rows(16)
        .with_max_delay(Duration::from_millis(2));
    let batcher = start(&predictor, config);
    let reference = Affine::new();
    let callers: Vec<_> = (0..4)
        .map(|t| {
            let batcher = Arc::clone(&batcher);
            std::thread::spawn(move || {
                (0..25)
                    .map(|r| {
                        let rows = 1 + (t + r) % 5;
                        let values: Vec<f64> = (0..rows)
                            .map(|k| {
                                if (t + r + k) % 7 == 3 {
                                    f64::NAN
                                } else {
                                    (100 * t + 10 * r + k) as f64
                                }
                            })
                            .collect();
                        let request = xs(&values);
                        (request.clone(), batcher.predict(request))
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let results = within(10, move || {
        callers.into_iter().flat_map(|c| c.join().unwrap()).collect::<Vec<_>>()
    });
    assert_eq!(results.len(), 100);
    for (request, answer) in results {
        let answer = answer.unwrap();
        let alone = reference.predict_detailed(&request).unwrap();
        assert_eq!(ys(&answer), ys(&alone));
        assert_eq!(answer.batch, alone.batch);
        assert_eq!(answer.rejected_rows, alone.rejected_rows);
        assert_eq!(answer.rejected.len(), alone.rejected.len());
        for (a, b) in answer.rejected.iter().zip(&alone.rejected) {
            assert_eq!((&a.rows, a.count), (&b.rows, b.count));
        }
    }
    assert!(batcher.stats().batches < 100, "{:?}", batcher.stats());
}

#[test]
fn a_full_queue_refuses_at_once() {
    let gate = Gate::new();
    let predictor = Arc::new(Affine::new().with_gate(&gate));
    let batcher = start(
        &predictor,
        BatcherConfig::default().with_workers(1).with_queue_capacity(2),
    );
    let running = batcher.submit(Request::new(xs(&[1.0]))).unwrap();
    gate.wait_entered(1); // the worker holds the first request; the queue is empty
    let queued = [
        batcher.submit(Request::new(xs(&[2.0]))).unwrap(),
        batcher.submit(Request::new(xs(&[3.0]))).unwrap(),
    ];
    let started = Instant::now();
    let refused = batcher.submit(Request::new(xs(&[4.0])));
    assert!(started.elapsed() < Duration::from_millis(100));
    match refused {
        Err(Error::Overloaded { capacity, what }) => {
            assert_eq!(capacity, 2);
            assert!(what.contains("affine"), "{what}");
        }
        other => panic!("expected Overloaded, got {other:?}"),
    }
    assert_eq!(batcher.queued(), 2);
    gate.open();
    let answers = within(5, move || {
        let mut all = vec![running.wait().unwrap()];
        all.extend(queued.map(|t| t.wait().unwrap()));
        all
    });
    assert_eq!(
        answers.iter().map(|a| ys(a)[0].unwrap()).collect::<Vec<_>>(),
        [3.0, 5.0, 7.0]
    );
    assert_eq!(batcher.stats().overloaded, 1);
    assert!(!predictor.seen().contains(&4.0));
}

#[test]
fn an_expired_request_is_refused_and_never_computed() {
    let gate = Gate::new();
    let predictor = Arc::new(Affine::new().with_gate(&gate));
    let config = BatcherConfig::default()
        .with_workers(1)
        .with_default_deadline(Some(Duration::from_millis(20)));
    let batcher = start(&predictor, config);
    let running = batcher
        .submit(Request::new(xs(&[1.0])).with_deadline(Duration::from_secs(30)))
        .unwrap();
    gate.wait_entered(1);
    let late = batcher.submit(Request::new(xs(&[42.0]))).unwrap(); // default deadline: 20 ms
    let overridden = batcher
        .submit(Request::new(xs(&[43.0])).with_deadline(Duration::from_secs(30)))
        .unwrap();
    std::thread::sleep(Duration::from_millis(60));
    gate.open();
    let (running, late, overridden) = within(5, move || (running.wait(), late.wait(), overridden.wait()));
    assert_eq!(ys(&running.unwrap()), [Some(3.0)]);
    assert_eq!(ys(&overridden.unwrap()), [Some(87.0)]);
    match late {
        Err(Error::DeadlineExceeded {
            waited_us, allowed_us, ..
        }) => {
            assert_eq!(allowed_us, 20_000);
            assert!(waited_us >= 20_000, "{waited_us}");
        }
        other => panic!("expected DeadlineExceeded, got {other:?}"),
    }
    assert!(!predictor.seen().contains(&42.0), "the expired row was computed");
    assert_eq!(batcher.stats().expired, 1);
}

#[tokio::test]
async fn async_callers_get_their_own_answers() {
    let predictor = Arc::new(Affine::new().with_delay(Duration::from_millis(2)));
    let batcher = start(&predictor, BatcherConfig::default().with_workers(2));
    let calls = (0..30).map(|i| {
        let batcher = Arc::clone(&batcher);
        async move { (i, batcher.predict_async(xs(&[f64::from(i), f64::NAN])).await) }
    });
    let answers = tokio::time::timeout(Duration::from_secs(5), futures::future::join_all(calls))
        .await
        .expect("timed out");
    for (i, answer) in answers {
        let answer = answer.unwrap();
        assert_eq!(ys(&answer), [Some(2.0 * f64::from(i) + 1.0), None]);
        assert_eq!(answer.rejected_rows, [1]);
    }
    // A ticket can be awaited too.
    let ticket = batcher.submit(Request::new(xs(&[5.0]))).unwrap();
    let answer = tokio::time::timeout(Duration::from_secs(5), ticket)
        .await
        .expect("timed out");
    assert_eq!(ys(&answer.unwrap()), [Some(11.0)]);
}

#[test]
fn a_panicking_predictor_fails_only_its_request_and_the_worker_lives_on() {
    let gate = Gate::new();
    let predictor = Arc::new(Affine::new().with_gate(&gate));
    let batcher = start(&predictor, BatcherConfig::default().with_workers(1));
    let first = batcher.submit(Request::new(xs(&[0.0]))).unwrap();
    gate.wait_entered(1);
    // Queued together, so they are merged into one batch that panics.
    let tickets: Vec<_> = [1.0, BOMB, 2.0, 3.0]
        .into_iter()
        .map(|x| batcher.submit(Request::new(xs(&[x]))).unwrap())
        .collect();
    gate.open();
    let answers = within(5, move || {
        first.wait().unwrap();
        tickets.into_iter().map(|t| t.wait()).collect::<Vec<_>>()
    });
    assert_eq!(ys(answers[0].as_ref().unwrap()), [Some(3.0)]);
    match &answers[1] {
        Err(Error::Inference { source, .. }) => assert!(source.to_string().contains("panicked"), "{source}"),
        other => panic!("expected Inference, got {other:?}"),
    }
    assert_eq!(ys(answers[2].as_ref().unwrap()), [Some(5.0)]);
    assert_eq!(ys(answers[3].as_ref().unwrap()), [Some(7.0)]);
    // The single worker is still there.
    let b = Arc::clone(&batcher);
    let after = within(5, move || b.predict(xs(&[10.0])));
    assert_eq!(ys(&after.unwrap()), [Some(21.0)]);
    assert_eq!(batcher.stats().failed, 1);
}

#[test]
fn a_failing_request_is_isolated_from_its_neighbours() {
    let gate = Gate::new();
    let predictor = Arc::new(Affine::new().with_gate(&gate));
    let batcher = start(&predictor, BatcherConfig::default().with_workers(1));
    let first = batcher.submit(Request::new(xs(&[0.0]))).unwrap();
    gate.wait_entered(1);
    let values: Vec<f64> = (1..=16).map(|i| if i == 11 { POISON } else { f64::from(i) }).collect();
    let tickets: Vec<_> = values
        .iter()
        .map(|&x| batcher.submit(Request::new(xs(&[x, x + 0.5]))).unwrap())
        .collect();
    gate.open();
    let answers = within(5, move || {
        first.wait().unwrap();
        tickets.into_iter().map(|t| t.wait()).collect::<Vec<_>>()
    });
    for (&x, answer) in values.iter().zip(&answers) {
        if x == POISON {
            assert!(matches!(answer, Err(Error::InvalidInput { .. })), "{answer:?}");
        } else {
            assert_eq!(ys(answer.as_ref().unwrap()), [Some(2.0 * x + 1.0), Some(2.0 * x + 2.0)]);
        }
    }
    let stats = batcher.stats();
    assert_eq!(stats.failed, 1);
    // 1 (first) + 1 (merged) + bisection down to the bad request: 2 calls per level, 4 levels.
    assert!(stats.batches <= 1 + 1 + 8, "{stats:?}");
}

#[test]
fn shutdown_answers_everything_queued() {
    let gate = Gate::new();
    let predictor = Arc::new(Affine::new().with_gate(&gate));
    let batcher = Batcher::new(
        Arc::clone(&predictor) as Arc<dyn Predict>,
        BatcherConfig::default().with_workers(1).with_max_batch_rows(2),
    )
    .unwrap();
    let tickets: Vec<_> = (0..7)
        .map(|i| batcher.submit(Request::new(xs(&[f64::from(i)]))).unwrap())
        .collect();
    gate.wait_entered(1);
    let stopping = std::thread::spawn(move || batcher.shutdown());
    std::thread::sleep(Duration::from_millis(20));
    gate.open();
    within(5, move || stopping.join().unwrap());
    // The workers are joined: every answer is already there.
    for (i, ticket) in tickets.into_iter().enumerate() {
        assert_eq!(
            ys(&within(1, move || ticket.wait()).unwrap()),
            [Some(2.0 * i as f64 + 1.0)]
        );
    }
    assert_eq!(predictor.calls().iter().sum::<usize>(), 7);
}

#[test]
fn dropping_the_batcher_answers_everything_queued() {
    let predictor = Arc::new(Affine::new().with_delay(Duration::from_millis(2)));
    let batcher = start(&predictor, BatcherConfig::default().with_workers(1));
    let tickets: Vec<_> = (0..5)
        .map(|i| batcher.submit(Request::new(xs(&[f64::from(i)]))).unwrap())
        .collect();
    within(5, move || drop(batcher));
    for ticket in tickets {
        within(1, move || ticket.wait()).unwrap();
    }
}

#[test]
fn rejected_rows_are_renumbered_per_request() {
    let gate = Gate::new();
    let predictor = Arc::new(Affine::new().with_gate(&gate));
    let batcher = start(&predictor, BatcherConfig::default().with_workers(1));
    let first = batcher.submit(Request::new(xs(&[0.0]))).unwrap();
    gate.wait_entered(1);
    let a = batcher.submit(Request::new(xs(&[1.0, f64::NAN]))).unwrap();
    let b = batcher
        .submit(Request::new(xs(&[3.0, f64::NAN, 5.0, f64::NAN])))
        .unwrap();
    let c = batcher.submit(Request::new(xs(&[6.0]))).unwrap();
    gate.open();
    let (a, b, c) = within(5, move || {
        first.wait().unwrap();
        (a.wait().unwrap(), b.wait().unwrap(), c.wait().unwrap())
    });
    assert_eq!(
        predictor.calls(),
        [1, 7],
        "the three requests were merged into one call"
    );
    assert_eq!(a.rejected_rows, [1]);
    assert_eq!(b.rejected_rows, [1, 3]);
    assert_eq!((b.rejected[0].count, b.rejected[0].rows.clone()), (2, vec![1, 3]));
    assert_eq!(ys(&b), [Some(7.0), None, Some(11.0), None]);
    assert!(c.rejected_rows.is_empty() && c.rejected.is_empty());
}

#[test]
fn requests_are_projected_to_the_model_inputs() {
    let gate = Gate::new();
    let predictor = Arc::new(Affine::new().with_gate(&gate));
    let batcher = start(&predictor, BatcherConfig::default().with_workers(1));
    let first = batcher.submit(Request::new(xs(&[0.0]))).unwrap();
    gate.wait_entered(1);
    // Extra column, other column order, another float width: all accepted.
    let with_id = RecordBatch::try_from_iter([
        ("id", Arc::new(Int64Array::from(vec![7, 8])) as _),
        ("x", Arc::new(Float64Array::from(vec![1.0, 2.0])) as _),
    ])
    .unwrap();
    let a = batcher.submit(Request::new(with_id)).unwrap();
    let b = batcher.submit(Request::new(xs(&[3.0]))).unwrap();
    let c = batcher.submit(Request::new(xs32(&[4.0]))).unwrap();
    // A request without `x` is refused on its own, at once.
    let no_x = RecordBatch::try_from_iter([("z", Arc::new(Float64Array::from(vec![1.0])) as _)]).unwrap();
    match batcher.submit(Request::new(no_x)) {
        Err(Error::SchemaMismatch { message, .. }) => assert!(message.contains("`x`"), "{message}"),
        other => panic!("expected SchemaMismatch, got {other:?}"),
    }
    gate.open();
    let (a, b, c) = within(5, move || {
        first.wait().unwrap();
        (a.wait().unwrap(), b.wait().unwrap(), c.wait().unwrap())
    });
    assert_eq!(ys(&a), [Some(3.0), Some(5.0)]);
    assert_eq!(ys(&b), [Some(7.0)]);
    assert_eq!(ys(&c), [Some(9.0)]);
    // The two Float64 requests share a call; the Float32 one has its own.
    let mut calls = predictor.calls();
    calls.sort_unstable();
    assert_eq!(calls, [1, 1, 3]);
}

#[test]
fn requests_on_alternating_shared_schemas_each_find_their_own_columns() {
    // The batcher reuses the projection of the last request schema it saw;
    // alternating two schemas with `x` at different positions must still
    // read `x` every time, never the other column.
    use arrow_schema::{DataType, Field, Schema};
    let predictor = Arc::new(Affine::new());
    let batcher = start(&predictor, BatcherConfig::default().with_workers(1));
    let id_first = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Float64, false),
        Field::new("x", DataType::Float64, false),
    ]));
    let x_first = Arc::new(Schema::new(vec![
        Field::new("x", DataType::Float64, false),
        Field::new("id", DataType::Float64, false),
    ]));
    let answers = within(5, move || {
        (0..40)
            .map(|i| {
                let x = f64::from(i);
                let id = Arc::new(Float64Array::from(vec![1000.0 + x])) as _;
                let xv = Arc::new(Float64Array::from(vec![x])) as _;
                let batch = if i % 3 == 0 {
                    RecordBatch::try_new(Arc::clone(&x_first), vec![xv, id]).unwrap()
                } else {
                    RecordBatch::try_new(Arc::clone(&id_first), vec![id, xv]).unwrap()
                };
                ys(&batcher.predict(batch).unwrap())[0]
            })
            .collect::<Vec<_>>()
    });
    let expected: Vec<Option<f64>> = (0..40).map(|i| Some(2.0 * f64::from(i) + 1.0)).collect();
    assert_eq!(answers, expected);
}

#[test]
fn with_a_delay_a_worker_waits_for_a_full_batch() {
    let predictor = Arc::new(Affine::new());
    let config = BatcherConfig::default()
        .with_workers(1)
        .with_max_batch_rows(4)
        .with_max_delay(Duration::from_millis(300));
    let batcher = start(&predictor, config);
    let started = Instant::now();
    let tickets: Vec<_> = (0..4)
        .map(|i| batcher.submit(Request::new(xs(&[f64::from(i)]))).unwrap())
        .collect();
    within(5, move || tickets.into_iter().for_each(|t| drop(t.wait().unwrap())));
    assert_eq!(predictor.calls(), [4], "four rows went as one batch");
    // A lone request waits for the delay, then goes.
    let b = Arc::clone(&batcher);
    let lone = within(5, move || {
        let started = Instant::now();
        (b.predict(xs(&[9.0])), started.elapsed())
    });
    assert_eq!(ys(&lone.0.unwrap()), [Some(19.0)]);
    assert!(lone.1 >= Duration::from_millis(300), "{:?}", lone.1);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn settings_out_of_range_are_named() {
    let predictor: Arc<dyn Predict> = Arc::new(Affine::new());
    for (config, field) in [
        (BatcherConfig::default().with_queue_capacity(0), "queue_capacity"),
        (BatcherConfig::default().with_max_batch_rows(0), "max_batch_rows"),
        (BatcherConfig::default().with_workers(0), "workers"),
        (
            BatcherConfig::default().with_default_deadline(Some(Duration::ZERO)),
            "default_deadline",
        ),
        (BatcherConfig::default().with_spin(Duration::MAX), "spin"),
        (
            BatcherConfig::default().with_max_delay(BatcherConfig::MAX_DELAY + Duration::from_nanos(1)),
            "max_delay",
        ),
    ] {
        match Batcher::new(Arc::clone(&predictor), config) {
            Err(e @ Error::InvalidInput { .. }) => assert!(e.to_string().contains(field), "{e}"),
            other => panic!("expected InvalidInput for {field}, got {other:?}"),
        }
    }
}

#[test]
fn a_dropped_ticket_withdraws_its_request() {
    let gate = Gate::new();
    let predictor = Arc::new(Affine::new().with_gate(&gate));
    let batcher = start(&predictor, BatcherConfig::default().with_workers(1));
    let first = batcher.submit(Request::new(xs(&[0.0]))).unwrap();
    gate.wait_entered(1);
    drop(batcher.submit(Request::new(xs(&[77.0]))).unwrap());
    let kept = batcher.submit(Request::new(xs(&[1.0]))).unwrap();
    gate.open();
    within(5, move || {
        first.wait().unwrap();
        kept.wait().unwrap();
    });
    assert!(!predictor.seen().contains(&77.0));
    assert_eq!(batcher.stats().cancelled, 1);
}
