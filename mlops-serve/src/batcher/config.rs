//! The micro-batcher's settings.

use std::num::NonZeroUsize;
use std::time::Duration;

use crate::{Error, Result};

/// How a [`Batcher`](crate::Batcher) queues and merges requests.
///
/// The defaults follow Triton's dynamic batcher: no delay (a free worker takes
/// whatever is queued at once, so batches form only under load), a bounded
/// queue that refuses at once when full, and no deadline. Raise
/// [`max_delay`](Self::max_delay) (tens to hundreds of µs) only while the
/// latency budget allows: it trades latency for larger batches.
///
/// Settings are checked by [`Batcher::new`](crate::Batcher::new), which names
/// the first one out of range.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BatcherConfig {
    /// Requests that may wait (≥ 1; default 1024). A request that finds the
    /// queue full is refused at once with [`Error::Overloaded`]; nothing blocks.
    pub queue_capacity: usize,
    /// Most rows merged into one predictor call (≥ 1; default 256). A request
    /// with more rows than this runs alone, never split.
    pub max_batch_rows: usize,
    /// How long a free worker holds a partial batch for more requests (default
    /// zero: never). With a delay, a worker starts once `max_batch_rows` rows
    /// are queued or the oldest request has waited this long. At most
    /// [`MAX_DELAY`](Self::MAX_DELAY).
    pub max_delay: Duration,
    /// Worker threads (≥ 1; default: the available parallelism). Each is a
    /// dedicated OS thread calling the predictor one batch at a time; the
    /// predictor is never called from anywhere else. Where the callers need
    /// the same cores (an async server on a small machine), fewer workers
    /// can answer more: on 2 cores, 32 tokio callers on one thread got
    /// 216–252 k single-row requests/s from one worker and 83–119 k from two,
    /// whose merged batches were smaller (the README's Performance section).
    pub workers: usize,
    /// The deadline of requests that set none (`None`, the default: no
    /// deadline). Must be above zero.
    pub default_deadline: Option<Duration>,
    /// How long an idle worker, and one waiting caller at a time, poll
    /// before they sleep (default 50 µs; zero: sleep at once). A caller
    /// blocked in [`Ticket::wait`](crate::Ticket::wait) spins; an awaited
    /// ticket yields to its executor's other tasks and is polled again when
    /// they are done, so the executor's thread does not park. A sleeping thread takes tens of µs to wake, most
    /// on virtual machines, which dominated single-row latency; polling
    /// spends that CPU time instead. Set zero where cores are scarce and
    /// latency matters less than throughput. At most [`MAX_SPIN`](Self::MAX_SPIN).
    pub spin: Duration,
}

impl Default for BatcherConfig {
    fn default() -> Self {
        BatcherConfig {
            queue_capacity: 1024,
            max_batch_rows: 256,
            max_delay: Duration::ZERO,
            workers: std::thread::available_parallelism().map_or(1, NonZeroUsize::get),
            default_deadline: None,
            spin: Duration::from_micros(50),
        }
    }
}

impl BatcherConfig {
    /// The longest [`spin`](Self::spin): polling longer than this is a busy
    /// core, not a wake-up saved.
    pub const MAX_SPIN: Duration = Duration::from_secs(1);

    /// The longest [`max_delay`](Self::max_delay).
    pub const MAX_DELAY: Duration = Duration::from_secs(60);

    /// The defaults (see the fields).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`queue_capacity`](Self::queue_capacity).
    pub fn with_queue_capacity(mut self, requests: usize) -> Self {
        self.queue_capacity = requests;
        self
    }

    /// Sets [`max_batch_rows`](Self::max_batch_rows).
    pub fn with_max_batch_rows(mut self, rows: usize) -> Self {
        self.max_batch_rows = rows;
        self
    }

    /// Sets [`spin`](Self::spin).
    pub fn with_spin(mut self, spin: Duration) -> Self {
        self.spin = spin;
        self
    }

    /// Sets [`max_delay`](Self::max_delay).
    pub fn with_max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// Sets [`workers`](Self::workers).
    pub fn with_workers(mut self, workers: usize) -> Self {
        self.workers = workers;
        self
    }

    /// Sets [`default_deadline`](Self::default_deadline).
    pub fn with_default_deadline(mut self, deadline: Option<Duration>) -> Self {
        self.default_deadline = deadline;
        self
    }

    /// Checks every setting, naming the first one out of range.
    pub(crate) fn validate(&self) -> Result<()> {
        let at_least_one = |field: &str, value: usize| {
            if value == 0 {
                Err(Error::invalid_input(
                    "batcher setting",
                    format!("BatcherConfig::{field}"),
                    "0",
                    "at least 1",
                ))
            } else {
                Ok(())
            }
        };
        at_least_one("queue_capacity", self.queue_capacity)?;
        at_least_one("max_batch_rows", self.max_batch_rows)?;
        at_least_one("workers", self.workers)?;
        // Both are added to instants (a far-off one would overflow), and
        // `spin` is a busy wait: beyond these bounds they are mistakes.
        for (field, value, most) in [
            ("spin", self.spin, Self::MAX_SPIN),
            ("max_delay", self.max_delay, Self::MAX_DELAY),
        ] {
            if value > most {
                return Err(Error::invalid_input(
                    "batcher setting",
                    format!("BatcherConfig::{field}"),
                    format!("{value:?}"),
                    format!("at most {most:?}"),
                ));
            }
        }
        if self.default_deadline == Some(Duration::ZERO) {
            return Err(Error::invalid_input(
                "batcher setting",
                "BatcherConfig::default_deadline",
                "Some(0 s): every request would expire unanswered",
                "None or a duration above zero",
            ));
        }
        Ok(())
    }
}
