//! The Open Inference Protocol (KServe v2) over JSON: tensors in, tensors out.
//!
//! Inputs come either as one tensor per feature column, named like the column,
//! of shape `[N]` or `[N, 1]` (MLServer's pandas convention), or as one
//! `[N, F]` tensor holding every feature in signature order. Outputs are one
//! tensor per output column of the predictor (`label`, `proba_<class>`,
//! `prediction`).

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type, Int32Type, Int64Type};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Float32Array, Float64Array, Int32Array, Int64Array, RecordBatch, RecordBatchOptions,
    StringArray, UInt32Array, UInt64Array,
};
use arrow_schema::{DataType, Field, Schema};
use mlops_core::Signature;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `POST /v2/models/{name}/infer` body.
#[derive(Debug, Deserialize)]
pub struct InferRequest {
    /// Echoed in the response.
    #[serde(default)]
    pub id: Option<String>,
    /// The tensors.
    pub inputs: Vec<InferTensor>,
}

/// One tensor of a request or a response.
#[derive(Debug, Deserialize, Serialize)]
pub struct InferTensor {
    /// Column name (or any name, for the single `[N, F]` form).
    pub name: String,
    /// Dimensions: `[N]`, `[N, 1]` or `[N, F]`.
    pub shape: Vec<i64>,
    /// `FP32`, `FP64`, `INT32`, `INT64`, `UINT32`, `UINT64`, `BOOL` or `BYTES`.
    pub datatype: String,
    /// Row-major values, flat or nested.
    pub data: Value,
}

/// The response body.
#[derive(Debug, Serialize)]
pub struct InferResponse {
    /// The model's name.
    pub model_name: String,
    /// The version that answered.
    pub model_version: String,
    /// The request's id, when it had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Rows refused by a row-level policy (their outputs are null).
    pub parameters: Value,
    /// One tensor per output column.
    pub outputs: Vec<InferTensor>,
}

/// `GET /v2/models/{name}` body.
#[derive(Debug, Serialize)]
pub struct ModelMetadata {
    /// The model's name.
    pub name: String,
    /// Loaded versions.
    pub versions: Vec<String>,
    /// Always `mlops-rs`.
    pub platform: String,
    /// One tensor per input column.
    pub inputs: Vec<TensorMetadata>,
    /// One tensor per output column.
    pub outputs: Vec<TensorMetadata>,
}

/// A tensor's name, type and shape (`-1`: any number of rows).
#[derive(Debug, Serialize)]
pub struct TensorMetadata {
    /// Column name.
    pub name: String,
    /// OIP datatype.
    pub datatype: String,
    /// `[-1]`.
    pub shape: Vec<i64>,
}

/// The OIP datatype of an Arrow type, for metadata and outputs.
pub fn datatype_of(t: &DataType) -> &'static str {
    match t {
        DataType::Float16 => "FP16",
        DataType::Float32 => "FP32",
        DataType::Float64 => "FP64",
        DataType::Int8 => "INT8",
        DataType::Int16 => "INT16",
        DataType::Int32 => "INT32",
        DataType::Int64 => "INT64",
        DataType::UInt8 => "UINT8",
        DataType::UInt16 => "UINT16",
        DataType::UInt32 => "UINT32",
        DataType::UInt64 => "UINT64",
        DataType::Boolean => "BOOL",
        _ => "BYTES",
    }
}

/// Metadata of every field of `schema`.
pub fn tensors_of(schema: &Schema) -> Vec<TensorMetadata> {
    schema
        .fields()
        .iter()
        .map(|f| TensorMetadata {
            name: f.name().clone(),
            datatype: datatype_of(f.data_type()).to_owned(),
            shape: vec![-1],
        })
        .collect()
}

/// Flattens nested arrays (row-major) into one list of values.
fn flatten(data: &Value, out: &mut Vec<Value>) {
    match data {
        Value::Array(items) => items.iter().for_each(|v| flatten(v, out)),
        other => out.push(other.clone()),
    }
}

