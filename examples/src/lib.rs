//! Helpers shared by the examples: packages as plain directories, and tables
//! (Parquet, CSV, JSON lines) read with a known schema and written by extension.

pub mod package_dir;
pub mod tables;
