//! Which waiting caller may poll for its answer instead of sleeping.
//!
//! A sleeping thread (or an executor thread parked with nothing to run)
//! takes tens of µs to wake on a virtual machine, more than a one-row
//! answer takes to compute. So one waiting caller at a time polls for up to
//! the config's `spin`; the others sleep at once, so that on few cores many
//! polling callers do not take the cores the workers need.
//!
//! The slot is a deadline rather than a count: a holder that never comes
//! back (a future kept but no longer polled, or leaked) loses the slot when
//! its time is up instead of keeping every later caller from polling.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The one polling slot of a batcher.
#[derive(Debug)]
pub(crate) struct PollSlot {
    origin: Instant,
    /// When the holder's time is up, in ns since `origin`; 0 when free.
    until_ns: AtomicU64,
}

/// A caller's hold on the slot, until its time is up or it gives it back.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Held {
    until_ns: u64,
    until: Instant,
}

impl Held {
    /// Whether the holder's time to poll is up.
    pub(crate) fn expired(&self) -> bool {
        Instant::now() >= self.until
    }
}

impl PollSlot {
    pub(crate) fn new() -> Self {
        PollSlot {
            origin: Instant::now(),
            until_ns: AtomicU64::new(0),
        }
    }

    /// The slot for `spin` from now, when nobody holds it or its holder's
    /// time is up; `None` otherwise, and always when `spin` is zero.
    pub(crate) fn try_take(&self, spin: Duration) -> Option<Held> {
        if spin.is_zero() {
            return None;
        }
        let now = Instant::now();
        let current = self.until_ns.load(Ordering::Acquire);
        if current > self.ns_at(now) {
            return None;
        }
        let until = now + spin;
        // Never 0, which means free.
        let until_ns = self.ns_at(until).max(1);
        self.until_ns
            .compare_exchange(current, until_ns, Ordering::AcqRel, Ordering::Relaxed)
            .ok()?;
        Some(Held { until_ns, until })
    }

    /// Gives the slot back, unless another caller took it after `held`'s time was up.
    pub(crate) fn release(&self, held: Held) {
        let _ = self
            .until_ns
            .compare_exchange(held.until_ns, 0, Ordering::AcqRel, Ordering::Relaxed);
    }

    fn ns_at(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.origin).as_nanos()).unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time_until_it_gives_back_or_its_time_is_up() {
        let slot = PollSlot::new();
        assert!(slot.try_take(Duration::ZERO).is_none(), "zero spin never polls");
        let first = slot
            .try_take(Duration::from_secs(60))
            .unwrap_or_else(|| panic!("free slot refused"));
        assert!(!first.expired());
        assert!(slot.try_take(Duration::from_secs(60)).is_none(), "a second holder");
        slot.release(first);
        let short = slot
            .try_take(Duration::from_millis(1))
            .unwrap_or_else(|| panic!("released slot refused"));
        std::thread::sleep(Duration::from_millis(5));
        assert!(short.expired());
        // Never given back: its time is up, so the next caller takes it ...
        let next = slot
            .try_take(Duration::from_secs(60))
            .unwrap_or_else(|| panic!("expired slot refused"));
        // ... and the late release of the old hold does not free the new one.
        slot.release(short);
        assert!(
            slot.try_take(Duration::from_secs(60)).is_none(),
            "the old hold freed the new one"
        );
        slot.release(next);
        assert!(slot.try_take(Duration::from_secs(60)).is_some());
    }
}