/// One Arrow column of OIP `datatype` from `values`; `what` names it in errors.
fn column(datatype: &str, values: &[Value], what: &str) -> Result<ArrayRef, String> {
    let bad = |i: usize, v: &Value| format!("{what}: value {i} is {v}, not a {datatype}");
    macro_rules! numbers {
        ($array:ty, $get:ident, $conv:expr) => {{
            let mut out = Vec::with_capacity(values.len());
            for (i, v) in values.iter().enumerate() {
                out.push(match v {
                    Value::Null => None,
                    _ => Some(v.$get().and_then($conv).ok_or_else(|| bad(i, v))?),
                });
            }
            Arc::new(<$array>::from(out)) as ArrayRef
        }};
    }
    Ok(match datatype {
        // JSON has no NaN or infinity: a float tensor carries numbers or null.
        "FP32" => numbers!(Float32Array, as_f64, |x: f64| Some(x as f32)),
        "FP64" => numbers!(Float64Array, as_f64, Some),
        "INT8" | "INT16" | "INT32" => numbers!(Int32Array, as_i64, |x: i64| i32::try_from(x).ok()),
        "INT64" => numbers!(Int64Array, as_i64, Some),
        "UINT8" | "UINT16" | "UINT32" => numbers!(UInt32Array, as_u64, |x: u64| u32::try_from(x).ok()),
        "UINT64" => numbers!(UInt64Array, as_u64, Some),
        "BOOL" => numbers!(BooleanArray, as_bool, Some),
        "BYTES" => {
            let mut out = Vec::with_capacity(values.len());
            for (i, v) in values.iter().enumerate() {
                out.push(match v {
                    Value::Null => None,
                    Value::String(s) => Some(s.clone()),
                    _ => return Err(bad(i, v)),
                });
            }
            Arc::new(StringArray::from(out)) as ArrayRef
        }
        other => {
            return Err(format!(
                "{what}: datatype `{other}` is not supported (FP32, FP64, INT8–64, UINT8–64, BOOL, BYTES)"
            ));
        }
    })
}

fn rows_of(t: &InferTensor) -> Result<usize, String> {
    match t.shape.first() {
        Some(&n) if n >= 0 => usize::try_from(n).map_err(|e| e.to_string()),
        _ => Err(format!("tensor `{}`: shape {:?} has no row count", t.name, t.shape)),
    }
}

/// The request's rows as a batch, columns named as the signature names them.
///
/// Errors (for a 400): a shape that does not match the data, an unknown
/// datatype, a value of the wrong kind, tensors with different row counts.
/// A missing column is left for the predictor to report, like any other
/// signature violation.
pub fn request_to_batch(request: &InferRequest, signature: &Signature) -> Result<RecordBatch, String> {
    let columns: Vec<&str> = signature.fields.iter().map(|f| f.name.as_str()).collect();
    let by_column = request.inputs.iter().any(|t| columns.contains(&t.name.as_str()));
    let mut fields = Vec::new();
    let mut arrays = Vec::new();
    let mut rows: Option<usize> = None;
    let mut agree = |n: usize, name: &str| match rows {
        Some(r) if r != n => Err(format!("tensor `{name}` has {n} rows, others have {r}")),
        _ => {
            rows = Some(n);
            Ok(())
        }
    };
    if by_column || request.inputs.len() != 1 {
        for t in &request.inputs {
            let n = rows_of(t)?;
            let width: i64 = t.shape.iter().skip(1).product();
            if width != 1 {
                return Err(format!(
                    "tensor `{}`: shape {:?}; one column is [N] or [N, 1]",
                    t.name, t.shape
                ));
            }
            let mut values = Vec::with_capacity(n);
            flatten(&t.data, &mut values);
            if values.len() != n {
                return Err(format!(
                    "tensor `{}`: shape {:?} but {} values",
                    t.name,
                    t.shape,
                    values.len()
                ));
            }
            agree(n, &t.name)?;
            let array = column(&t.datatype, &values, &format!("tensor `{}`", t.name))?;
            fields.push(Field::new(&t.name, array.data_type().clone(), true));
            arrays.push(array);
        }
    } else {
        let t = &request.inputs[0];
        let n = rows_of(t)?;
        if t.shape.len() != 2 || t.shape[1] != columns.len() as i64 {
            return Err(format!(
                "tensor `{}`: shape {:?}; one tensor for all features is [N, {}] in the order {}",
                t.name,
                t.shape,
                columns.len(),
                columns.join(", ")
            ));
        }
        let mut values = Vec::with_capacity(n * columns.len());
        flatten(&t.data, &mut values);
        if values.len() != n * columns.len() {
            return Err(format!(
                "tensor `{}`: shape {:?} but {} values",
                t.name,
                t.shape,
                values.len()
            ));
        }
        agree(n, &t.name)?;
        for (j, name) in columns.iter().enumerate() {
            let column_values: Vec<Value> = values.iter().skip(j).step_by(columns.len()).cloned().collect();
            let array = column(
                &t.datatype,
                &column_values,
                &format!("tensor `{}`, feature `{name}`", t.name),
            )?;
            fields.push(Field::new(*name, array.data_type().clone(), true));
            arrays.push(array);
        }
    }
    let options = RecordBatchOptions::new().with_row_count(Some(rows.unwrap_or(0)));
    RecordBatch::try_new_with_options(Arc::new(Schema::new(fields)), arrays, &options).map_err(|e| e.to_string())
}

