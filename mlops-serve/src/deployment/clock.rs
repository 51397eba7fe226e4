//! Time as a deployment sees it: injectable, so whole rollouts run in virtual time.

use std::fmt::Debug;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A monotonic clock.
///
/// Every step interval, bake window and gate of a rollout reads time through
/// this trait: [`SystemClock`] in production, [`ManualClock`] in tests, where
/// an hour-long canary runs in milliseconds.
pub trait Clock: Send + Sync + Debug {
    /// Time since an arbitrary, fixed origin; never goes backwards.
    fn elapsed(&self) -> Duration;

    /// Wall-clock time in milliseconds since the Unix epoch, for records.
    fn wall_ms(&self) -> i64;
}

/// The machine's monotonic clock (and its wall clock for records).
#[derive(Debug)]
pub struct SystemClock {
    origin: Instant,
}

impl SystemClock {
    /// A clock whose origin is now.
    pub fn new() -> Self {
        SystemClock { origin: Instant::now() }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn elapsed(&self) -> Duration {
        self.origin.elapsed()
    }

    fn wall_ms(&self) -> i64 {
        mlops_core::time::now_ms()
    }
}

/// A clock that moves only when told to: virtual time for tests and simulations.
///
/// ```
/// use std::time::Duration;
/// use mlops_serve::deployment::{Clock, ManualClock};
///
/// let clock = ManualClock::new();
/// clock.advance(Duration::from_secs(90));
/// assert_eq!(clock.elapsed(), Duration::from_secs(90));
/// ```
#[derive(Debug, Default)]
pub struct ManualClock {
    nanos: AtomicU64,
    /// The wall time at the origin, so records read like real ones.
    wall_origin_ms: i64,
}

impl ManualClock {
    /// A clock at zero, whose wall time starts at 2026-01-01T00:00:00Z.
    pub fn new() -> Self {
        ManualClock {
            nanos: AtomicU64::new(0),
            wall_origin_ms: 1_767_225_600_000,
        }
    }

    /// Moves time forward by `by`.
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.nanos
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| Some(n.saturating_add(by)))
            .ok();
    }
}

impl Clock for ManualClock {
    fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::Acquire))
    }

    fn wall_ms(&self) -> i64 {
        let ms = i64::try_from(self.elapsed().as_millis()).unwrap_or(i64::MAX);
        self.wall_origin_ms.saturating_add(ms)
    }
}
