//! Micro-batching: many small requests, few predictor calls (Triton's dynamic batching).

mod config;
mod merge;
mod payload;
mod poll_slot;
mod queue;
mod worker;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{JoinHandle, Thread};
use std::time::{Duration, Instant};

use arrow_array::{RecordBatch, RecordBatchOptions};
use arrow_schema::{Schema, SchemaRef};
use futures_channel::oneshot;

pub use config::BatcherConfig;
use payload::Payload;
use poll_slot::{Held, PollSlot};
use queue::{InFlight, Job, Queue};
pub(crate) use worker::predict_guarded;
use worker::{Counters, Shared};

use crate::{Error, Predict, Prediction, Result};

/// Merges concurrent requests into batches for a predictor, on dedicated worker threads.
///
/// Callers put requests (a [`RecordBatch`], usually of one row) on a bounded
/// queue; worker threads take what is queued, merge it into one batch, call
/// the predictor once and split the answer back per request.
///
/// - **Admission.** A full queue refuses at once with [`Error::Overloaded`]; a
///   request without a column the model needs is refused at once with
///   [`Error::SchemaMismatch`]. Requests are projected to the model's input
///   columns on entry, so extra columns and column order never stop a merge.
/// - **Deadlines.** A request taken after its deadline is answered with
///   [`Error::DeadlineExceeded`] and never computed.
/// - **Failure isolation.** When a merged call fails (an error or a panic in
///   the predictor), the batch is split in halves and each half is retried,
///   down to single requests: only the requests that fail alone get an error,
///   in about 2·log2(n) extra calls for one bad request among n (re-running
///   each request alone would take n). A panic is caught; the worker lives on.
/// - **Shutdown.** [`Batcher::shutdown`] (or dropping the batcher) stops
///   accepting, computes and answers everything queued, and joins the workers.
///
/// ```
/// # use std::sync::Arc;
/// # use arrow_array::{cast::AsArray, types::Float64Type, Float64Array, RecordBatch};
/// # use arrow_schema::{DataType, Field, Schema, SchemaRef};
/// # use mlops_serve::{Predict, Prediction};
/// # /// y = 2x + 1 over column `x`.
/// # #[derive(Debug)]
/// # struct Affine;
/// # impl Predict for Affine {
/// #     fn model_name(&self) -> &str { "affine" }
/// #     fn input_schema(&self) -> SchemaRef { Arc::new(Schema::new(vec![Field::new("x", DataType::Float64, true)])) }
/// #     fn output_schema(&self) -> SchemaRef { Arc::new(Schema::new(vec![Field::new("y", DataType::Float64, true)])) }
/// #     fn predict_detailed(&self, batch: &RecordBatch) -> mlops_serve::Result<Prediction> {
/// #         let x = batch.column_by_name("x").and_then(|c| c.as_primitive_opt::<Float64Type>()).ok_or_else(|| {
/// #             mlops_serve::Error::invalid_input("batch", "x", "missing or not Float64", "a Float64 column `x`")
/// #         })?;
/// #         let y = x.unary::<_, Float64Type>(|v| 2.0 * v + 1.0);
/// #         Ok(Prediction::clean(RecordBatch::try_new(self.output_schema(), vec![Arc::new(y)]).map_err(
/// #             |source| mlops_serve::Error::Arrow { location: "affine".into(), source })?))
/// #     }
/// # }
/// use std::time::Duration;
/// use mlops_serve::{Batcher, BatcherConfig, Request};
///
/// // `Affine` implements `Predict`: y = 2x + 1.
/// let batcher = Batcher::new(Arc::new(Affine), BatcherConfig::default().with_workers(2))?;
/// let row = |x: f64| RecordBatch::try_from_iter([("x", Arc::new(Float64Array::from(vec![x])) as _)]);
///
/// // Blocking callers (async callers use `predict_async`).
/// let answer = batcher.predict(row(1.0)?)?;
/// assert_eq!(answer.batch.column(0).as_primitive::<Float64Type>().values(), &[3.0]);
///
/// // With a deadline: a request still queued after 50 ms is refused, not computed.
/// let ticket = batcher.submit(Request::new(row(2.0)?).with_deadline(Duration::from_millis(50)))?;
/// assert_eq!(ticket.wait()?.batch.column(0).as_primitive::<Float64Type>().values(), &[5.0]);
///
/// println!("{:?}", batcher.stats());
/// batcher.shutdown();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Batcher {
    shared: Arc<Shared>,
    config: BatcherConfig,
    /// The model's input columns, in its order.
    input_schema: SchemaRef,
    /// The projection of the last request schema seen (see `project`).
    projection: RwLock<Option<Projection>>,
    workers: Vec<JoinHandle<()>>,
}

