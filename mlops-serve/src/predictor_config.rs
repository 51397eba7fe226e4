//! Settings of a [`Predictor`](crate::Predictor).

use std::sync::Arc;
use std::time::Duration;

use mlops_core::{PredictionSink, TrustedKeys};

use crate::device::DeviceRequest;
use crate::validate_config::ValidationConfig;

/// How a predictor is built and how it answers.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct PredictorConfig {
    /// Validation at the door and of the answers.
    pub validation: ValidationConfig,
    /// Where the model runs. Default: the CPU.
    pub device: DeviceRequest,
    /// Threads one large batch is spread over: the caller and up to
    /// `threads - 1` of the process's helper threads (one per core beyond the
    /// first), each running the model single-threaded. A caller on a rayon
    /// worker (batch and stream scoring) works alone: those spread batches,
    /// not rows. Default: the machine's available parallelism.
    pub threads: usize,
    /// Fewest rows in a piece a helper thread may take (a batch of at most
    /// this many rows stays on the calling thread). With several threads a
    /// batch is cut into about four pieces per thread, so that a helper
    /// that starts late still takes a share. Default 256.
    pub min_rows_per_thread: usize,
    /// Most rows in flight per thread: a larger batch is processed piece by
    /// piece (transforms, features, model), so memory stays bounded. Default 65,536.
    pub max_rows_per_piece: usize,
    /// How long helper threads stay awake after a batch, so that the next
    /// one finds them ready (waking a sleeping thread can take as long as a
    /// piece takes to compute); also how long the caller spins before
    /// sleeping while a helper finishes. Spinning uses the core; zero never
    /// spins. Default 250 µs.
    pub helper_spin: Duration,
    /// Largest accepted difference between the package's expected output and
    /// the model's answer to its input example. Default 1e-4.
    pub smoke_tolerance: f64,
    /// Refuse packages without an input example and expected output. Default: false
    /// (such a package loads, with a warning).
    pub require_example: bool,
    /// Keys a package must be signed with; empty accepts unsigned packages. Default: empty.
    pub trusted_keys: TrustedKeys,
    /// Where prediction events go (a monitor); never blocks or fails a request.
    pub sink: Option<Arc<dyn PredictionSink>>,
    /// The registry version being served, reported in events. Default: none (0).
    pub version: Option<u64>,
}

impl Default for PredictorConfig {
    fn default() -> Self {
        PredictorConfig {
            validation: ValidationConfig::default(),
            device: DeviceRequest::Cpu,
            threads: std::thread::available_parallelism().map_or(1, usize::from),
            min_rows_per_thread: 256,
            max_rows_per_piece: 65_536,
            helper_spin: Duration::from_micros(250),
            smoke_tolerance: 1e-4,
            require_example: false,
            trusted_keys: TrustedKeys::new(),
            sink: None,
            version: None,
        }
    }
}

impl PredictorConfig {
    /// Sets the validation policies.
    pub fn with_validation(mut self, validation: ValidationConfig) -> Self {
        self.validation = validation;
        self
    }

    /// Sets the device.
    pub fn with_device(mut self, device: DeviceRequest) -> Self {
        self.device = device;
        self
    }

    /// Sets the threads a large batch is spread over (1: the calling thread only).
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }

    /// Sets the fewest rows worth a thread.
    pub fn with_min_rows_per_thread(mut self, rows: usize) -> Self {
        self.min_rows_per_thread = rows;
        self
    }

    /// Sets the most rows in flight per thread.
    pub fn with_max_rows_per_piece(mut self, rows: usize) -> Self {
        self.max_rows_per_piece = rows;
        self
    }

    /// Sets how long helper threads stay awake after a batch.
    pub fn with_helper_spin(mut self, spin: Duration) -> Self {
        self.helper_spin = spin;
        self
    }

    /// Sets the smoke-test tolerance.
    pub fn with_smoke_tolerance(mut self, tolerance: f64) -> Self {
        self.smoke_tolerance = tolerance;
        self
    }

    /// Refuses packages without an example.
    pub fn with_required_example(mut self, required: bool) -> Self {
        self.require_example = required;
        self
    }

    /// Requires packages signed by one of these keys.
    pub fn with_trusted_keys(mut self, keys: TrustedKeys) -> Self {
        self.trusted_keys = keys;
        self
    }

    /// Sends prediction events to `sink`.
    pub fn with_sink(mut self, sink: Arc<dyn PredictionSink>) -> Self {
        self.sink = Some(sink);
        self
    }

    /// Sets the version reported in events.
    pub fn with_version(mut self, version: u64) -> Self {
        self.version = Some(version);
        self
    }
}
