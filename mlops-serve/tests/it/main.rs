//! mlops-serve's integration tests, one binary (modules below).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod fixtures;
mod fuzz;
mod models;
mod predictor;
