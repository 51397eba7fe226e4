//! Arrays cross from DataFusion's Arrow (59) to ours (60) without copying
//! values, and with nulls, offsets and every type the profiler reads.

use std::sync::Arc;

use arrow_array::Array as _;
use arrow_array::cast::AsArray;
use datafusion::arrow::array as a59;
use datafusion::arrow::array::Array as _;

#[test]
fn primitive_values_are_shared_not_copied_and_slices_keep_their_offset() {
    let values = a59::Float64Array::from(vec![Some(1.5), None, Some(-2.0), Some(f64::NAN), Some(4.0)]);
    let sliced: a59::ArrayRef = Arc::new(values.slice(1, 4));
    let ours = mlops_datafusion::bridge::array(&sliced).unwrap();
    let ours = ours.as_primitive::<arrow_array::types::Float64Type>();
    assert_eq!(ours.len(), 4);
    assert_eq!(ours.null_count(), 1);
    assert!(ours.is_null(0));
    assert_eq!(ours.value(1), -2.0);
    assert!(ours.value(2).is_nan());
    // Same memory: the values buffer points into DataFusion's allocation.
    assert_eq!(ours.values().as_ptr(), values.values()[1..].as_ptr());
}

#[test]
fn strings_views_dictionaries_booleans_and_timestamps_cross() {
    let strings: a59::ArrayRef = Arc::new(a59::StringArray::from(vec![Some("a"), None, Some("ccc")]));
    let views: a59::ArrayRef = Arc::new(a59::StringViewArray::from(vec![
        Some("short"),
        Some("a string longer than twelve bytes"),
        None,
    ]));
    let dict: a59::ArrayRef = Arc::new(
        vec![Some("north"), Some("south"), None, Some("north")]
            .into_iter()
            .collect::<a59::DictionaryArray<datafusion::arrow::datatypes::Int32Type>>(),
    );
    let bools: a59::ArrayRef = Arc::new(a59::BooleanArray::from(vec![Some(true), None, Some(false)]));
    let stamps: a59::ArrayRef =
        Arc::new(a59::TimestampMicrosecondArray::from(vec![Some(1_700_000_000_000_000), None]).with_timezone("UTC"));
    let names: Vec<String> = ["s", "v", "d", "b", "t"].iter().map(|s| s.to_string()).collect();
    for (array, name) in [strings, views, dict, bools, stamps].iter().zip(&names) {
        let ours = mlops_datafusion::bridge::array(array).unwrap();
        assert_eq!(ours.len(), array.len(), "{name}");
        assert_eq!(ours.null_count(), array.null_count(), "{name}");
        assert_eq!(ours.data_type().to_string(), array.data_type().to_string(), "{name}");
    }
    let view = mlops_datafusion::bridge::array(
        &(Arc::new(a59::StringViewArray::from(vec!["a string longer than twelve bytes"])) as a59::ArrayRef),
    )
    .unwrap();
    assert_eq!(view.as_string_view().value(0), "a string longer than twelve bytes");
}

#[test]
fn a_batch_needs_one_name_per_column() {
    let column: a59::ArrayRef = Arc::new(a59::Int32Array::from(vec![1, 2]));
    let err = mlops_datafusion::bridge::batch(&[column], &[]).unwrap_err();
    assert!(err.to_string().contains("1 columns for 0 names"), "{err}");
}
