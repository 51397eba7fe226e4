//! Threads that help a caller finish one large batch, and stay awake for a
//! moment after each so the next batch finds them ready.
//!
//! Why not rayon's pool: handing a batch to a sleeping rayon worker pays its
//! wake-up, and on the 2-core VM that costs about as much as the piece it was
//! meant to take (a 1,024-row batch on the caller plus one rayon helper ran at
//! 0.58–0.75 M rows/s against 0.63–0.64 M on the caller alone, while two
//! threads running the same kernel without coordination reached 1.20–1.33 M).
//! These helpers spin for a bounded time after their last job — the job says
//! how long — and only then sleep, as onnxruntime's intra-op threads do.
//!
//! One pool serves the whole process (as rayon's global pool does), with one
//! helper per core beyond the first: several predictors share it instead of
//! each adding threads.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

/// Work a caller shares with helpers.
pub(crate) trait Job: Send + Sync {
    /// Whether a helper joining now would find work.
    fn wants_help(&self) -> bool;
    /// Works until nothing is left to claim; returns at once if nothing is.
    fn help(&self);
    /// How long a helper stays awake after this job, waiting for the next.
    fn spin(&self) -> Duration;
}

/// The helper threads and the jobs they may join.
pub(crate) struct HelperPool {
    inner: Arc<Inner>,
    helpers: usize,
}

struct Inner {
    jobs: Mutex<Vec<Arc<dyn Job>>>,
    /// Bumped on every post, so spinning helpers notice without the lock.
    posted: AtomicU64,
    /// Helpers blocked on `wake`.
    sleeping: AtomicUsize,
    wake: Condvar,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, Vec<Arc<dyn Job>>> {
        // Jobs run outside the lock; the list is consistent even if poisoned.
        self.jobs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn next_job(&self) -> Option<Arc<dyn Job>> {
        self.lock().iter().find(|job| job.wants_help()).cloned()
    }

    fn run_helper(&self) {
        let mut awake_until: Option<Instant> = None;
        loop {
            let seen = self.posted.load(Ordering::Acquire);
            if let Some(job) = self.next_job() {
                job.help();
                awake_until = Some(Instant::now() + job.spin());
                continue;
            }
            if let Some(until) = awake_until {
                // Spin until something is posted or the time is up; reading
                // one atomic keeps the spinning off the lock.
                while self.posted.load(Ordering::Acquire) == seen && Instant::now() < until {
                    std::hint::spin_loop();
                }
                if Instant::now() < until {
                    continue;
                }
            }
            awake_until = None;
            let mut jobs = self.lock();
            self.sleeping.fetch_add(1, Ordering::AcqRel);
            while !jobs.iter().any(|job| job.wants_help()) {
                jobs = self.wake.wait(jobs).unwrap_or_else(PoisonError::into_inner);
            }
            self.sleeping.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

impl HelperPool {
    /// The process's pool: one helper per core beyond the first. `None` on a
    /// single core, or when no helper thread could be started.
    pub(crate) fn global() -> Option<&'static HelperPool> {
        static POOL: OnceLock<Option<HelperPool>> = OnceLock::new();
        POOL.get_or_init(|| {
            let cores = std::thread::available_parallelism().map_or(1, usize::from);
            HelperPool::start(cores.saturating_sub(1))
        })
        .as_ref()
    }

    /// Starts `helpers` threads; `None` when none could be started.
    fn start(helpers: usize) -> Option<HelperPool> {
        let inner = Arc::new(Inner {
            jobs: Mutex::new(Vec::new()),
            posted: AtomicU64::new(0),
            sleeping: AtomicUsize::new(0),
            wake: Condvar::new(),
        });
        let mut started = 0;
        for index in 0..helpers {
            let worker = Arc::clone(&inner);
            let spawned = std::thread::Builder::new()
                .name(format!("mlops-serve-helper-{index}"))
                .spawn(move || worker.run_helper());
            match spawned {
                Ok(_) => started += 1,
                Err(e) => {
                    tracing::warn!(error = %e, "could not start a predictor helper thread");
                    break;
                }
            }
        }
        (started > 0).then_some(HelperPool {
            inner,
            helpers: started,
        })
    }

    /// Helper threads in the pool.
    pub(crate) fn helpers(&self) -> usize {
        self.helpers
    }

    /// Offers `job` to the helpers until [`withdraw`](Self::withdraw).
    pub(crate) fn post(&self, job: Arc<dyn Job>) {
        self.inner.lock().push(job);
        self.inner.posted.fetch_add(1, Ordering::AcqRel);
        if self.inner.sleeping.load(Ordering::Acquire) > 0 {
            self.inner.wake.notify_all();
        }
    }

    /// Stops offering `job` (helpers already in it finish their pieces).
    pub(crate) fn withdraw(&self, job: &Arc<dyn Job>) {
        self.inner.lock().retain(|posted| !Arc::ptr_eq(posted, job));
    }
}