/// One output tensor per column of the answer.
pub fn batch_to_outputs(batch: &RecordBatch) -> Vec<InferTensor> {
    let n = batch.num_rows() as i64;
    batch
        .schema()
        .fields()
        .iter()
        .zip(batch.columns())
        .map(|(field, array)| InferTensor {
            name: field.name().clone(),
            shape: vec![n],
            datatype: datatype_of(field.data_type()).to_owned(),
            data: Value::Array(values(array)),
        })
        .collect()
}

fn values(array: &ArrayRef) -> Vec<Value> {
    let n = array.len();
    let at = |i: usize, f: &dyn Fn(usize) -> Value| if array.is_null(i) { Value::Null } else { f(i) };
    let number = |x: f64| serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number);
    match array.data_type() {
        DataType::Float32 => {
            let a = array.as_primitive::<Float32Type>();
            (0..n).map(|i| at(i, &|i| number(f64::from(a.value(i))))).collect()
        }
        DataType::Float64 => {
            let a = array.as_primitive::<Float64Type>();
            (0..n).map(|i| at(i, &|i| number(a.value(i)))).collect()
        }
        DataType::Int32 => {
            let a = array.as_primitive::<Int32Type>();
            (0..n).map(|i| at(i, &|i| Value::from(a.value(i)))).collect()
        }
        DataType::Int64 => {
            let a = array.as_primitive::<Int64Type>();
            (0..n).map(|i| at(i, &|i| Value::from(a.value(i)))).collect()
        }
        DataType::Boolean => {
            let a = array.as_boolean();
            (0..n).map(|i| at(i, &|i| Value::from(a.value(i)))).collect()
        }
        _ => match arrow_cast::cast(array, &DataType::Utf8) {
            Ok(text) => {
                let a = text.as_string::<i32>();
                (0..n).map(|i| at(i, &|i| Value::from(a.value(i)))).collect()
            }
            Err(_) => vec![Value::Null; n],
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mlops_core::FieldSpec;

    fn signature() -> Signature {
        Signature::new(vec![
            FieldSpec::new("a", DataType::Float64, false),
            FieldSpec::new("b", DataType::Float64, false),
        ])
        .unwrap()
    }

    fn request(json: Value) -> InferRequest {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn one_tensor_per_column_and_one_tensor_for_all_give_the_same_batch() {
        let per_column = request(serde_json::json!({"inputs": [
            {"name": "b", "shape": [2, 1], "datatype": "FP64", "data": [[3.0], [4.0]]},
            {"name": "a", "shape": [2], "datatype": "FP32", "data": [1.0, 2.0]}
        ]}));
        let batch = request_to_batch(&per_column, &signature()).unwrap();
        assert_eq!(batch.num_rows(), 2);
        assert_eq!(batch.schema().field(1).data_type(), &DataType::Float32);
        let matrix = request(serde_json::json!({"inputs": [
            {"name": "features", "shape": [2, 2], "datatype": "FP64", "data": [1.0, 3.0, 2.0, 4.0]}
        ]}));
        let batch = request_to_batch(&matrix, &signature()).unwrap();
        let a = batch.column_by_name("a").unwrap().as_primitive::<Float64Type>();
        let b = batch.column_by_name("b").unwrap().as_primitive::<Float64Type>();
        assert_eq!(
            (a.values().to_vec(), b.values().to_vec()),
            (vec![1.0, 2.0], vec![3.0, 4.0])
        );
    }

    #[test]
    fn malformed_tensors_are_named_in_the_error() {
        let cases = [
            (
                serde_json::json!({"inputs": [{"name": "a", "shape": [3], "datatype": "FP64", "data": [1.0, 2.0]}]}),
                "[3] but 2 values",
            ),
            (
                serde_json::json!({"inputs": [{"name": "a", "shape": [1], "datatype": "FP64", "data": ["x"]}]}),
                "not a FP64",
            ),
            (
                serde_json::json!({"inputs": [{"name": "a", "shape": [1], "datatype": "COMPLEX", "data": [1]}]}),
                "not supported",
            ),
            (
                serde_json::json!({"inputs": [{"name": "m", "shape": [1, 3], "datatype": "FP64", "data": [1, 2, 3]}]}),
                "[N, 2]",
            ),
            (
                serde_json::json!({"inputs": [
                {"name": "a", "shape": [1], "datatype": "FP64", "data": [1.0]},
                {"name": "b", "shape": [2], "datatype": "FP64", "data": [1.0, 2.0]}]}),
                "has 2 rows, others have 1",
            ),
            (
                serde_json::json!({"inputs": [{"name": "a", "shape": [1], "datatype": "INT8", "data": [1e12]}]}),
                "not a INT8",
            ),
        ];
        for (json, expected) in cases {
            let err = request_to_batch(&request(json.clone()), &signature()).unwrap_err();
            assert!(err.contains(expected), "{json}: {err}");
        }
    }
}