/// Where the model's input columns are in one request schema.
#[derive(Clone)]
struct Projection {
    given: SchemaRef,
    schema: SchemaRef,
    indices: Arc<[usize]>,
}

impl fmt::Debug for Batcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Batcher")
            .field("model", &self.shared.predictor.model_name())
            .field("config", &self.config)
            .field("queued", &self.queued())
            .field("stats", &self.stats())
            .finish()
    }
}

impl Batcher {
    /// Starts `config.workers` worker threads for `predictor`.
    ///
    /// Fails with [`Error::InvalidInput`] naming the first setting out of
    /// range, or [`Error::Io`] when a thread cannot be started.
    pub fn new(predictor: Arc<dyn Predict>, config: BatcherConfig) -> Result<Batcher> {
        config.validate()?;
        let location = format!("batcher of model `{}`", predictor.model_name());
        let input_schema = predictor.input_schema();
        let shared = Arc::new(Shared {
            predictor,
            queue: Queue::new(
                config.queue_capacity,
                config.max_batch_rows,
                config.max_delay,
                config.spin,
            ),
            counters: Counters::default(),
            location,
            poll_slot: PollSlot::new(),
            in_flight: Arc::new(AtomicUsize::new(0)),
        });
        let mut batcher = Batcher {
            shared,
            config,
            input_schema,
            projection: RwLock::new(None),
            workers: Vec::new(),
        };
        for i in 0..batcher.config.workers {
            let shared = Arc::clone(&batcher.shared);
            let spawned = std::thread::Builder::new()
                .name(format!("mlops-batcher-{i}"))
                .spawn(move || worker::run(&shared));
            match spawned {
                Ok(handle) => batcher.workers.push(handle),
                // Dropping `batcher` stops and joins the workers already started.
                Err(source) => {
                    return Err(Error::Io {
                        location: format!("{} (starting worker {i})", batcher.shared.location),
                        source,
                    });
                }
            }
        }
        Ok(batcher)
    }

    /// The settings it runs with.
    pub fn config(&self) -> &BatcherConfig {
        &self.config
    }

    /// Answers `batch`, blocking the calling thread until a worker has. Async
    /// code should call [`predict_async`](Self::predict_async) instead.
    pub fn predict(&self, batch: RecordBatch) -> Result<Prediction> {
        self.submit(Request::new(batch))?.wait()
    }

    /// Answers `batch` without blocking the executor (any executor: the
    /// answer arrives on a one-shot channel).
    pub async fn predict_async(&self, batch: RecordBatch) -> Result<Prediction> {
        self.submit(Request::new(batch))?.await
    }

    /// Queues `request` and returns at once with a [`Ticket`] for its answer.
    ///
    /// Fails at once with [`Error::Overloaded`] when the queue is full, or
    /// [`Error::SchemaMismatch`] when the request lacks an input column.
    pub fn submit(&self, request: Request) -> Result<Ticket> {
        let payload = self.project(&request.batch)?;
        let (reply, answer) = oneshot::channel();
        let (in_flight, others) = InFlight::enter(&self.shared.in_flight);
        let job = Job {
            payload,
            in_flight,
            enqueued: Instant::now(),
            deadline: request.deadline.or(self.config.default_deadline),
            reply,
        };
        let counters = &self.shared.counters;
        match self.shared.queue.push(job) {
            Ok(()) => {
                Counters::add(&counters.requests, 1);
                // Alone, the answer is one forward pass away (no delay to wait out).
                let alone = others == 0 && self.config.max_delay.is_zero();
                Ok(Ticket::new(answer, self.config.spin, Arc::clone(&self.shared), alone))
            }
            Err(_) => {
                Counters::add(&counters.overloaded, 1);
                Err(Error::Overloaded {
                    what: format!("queue of the {}", self.shared.location),
                    capacity: self.shared.queue.capacity(),
                })
            }
        }
    }

