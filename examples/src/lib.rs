//! Helpers shared by the examples: packages as plain directories, and tables
//! (Parquet, CSV, JSON lines) read with a known schema and written by extension.

pub mod http;
pub mod package_dir;
pub mod quickstart;
pub mod tables;

use std::future::Future;
use std::process::ExitCode;

/// Runs an example's async body on a single-threaded Tokio runtime and turns
/// its outcome into the exit status: 0, or 1 with `error: …` on stderr.
pub fn run_main<F>(body: F) -> ExitCode
where
    F: Future<Output = Result<(), Box<dyn std::error::Error>>>,
{
    let outcome = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Box::new(e) as Box<dyn std::error::Error>)
        .and_then(|runtime| runtime.block_on(body));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
