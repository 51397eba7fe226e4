//! mlops-monitor's integration tests, in one binary: arrow and parquet are linked once, not once per file
//! (each file below was its own test binary before).

mod browser;

mod card;
mod drift_batch;
mod drift_from_profiles;
mod drift_parquet;
mod evidently_reference;
mod export;
mod html_report_browser;
mod monitor;
mod online_reference;
mod performance;
mod stats_reference;
