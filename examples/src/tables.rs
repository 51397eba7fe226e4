//! Tables in and out of the examples. Inputs are read with the model's input
//! signature (a CSV's declared columns are parsed as their declared types,
//! never guessed); outputs are written in the format their extension names.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use mlops_core::{Error, Result, Signature};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::Io {
        location: path.display().to_string(),
        source: e,
    }
}

fn arrow(path: &Path) -> impl Fn(arrow_schema::ArrowError) -> Error + '_ {
    move |e| Error::Arrow {
        location: path.display().to_string(),
        source: e,
    }
}

fn extension(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// Reads a `.parquet` or `.csv` file as batches of at most `batch_rows` rows.
pub fn read(path: &Path, signature: &Signature, batch_rows: usize) -> Result<Vec<RecordBatch>> {
    match extension(path).as_str() {
        "parquet" => {
            let file = File::open(path).map_err(io(path))?;
            let reader = ParquetRecordBatchReaderBuilder::try_new(file)
                .and_then(|b| b.with_batch_size(batch_rows).build())
                .map_err(|e| mlops_data::parquet_error(&path.display().to_string(), e))?;
            reader.map(|b| b.map_err(arrow(path))).collect()
        }
        "csv" => read_csv(path, signature, batch_rows),
        other => Err(Error::invalid_input(
            "input file",
            path.display().to_string(),
            format!("extension `.{other}`"),
            ".parquet or .csv",
        )),
    }
}

/// Reads a CSV with a header. Every column is read as text first, then each
/// column the signature declares is parsed as its declared type, so a value
/// that does not parse is reported with its column name and row.
fn read_csv(path: &Path, signature: &Signature, batch_rows: usize) -> Result<Vec<RecordBatch>> {
    let mut file = File::open(path).map_err(io(path))?;
    let (header, _) = arrow_csv::reader::Format::default()
        .with_header(true)
        .infer_schema(&mut file, Some(0))
        .map_err(arrow(path))?;
    let text_schema = Arc::new(Schema::new(
        header
            .fields()
            .iter()
            .map(|f| Field::new(f.name(), DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let file = File::open(path).map_err(io(path))?;
    let reader = arrow_csv::ReaderBuilder::new(text_schema)
        .with_header(true)
        .with_batch_size(batch_rows)
        .build(file)
        .map_err(arrow(path))?;
    let mut out = Vec::new();
    let mut first_row = 0usize;
    for batch in reader {
        let batch = batch.map_err(arrow(path))?;
        let mut fields = Vec::with_capacity(batch.num_columns());
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(batch.num_columns());
        for (field, column) in batch.schema_ref().fields().iter().zip(batch.columns()) {
            let Some(declared) = signature.field(field.name()) else {
                fields.push(field.as_ref().clone());
                columns.push(column.clone());
                continue;
            };
            let parsed = parse_column(column, &declared.data_type, field.name(), first_row, path)?;
            fields.push(Field::new(field.name(), declared.data_type.clone(), true));
            columns.push(parsed);
        }
        first_row += batch.num_rows();
        out.push(RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(arrow(path))?);
    }
    Ok(out)
}

fn parse_column(text: &ArrayRef, to: &DataType, name: &str, first_row: usize, path: &Path) -> Result<ArrayRef> {
    // An empty cell is a null, as pandas and Spark read it.
    let text = arrow_cast::cast(text, &DataType::Utf8).map_err(arrow(path))?;
    let strings = arrow_array::cast::AsArray::as_string::<i32>(&text);
    let cleaned: arrow_array::StringArray = strings
        .iter()
        .map(|s| s.filter(|s| !s.trim().is_empty()).map(str::trim))
        .collect();
    let lenient = arrow_cast::cast(&cleaned, to).map_err(arrow(path))?;
    // A value that did not parse became a null: find the first one and name it.
    if let Some(row) = (0..cleaned.len()).find(|&r| cleaned.is_valid(r) && lenient.is_null(r)) {
        return Err(Error::invalid_input(
            "CSV value",
            format!("{}, column `{name}`, data row {}", path.display(), first_row + row + 1),
            format!("{:?} is not a {to}", cleaned.value(row)),
            format!("a value of the model's declared type {to}"),
        ));
    }
    Ok(lenient)
}

/// Writes batches as `.parquet`, `.csv` or `.jsonl` (JSON lines), chosen by extension.
pub fn write(path: &Path, batches: &[RecordBatch], schema: Arc<Schema>) -> Result<()> {
    let ext = extension(path);
    if !matches!(ext.as_str(), "parquet" | "csv" | "jsonl" | "ndjson") {
        return Err(Error::invalid_input(
            "output file",
            path.display().to_string(),
            format!("extension `.{ext}`"),
            ".parquet, .csv or .jsonl",
        ));
    }
    let file = File::create(path).map_err(io(path))?;
    match ext.as_str() {
        "parquet" => {
            let mut w = ArrowWriter::try_new(file, schema, None)
                .map_err(|e| mlops_data::parquet_error(&path.display().to_string(), e))?;
            for b in batches {
                w.write(b)
                    .map_err(|e| mlops_data::parquet_error(&path.display().to_string(), e))?;
            }
            w.close()
                .map_err(|e| mlops_data::parquet_error(&path.display().to_string(), e))?;
        }
        "csv" => {
            let mut w = arrow_csv::Writer::new(file);
            for b in batches {
                w.write(b).map_err(arrow(path))?;
            }
        }
        _ => {
            let mut w = arrow_json::LineDelimitedWriter::new(file);
            for b in batches {
                w.write(b).map_err(arrow(path))?;
            }
            w.finish().map_err(arrow(path))?;
        }
    }
    Ok(())
}
