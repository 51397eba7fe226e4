//! Integration tests of mlops-serve's serving modes (one test binary).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod batch_score;
mod batcher;
mod stream_score;
mod support;
