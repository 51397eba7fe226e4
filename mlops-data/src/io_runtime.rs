//! Where the read path's work runs: object-store I/O for blocking callers on
//! a private tokio runtime, CPU work for async callers on the rayon pool.

use crate::{Error, Result};

/// A private runtime for blocking callers' object-store I/O.
#[derive(Debug)]
pub(crate) struct IoRuntime(Option<tokio::runtime::Runtime>);

impl IoRuntime {
    pub(crate) fn new(location: &str) -> Result<Self> {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map(|rt| IoRuntime(Some(rt)))
            .map_err(|source| Error::Io {
                location: format!("{location} (starting an I/O runtime)"),
                source,
            })
    }

    /// Runs `f` on this runtime and waits for it. Spawning and waiting on a
    /// channel work from any thread, where a runtime's `block_on` panics when
    /// called from async code.
    pub(crate) fn run<F>(&self, location: &str, f: F) -> Result<F::Output>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let Some(rt) = &self.0 else {
            return Err(Error::corrupt(location, "internal: the I/O runtime was shut down"));
        };
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        rt.spawn(async move {
            // The receiver waits until this sends; it is gone only if the caller unwound.
            let _ = tx.send(f.await);
        });
        rx.recv()
            .map_err(|_| Error::storage(location, "the object-store I/O task stopped without a result"))
    }
}

impl Drop for IoRuntime {
    fn drop(&mut self) {
        // A reader may be dropped inside async code, where a blocking shutdown panics.
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

/// Runs CPU work on the rayon pool and awaits it without blocking the executor.
pub(crate) async fn on_rayon<T: Send + 'static>(
    location: String,
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    let (tx, rx) = futures::channel::oneshot::channel();
    rayon::spawn(move || {
        // The receiver is gone only when the caller dropped the future; nobody wants the result then.
        let _ = tx.send(work());
    });
    // The sender is dropped without a send only when the task panicked.
    rx.await
        .map_err(|_| Error::corrupt(location, "reading stopped: the decoding task panicked"))?
}
