//! Feature transforms: fitted on Arrow training data, stored in a model
//! package as JSON, applied identically at serving time.
//!
//! ```
//! use std::sync::Arc;
//! use arrow_array::cast::AsArray;
//! use arrow_array::types::Float64Type;
//! use arrow_array::{Int64Array, RecordBatch, StringArray};
//! use mlops_data::{
//!     FittedPipeline, ImputeStrategy, OneHotConfig, TransformPipeline, TransformSpec, UnseenCategory,
//! };
//!
//! let train = RecordBatch::try_from_iter([
//!     ("age", Arc::new(Int64Array::from(vec![Some(20), Some(30), None, Some(40)])) as _),
//!     ("city", Arc::new(StringArray::from(vec![Some("rome"), None, Some("oslo"), Some("rome")])) as _),
//! ])?;
//! let fitted = TransformPipeline::new()
//!     .step("age", TransformSpec::impute(ImputeStrategy::Median))
//!     .step("age", TransformSpec::standardize())
//!     .step("city", TransformSpec::one_hot(OneHotConfig::default().with_unseen(UnseenCategory::Ignore)))
//!     .fit_batch(&train)?;
//!
//! // Ship it inside the model package...
//! let json = fitted.to_json()?;
//! // ...and apply it at serving time.
//! let serving = FittedPipeline::from_json(&json)?;
//! let request = RecordBatch::try_from_iter([
//!     ("age", Arc::new(Int64Array::from(vec![None, Some(50)])) as _),
//!     ("city", Arc::new(StringArray::from(vec!["oslo", "paris"])) as _),
//! ])?;
//! let out = serving.transform(&request)?;
//! let names: Vec<&str> = out.schema_ref().fields().iter().map(|f| f.name().as_str()).collect();
//! assert_eq!(names, ["age", "city=oslo", "city=rome"]); // categories in lexical order, as scikit-learn
//! let age = out.column(0).as_primitive::<Float64Type>();
//! assert_eq!(age.value(0), 0.0); // null → median 30 → (30 − 30) / std
//! assert!((age.value(1) - 20.0 / 50f64.sqrt()).abs() < 1e-15); // population std of 20, 30, 30, 40
//! let oslo = out.column(1).as_primitive::<Float64Type>();
//! assert_eq!(oslo.values().to_vec(), [1.0, 0.0]); // "paris" is unseen: an all-zero row
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! | transform | learns | output |
//! |---|---|---|
//! | [`Standardize`] | mean, standard deviation (population by default, as scikit-learn) | `Float64` |
//! | [`MinMax`] | min, max | `Float64` |
//! | [`Impute`] | mean, exact median, most frequent, or a constant | `Float64` / `Utf8`, no nulls |
//! | [`OneHot`] | categories, optionally only the `max_categories` most frequent | one `Float64` per category |
//! | [`Ordinal`] | categories → codes `0..n` | `Int64` |
//!
//! [`TransformPipeline`] documents how null, NaN and ±∞ are handled and which
//! errors bad input gets; each transform's page documents its own details.
//! The tests check every transform against scikit-learn to 1e-12
//! (`tests/fixtures/make_transform_fixtures.py`).

mod categories;
mod impute;
mod input;
mod min_max;
mod one_hot;
mod ordinal;
mod pipeline;
mod spec;
mod standardize;
mod stats;

pub use categories::CategoryOrder;
pub use impute::{FillValue, Impute, ImputeStrategy};
pub use min_max::MinMax;
pub use one_hot::{OTHER_CATEGORY, OneHot, OneHotConfig, UnseenCategory};
pub use ordinal::{Ordinal, OrdinalConfig, UnseenCode};
pub use pipeline::{FittedPipeline, FittedStep, TRANSFORM_FORMAT_VERSION, TransformPipeline, TransformStep};
pub use spec::{FittedTransform, TransformSpec};
pub use standardize::{Standardize, StdDev};
