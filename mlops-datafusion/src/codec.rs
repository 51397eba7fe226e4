//! Plans that carry `mlops_profile` between a Ballista client, its scheduler
//! and its executors, with the profile configuration inside.

use std::sync::Arc;

use ballista_core::serde::{BallistaLogicalExtensionCodec, BallistaPhysicalExtensionCodec};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::TableProvider;
use datafusion::common::{Result as DfResult, TableReference};
use datafusion::datasource::file_format::FileFormatFactory;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{AggregateUDF, Extension, LogicalPlan, ScalarUDF, WindowUDF};
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};
use mlops_data::ProfileConfig;

use crate::Error;
use crate::udaf::{PROFILE_FUNCTION, ProfileUdaf};

/// Ballista's own codecs, plus `mlops_profile`: the function travels by name
/// with its [`ProfileConfig`] as JSON, so a node that decodes the plan
/// profiles exactly as the client asked. Everything else is Ballista's.
///
/// Give it to the client ([`ballista_state`](crate::ballista_state)), the
/// scheduler and every executor (see the `ballista_scheduler` and
/// `ballista_executor` examples).
#[derive(Debug, Default)]
pub struct ProfileCodec {
    logical: BallistaLogicalExtensionCodec,
    physical: BallistaPhysicalExtensionCodec,
}

fn encode(node: &AggregateUDF, buf: &mut Vec<u8>) -> DfResult<bool> {
    let Some(config) = ProfileUdaf::config_of(node) else {
        return Ok(false);
    };
    let json = serde_json::to_vec(config).map_err(|e| Error::Bridge {
        what: "the profile configuration".into(),
        reason: e.to_string(),
    })?;
    buf.extend_from_slice(&json);
    Ok(true)
}

fn decode(name: &str, buf: &[u8]) -> DfResult<Option<Arc<AggregateUDF>>> {
    if name != PROFILE_FUNCTION {
        return Ok(None);
    }
    // A plan written without a configuration profiles with the defaults.
    let config: ProfileConfig = if buf.is_empty() {
        ProfileConfig::default()
    } else {
        serde_json::from_slice(buf).map_err(|e| Error::Bridge {
            what: format!("the configuration of `{PROFILE_FUNCTION}` in a plan"),
            reason: e.to_string(),
        })?
    };
    config.validate().map_err(Error::from)?;
    Ok(Some(Arc::new(ProfileUdaf::udaf(config))))
}

impl LogicalExtensionCodec for ProfileCodec {
    fn try_decode(&self, buf: &[u8], inputs: &[LogicalPlan], ctx: &TaskContext) -> DfResult<Extension> {
        self.logical.try_decode(buf, inputs, ctx)
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> DfResult<()> {
        self.logical.try_encode(node, buf)
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: SchemaRef,
        ctx: &TaskContext,
    ) -> DfResult<Arc<dyn TableProvider>> {
        self.logical.try_decode_table_provider(buf, table_ref, schema, ctx)
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> DfResult<()> {
        self.logical.try_encode_table_provider(table_ref, node, buf)
    }

    fn try_decode_file_format(&self, buf: &[u8], ctx: &TaskContext) -> DfResult<Arc<dyn FileFormatFactory>> {
        self.logical.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(&self, buf: &mut Vec<u8>, node: Arc<dyn FileFormatFactory>) -> DfResult<()> {
        self.logical.try_encode_file_format(buf, node)
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> DfResult<Arc<ScalarUDF>> {
        self.logical.try_decode_udf(name, buf)
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> DfResult<()> {
        self.logical.try_encode_udf(node, buf)
    }

    fn try_decode_udaf(&self, name: &str, buf: &[u8]) -> DfResult<Arc<AggregateUDF>> {
        match decode(name, buf)? {
            Some(udaf) => Ok(udaf),
            None => self.logical.try_decode_udaf(name, buf),
        }
    }

    fn try_encode_udaf(&self, node: &AggregateUDF, buf: &mut Vec<u8>) -> DfResult<()> {
        if encode(node, buf)? {
            return Ok(());
        }
        self.logical.try_encode_udaf(node, buf)
    }

    fn try_decode_udwf(&self, name: &str, buf: &[u8]) -> DfResult<Arc<WindowUDF>> {
        self.logical.try_decode_udwf(name, buf)
    }

    fn try_encode_udwf(&self, node: &WindowUDF, buf: &mut Vec<u8>) -> DfResult<()> {
        self.logical.try_encode_udwf(node, buf)
    }
}

impl PhysicalExtensionCodec for ProfileCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        self.physical.try_decode(buf, inputs, ctx, proto_converter)
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> DfResult<()> {
        self.physical.try_encode(node, buf, proto_converter)
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> DfResult<Arc<ScalarUDF>> {
        self.physical.try_decode_udf(name, buf)
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> DfResult<()> {
        self.physical.try_encode_udf(node, buf)
    }

    fn try_decode_udaf(&self, name: &str, buf: &[u8]) -> DfResult<Arc<AggregateUDF>> {
        match decode(name, buf)? {
            Some(udaf) => Ok(udaf),
            None => self.physical.try_decode_udaf(name, buf),
        }
    }

    fn try_encode_udaf(&self, node: &AggregateUDF, buf: &mut Vec<u8>) -> DfResult<()> {
        if encode(node, buf)? {
            return Ok(());
        }
        self.physical.try_encode_udaf(node, buf)
    }

    fn try_decode_udwf(&self, name: &str, buf: &[u8]) -> DfResult<Arc<WindowUDF>> {
        self.physical.try_decode_udwf(name, buf)
    }

    fn try_encode_udwf(&self, node: &WindowUDF, buf: &mut Vec<u8>) -> DfResult<()> {
        self.physical.try_encode_udwf(node, buf)
    }
}
