//! mlops-serve's integration tests, one binary (modules below).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod doubler;
mod support;

mod batch_score;
mod batcher;
mod deployment;
mod explain;
mod fixtures;
mod fuzz;
mod models;
mod predictor;
mod reproducible;
mod rollout_stats;
mod stream_score;
