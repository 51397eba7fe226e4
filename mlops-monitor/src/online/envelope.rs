//! The envelope shared by every online detector: the drift flag of the last
//! update, the detection and ignored-value counters, the update skeleton
//! (post-drift reset, invalid input ignored and counted) and the checkpoint
//! layout. Each detector only supplies its statistics ([`Core`]).

use serde::{Deserialize, Serialize};

/// A detector's own statistics and test.
pub(crate) trait Core {
    /// The detector's stable name.
    const NAME: &'static str;

    /// Whether `x` is valid input (otherwise it is ignored and counted).
    fn accepts(&self, x: f64) -> bool;

    /// Feeds one valid value; returns whether it detected a drift.
    fn step(&mut self, x: f64) -> bool;

    /// Clears the statistics before the first value after a drift.
    fn clear_after_drift(&mut self);

    /// Back to the freshly constructed state (same configuration).
    fn reset(&mut self) {
        self.clear_after_drift();
    }

    /// Whether the stream is in the warning zone (detectors that have one).
    fn warning(&self) -> bool {
        false
    }
}

/// A detector's statistics in the shared envelope. The checkpoint is the
/// core's fields followed by `drift`, `n_detections` and `n_ignored` (KSWIN's
/// older `detections` and `ignored` names are still read).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Envelope<C> {
    #[serde(flatten)]
    pub(crate) core: C,
    drift: bool,
    #[serde(alias = "detections")]
    n_detections: u64,
    #[serde(alias = "ignored")]
    n_ignored: u64,
}

impl<C: Core> Envelope<C> {
    pub(crate) fn new(core: C) -> Self {
        Envelope {
            core,
            drift: false,
            n_detections: 0,
            n_ignored: 0,
        }
    }

    /// As river: a detection is an event, and the next value (valid or not)
    /// first clears the statistics; an invalid value changes nothing else.
    #[inline]
    pub(crate) fn update(&mut self, x: f64) {
        if self.drift {
            self.core.clear_after_drift();
            self.drift = false;
        }
        if !self.core.accepts(x) {
            self.n_ignored += 1;
            return;
        }
        self.drift = self.core.step(x);
        if self.drift {
            self.n_detections += 1;
        }
    }

    pub(crate) fn drift(&self) -> bool {
        self.drift
    }

    pub(crate) fn reset(&mut self) {
        self.core.reset();
        self.drift = false;
        self.n_detections = 0;
        self.n_ignored = 0;
    }

    pub(crate) fn n_detections(&self) -> u64 {
        self.n_detections
    }

    pub(crate) fn n_ignored(&self) -> u64 {
        self.n_ignored
    }
}

/// Implements [`OnlineDetector`](super::OnlineDetector) for a newtype over an [`Envelope`].
macro_rules! online_detector {
    ($detector:ty, $core:ty) => {
        impl $crate::online::OnlineDetector for $detector {
            #[inline]
            fn update(&mut self, x: f64) {
                self.0.update(x);
            }

            fn drift_detected(&self) -> bool {
                self.0.drift()
            }

            fn warning_detected(&self) -> bool {
                $crate::online::envelope::Core::warning(&self.0.core)
            }

            fn reset(&mut self) {
                self.0.reset();
            }

            fn name(&self) -> &str {
                <$core as $crate::online::envelope::Core>::NAME
            }

            fn n_ignored(&self) -> u64 {
                self.0.n_ignored()
            }

            fn n_detections(&self) -> u64 {
                self.0.n_detections()
            }
        }
    };
}
pub(crate) use online_detector;
