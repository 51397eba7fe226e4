//! Model performance with labels that arrive later.
//!
//! A [`LabelJoiner`] holds predictions until their label arrives (or labels
//! until their prediction does), joins them by id in bounded memory — entries
//! unmatched after a TTL, or beyond a capacity, are evicted oldest first and
//! counted — and aggregates the joined pairs in tumbling windows, by count or
//! by join time ([`WindowSpec`]). Each closed window yields a [`WindowReport`]:
//! the metrics overall, per segment value, and group fairness gaps over one
//! segment key.
//!
//! The metrics follow scikit-learn and fairlearn exactly (and are checked
//! against them to 1e-12 in `tests/performance.rs`): accuracy, precision,
//! recall, F1, exact ROC AUC and clipped log loss for binary classification;
//! MAE, RMSE and R² for regression; demographic parity and equal opportunity
//! differences (max − min over groups). Undefined metrics are `None`, never NaN.
//!
//! ```
//! use mlops_monitor::performance::{
//!     JoinerConfig, Label, LabelJoiner, Metrics, Prediction, Task, WindowSpec,
//! };
//!
//! let mut joiner = LabelJoiner::new(JoinerConfig {
//!     task: Task::BinaryClassification,
//!     ttl_ms: 60_000,
//!     capacity: 10_000,
//!     window: WindowSpec::Count(4),
//!     fairness_key: Some("country".into()),
//! })?;
//! let outcomes = [(0.9, true, "fr"), (0.2, false, "fr"), (0.7, false, "de"), (0.4, true, "de")];
//! for (i, (score, _, country)) in outcomes.iter().enumerate() {
//!     let prediction = Prediction::binary(*score, *score >= 0.5).with_segment("country", *country);
//!     joiner.record_prediction(format!("req-{i}"), i as i64, prediction)?;
//! }
//! let mut reports = Vec::new();
//! for (i, (_, truth, _)) in outcomes.iter().enumerate() {
//!     // Labels arrive later, in any order.
//!     reports.extend(joiner.record_label(format!("req-{i}"), 1_000 + i as i64, Label::Binary(*truth))?);
//! }
//! let Metrics::Binary(m) = &reports[0].overall else { unreachable!() };
//! assert_eq!(m.accuracy, 0.5);
//! assert_eq!(m.roc_auc, Some(0.75));
//! let gaps = reports[0].fairness.as_ref().unwrap();
//! assert_eq!(gaps.demographic_parity_difference, Some(0.0));
//! assert_eq!(gaps.equal_opportunity_difference, Some(1.0));
//! assert_eq!(joiner.stats().joined, 4);
//!
//! // Bad input is an error, not a panic.
//! assert!(joiner.record_prediction("x", 2_000, Prediction::binary(f64::NAN, true)).is_err());
//! # Ok::<(), mlops_core::Error>(())
//! ```

mod joiner;
pub mod metrics;

pub use joiner::{
    JoinedPair, JoinerConfig, JoinerStats, Label, LabelJoiner, Metrics, Output, Prediction, Task, WindowReport,
    WindowSpec,
};
pub use metrics::{BinaryMetrics, FairnessGaps, GroupRates, RegressionMetrics};