    /// The request's input columns in the model's order, each field nullable
    /// and otherwise as the request typed it; packed into one buffer when
    /// they are all one float type without nulls and the request will likely
    /// be merged with others: it is smaller than `max_batch_rows`, and no
    /// worker is idle or workers wait `max_delay` to gather batches (see
    /// `payload.rs`).
    /// A request an idle worker will take alone goes as it came: packing
    /// would only add a copy and 64 new arrays to a lone request (measured:
    /// p50 15 → 21 µs with one caller).
    ///
    /// Callers usually build every request on one shared schema, so the
    /// projection of the last schema seen is kept and reused while the
    /// request's schema is that same `Arc`: no name lookups and no new
    /// schema per request (each was ~70 allocations, freed on a worker thread).
    fn project(&self, batch: &RecordBatch) -> Result<Payload> {
        let given = batch.schema();
        let cached = self
            .projection
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .filter(|p| Arc::ptr_eq(&p.given, &given))
            .cloned();
        let projection = match cached {
            Some(projection) => projection,
            None => {
                let projection = self.projection_of(&given)?;
                *self.projection.write().unwrap_or_else(PoisonError::into_inner) = Some(projection.clone());
                projection
            }
        };
        // With a delay configured, a waiting worker is gathering a batch:
        // the request will be merged, so it is packed whatever the workers do.
        // A request that fills a batch by itself is always taken alone.
        let merged_likely = batch.num_rows() < self.config.max_batch_rows
            && (!self.config.max_delay.is_zero() || !self.shared.queue.has_idle_worker());
        if merged_likely && let Some(packed) = Payload::pack(batch, &projection.indices, &projection.schema) {
            return Ok(packed);
        }
        let columns = projection
            .indices
            .iter()
            .map(|&i| Arc::clone(batch.column(i)))
            .collect();
        let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
        RecordBatch::try_new_with_options(projection.schema, columns, &options)
            .map(Payload::Batch)
            .map_err(|source| Error::Arrow {
                location: format!("request to the {}", self.shared.location),
                source,
            })
    }

    /// Where the model's input columns are in `given`, and the projected schema.
    fn projection_of(&self, given: &SchemaRef) -> Result<Projection> {
        let mut fields = Vec::with_capacity(self.input_schema.fields().len());
        let mut indices = Vec::with_capacity(fields.capacity());
        for wanted in self.input_schema.fields() {
            let Ok(index) = given.index_of(wanted.name()) else {
                let present: Vec<&str> = given.fields().iter().map(|f| f.name().as_str()).collect();
                return Err(Error::SchemaMismatch {
                    location: format!("request to the {}", self.shared.location),
                    message: format!(
                        "missing input column `{}` (the request has: {})",
                        wanted.name(),
                        present.join(", ")
                    ),
                });
            };
            fields.push(given.field(index).clone().with_nullable(true));
            indices.push(index);
        }
        Ok(Projection {
            given: Arc::clone(given),
            schema: Arc::new(Schema::new(fields)),
            indices: indices.into(),
        })
    }

    /// Requests waiting now.
    pub fn queued(&self) -> usize {
        self.shared.queue.len()
    }

    /// The counters so far.
    pub fn stats(&self) -> BatcherStats {
        let c = &self.shared.counters;
        let read = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        BatcherStats {
            requests: read(&c.requests),
            batches: read(&c.batches),
            rows: read(&c.rows),
            overloaded: read(&c.overloaded),
            expired: read(&c.expired),
            cancelled: read(&c.cancelled),
            failed: read(&c.failed),
        }
    }

    /// Stops accepting requests, answers every queued one (computing it) and
    /// joins the workers. Dropping the batcher does the same.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.shared.queue.close();
        for handle in self.workers.drain(..) {
            if handle.join().is_err() {
                // Unreachable in practice: predictor panics are caught inside the worker.
                tracing::error!(location = %self.shared.location, "a batcher worker ended with a panic");
            }
        }
    }
}

/// A batcher answers like the predictor it fronts, so it can stand wherever a
/// predictor does (a [`Deployment`](crate::deployment::Deployment)'s arm):
/// each call blocks its thread until a worker has answered it, merged with
/// whatever else is queued. A full queue is [`Error::Overloaded`].
impl Predict for Batcher {
    fn version(&self) -> Option<u64> {
        self.shared.predictor.version()
    }

