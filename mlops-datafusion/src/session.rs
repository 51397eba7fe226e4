//! Profiles through a `SessionContext`: register the function, profile a
//! table, a Parquet directory or glob, or one profile per group.

use std::sync::atomic::{AtomicU64, Ordering};

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::record_batch::RecordBatch as RecordBatch59;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::execution::FunctionRegistry;
use datafusion::logical_expr::Expr;
use datafusion::prelude::{DataFrame, ParquetReadOptions, SessionContext, ident};
use mlops_data::{Profile, ProfileConfig};

use crate::udaf::{PROFILE_FUNCTION, ProfileUdaf};
use crate::{Error, Result};

/// Registers `mlops_profile` with the default [`ProfileConfig`].
pub fn register(ctx: &SessionContext) {
    register_with(ctx, ProfileConfig::default());
}

/// Registers `mlops_profile` profiling with `config` (replacing any earlier registration).
pub fn register_with(ctx: &SessionContext, config: ProfileConfig) {
    ctx.register_udaf(ProfileUdaf::udaf(config));
}

/// The registered function, or the default one when none is.
fn function(ctx: &SessionContext) -> datafusion::logical_expr::AggregateUDF {
    match ctx.state().udaf(PROFILE_FUNCTION) {
        Ok(udaf) if ProfileUdaf::is_profile(&udaf) => udaf.as_ref().clone(),
        _ => ProfileUdaf::udaf(ProfileConfig::default()),
    }
}

/// `mlops_profile` over every column of `frame`, as an expression.
fn over_every_column(ctx: &SessionContext, frame: &DataFrame) -> Expr {
    let columns: Vec<Expr> = frame.schema().fields().iter().map(|f| ident(f.name())).collect();
    function(ctx).call(columns).alias("profile")
}

/// The profile of every column of a registered table (DataFusion's
/// partitions profile in parallel and their states merge).
pub async fn profile_table(ctx: &SessionContext, table: &str) -> Result<Profile> {
    let frame = ctx.table(table).await?;
    profile_frame(ctx, frame).await
}

/// The profile of every column of a DataFrame.
pub async fn profile_frame(ctx: &SessionContext, frame: DataFrame) -> Result<Profile> {
    let expr = over_every_column(ctx, &frame);
    let batches = frame
        .aggregate(vec![], vec![expr])?
        .collect()
        .await
        .map_err(Error::from_query)?;
    let profiles = decode(&batches, "profile", "the profile query")?;
    match profiles.as_slice() {
        [one] => Ok(one.clone()),
        other => Err(Error::UnexpectedResult {
            location: "the profile query".into(),
            message: format!("{} rows", other.len()),
            expected: "one row".into(),
        }),
    }
}

static SOURCE_SEQ: AtomicU64 = AtomicU64::new(0);

/// The profile of a directory or glob of Parquet files (`/data/day=*/`,
/// `s3://bucket/prefix/*.parquet` once the bucket's object store is
/// registered with the context).
pub async fn profile_parquet(ctx: &SessionContext, url: &str) -> Result<Profile> {
    let name = format!("mlops_profile_source_{}", SOURCE_SEQ.fetch_add(1, Ordering::Relaxed));
    ctx.register_parquet(&name, url, ParquetReadOptions::default()).await?;
    let profile = profile_table(ctx, &name).await;
    ctx.deregister_table(&name)?;
    profile
}

/// One profile per group of `group_by` (a day, a country…): the key of each
/// group as text, and the profile of the other columns.
pub async fn profile_groups(
    ctx: &SessionContext,
    table: &str,
    group_by: &[&str],
) -> Result<Vec<(Vec<String>, Profile)>> {
    let frame = ctx.table(table).await?;
    let profiled: Vec<Expr> = frame
        .schema()
        .fields()
        .iter()
        .filter(|f| !group_by.contains(&f.name().as_str()))
        .map(|f| ident(f.name()))
        .collect();
    let keys: Vec<Expr> = group_by.iter().map(|k| ident(*k)).collect();
    let aggregate = function(ctx).call(profiled).alias("profile");
    let batches = frame
        .aggregate(keys, vec![aggregate])?
        .collect()
        .await
        .map_err(Error::from_query)?;
    let options = FormatOptions::default().with_null("null");
    let mut out = Vec::new();
    for batch in &batches {
        let profiles = decode(std::slice::from_ref(batch), "profile", "the grouped profile query")?;
        let formatters = group_by
            .iter()
            .map(|k| {
                let column = batch.column_by_name(k).ok_or_else(|| Error::UnexpectedResult {
                    location: "the grouped profile query".into(),
                    message: format!("no column `{k}`"),
                    expected: "one column per group key".into(),
                })?;
                Ok(ArrayFormatter::try_new(column.as_ref(), &options)
                    .map_err(datafusion::error::DataFusionError::from)?)
            })
            .collect::<Result<Vec<_>>>()?;
        for (row, profile) in profiles.into_iter().enumerate() {
            let key: Vec<String> = formatters.iter().map(|f| f.value(row).to_string()).collect();
            out.push((key, profile));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// The profiles in the binary column `column` of `batches`, in row order.
pub fn decode(batches: &[RecordBatch59], column: &str, location: &str) -> Result<Vec<Profile>> {
    let mut out = Vec::new();
    for batch in batches {
        let array = batch.column_by_name(column).ok_or_else(|| Error::UnexpectedResult {
            location: location.into(),
            message: format!(
                "columns {:?}",
                batch.schema().fields().iter().map(|f| f.name()).collect::<Vec<_>>()
            ),
            expected: format!("a `{column}` column"),
        })?;
        let binary = array.as_binary_opt::<i32>().ok_or_else(|| Error::UnexpectedResult {
            location: location.into(),
            message: format!("`{column}` of type {}", array.data_type()),
            expected: "Binary".into(),
        })?;
        for row in 0..binary.len() {
            if binary.is_null(row) {
                return Err(Error::UnexpectedResult {
                    location: location.into(),
                    message: format!("a null profile in row {row}"),
                    expected: "a profile per row".into(),
                });
            }
            out.push(Profile::from_bytes(binary.value(row))?);
        }
    }
    Ok(out)
}
