//! mlops-serve's integration tests, one binary (modules below).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod models;
mod fixtures;
mod predictor;
