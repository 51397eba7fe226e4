//! The registry conformance suite (feature `conformance`), like
//! `object_store`'s `integration` module: a user with their own
//! [`Registry`] backend runs the checks this repository runs
//! on local disk and S3.
//!
//! ```no_run
//! # async fn demo(my_registry: std::sync::Arc<dyn mlops_core::Registry>) {
//! // Each check asks for a registry by scope (its own name); return a client
//! // of a fresh, empty registry per scope (the same one for the same scope).
//! let backend = move |_scope: &str| my_registry.clone();
//! mlops_core::conformance::run_all(&backend).await;
//! # }
//! ```
//!
//! The checks panic on failure, as assertions in a test do, and spawn Tokio
//! tasks: run them under `#[tokio::test(flavor = "multi_thread")]`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod checks;
mod counting;
mod store;

use std::sync::Arc;

pub use checks::{
    alias_moves_seen_by_other_clients, bad_names_and_inputs, concurrent_writers_in_one_process, deduplicated_register,
    idempotent_register, independent_writers, package, stages_tags_search_lineage_audit, versions_aliases_and_loading,
};
pub use counting::{CountingStore, RequestCounts};
pub use store::StoreBackend;

use crate::Registry;

/// Where the checks get registries from.
pub trait Backend: Send + Sync {
    /// A client of the registry a check named `scope` works in: fresh and
    /// empty on the first call for a scope, the same registry on later calls.
    fn registry(&self, scope: &str) -> Arc<dyn Registry>;
}

impl<F> Backend for F
where
    F: Fn(&str) -> Arc<dyn Registry> + Send + Sync,
{
    fn registry(&self, scope: &str) -> Arc<dyn Registry> {
        self(scope)
    }
}

/// Every check that needs nothing but the [`Registry`] trait, one after another.
pub async fn run_all(backend: &dyn Backend) {
    versions_aliases_and_loading(backend).await;
    alias_moves_seen_by_other_clients(backend).await;
    stages_tags_search_lineage_audit(backend).await;
    bad_names_and_inputs(backend).await;
    concurrent_writers_in_one_process(backend).await;
    independent_writers(backend).await;
    idempotent_register(backend).await;
    deduplicated_register(backend).await;
}
