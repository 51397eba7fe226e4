//! A package's input example and expected output: JSON rows, read with the
//! package's signatures (no type guessing), and the smoke test that compares
//! a model's answer with the recorded one.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Float32Type;
use arrow_array::{Array, ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use mlops_core::{Error, Result, Signature, TypeFamily};

/// JSON rows (`[{"column": value, …}, …]`) as a batch with the signature's
/// columns at their declared types: numbers, strings, booleans and nulls are
/// read by the column's type family, then cast to the declared width (an
/// integer that does not fit is an error naming the column).
pub fn rows_to_batch(rows: &[serde_json::Value], signature: &Signature, location: &str) -> Result<RecordBatch> {
    let bad = |column: &str, row: usize, message: String| {
        Error::invalid_input(
            "example value",
            format!("{location}, row {row}, column `{column}`"),
            message,
            "a value of the column's declared type",
        )
    };
    let mut fields = Vec::with_capacity(signature.fields.len());
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(signature.fields.len());
    for field in &signature.fields {
        let values: Vec<&serde_json::Value> = rows
            .iter()
            .map(|r| r.get(&field.name).unwrap_or(&serde_json::Value::Null))
            .collect();
        // Each value read as the column's family; a value of another kind names its row.
        let read = |kind: &str, get: &dyn Fn(&serde_json::Value) -> bool| -> Result<()> {
            match values.iter().position(|v| !v.is_null() && !get(v)) {
                Some(i) => Err(bad(&field.name, i, format!("{} is not {kind}", values[i]))),
                None => Ok(()),
            }
        };
        let array: ArrayRef = match TypeFamily::of(&field.data_type) {
            TypeFamily::Integer => {
                read("an integer", &|v| json_integer(v).is_some())?;
                Arc::new(values.iter().map(|v| json_integer(v)).collect::<Int64Array>())
            }
            TypeFamily::Float => {
                read("a number", &|v| v.is_number())?;
                Arc::new(values.iter().map(|v| v.as_f64()).collect::<Float64Array>())
            }
            TypeFamily::String => {
                read("a string", &|v| v.is_string())?;
                Arc::new(values.iter().map(|v| v.as_str()).collect::<StringArray>())
            }
            TypeFamily::Boolean => {
                read("a boolean", &|v| v.is_boolean())?;
                Arc::new(values.iter().map(|v| v.as_bool()).collect::<BooleanArray>())
            }
            _ => {
                return Err(Error::TypeMismatch {
                    column: field.name.clone(),
                    expected: "a number, string or boolean column in a JSON example".into(),
                    found: field.data_type.to_string(),
                });
            }
        };
        // JSON has numbers, not widths: the column takes its declared type
        // (an integer that does not fit is an error, not a wrapped value).
        let options = arrow_cast::CastOptions {
            safe: false,
            ..Default::default()
        };
        let array = arrow_cast::cast_with_options(&array, &field.data_type, &options).map_err(|e| {
            Error::invalid_input(
                "example value",
                format!("{location}, column `{}`", field.name),
                e.to_string(),
                format!("values that fit {}", field.data_type),
            )
        })?;
        fields.push(Field::new(&field.name, array.data_type().clone(), true));
        columns.push(array);
    }
    RecordBatch::try_new_with_options(
        Arc::new(Schema::new(fields)),
        columns,
        &arrow_array::RecordBatchOptions::new().with_row_count(Some(rows.len())),
    )
    .map_err(|e| Error::Arrow {
        location: location.to_owned(),
        source: e,
    })
}

/// An integer, also when a JSON writer printed it as `45.0`.
fn json_integer(v: &serde_json::Value) -> Option<i64> {
    v.as_i64().or_else(|| {
        v.as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
            .map(|f| f as i64)
    })
}

/// An answer as JSON rows, for a package's expected output.
pub fn batch_to_rows(batch: &RecordBatch) -> Vec<serde_json::Value> {
    (0..batch.num_rows())
        .map(|row| {
            let mut object = serde_json::Map::new();
            for (field, column) in batch.schema_ref().fields().iter().zip(batch.columns()) {
                let value = if column.is_null(row) {
                    serde_json::Value::Null
                } else {
                    match column.data_type() {
                        DataType::Float32 => serde_json::json!(column.as_primitive::<Float32Type>().value(row)),
                        DataType::Utf8 => serde_json::json!(column.as_string::<i32>().value(row)),
                        _ => serde_json::Value::Null,
                    }
                };
                object.insert(field.name().clone(), value);
            }
            serde_json::Value::Object(object)
        })
        .collect()
}

/// Compares an answer with the expected rows: numbers within `tolerance`,
/// labels exactly. Expected rows may also be bare numbers, compared with the
/// answer's only score (a binary classifier's positive-class probability, or
/// a single prediction).
pub(crate) fn compare(
    answer: &RecordBatch,
    expected: &[serde_json::Value],
    tolerance: f64,
    location: &str,
) -> Result<()> {
    if expected.len() != answer.num_rows() {
        return Err(Error::invalid_input(
            "expected output",
            location,
            format!(
                "{} expected rows for {} example rows",
                expected.len(),
                answer.num_rows()
            ),
            "one expected row per example row",
        ));
    }
    let score_column = answer
        .schema_ref()
        .fields()
        .iter()
        .rposition(|f| f.data_type() == &DataType::Float32)
        .filter(|_| {
            answer
                .schema_ref()
                .fields()
                .iter()
                .filter(|f| f.data_type() == &DataType::Float32)
                .count()
                <= 2
        });
    // (row, column, found, expected, difference) of the worst value.
    let mut worst: Option<(usize, String, String, String, f64)> = None;
    let mut consider = |row: usize, column: &str, found: String, wanted: String, diff: f64| {
        if diff > tolerance && worst.as_ref().is_none_or(|w| diff > w.4) {
            worst = Some((row, column.to_owned(), found, wanted, diff));
        }
    };
    for (row, want) in expected.iter().enumerate() {
        match want {
            serde_json::Value::Object(fields) => {
                for (name, wanted) in fields {
                    let Some(column) = answer.column_by_name(name) else {
                        return Err(Error::SchemaMismatch {
                            location: location.to_owned(),
                            message: format!(
                                "the expected output names column `{name}`, which the model does not return"
                            ),
                        });
                    };
                    match (column.data_type(), wanted) {
                        (DataType::Float32, serde_json::Value::Number(n)) => {
                            let found = column.as_primitive::<Float32Type>().value(row);
                            let w = n.as_f64().unwrap_or(f64::NAN);
                            let diff = (f64::from(found) - w).abs();
                            consider(
                                row,
                                name,
                                found.to_string(),
                                w.to_string(),
                                if diff.is_nan() { f64::INFINITY } else { diff },
                            );
                        }
                        (DataType::Utf8, serde_json::Value::String(w)) => {
                            let found = column.as_string::<i32>().value(row);
                            if found != w {
                                consider(row, name, found.to_owned(), w.clone(), f64::INFINITY);
                            }
                        }
                        (_, w) => consider(
                            row,
                            name,
                            "a value of another type".into(),
                            w.to_string(),
                            f64::INFINITY,
                        ),
                    }
                }
            }
            serde_json::Value::Number(n) => {
                let Some(index) = score_column else {
                    return Err(Error::invalid_input(
                        "expected output",
                        location,
                        "bare numbers, but the model returns several scores",
                        "rows of {\"column\": value}",
                    ));
                };
                let name = answer.schema_ref().field(index).name().clone();
                let found = answer.column(index).as_primitive::<Float32Type>().value(row);
                let w = n.as_f64().unwrap_or(f64::NAN);
                let diff = (f64::from(found) - w).abs();
                consider(
                    row,
                    &name,
                    found.to_string(),
                    w.to_string(),
                    if diff.is_nan() { f64::INFINITY } else { diff },
                );
            }
            other => {
                return Err(Error::invalid_input(
                    "expected output",
                    format!("{location}, row {row}"),
                    format!("{other}"),
                    "an object of output columns, or a number",
                ));
            }
        }
    }
    match worst {
        None => Ok(()),
        Some((row, column, found, expected, difference)) => Err(Error::SmokeTestFailed {
            location: location.to_owned(),
            row,
            column,
            found,
            expected,
            difference,
            tolerance,
        }),
    }
}