    fn model_name(&self) -> &str {
        self.shared.predictor.model_name()
    }

    fn input_schema(&self) -> SchemaRef {
        self.shared.predictor.input_schema()
    }

    fn output_schema(&self) -> SchemaRef {
        self.shared.predictor.output_schema()
    }

    fn predict_detailed(&self, batch: &RecordBatch) -> Result<Prediction> {
        Batcher::predict(self, batch.clone())
    }
}

impl Drop for Batcher {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A request to a [`Batcher`]: rows to answer, and optionally a deadline.
#[derive(Clone, Debug)]
pub struct Request {
    batch: RecordBatch,
    deadline: Option<Duration>,
}

impl Request {
    /// A request for every row of `batch`, with the batcher's default deadline.
    pub fn new(batch: RecordBatch) -> Self {
        Request { batch, deadline: None }
    }

    /// Refuse the request ([`Error::DeadlineExceeded`]) if no worker has taken
    /// it within `deadline` of its submission; overrides
    /// [`BatcherConfig::default_deadline`].
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }
}

/// The answer to a submitted request, to come: [`wait`](Self::wait) for it,
/// or `.await` it. Dropping the ticket withdraws the request if no worker
/// has taken it yet.
///
/// One waiting caller at a time polls for its answer for up to
/// [`BatcherConfig::spin`] before it sleeps: a blocked thread spins; an
/// awaited ticket whose request was the only one in flight yields, to be
/// polled again when its executor has no other ready task, so the
/// executor's thread does not park. The others sleep until their answer comes.
pub struct Ticket {
    answer: oneshot::Receiver<Result<Prediction>>,
    /// How long this caller may poll before sleeping (the config's `spin`).
    spin: Duration,
    /// The batcher's state (its poll slot, its name).
    shared: Arc<Shared>,
    /// Whether this ticket has asked for the poll slot yet.
    asked: bool,
    /// The poll slot, while this ticket holds it.
    held: Option<Held>,
    /// Whether an awaited ticket may poll: its request was the only one in
    /// flight. With others in flight, the executor's thread is better spent
    /// on the tasks that send the next requests (measured on 2 cores, 8 and
    /// 32 tokio callers on one thread: 0.91–0.93× the requests/s when the
    /// ticket could poll whenever a worker was idle).
    alone: bool,
}

impl fmt::Debug for Ticket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ticket")
            .field("location", &self.shared.location)
            .field("polling", &self.held.is_some())
            .finish_non_exhaustive()
    }
}

impl Ticket {
    /// `alone`: its request was the only one in flight when it was queued.
    fn new(answer: oneshot::Receiver<Result<Prediction>>, spin: Duration, shared: Arc<Shared>, alone: bool) -> Self {
        Ticket {
            answer,
            spin,
            shared,
            asked: false,
            held: None,
            alone,
        }
    }

    /// Blocks the calling thread until the answer arrives.
    pub fn wait(mut self) -> Result<Prediction> {
        let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
        let mut cx = Context::from_waker(&waker);
        loop {
            match self.poll_answer(&mut cx) {
                Poll::Ready(answer) => return answer,
                Poll::Pending if self.polling() => std::hint::spin_loop(),
                // Spurious wake-ups only cost another poll.
                Poll::Pending => std::thread::park(),
            }
        }
    }

    /// Whether this caller should poll again rather than sleep: it holds the
    /// poll slot (asking for it the first time) and its time is not up.
    fn polling(&mut self) -> bool {
        if !self.asked {
            self.asked = true;
            self.held = self.shared.poll_slot.try_take(self.spin);
        }
        if self.held.is_some_and(|held| held.expired()) {
            self.give_back_slot();
        }
        self.held.is_some()
    }

    fn give_back_slot(&mut self) {
        if let Some(held) = self.held.take() {
            self.shared.poll_slot.release(held);
        }
    }

    /// The answer if it has come (the slot given back then), registering
    /// `cx`'s waker otherwise.
    fn poll_answer(&mut self, cx: &mut Context<'_>) -> Poll<Result<Prediction>> {
        let answer = match Pin::new(&mut self.answer).poll(cx) {
            Poll::Ready(Ok(answer)) => answer,
            Poll::Ready(Err(oneshot::Canceled)) => Err(Error::inference(
                self.shared.location.clone(),
                "the request was dropped unanswered",
            )),
            Poll::Pending => return Poll::Pending,
        };
        self.give_back_slot();
        Poll::Ready(answer)
    }
}

