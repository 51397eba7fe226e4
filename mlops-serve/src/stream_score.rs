//! Stream scoring: a stream of batches in, a stream of answers out, in order.

use std::sync::Arc;

use arrow_array::RecordBatch;
use futures::future::{self, Either};
use futures::{FutureExt, Stream, StreamExt};
use futures_channel::oneshot;

use crate::batcher::predict_guarded;
use crate::{Error, Predict, Prediction, Result};

/// Settings of [`score_stream`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamConfig {
    /// Batches pulled but not yet yielded, at most (≥ 1; default: the rayon
    /// pool size). Also the most batches computed at once.
    pub max_in_flight: usize,
}

impl Default for StreamConfig {
    fn default() -> Self {
        StreamConfig {
            max_in_flight: rayon::current_num_threads().max(1),
        }
    }
}

impl StreamConfig {
    /// The defaults (see the fields).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`max_in_flight`](Self::max_in_flight) (0 counts as 1).
    pub fn with_max_in_flight(mut self, batches: usize) -> Self {
        self.max_in_flight = batches.max(1);
        self
    }
}

/// Answers every batch of `input` with `predictor`, in order.
///
/// Each input batch is predicted on the **rayon pool**, off the async
/// executor: the stream hands a batch to the pool as soon as it pulls it and
/// awaits the answer on a one-shot channel, so the executor's threads never
/// run the model. Up to [`StreamConfig::max_in_flight`] batches are computed at
/// once (in parallel), and answers come out in input order.
///
/// **Backpressure:** the input is pulled only while the output is polled and
/// fewer than `max_in_flight` batches are in flight (pulled, not yet yielded),
/// so a slow consumer holds at most that many batches and their answers.
///
/// **Errors** are items, in position: an input item that is an `Err` comes
/// out as that `Err` at the same place, a batch the predictor refuses (or
/// panics on) comes out as its error, and the stream **continues** with the
/// next item. The output ends when the input ends. Callers that want to stop
/// at the first error use `TryStreamExt` (`try_next`, `try_collect`).
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
/// use futures::TryStreamExt;
/// use mlops_serve::{score_stream, StreamConfig};
///
/// let batches = (0..4).map(|i| RecordBatch::try_from_iter([("x", Arc::new(Float64Array::from(vec![f64::from(i)])) as _)])
///     .map_err(|source| mlops_serve::Error::Arrow { location: "input".into(), source }));
/// // `Affine` implements `Predict`: y = 2x + 1.
/// let answers = score_stream(Arc::new(Affine), futures::stream::iter(batches), StreamConfig::default().with_max_in_flight(2));
/// let runtime = tokio::runtime::Builder::new_current_thread().build()?;
/// let answers: Vec<_> = runtime.block_on(answers.try_collect())?;
/// let ys: Vec<f64> = answers.iter().map(|a| a.batch.column(0).as_primitive::<Float64Type>().value(0)).collect();
/// assert_eq!(ys, [1.0, 3.0, 5.0, 7.0]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn score_stream<S>(
    predictor: Arc<dyn Predict>,
    input: S,
    config: StreamConfig,
) -> impl Stream<Item = Result<Prediction>> + Send + 'static
where
    S: Stream<Item = Result<RecordBatch>> + Send + 'static,
{
    let location = format!("stream scoring with model `{}`", predictor.model_name());
    input
        .map(move |item| match item {
            Ok(batch) => Either::Left(spawn(Arc::clone(&predictor), batch, location.clone())),
            Err(e) => Either::Right(future::ready(Err(e))),
        })
        .buffered(config.max_in_flight.max(1))
}

/// Starts predicting `batch` on the rayon pool now; the future resolves to its answer.
fn spawn(
    predictor: Arc<dyn Predict>,
    batch: RecordBatch,
    location: String,
) -> impl Future<Output = Result<Prediction>> + Send + 'static {
    let (tx, rx) = oneshot::channel();
    let at = location.clone();
    rayon::spawn(move || {
        // Panics are caught inside (a panic in a rayon task would abort the process).
        let answer = predict_guarded(predictor.as_ref(), &batch, &at);
        // The receiver is gone only when the output stream was dropped.
        let _ = tx.send(answer);
    });
    rx.map(move |answer| {
        answer.unwrap_or_else(|_| Err(Error::inference(location, "the scoring task stopped without an answer")))
    })
}
