//! The one error type of the SDK's contracts.
//!
//! Every variant says *what* was wrong, *where* (a column, a file, a key) and,
//! where it applies, *what was expected*, so that a message read in a log is
//! enough to act on. Crates above core wrap this type and keep it as the source.

use std::error::Error as StdError;

/// A boxed error from a backend we do not want to name in the public API.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Result alias used throughout the SDK.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Errors raised by the SDK's contracts.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A caller-supplied value is out of its domain.
    #[error("invalid {what} at {location}: {message}; expected {expected}")]
    InvalidInput {
        /// What kind of value was rejected (a name, an option, a batch...).
        what: String,
        /// Where it was found (argument name, column, file).
        location: String,
        /// What was wrong with it.
        message: String,
        /// What would have been accepted.
        expected: String,
    },

    /// A column has an Arrow type the operation cannot use.
    #[error("column `{column}` has type {found}; expected {expected}")]
    TypeMismatch {
        /// The column's name.
        column: String,
        /// The type(s) the operation accepts.
        expected: String,
        /// The type that was found.
        found: String,
    },

    /// Two schemas that must agree do not.
    #[error("schema mismatch at {location}: {message}")]
    SchemaMismatch {
        /// Where the mismatch was seen (batch index, file, partition).
        location: String,
        /// Which field differs and how.
        message: String,
    },

    /// Stored bytes are malformed, truncated or were altered.
    #[error("corrupt or truncated data at {location}: {message}")]
    Corrupt {
        /// The file, object key or stream position.
        location: String,
        /// What did not parse or check.
        message: String,
    },

    /// A stored document was written by a newer (or unknown) format version.
    #[error("{location} uses format version {found}; this build reads versions up to {supported}")]
    UnsupportedVersion {
        /// The document or file.
        location: String,
        /// The version found in the document.
        found: u32,
        /// The newest version this build understands.
        supported: u32,
    },

    /// A content digest did not match the expected one.
    #[error("digest mismatch for {location}: expected {expected}, found {found}")]
    DigestMismatch {
        /// The file or object whose content differs.
        location: String,
        /// The digest recorded in the manifest.
        expected: String,
        /// The digest of the bytes actually read.
        found: String,
    },

    /// A package signature is missing, untrusted or invalid.
    #[error("package signature rejected: {reason}")]
    SignatureRejected {
        /// Why it was rejected.
        reason: String,
    },

    /// A concurrent writer won a create-only write too many times in a row.
    #[error("contention at {location}: gave up after {attempts} attempts")]
    Contention {
        /// The key that kept being taken.
        location: String,
        /// How many attempts were made.
        attempts: u32,
    },

    /// There is too little data for the operation (an empty batch, an all-null column).
    #[error("not enough data at {location}: {message}")]
    NotEnoughData {
        /// The column or data set.
        location: String,
        /// What was missing.
        message: String,
    },

    /// A named thing does not exist.
    #[error("not found: {what}")]
    NotFound {
        /// What was looked up.
        what: String,
    },

    /// A create-only write found the target already present.
    #[error("already exists: {what}")]
    AlreadyExists {
        /// What was being created.
        what: String,
    },

    /// An operation the backend does not provide.
    #[error("{operation} is not implemented by {implementer}")]
    NotImplemented {
        /// The operation that was asked for.
        operation: String,
        /// The backend or build that lacks it.
        implementer: String,
    },

    /// Local I/O failed.
    #[error("I/O error at {location}: {source}")]
    Io {
        /// The path or resource.
        location: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// Arrow rejected an operation (e.g. a cast or a batch construction).
    #[error("Arrow error at {location}: {source}")]
    Arrow {
        /// The column or operation.
        location: String,
        /// The underlying error.
        #[source]
        source: arrow_schema::ArrowError,
    },

    /// A storage backend (object store, Parquet reader) failed.
    #[error("storage error at {location}: {source}")]
    Storage {
        /// The URL, key or file.
        location: String,
        /// The backend's own error.
        #[source]
        source: BoxError,
    },

    /// A tensor has a shape other than the one the model needs.
    #[error("tensor `{tensor}` has shape {found:?}; expected {expected:?}")]
    ShapeMismatch {
        /// The tensor's name (e.g. `"2.weight"`).
        tensor: String,
        /// The shape the architecture needs.
        expected: Vec<usize>,
        /// The shape that was found.
        found: Vec<usize>,
    },

    /// Rows of a batch broke the rules at a model's door (inputs) or in its answer (outputs).
    #[error("{location} rejected: {}", summarize(violations))]
    Rejected {
        /// The model and side (`"model `churn` input"`).
        location: String,
        /// Every broken rule, with the first offending rows.
        violations: Vec<crate::RowViolation>,
    },

    /// A bounded queue is full: the request was not accepted (retry later or shed load).
    #[error("overloaded: {what} is full ({capacity} waiting); retry later")]
    Overloaded {
        /// The queue.
        what: String,
        /// How many requests it holds.
        capacity: usize,
    },

    /// A request's deadline passed before it was computed; it was not computed.
    #[error("deadline exceeded at {location}: waited {waited_us} µs, allowed {allowed_us} µs")]
    DeadlineExceeded {
        /// Where it waited (a batcher queue).
        location: String,
        /// How long it had waited.
        waited_us: u64,
        /// The deadline it was given.
        allowed_us: u64,
    },

    /// A model package's input example did not reproduce its expected output.
    #[error(
        "smoke test of {location} failed: row {row}, output `{column}` is {found}, expected {expected} \
         (difference {difference:e}, tolerance {tolerance:e})"
    )]
    SmokeTestFailed {
        /// The package.
        location: String,
        /// The first row that differs most.
        row: usize,
        /// The output column.
        column: String,
        /// What the model answered.
        found: String,
        /// What the package recorded.
        expected: String,
        /// The largest absolute difference over all compared values (`inf` for a label that differs).
        difference: f64,
        /// The accepted absolute difference.
        tolerance: f64,
    },

    /// The inference backend failed (a kernel, a device, a worker that stopped).
    #[error("inference error at {location}: {source}")]
    Inference {
        /// The model, layer or worker.
        location: String,
        /// The backend's own error.
        #[source]
        source: BoxError,
    },

    /// Encoding or decoding a document failed.
    #[error("serialisation error for {location}: {source}")]
    Serialization {
        /// The document.
        location: String,
        /// The codec's own error.
        #[source]
        source: BoxError,
    },
}

