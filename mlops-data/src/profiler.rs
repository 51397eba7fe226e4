//! [`Profiler`]: streaming Arrow record batches into a [`Profile`].

use arrow_array::RecordBatch;
use rayon::prelude::*;

use crate::config::ProfileConfig;
use crate::profile::Profile;
use crate::{Error, Result};

/// Builds a profile from a stream of record batches.
///
/// Memory is bounded by the sketches, not by the data: a batch can be dropped
/// as soon as [`update`](Self::update) returns. Columns of a batch are
/// profiled in parallel on the rayon pool.
///
/// ```
/// use std::sync::Arc;
/// use arrow_array::{Float64Array, RecordBatch};
/// use mlops_data::{ProfileConfig, Profiler};
///
/// let batch = RecordBatch::try_from_iter([(
///     "x",
///     Arc::new(Float64Array::from(vec![Some(1.0), None, Some(f64::NAN), Some(3.0)])) as _,
/// )])?;
/// let mut profiler = Profiler::new(ProfileConfig::default())?;
/// profiler.update(&batch)?;
/// let profile = profiler.finish();
/// let x = profile.column("x").unwrap().summary();
/// assert_eq!((x.count, x.null_count, x.nan_count), (3, 1, 1));
/// assert_eq!(x.mean, Some(2.0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Profiler {
    profile: Profile,
    batches: u64,
}

impl Profiler {
    /// A profiler; fails when a configuration value is out of range.
    pub fn new(config: ProfileConfig) -> Result<Self> {
        config.validate()?;
        Ok(Profiler {
            profile: Profile::empty(config),
            batches: 0,
        })
    }

    /// Adds one batch. The first batch fixes the schema; later batches must
    /// have the same column names in the same order, each with a type of the
    /// same kind (an `Int32` column may continue as `Int64`, not as `Utf8`).
    /// A rejected batch leaves the profile unchanged.
    pub fn update(&mut self, batch: &RecordBatch) -> Result<()> {
        let schema = batch.schema();
        if self.batches == 0 && self.profile.columns.is_empty() {
            self.profile = Profile::with_schema(self.profile.config.clone(), &schema)?;
        } else {
            self.check_schema(batch)?;
        }
        self.profile
            .columns
            .par_iter_mut()
            .zip(batch.columns().par_iter())
            .try_for_each(|(column, array)| column.update(array.as_ref()))?;
        self.profile.num_rows += batch.num_rows() as u64;
        self.batches += 1;
        Ok(())
    }

    fn check_schema(&self, batch: &RecordBatch) -> Result<()> {
        let schema = batch.schema();
        let location = format!("batch {}", self.batches);
        if schema.fields().len() != self.profile.columns.len() {
            return Err(Error::SchemaMismatch {
                location,
                message: format!(
                    "{} columns, expected {} ({:?})",
                    schema.fields().len(),
                    self.profile.columns.len(),
                    self.profile.columns.iter().map(|c| c.name()).collect::<Vec<_>>()
                ),
            });
        }
        for (field, column) in schema.fields().iter().zip(&self.profile.columns) {
            if field.name() != column.name() {
                return Err(Error::SchemaMismatch {
                    location,
                    message: format!("column `{}` where `{}` was expected", field.name(), column.name()),
                });
            }
            if !column.accepts(field.data_type()) {
                return Err(Error::SchemaMismatch {
                    location,
                    message: format!(
                        "column `{}` has type {}, expected a type like {}",
                        field.name(),
                        field.data_type(),
                        column.data_type()
                    ),
                });
            }
        }
        Ok(())
    }

    /// The profile so far.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// Finishes and returns the profile.
    pub fn finish(self) -> Profile {
        self.profile
    }

    /// Profiles every batch of an iterator.
    pub fn profile_batches<'a, I>(config: ProfileConfig, batches: I) -> Result<Profile>
    where
        I: IntoIterator<Item = &'a RecordBatch>,
    {
        let mut profiler = Profiler::new(config)?;
        for batch in batches {
            profiler.update(batch)?;
        }
        Ok(profiler.finish())
    }

    /// Fixes the schema before any batch arrives, so that a source with no
    /// rows still yields a profile with its columns.
    pub(crate) fn with_schema(config: ProfileConfig, schema: &arrow_schema::Schema) -> Result<Self> {
        config.validate()?;
        Ok(Profiler {
            profile: Profile::with_schema(config, schema)?,
            batches: 0,
        })
    }
}
