//! Profiles past one machine: `mlops_profile` as an Apache DataFusion
//! aggregate function, on a local `SessionContext` or a Ballista cluster.
//!
//! Profiles are mergeable by design, so scaling out is "sketch each
//! partition, ship the state, merge": each partition (or executor) profiles
//! its rows, ships the profile's binary form — O(columns × sketch size)
//! bytes, whatever the number of rows — and the final aggregate merges them.
//!
//! ```
//! use std::sync::Arc;
//! use datafusion::arrow::array::{Float64Array, Int64Array, RecordBatch};
//! use datafusion::prelude::SessionContext;
//!
//! # tokio::runtime::Runtime::new()?.block_on(async {
//! let ctx = SessionContext::new();
//! mlops_datafusion::register(&ctx);
//! let batch = RecordBatch::try_from_iter([
//!     ("age", Arc::new(Int64Array::from(vec![31, 45, 27])) as _),
//!     ("income", Arc::new(Float64Array::from(vec![Some(52_000.0), None, Some(38_500.0)])) as _),
//! ])?;
//! ctx.register_batch("applications", batch)?;
//!
//! // The whole table…
//! let profile = mlops_datafusion::profile_table(&ctx, "applications").await?;
//! let income = profile.column("income").unwrap().summary();
//! assert_eq!((income.count, income.null_count, income.max), (2, 1, Some(52_000.0)));
//!
//! // …or in SQL, one profile per group (`mlops_data::Profile::from_bytes` reads each).
//! let rows = ctx
//!     .sql("SELECT age > 30 AS older, mlops_profile(income) AS profile FROM applications GROUP BY age > 30")
//!     .await?
//!     .collect()
//!     .await?;
//! assert_eq!(mlops_datafusion::decode(&rows, "profile", "example")?.len(), 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! - [`ProfileUdaf`]: the function; its [`ProfileConfig`](mlops_data::ProfileConfig) travels with it.
//! - [`register`], [`profile_table`], [`profile_parquet`], [`profile_groups`]: on a `SessionContext`.
//! - [`ProfileCodec`], [`ballista_state`], [`connect`], [`scheduler_session`],
//!   [`executor_functions`]: on Ballista (see the `ballista_scheduler` and
//!   `ballista_executor` examples for the two binaries).
//! - `bridge`: DataFusion's Arrow (59) to ours (60), without copying values.

mod accumulator;
pub mod bridge;
mod cluster;
mod codec;
mod error;
#[cfg(feature = "aws")]
pub mod object_stores;
mod session;
mod stats;
mod udaf;

pub use cluster::{
    ballista_config, ballista_state, connect, executor_functions, executor_runtime, local_context, runtime,
    scheduler_session,
};
pub use codec::ProfileCodec;
pub use error::{Error, Result};
pub use session::{decode, profile_frame, profile_groups, profile_parquet, profile_table, register, register_with};
pub use stats::{ProfilingStats, profiling_stats};
pub use udaf::{PROFILE_FUNCTION, ProfileUdaf};