fn summarize(violations: &[crate::RowViolation]) -> String {
    match violations {
        [] => "no rule named".to_owned(),
        [one] => one.to_string(),
        [first, rest @ ..] => format!("{first} (and {} more rule(s) broken)", rest.len()),
    }
}

impl Error {
    /// Shorthand for [`Error::Inference`].
    pub fn inference(location: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Error::Inference {
            location: location.into(),
            source: source.into(),
        }
    }

    /// Shorthand for [`Error::InvalidInput`].
    pub fn invalid_input(
        what: impl Into<String>,
        location: impl Into<String>,
        message: impl Into<String>,
        expected: impl Into<String>,
    ) -> Self {
        Error::InvalidInput {
            what: what.into(),
            location: location.into(),
            message: message.into(),
            expected: expected.into(),
        }
    }

    /// Shorthand for [`Error::Corrupt`].
    pub fn corrupt(location: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Corrupt {
            location: location.into(),
            message: message.into(),
        }
    }

    /// Shorthand for [`Error::Storage`].
    pub fn storage(location: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Error::Storage {
            location: location.into(),
            source: source.into(),
        }
    }

    /// Shorthand for [`Error::Serialization`].
    pub fn serialization(location: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Error::Serialization {
            location: location.into(),
            source: source.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_where_and_expected() {
        let e = Error::invalid_input("model name", "register", "`../x` contains `/`", "[A-Za-z0-9_.-]{1,128}");
        let s = e.to_string();
        assert!(s.contains("model name") && s.contains("register") && s.contains("../x") && s.contains("[A-Za-z0-9"));
        let e = Error::UnsupportedVersion {
            location: "profile.json".into(),
            found: 9,
            supported: 1,
        };
        assert_eq!(
            e.to_string(),
            "profile.json uses format version 9; this build reads versions up to 1"
        );
    }

    #[test]
    fn storage_errors_keep_their_source() {
        let io = std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "short read");
        let e = Error::storage("s3://b/k", io);
        let src = std::error::Error::source(&e).map(ToString::to_string);
        assert_eq!(src.as_deref(), Some("short read"));
    }
}
