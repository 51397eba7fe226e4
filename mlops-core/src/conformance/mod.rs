//! The registry conformance suite and its test helpers (feature `conformance`).
//!
//! Like `object_store`'s `integration` module: a user with their own
//! [`Registry`](crate::Registry) backend runs the same checks this repository
//! runs on local disk and S3.

mod counting;

pub use counting::{CountingStore, RequestCounts};
