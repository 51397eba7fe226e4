//! `mlops_profile`: the profile of its argument columns, as an aggregate.

use std::any::Any;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::Result as DfResult;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{Accumulator, AggregateUDF, AggregateUDFImpl, Signature, Volatility};
use mlops_data::ProfileConfig;

use crate::accumulator::ProfileAccumulator;

/// The function's name in SQL and in plans.
pub const PROFILE_FUNCTION: &str = "mlops_profile";

/// `mlops_profile(col, …)`: any number of columns of the types the profiler
/// reads, one binary value back, our profile's binary form
/// ([`Profile::from_bytes`](mlops_data::Profile::from_bytes) reads it).
///
/// Partial states are that same binary form, so partitions and nodes ship
/// O(columns × sketch size) bytes, whatever the number of rows. The profile
/// configuration is part of the function (and of its equality): every
/// partition, and every Ballista node through [`ProfileCodec`](crate::ProfileCodec),
/// profiles the same way.
#[derive(Debug, Clone)]
pub struct ProfileUdaf {
    signature: Signature,
    config: ProfileConfig,
}

impl ProfileUdaf {
    /// The function with `config`.
    pub fn new(config: ProfileConfig) -> Self {
        ProfileUdaf {
            signature: Signature::variadic_any(Volatility::Immutable),
            config,
        }
    }

    /// The profile configuration it carries.
    pub fn config(&self) -> &ProfileConfig {
        &self.config
    }

    /// As DataFusion's function object, ready for `register_udaf` or `.call(args)`.
    pub fn udaf(config: ProfileConfig) -> AggregateUDF {
        AggregateUDF::from(ProfileUdaf::new(config))
    }
}

impl PartialEq for ProfileUdaf {
    fn eq(&self, other: &Self) -> bool {
        self.config == other.config && self.signature == other.signature
    }
}

impl Eq for ProfileUdaf {}

impl Hash for ProfileUdaf {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let c = &self.config;
        (c.kll_k, c.hll_precision, c.frequent_items, c.batch_size).hash(state);
        self.signature.hash(state);
    }
}

impl AggregateUDFImpl for ProfileUdaf {
    fn name(&self) -> &str {
        PROFILE_FUNCTION
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Binary)
    }

    fn is_nullable(&self) -> bool {
        false
    }

    fn state_fields(&self, args: StateFieldsArgs<'_>) -> DfResult<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(
            format_state_name(args.name, "profile"),
            DataType::Binary,
            true,
        ))])
    }

    fn accumulator(&self, args: AccumulatorArgs<'_>) -> DfResult<Box<dyn Accumulator>> {
        // A qualified column (`t.income`) profiles as `income`: the profile
        // describes the data, not the query's aliases.
        let names = args
            .expr_fields
            .iter()
            .map(|f| f.name().rsplit('.').next().unwrap_or(f.name()).to_owned())
            .collect();
        Ok(Box::new(ProfileAccumulator::new(self.config.clone(), names)?))
    }

    fn default_value(&self, _data_type: &DataType) -> DfResult<datafusion::scalar::ScalarValue> {
        Ok(datafusion::scalar::ScalarValue::Binary(Some(
            mlops_data::Profile::empty(self.config.clone())
                .to_bytes()
                .map_err(crate::Error::from)?,
        )))
    }
}

impl ProfileUdaf {
    /// Whether `udaf` is this function (any configuration).
    pub fn is_profile(udaf: &AggregateUDF) -> bool {
        (udaf.inner().as_ref() as &dyn Any).is::<ProfileUdaf>()
    }

    /// The configuration of `udaf`, when it is this function.
    pub fn config_of(udaf: &AggregateUDF) -> Option<&ProfileConfig> {
        (udaf.inner().as_ref() as &dyn Any)
            .downcast_ref::<ProfileUdaf>()
            .map(ProfileUdaf::config)
    }
}