impl Future for Ticket {
    type Output = Result<Prediction>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let answer = self.poll_answer(cx);
        if answer.is_pending() && self.alone && self.polling() {
            // Be polled again once the executor has run its other ready tasks,
            // instead of parking its thread until the worker's wake-up
            // arrives. Tokio's yield defers the wake-up until then (waking at
            // once would put this task ahead of the tasks that send the next
            // requests: measured, 32 tokio callers got half the batch size
            // and 0.64× the requests/s); outside a Tokio runtime it wakes at once.
            let _ = std::pin::pin!(tokio::task::yield_now()).poll(cx);
        }
        answer
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.give_back_slot();
    }
}

/// Wakes a thread parked in [`Ticket::wait`].
struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// A [`Batcher`]'s counters since it started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BatcherStats {
    /// Requests accepted into the queue.
    pub requests: u64,
    /// Predictor calls (merged batches, plus the retries that isolate a failure).
    pub batches: u64,
    /// Rows passed to the predictor.
    pub rows: u64,
    /// Requests refused because the queue was full.
    pub overloaded: u64,
    /// Requests refused because their deadline passed while queued.
    pub expired: u64,
    /// Requests withdrawn (ticket dropped) before a worker took them.
    pub cancelled: u64,
    /// Requests answered with an error by the predictor (after isolation).
    pub failed: u64,
}

