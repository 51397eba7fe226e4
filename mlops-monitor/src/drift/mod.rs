//! Batch drift between a reference and a current data set.
//!
//! [`DataDrift::compare`] takes Arrow batches already in memory;
//! [`DataDrift::compare_parquet`] reads two Parquet files one column at a time,
//! so memory holds only the columns being compared. Both give the same report.

mod axis;
pub(crate) mod binning;
mod column;
mod correction;
pub(crate) mod data;
mod detector;
pub mod from_profiles;
pub mod html;
pub mod methods;
pub mod multivariate;
mod parquet;
mod report;
pub(crate) mod selection;

pub use axis::AxisScale;
pub use column::{BIN_ABOVE_UNIQUE, ColumnDrift, ColumnStatus, SharePlot};
pub use correction::Correction;
pub use data::ColumnKind;
pub use detector::MethodDetector;
pub use methods::DriftMethod;
pub use report::{ColumnDriftConfig, DataDrift, DriftConfig, DriftReport};
