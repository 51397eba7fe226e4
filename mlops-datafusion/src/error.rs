//! What can go wrong between DataFusion and a profile.

/// The crate's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error of the DataFusion integration: what failed, where, and why.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// DataFusion (or Ballista) failed: planning, reading, executing.
    #[error("DataFusion: {0}")]
    DataFusion(#[from] datafusion::error::DataFusionError),
    /// Profiling, decoding or merging a profile failed.
    #[error("profile: {0}")]
    Profile(#[from] mlops_core::Error),
    /// An array could not cross from DataFusion's Arrow to ours.
    #[error("Arrow bridge: {what}: {reason}")]
    Bridge {
        /// What was being converted.
        what: String,
        /// Why it failed.
        reason: String,
    },
    /// A Ballista job failed because an executor could not prepare its tasks:
    /// most often an executor started without `mlops_profile` and its codec.
    #[error("Ballista: {reason}; {hint}")]
    Cluster {
        /// What the scheduler reported.
        reason: String,
        /// What to check.
        hint: String,
    },
    /// A query answered something other than what was expected.
    #[error("unexpected result from {location}: {message} (expected {expected})")]
    UnexpectedResult {
        /// The query or call.
        location: String,
        /// What came back.
        message: String,
        /// What should have.
        expected: String,
    },
}

impl Error {
    /// A DataFusion error, with a hint when it is a Ballista job whose tasks
    /// an executor rejected (Ballista reports no more than that to the client).
    pub(crate) fn from_query(e: datafusion::error::DataFusionError) -> Error {
        let reason = e.to_string();
        if reason.contains("rejected by executor") || reason.contains("could not be prepared") {
            Error::Cluster {
                reason,
                hint: format!(
                    "every executor must know `{}` (mlops_datafusion::executor_functions and ProfileCodec; \
                     see the ballista_executor example), and its log says why it refused the task",
                    crate::PROFILE_FUNCTION
                ),
            }
        } else {
            Error::DataFusion(e)
        }
    }
}

impl From<Error> for datafusion::error::DataFusionError {
    fn from(e: Error) -> Self {
        match e {
            Error::DataFusion(inner) => inner,
            other => datafusion::error::DataFusionError::External(Box::new(other)),
        }
    }
}
