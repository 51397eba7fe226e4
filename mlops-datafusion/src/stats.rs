//! What this process's `mlops_profile` accumulators did: how many rows they
//! profiled, and how many partial states (and bytes) they shipped. On a
//! Ballista executor this is the node's share of the work.

use std::sync::atomic::{AtomicU64, Ordering};

static ROWS_PROFILED: AtomicU64 = AtomicU64::new(0);
static STATES_SHIPPED: AtomicU64 = AtomicU64::new(0);
static STATE_BYTES: AtomicU64 = AtomicU64::new(0);

/// Counters of the profiling done in this process since it started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProfilingStats {
    /// Rows fed to a profiler.
    pub rows_profiled: u64,
    /// Partial profiles serialised as aggregate state (shipped to the final aggregate).
    pub states_shipped: u64,
    /// Bytes of those partial profiles.
    pub state_bytes: u64,
}

/// The counters so far.
pub fn profiling_stats() -> ProfilingStats {
    ProfilingStats {
        rows_profiled: ROWS_PROFILED.load(Ordering::Relaxed),
        states_shipped: STATES_SHIPPED.load(Ordering::Relaxed),
        state_bytes: STATE_BYTES.load(Ordering::Relaxed),
    }
}

pub(crate) fn profiled(rows: usize) {
    ROWS_PROFILED.fetch_add(rows as u64, Ordering::Relaxed);
}

pub(crate) fn shipped(bytes: usize) {
    STATES_SHIPPED.fetch_add(1, Ordering::Relaxed);
    STATE_BYTES.fetch_add(bytes as u64, Ordering::Relaxed);
}
