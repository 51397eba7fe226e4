//! The accumulator behind `mlops_profile`: our profiler, fed through the bridge.

use datafusion::arrow::array::{Array, ArrayRef as ArrayRef59, AsArray};
use datafusion::common::Result as DfResult;
use datafusion::logical_expr::Accumulator;
use datafusion::scalar::ScalarValue;
use mlops_data::{Profile, ProfileConfig, Profiler};

use crate::{Error, bridge, stats};

/// Profiles the rows it is given and merges the partial profiles it receives.
#[derive(Debug)]
pub(crate) struct ProfileAccumulator {
    names: Vec<String>,
    config: ProfileConfig,
    /// Rows seen by this accumulator.
    profiler: Profiler,
    /// Partial profiles merged into it (from other partitions or nodes).
    merged: Profile,
}

impl ProfileAccumulator {
    pub(crate) fn new(config: ProfileConfig, names: Vec<String>) -> Result<Self, Error> {
        Ok(ProfileAccumulator {
            profiler: Profiler::new(config.clone())?,
            merged: Profile::empty(config.clone()),
            names,
            config,
        })
    }

    fn current(&self) -> Result<Profile, Error> {
        let mut profile = self.merged.clone();
        profile.merge(self.profiler.profile())?;
        Ok(profile)
    }

    fn bytes(&self) -> DfResult<ScalarValue> {
        let bytes = self.current()?.to_bytes().map_err(Error::from)?;
        Ok(ScalarValue::Binary(Some(bytes)))
    }
}

impl Accumulator for ProfileAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef59]) -> DfResult<()> {
        let batch = bridge::batch(values, &self.names)?;
        self.profiler.update(&batch).map_err(Error::from)?;
        stats::profiled(batch.num_rows());
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef59]) -> DfResult<()> {
        let Some(column) = states.first() else {
            return Ok(());
        };
        let binary = column.as_binary_opt::<i32>().ok_or_else(|| Error::UnexpectedResult {
            location: "mlops_profile state".into(),
            message: format!("a {} column", column.data_type()),
            expected: "Binary (the profile's binary form)".into(),
        })?;
        for bytes in binary.iter().flatten() {
            let partial = Profile::from_bytes(bytes).map_err(Error::from)?;
            self.merged.merge(&partial).map_err(Error::from)?;
        }
        Ok(())
    }

    fn state(&mut self) -> DfResult<Vec<ScalarValue>> {
        let state = self.bytes()?;
        if let ScalarValue::Binary(Some(bytes)) = &state {
            stats::shipped(bytes.len());
        }
        Ok(vec![state])
    }

    fn evaluate(&mut self) -> DfResult<ScalarValue> {
        self.bytes()
    }

    fn size(&self) -> usize {
        // Sketches are bounded by the configuration, not by the rows: per
        // column a KLL sketch (≈ 3k values), HyperLogLog registers and the
        // frequent-item counters. An estimate is what DataFusion asks for.
        let c = &self.config;
        let per_column = 3 * usize::from(c.kll_k) * 8 + (1usize << c.hll_precision) + c.frequent_items * 64;
        std::mem::size_of_val(self) + 2 * self.names.len() * per_column
    }
}
