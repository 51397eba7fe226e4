//! # mlops-monitor: drift detection and reports
//!
//! - [`drift`]: batch drift between a reference and a current data set on
//!   Arrow data — KS, chi-square, Z-test, normed Wasserstein, Jensen–Shannon,
//!   PSI, Hellinger, Anderson–Darling, Cramér–von Mises — chosen per column as
//!   Evidently's `DataDriftPreset` does, with multiple-testing correction, a
//!   JSON report and a self-contained HTML page; Parquet files compared column
//!   by column ([`DataDrift::compare_parquet`](drift::DataDrift::compare_parquet));
//!   and drift from two profiles alone ([`drift::from_profiles`]), with stated
//!   error bounds.
//! - [`stats`]: the two-sample tests, with p-values matching SciPy.
//! - [`online`]: streaming detectors (ADWIN, Page–Hinkley, DDM, KSWIN) with river's defaults.
//! - [`drift::multivariate`]: the MMD permutation test over several columns.
//! - [`performance`]: predictions joined with labels that arrive later; classification
//!   and regression metrics over count or time windows, per segment, with fairness gaps.
//! - [`export`]: per-version request, error and latency metrics emitted through the
//!   [`metrics`](https://docs.rs/metrics) facade (the application picks the exporter), with a
//!   Prometheus text rendering for applications without one.
//! - [`monitor`]: the [`Monitor`](monitor::Monitor) that serving feeds through
//!   [`mlops_core::PredictionSink`]: bounded, never blocking, with alert policies
//!   (drift share, metric below a floor for k windows, score-stream drift,
//!   dropped events) that call user callbacks — the hook for retraining.
//!
//! ```
//! use std::sync::Arc;
//! use arrow_array::{ArrayRef, Float64Array, RecordBatch};
//! use mlops_monitor::drift::{DataDrift, DriftConfig, DriftMethod};
//!
//! let batch = |shift: f64| RecordBatch::try_from_iter([(
//!     "x",
//!     Arc::new(Float64Array::from_iter_values((0..500).map(|i| (i % 50) as f64 + shift))) as ArrayRef,
//! )]);
//! let report = DataDrift::new(DriftConfig::default()).compare(&[batch(0.0)?], &[batch(10.0)?])?;
//! let x = report.column("x").unwrap();
//! assert_eq!(x.method, Some(DriftMethod::Ks)); // n ≤ 1000, numeric, many unique values
//! assert!(x.drifted && report.dataset_drift);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub use mlops_core::{Error, Result};

pub mod card;
pub mod drift;
pub mod export;
mod html_text;
pub mod monitor;
pub mod online;
pub mod performance;
pub mod stats;
