//! Pacing of retries after a lost create-only race: exponential backoff with
//! full jitter, on a sleep the caller can replace.
//!
//! Shaped like `object_store`'s `BackoffConfig`, plus the attempt cap that
//! `object_store` keeps in its `RetryConfig`. Full jitter (a uniform draw in
//! `[0, cap]`) spreads writers that collided at once over the whole window, so
//! on average only a few of them collide again.

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;

use crate::error::Error;

/// Exponential backoff between attempts of a create-only write that lost a race.
///
/// Before retry `k` (0-based) the writer sleeps a uniform draw in
/// `[0, min(max_backoff, init_backoff · base^k)]`; after `max_attempts`
/// attempts it gives up with [`Error::Contention`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct BackoffConfig {
    /// The cap of the first delay.
    pub init_backoff: Duration,
    /// The largest cap any delay can have.
    pub max_backoff: Duration,
    /// The factor by which the cap grows after each lost race (below 1 or not finite counts as 1).
    pub base: f64,
    /// Attempts (the first one included) before giving up; 0 counts as 1.
    pub max_attempts: u32,
}

impl Default for BackoffConfig {
    /// 5 ms, doubling up to 1 s, 24 attempts: a loser waits about 12 s in total
    /// before giving up, far longer than any healthy store needs to let 16
    /// writers through one after another.
    fn default() -> Self {
        BackoffConfig {
            init_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_secs(1),
            base: 2.0,
            max_attempts: 24,
        }
    }
}

impl BackoffConfig {
    /// A configuration with these delays and this attempt cap.
    pub fn new(init_backoff: Duration, max_backoff: Duration, base: f64, max_attempts: u32) -> Self {
        BackoffConfig {
            init_backoff,
            max_backoff,
            base,
            max_attempts,
        }
    }

    /// The upper bound of the delay before retry `retry` (0-based).
    pub fn cap(&self, retry: u32) -> Duration {
        let base = if self.base.is_finite() { self.base.max(1.0) } else { 1.0 };
        let factor = base.powi(i32::try_from(retry).unwrap_or(i32::MAX));
        let max = self.max_backoff.as_secs_f64();
        let cap = (self.init_backoff.as_secs_f64() * factor).min(max);
        // NaN or infinity (a huge exponent) saturates at the maximum.
        Duration::try_from_secs_f64(cap).unwrap_or(self.max_backoff)
    }
}

/// An asynchronous sleep, so that the registry runs on any executor.
///
/// The default, [`TokioSleeper`], sleeps on the Tokio runtime the caller is
/// already on; users of another executor pass their own (e.g. one built on
/// `async-io`'s `Timer`) to [`StoreRegistry::with_sleeper`](crate::StoreRegistry::with_sleeper).
pub trait Sleeper: Send + Sync + Debug {
    /// A future that completes after `duration`.
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()>;
}

/// The default [`Sleeper`]: `tokio::time::sleep` on the current Tokio runtime.
///
/// Outside a Tokio runtime, or on one built without timers, it falls back to a
/// short-lived thread that wakes the future, so a retry never blocks an
/// executor thread and never panics.
#[derive(Clone, Copy, Debug, Default)]
pub struct TokioSleeper;

impl Sleeper for TokioSleeper {
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        if tokio::runtime::Handle::try_current().is_ok() {
            // `tokio::time::sleep` panics at creation when the runtime has no
            // timer driver; there is no fallible constructor, so contain it.
            let made = std::panic::catch_unwind(|| tokio::time::sleep(duration));
            if let Ok(sleep) = made {
                return Box::pin(sleep);
            }
        }
        thread_sleep(duration)
    }
}

fn thread_sleep(duration: Duration) -> BoxFuture<'static, ()> {
    let (tx, rx) = futures::channel::oneshot::channel::<()>();
    let spawned = std::thread::Builder::new()
        .name("mlops-registry-backoff".into())
        .spawn(move || {
            std::thread::sleep(duration);
            let _ = tx.send(());
        });
    Box::pin(async move {
        if spawned.is_ok() {
            // Either outcome means the delay is over (or the timer is gone).
            let _ = rx.await;
        }
    })
}

/// The source of the random fraction that spreads delays (full jitter).
pub trait Jitter: Send + Sync + Debug {
    /// A number in `[0, 1]`.
    fn fraction(&self) -> f64;
}

/// The default [`Jitter`]: `fastrand`'s thread-local generator.
#[derive(Clone, Copy, Debug, Default)]
pub struct RandomJitter;

impl Jitter for RandomJitter {
    fn fraction(&self) -> f64 {
        fastrand::f64()
    }
}

/// Backoff settings plus the sleep and randomness they run on.
#[derive(Clone, Debug)]
pub(crate) struct RetryPolicy {
    pub(crate) config: BackoffConfig,
    pub(crate) sleeper: Arc<dyn Sleeper>,
    pub(crate) jitter: Arc<dyn Jitter>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            config: BackoffConfig::default(),
            sleeper: Arc::new(TokioSleeper),
            jitter: Arc::new(RandomJitter),
        }
    }
}

impl RetryPolicy {
    /// Whether attempt `attempt` (0-based) may be made.
    pub(crate) fn allows(&self, attempt: u32) -> bool {
        attempt < self.config.max_attempts.max(1)
    }

    /// Sleeps before retry `retry` (0-based) if another attempt is allowed.
    pub(crate) async fn pause(&self, retry: u32) {
        if !self.allows(retry + 1) {
            return;
        }
        let fraction = self.jitter.fraction();
        let fraction = if fraction.is_finite() {
            fraction.clamp(0.0, 1.0)
        } else {
            1.0
        };
        let delay = self.config.cap(retry).mul_f64(fraction);
        if !delay.is_zero() {
            self.sleeper.sleep(delay).await;
        }
    }

    /// The error once every attempt at `what` lost its race.
    pub(crate) fn exhausted(&self, what: String) -> Error {
        Error::Contention {
            location: what,
            attempts: self.config.max_attempts.max(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_grow_geometrically_and_stop_at_the_maximum() {
        let c = BackoffConfig::new(Duration::from_millis(5), Duration::from_millis(100), 2.0, 10);
        let caps: Vec<u128> = (0..8).map(|k| c.cap(k).as_millis()).collect();
        assert_eq!(caps, vec![5, 10, 20, 40, 80, 100, 100, 100]);
        assert_eq!(c.cap(u32::MAX), Duration::from_millis(100));
    }

    #[test]
    fn the_default_sleeper_works_without_a_runtime_and_without_timers() {
        // Made outside any runtime: the thread fallback.
        let outside = TokioSleeper.sleep(Duration::from_millis(20));
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let start = std::time::Instant::now();
        rt.block_on(outside);
        assert!(start.elapsed() >= Duration::from_millis(20));
        // Made inside a runtime without timers: contained, then the fallback.
        let start = std::time::Instant::now();
        rt.block_on(async { TokioSleeper.sleep(Duration::from_millis(20)).await });
        assert!(start.elapsed() >= Duration::from_millis(20));
    }
}