impl BatcherStats {
    /// Mean rows per predictor call (0 before the first call).
    pub fn mean_batch_rows(&self) -> f64 {
        if self.batches == 0 {
            0.0
        } else {
            self.rows as f64 / self.batches as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use arrow_array::{ArrayRef, Float64Array};

    use super::*;
    use crate::deployment::doc_support::Affine;

    fn xs(rows: usize) -> RecordBatch {
        let x: ArrayRef = Arc::new(Float64Array::from(vec![1.0; rows]));
        RecordBatch::try_from_iter([("x", x)]).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_request_that_fills_a_batch_is_sent_as_it_came() {
        // With a delay, workers gather batches: smaller requests are packed.
        let config = BatcherConfig::default()
            .with_workers(1)
            .with_max_batch_rows(4)
            .with_max_delay(Duration::from_millis(1));
        let batcher = Batcher::new(Arc::new(Affine::new(2.0, 1.0)), config).unwrap_or_else(|e| panic!("{e}"));
        let kinds: Vec<bool> = [0, 3, 4, 1000]
            .iter()
            .map(|&rows| matches!(batcher.project(&xs(rows)), Ok(Payload::Packed(_))))
            .collect();
        assert_eq!(
            kinds,
            [true, true, false, false],
            "packed, by request size 0, 3, 4, 1000"
        );
    }

    /// `Affine` (2x + 1) behind a gate the test opens (closed at most 10 s).
    #[derive(Debug, Default)]
    struct Gated {
        open: std::sync::Mutex<bool>,
        opened: std::sync::Condvar,
        entered: AtomicUsize,
    }

    impl Gated {
        fn open(&self) {
            *self.open.lock().unwrap_or_else(PoisonError::into_inner) = true;
            self.opened.notify_all();
        }

        fn wait_until(&self, what: &str, done: impl Fn() -> bool) {
            let start = Instant::now();
            while !done() {
                assert!(start.elapsed() < Duration::from_secs(5), "{what} never happened");
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }

    impl Predict for Gated {
        fn model_name(&self) -> &str {
            "gated"
        }

        fn input_schema(&self) -> SchemaRef {
            Affine::new(2.0, 1.0).input_schema()
        }

        fn output_schema(&self) -> SchemaRef {
            Affine::new(2.0, 1.0).output_schema()
        }

        fn predict_detailed(&self, batch: &RecordBatch) -> Result<Prediction> {
            self.entered.fetch_add(1, Ordering::SeqCst);
            let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
            let _open = self
                .opened
                .wait_timeout_while(open, Duration::from_secs(10), |open| !*open)
                .unwrap_or_else(PoisonError::into_inner);
            Affine::new(2.0, 1.0).predict_detailed(batch)
        }
    }

    #[test]
    fn a_request_is_alone_only_when_nothing_else_is_in_flight() {
        let gated = Arc::new(Gated::default());
        let config = BatcherConfig::default().with_workers(1).with_queue_capacity(2);
        let batcher = Batcher::new(Arc::clone(&gated) as Arc<dyn Predict>, config).unwrap_or_else(|e| panic!("{e}"));
        let submit = || batcher.submit(Request::new(xs(1)));
        let first = submit().unwrap_or_else(|e| panic!("{e}"));
        assert!(first.alone, "nothing else was in flight");
        gated.wait_until("the first request reached the model", || {
            gated.entered.load(Ordering::SeqCst) == 1
        });
        let second = submit().unwrap_or_else(|e| panic!("{e}"));
        assert!(!second.alone, "sent while the first was computed");
        drop(submit().unwrap_or_else(|e| panic!("{e}")));
        assert!(
            matches!(submit(), Err(Error::Overloaded { .. })),
            "the queue of 2 took a third"
        );
        gated.open();
        assert!(first.wait().is_ok() && second.wait().is_ok());
        gated.wait_until("the withdrawn request was dropped", || batcher.stats().cancelled == 1);
        // Answered, withdrawn and refused requests are all out of flight.
        let third = submit().unwrap_or_else(|e| panic!("{e}"));
        assert!(third.alone, "finished requests still counted as in flight");
        assert!(third.wait().is_ok());
    }

    /// Counts its wake-ups.
    #[derive(Default)]
    struct Wakes(AtomicUsize);

    impl Wake for Wakes {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }

        fn wake_by_ref(self: &Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// A ticket whose answer the test sends.
    fn ticket(shared: &Arc<Shared>, alone: bool) -> (oneshot::Sender<Result<Prediction>>, Ticket) {
        let (reply, answer) = oneshot::channel();
        (
            reply,
            Ticket::new(answer, Duration::from_secs(60), Arc::clone(shared), alone),
        )
    }

    /// Polls a ticket whose answer has not come: whether it woke its own task to poll again.
    fn polls_on(ticket: &mut Ticket) -> bool {
        let wakes = Arc::new(Wakes::default());
        let waker = Waker::from(Arc::clone(&wakes));
        assert!(Pin::new(ticket).poll(&mut Context::from_waker(&waker)).is_pending());
        wakes.0.load(Ordering::SeqCst) > 0
    }

    /// Polled outside a Tokio runtime, a polling ticket's yield wakes its
    /// task at once, which these wakers count.
    #[test]
    fn one_awaited_ticket_at_a_time_wakes_itself_until_answered_or_dropped() {
        let predictor: Arc<dyn Predict> = Arc::new(Affine::new(2.0, 1.0));
        let shared = Arc::new(Shared {
            queue: Queue::new(8, 8, Duration::ZERO, Duration::ZERO),
            counters: Counters::default(),
            location: "test batcher".into(),
            poll_slot: PollSlot::new(),
            in_flight: Arc::new(AtomicUsize::new(0)),
            predictor,
        });
        let (reply, mut first) = ticket(&shared, true);
        assert!(polls_on(&mut first), "the first ticket did not poll");
        let (_second_reply, mut second) = ticket(&shared, true);
        assert!(!polls_on(&mut second), "a second ticket polled too");
        // Answered: the slot is free for the next caller.
        let answer = Prediction::clean(xs(1));
        assert!(reply.send(Ok(answer.clone())).is_ok());
        let answered = Pin::new(&mut first).poll(&mut Context::from_waker(Waker::noop()));
        assert!(matches!(answered, Poll::Ready(Ok(ref a)) if *a == answer));
        let (_third_reply, mut third) = ticket(&shared, true);
        assert!(polls_on(&mut third), "the slot was not given back when answered");
        // Dropped while polling (a timed-out `select!`): the slot is free again.
        drop(third);
        let (_fourth_reply, mut fourth) = ticket(&shared, true);
        assert!(polls_on(&mut fourth), "the slot was not given back when dropped");
        drop(fourth);
        // A ticket sent while others were in flight never polls: its
        // executor's thread is needed by the tasks that send the next requests.
        let (_fifth_reply, mut fifth) = ticket(&shared, false);
        assert!(!polls_on(&mut fifth), "a ticket that was not alone polled");
    }
}
