//! Small real predictors for the documentation's examples (hidden from the docs).

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::{Float64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};

use crate::{Error, Predict, Prediction, Result};

/// `prediction = slope · x + intercept` over a Float64 column `x`.
#[derive(Debug)]
pub struct Affine {
    slope: f64,
    intercept: f64,
}

impl Affine {
    /// The line `slope · x + intercept`.
    pub fn new(slope: f64, intercept: f64) -> Self {
        Affine { slope, intercept }
    }
}

impl Predict for Affine {
    fn model_name(&self) -> &str {
        "affine"
    }

    fn input_schema(&self) -> SchemaRef {
        Arc::new(Schema::new(vec![Field::new("x", DataType::Float64, true)]))
    }

    fn output_schema(&self) -> SchemaRef {
        Arc::new(Schema::new(vec![Field::new("prediction", DataType::Float64, true)]))
    }

    fn predict_detailed(&self, batch: &RecordBatch) -> Result<Prediction> {
        let x = batch
            .column_by_name("x")
            .and_then(|c| c.as_primitive_opt::<Float64Type>())
            .ok_or_else(|| Error::SchemaMismatch {
                location: "model `affine` input".to_owned(),
                message: "needs a Float64 column `x`".to_owned(),
            })?;
        let y: Float64Array = x.unary(|v| self.slope * v + self.intercept);
        let batch = RecordBatch::try_new(self.output_schema(), vec![Arc::new(y)]).map_err(|source| Error::Arrow {
            location: "model `affine` output".to_owned(),
            source,
        })?;
        Ok(Prediction::clean(batch))
    }
}

/// Two versions of a model: `2x + 1` (stable) and `2x + 1.001` (candidate).
pub fn two_versions() -> (Arc<dyn Predict>, Arc<dyn Predict>) {
    (Arc::new(Affine::new(2.0, 1.0)), Arc::new(Affine::new(2.0, 1.001)))
}
