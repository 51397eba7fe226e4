//! mlops-datafusion's integration tests: one binary, a module per subject.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod ballista;
mod bridge;
mod local;
#[cfg(feature = "aws")]
mod s3;
mod support;
