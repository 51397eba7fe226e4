//! Online (streaming) drift detectors: [`Adwin`], [`PageHinkley`] and [`Ddm`].
//!
//! Each detector consumes one value at a time through [`OnlineDetector::update`]
//! and reports whether *that* update detected a drift (and, for [`Ddm`], whether
//! the stream is in the warning zone). The algorithms, their defaults and their
//! exact floating-point behaviour follow [river](https://riverml.xyz) 0.26
//! (`river.drift.ADWIN`, `river.drift.PageHinkley`, `river.drift.binary.DDM`):
//! fed the same stream, they fire at the same indices. The test
//! `tests/online_reference.rs` checks this against fixtures recorded with river.
//!
//! # Semantics shared by all detectors
//!
//! * **Detection is an event.** `drift_detected()` is true right after the
//!   update that detected the drift. As in river, the next accepted value first
//!   resets the detector's statistics (the window, the running mean...) and is
//!   then processed as the first value of a fresh stream. Counters kept across
//!   these automatic resets ([`n_detections`](OnlineDetector::n_detections),
//!   [`n_ignored`](OnlineDetector::n_ignored)) are only cleared by
//!   [`reset`](OnlineDetector::reset).
//! * **Invalid input is ignored and counted, never absorbed.** NaN, ±∞ and
//!   finite values whose magnitude exceeds [`MAX_ABS_INPUT`] (their squares
//!   would overflow the variance sums) are skipped: the statistics, the clock of
//!   [`Adwin`] and the warning state are left exactly as they were and
//!   [`n_ignored`](OnlineDetector::n_ignored) is incremented. [`Ddm`] also
//!   rejects values outside `[0, 1]` (its input is an error indicator). An
//!   ignored value does end a pending detection: `drift_detected()` is false
//!   after it, and the automatic post-drift reset happens at that point instead
//!   of on the next accepted value, which leaves every later detection
//!   unchanged. Removing the invalid values from a stream therefore gives the
//!   same detections at the same (shifted) positions.
//! * **Checkpoints.** Every detector implements `serde::Serialize` and
//!   `serde::Deserialize` over its full state (configuration included):
//!   restoring a checkpoint and feeding the rest of the stream yields the same
//!   detections as an uninterrupted run. Deserialisation validates the
//!   configuration and the internal consistency of the state, so a corrupt
//!   checkpoint is an error, never a panic later on. The checkpoint is a map
//!   (the detector's statistics, then `drift`, `n_detections`, `n_ignored`, kept
//!   by the envelope all detectors share): use a self-describing format such as
//!   JSON.
//!
//! # Performance
//!
//! `update` does not allocate in steady state. [`Adwin`] keeps its exponential
//! histogram in fixed-width rows of one flat buffer (`max_buckets + 1` slots per
//! row, capacity reserved for 32 rows, i.e. windows of billions of values); a
//! row is only ever added when the window doubles, and rows freed by a drift
//! keep their capacity. [`PageHinkley`] and [`Ddm`] are a handful of scalar
//! operations per value.
//!
//! ```
//! use mlops_monitor::online::{Adwin, OnlineDetector, PageHinkley};
//!
//! let mut detectors: Vec<Box<dyn OnlineDetector>> =
//!     vec![Box::new(Adwin::default()), Box::new(PageHinkley::default())];
//! let mut first = vec![None; detectors.len()];
//! for i in 0..4000 {
//!     let x = if i < 2000 { (i % 2) as f64 } else { 5.0 + (i % 3) as f64 };
//!     for (d, seen) in detectors.iter_mut().zip(first.iter_mut()) {
//!         d.update(x);
//!         if d.drift_detected() && seen.is_none() {
//!             *seen = Some(i);
//!         }
//!     }
//! }
//! assert!(first.iter().all(|i| matches!(i, Some(i) if *i >= 2000)));
//! ```

mod adwin;
mod ddm;
mod envelope;
mod kswin;
mod page_hinkley;

pub use adwin::{Adwin, AdwinConfig};
pub use ddm::{Ddm, DdmConfig};
pub use kswin::{Kswin, KswinConfig};
pub use page_hinkley::{PageHinkley, PageHinkleyConfig, PageHinkleyMode};

/// Largest accepted input magnitude for [`Adwin`] and [`PageHinkley`].
///
/// Finite values beyond it are ignored and counted like NaN: squaring them in
/// the variance updates could overflow to infinity and poison the state.
pub const MAX_ABS_INPUT: f64 = 1e100;

/// A streaming drift detector fed one value at a time.
///
/// The trait is object-safe: heterogeneous detectors can be held as
/// `Box<dyn OnlineDetector>`.
pub trait OnlineDetector: Send + std::fmt::Debug {
    /// Feeds one value. Invalid values (see the [module docs](self)) are
    /// ignored and counted.
    fn update(&mut self, x: f64);

    /// Whether the last update detected a drift.
    fn drift_detected(&self) -> bool;

    /// Whether the stream is in the warning zone. Always false for detectors
    /// without one.
    fn warning_detected(&self) -> bool {
        false
    }

    /// Returns the detector to its freshly constructed state (same
    /// configuration, all statistics and counters cleared).
    fn reset(&mut self);

    /// A short, stable name (`"adwin"`, `"page_hinkley"`, `"ddm"`).
    fn name(&self) -> &str;

    /// How many values were ignored as invalid since construction or the last
    /// [`reset`](OnlineDetector::reset).
    fn n_ignored(&self) -> u64;

    /// How many drifts were detected since construction or the last
    /// [`reset`](OnlineDetector::reset).
    fn n_detections(&self) -> u64;
}

/// Whether `x` is acceptable input for the real-valued detectors.
#[inline]
fn is_valid_real(x: f64) -> bool {
    x.abs() <= MAX_ABS_INPUT
}

/// Shorthand for a configuration error.
fn config_error(detector: &str, field: &str, message: String, expected: &str) -> mlops_core::Error {
    mlops_core::Error::invalid_input(
        "detector configuration",
        format!("{detector}.{field}"),
        message,
        expected,
    )
}

/// Shorthand for an inconsistent checkpoint.
fn state_error(detector: &str, message: impl Into<String>) -> mlops_core::Error {
    mlops_core::Error::corrupt(format!("{detector} checkpoint"), message)
}
