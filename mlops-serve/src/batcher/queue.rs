//! The bounded request queue shared by the callers and the workers.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use futures_channel::oneshot;

use super::payload::Payload;
use crate::{Prediction, Result};

/// A queued request: its rows (already projected to the model's inputs) and
/// where to send the answer.
pub(crate) struct Job {
    pub(crate) payload: Payload,
    /// Counts the request as in flight until the job is dropped: answered,
    /// expired, withdrawn or refused.
    pub(crate) in_flight: InFlight,
    pub(crate) enqueued: Instant,
    /// How long it may wait before a worker takes it.
    pub(crate) deadline: Option<Duration>,
    pub(crate) reply: oneshot::Sender<Result<Prediction>>,
}

/// A request counted in its batcher's requests in flight while this lives.
pub(crate) struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    /// Counts one more request in `count`; also says how many were in flight before it.
    pub(crate) fn enter(count: &Arc<AtomicUsize>) -> (InFlight, usize) {
        let before = count.fetch_add(1, Ordering::AcqRel);
        (InFlight(Arc::clone(count)), before)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Job {
    /// How long it has waited, when that is past its deadline.
    pub(crate) fn overdue(&self, now: Instant) -> Option<(Duration, Duration)> {
        let allowed = self.deadline?;
        let waited = now.saturating_duration_since(self.enqueued);
        (waited > allowed).then_some((waited, allowed))
    }
}

/// What a worker took from the queue.
#[derive(Default)]
pub(crate) struct Taken {
    /// Requests to compute, oldest first, at most `max_batch_rows` rows in all
    /// (or one larger request alone).
    pub(crate) jobs: Vec<Job>,
    /// Requests whose deadline passed: answered, never computed.
    pub(crate) expired: Vec<(Job, Duration, Duration)>,
    /// Requests whose caller stopped waiting: dropped.
    pub(crate) cancelled: u64,
}

struct State {
    jobs: VecDeque<Job>,
    /// Workers blocked on the condvar. Rust's condvar makes a `futex` system
    /// call on every notify, waiter or not; callers notify only when a
    /// worker sleeps (read under the lock, so no wake-up is lost).
    sleeping: usize,
    /// Rows of the queued jobs.
    rows: usize,
    open: bool,
}

/// A FIFO of at most `capacity` requests; workers wait on it with a condvar.
pub(crate) struct Queue {
    state: Mutex<State>,
    ready: Condvar,
    capacity: usize,
    max_batch_rows: usize,
    max_delay: Duration,
    spin: Duration,
    /// Pushes so far: an idle worker polls this counter, not the lock, so its
    /// polling never makes a caller's push wait for the mutex.
    pushes: std::sync::atomic::AtomicU64,
    /// Workers inside [`take`](Self::take) (waiting for work or about to
    /// take it): with one, a new request is likely taken alone at once.
    idle_workers: std::sync::atomic::AtomicUsize,
}

/// Counts a worker as idle while it lives.
struct IdleMark<'a>(&'a std::sync::atomic::AtomicUsize);

impl<'a> IdleMark<'a> {
    fn new(counter: &'a std::sync::atomic::AtomicUsize) -> Self {
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        IdleMark(counter)
    }
}

impl Drop for IdleMark<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Queue {
    pub(crate) fn new(capacity: usize, max_batch_rows: usize, max_delay: Duration, spin: Duration) -> Self {
        Queue {
            state: Mutex::new(State {
                jobs: VecDeque::with_capacity(capacity.min(4096)),
                rows: 0,
                sleeping: 0,
                open: true,
            }),
            ready: Condvar::new(),
            capacity,
            max_batch_rows,
            max_delay,
            spin,
            pushes: std::sync::atomic::AtomicU64::new(0),
            idle_workers: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// The lock; a poisoned lock is taken as is (no code panics while holding it).
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether some worker is waiting for work (a hint: it may change at once).
    pub(crate) fn has_idle_worker(&self) -> bool {
        self.idle_workers.load(std::sync::atomic::Ordering::Relaxed) > 0
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Queues `job`, or gives it back when the queue is full or closed. Never blocks
    /// beyond the lock.
    pub(crate) fn push(&self, job: Job) -> std::result::Result<(), Job> {
        let mut state = self.lock();
        if !state.open || state.jobs.len() >= self.capacity {
            return Err(job);
        }
        state.rows += job.payload.num_rows();
        state.jobs.push_back(job);
        let sleeping = state.sleeping > 0;
        drop(state);
        self.pushes.fetch_add(1, std::sync::atomic::Ordering::Release);
        if sleeping {
            self.ready.notify_one();
        }
        Ok(())
    }

    /// Requests waiting now.
    pub(crate) fn len(&self) -> usize {
        self.lock().jobs.len()
    }

    /// Stops accepting requests and wakes every worker; queued requests stay to be answered.
    pub(crate) fn close(&self) {
        self.lock().open = false;
        self.ready.notify_all();
    }

    /// Waits for work and takes the next batch; `None` once the queue is closed and empty.
    ///
    /// With no delay a batch is whatever is queued (up to `max_batch_rows`). With a
    /// delay the worker waits until `max_batch_rows` rows are queued, the oldest
    /// request has waited `max_delay`, or the queue closes.
    pub(crate) fn take(&self) -> Option<Taken> {
        let _idle = IdleMark::new(&self.idle_workers);
        let mut state = self.lock();
        loop {
            if state.jobs.is_empty() {
                if !state.open {
                    return None;
                }
                // Poll a little before sleeping: waking from a condvar costs
                // tens of µs, more than a small model's forward pass.
                if !self.spin.is_zero() {
                    let seen = self.pushes.load(std::sync::atomic::Ordering::Acquire);
                    drop(state);
                    let until = Instant::now() + self.spin;
                    while self.pushes.load(std::sync::atomic::Ordering::Acquire) == seen && Instant::now() < until {
                        std::hint::spin_loop();
                    }
                    state = self.lock();
                    if !state.jobs.is_empty() || !state.open {
                        continue;
                    }
                }
                state.sleeping += 1;
                state = self.ready.wait(state).unwrap_or_else(PoisonError::into_inner);
                state.sleeping -= 1;
                continue;
            }
            if !self.max_delay.is_zero() && state.open && state.rows < self.max_batch_rows {
                let due = state.jobs.front().map(|j| j.enqueued + self.max_delay);
                let now = Instant::now();
                if let Some(due) = due.filter(|&due| due > now) {
                    state.sleeping += 1;
                    state = self
                        .ready
                        .wait_timeout(state, due - now)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                    state.sleeping -= 1;
                    continue;
                }
            }
            break;
        }
        let now = Instant::now();
        let mut taken = Taken::default();
        let mut rows = 0;
        while let Some(front) = state.jobs.front() {
            let n = front.payload.num_rows();
            if !taken.jobs.is_empty() && rows + n > self.max_batch_rows {
                break;
            }
            let Some(job) = state.jobs.pop_front() else { break };
            state.rows -= n;
            if job.reply.is_canceled() {
                taken.cancelled += 1;
            } else if let Some((waited, allowed)) = job.overdue(now) {
                taken.expired.push((job, waited, allowed));
            } else {
                rows += n;
                taken.jobs.push(job);
                if rows >= self.max_batch_rows {
                    break;
                }
            }
        }
        let more = !state.jobs.is_empty() && state.sleeping > 0;
        drop(state);
        if more {
            // Let another free worker start on the rest.
            self.ready.notify_one();
        }
        Some(taken)
    }
}
