//! Profiles of Parquet files written by pyarrow, checked against statistics
//! computed by numpy/pyarrow outside this project (`fixtures/make_fixtures.py`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use common::{close, expected, fixture, read_all};
use mlops_core::DataProfile;
use mlops_data::{ColumnStats, ParquetProfiler, Profile, ProfileConfig, REPORT_QUANTILES};
use serde_json::Value;

fn profile(name: &str) -> Profile {
    ParquetProfiler::new(ProfileConfig::default())
        .profile_file(fixture(name))
        .unwrap()
}

fn opt(v: &Value) -> Option<f64> {
    v.as_f64()
}

/// Finite values of a column, as the profile sees them (cast to f64 seconds for times).
fn finite_values(file: &str, column: &str) -> Vec<f64> {
    let mut out = Vec::new();
    for b in read_all(&fixture(file)) {
        let a = b.column_by_name(column).unwrap();
        let a = match a.data_type() {
            arrow_schema::DataType::Timestamp(_, _) => {
                let ts = a.as_primitive::<arrow_array::types::TimestampMicrosecondType>();
                ts.iter().flatten().map(|v| v as f64 / 1e6).collect::<Vec<_>>()
            }
            arrow_schema::DataType::Date32 => {
                let d = a.as_primitive::<arrow_array::types::Date32Type>();
                d.iter().flatten().map(|v| f64::from(v) * 86_400.0).collect::<Vec<_>>()
            }
            _ => {
                let c = arrow_cast::cast(a, &arrow_schema::DataType::Float64).unwrap();
                c.as_primitive::<Float64Type>().iter().flatten().collect()
            }
        };
        out.extend(a.into_iter().filter(|v| v.is_finite()));
    }
    out.sort_by(f64::total_cmp);
    out
}

fn check_numeric(p: &Profile, file: &str, name: &str, exp: &Value) {
    let col = p.column(name).unwrap_or_else(|| panic!("{name} missing"));
    let s = col.summary();
    let ctx = format!("{file}:{name}");
    assert_eq!(s.count, exp["count"].as_u64().unwrap(), "{ctx} count");
    assert_eq!(s.null_count, exp["null_count"].as_u64().unwrap(), "{ctx} nulls");
    for (field, got) in [
        ("nan_count", s.nan_count),
        ("pos_inf_count", s.pos_inf_count),
        ("neg_inf_count", s.neg_inf_count),
    ] {
        if let Some(e) = exp.get(field) {
            assert_eq!(got, e.as_u64().unwrap(), "{ctx} {field}");
        }
    }
    let ColumnStats::Numeric(n) = col.stats() else {
        panic!("{ctx} not numeric")
    };
    if let Some(z) = exp.get("zero_count") {
        assert_eq!(n.zero_count(), z.as_u64().unwrap(), "{ctx} zeros");
    }
    assert_eq!(s.min, opt(&exp["min"]), "{ctx} min is exact");
    assert_eq!(s.max, opt(&exp["max"]), "{ctx} max is exact");
    for (field, got) in [("mean", s.mean), ("std", s.std)] {
        match (got, opt(&exp[field])) {
            (Some(g), Some(e)) => assert!(close(g, e, 1e-12), "{ctx} {field}: {g} vs {e}"),
            (None, None) => {}
            other => panic!("{ctx} {field}: {other:?}"),
        }
    }
    if let Some(e) = opt(&exp["sum"]) {
        assert!(close(n.sum(), e, 1e-12), "{ctx} sum {} vs {e}", n.sum());
    }
    let distinct = exp["distinct"].as_f64().unwrap();
    let got = s.distinct.unwrap();
    if distinct < 2048.0 {
        assert_eq!(got, distinct, "{ctx} distinct is exact below the sparse limit");
    } else {
        assert!(close(got, distinct, 0.02), "{ctx} distinct {got} vs {distinct}");
    }
    // Quantiles: the estimate's true rank must be within the sketch's bound of q.
    let values = finite_values(file, name);
    let eps = p.rank_error(name).unwrap();
    for q in REPORT_QUANTILES {
        let key = format!("{q}");
        match (p.quantile(name, q), opt(&exp["quantiles"][&key])) {
            (Some(est), Some(_)) => {
                let n = values.len() as f64;
                let lo = values.partition_point(|&v| v < est) as f64 / n;
                let hi = values.partition_point(|&v| v <= est) as f64 / n;
                assert!(
                    q >= lo - eps && q <= hi + eps,
                    "{ctx} q{q}: estimate {est} has rank [{lo}, {hi}]"
                );
            }
            (None, None) => {}
            other => panic!("{ctx} quantile {q}: {other:?}"),
        }
    }
}

#[test]
fn mixed_types_match_numpy_reference() {
    let exp = expected("mixed.expected.json");
    let p = profile("mixed.parquet");
    assert_eq!(p.num_rows(), exp["__meta__"]["num_rows"].as_u64().unwrap());
    for name in ["f64", "f32", "i64", "u8", "i16", "ts", "all_null", "all_nan"] {
        check_numeric(&p, "mixed.parquet", name, &exp[name]);
    }
    for name in ["s", "dict", "text"] {
        let e = &exp[name];
        let s = p.summary(name).unwrap();
        assert_eq!(s.count, e["count"].as_u64().unwrap(), "{name}");
        assert_eq!(s.null_count, e["null_count"].as_u64().unwrap(), "{name}");
        let ColumnStats::String(st) = p.column(name).unwrap().stats() else {
            panic!()
        };
        assert_eq!(st.min_len(), e["min_len"].as_u64(), "{name}");
        assert_eq!(st.max_len(), e["max_len"].as_u64(), "{name}");
        assert!(
            close(st.mean_len().unwrap(), e["mean_len"].as_f64().unwrap(), 1e-12),
            "{name}"
        );
        let distinct = e["distinct"].as_f64().unwrap();
        assert!(close(s.distinct.unwrap(), distinct, 0.02), "{name} distinct");
        if name != "text" {
            assert_eq!(s.distinct.unwrap(), distinct, "{name} distinct exact");
            let top = p.frequent_items(name).unwrap();
            let want: Vec<(String, u64)> = e["top"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| (t["value"].as_str().unwrap().to_owned(), t["count"].as_u64().unwrap()))
                .collect();
            let got: Vec<(String, u64)> = top.iter().map(|i| (i.value.clone(), i.lower)).collect();
            assert_eq!(got, want, "{name} top");
            assert!(top.iter().all(|i| i.lower == i.upper));
        }
    }
    assert_eq!(p.summary("s").unwrap().kind, mlops_core::SemanticKind::Categorical);
    assert_eq!(p.summary("text").unwrap().kind, mlops_core::SemanticKind::Text);
    let b = p.summary("b").unwrap();
    assert_eq!(b.true_count, exp["b"]["true_count"].as_u64());
    assert_eq!(b.false_count, exp["b"]["false_count"].as_u64());
    assert_eq!(b.null_count, exp["b"]["null_count"].as_u64().unwrap());
    let lst = p.summary("lst").unwrap();
    assert_eq!(lst.kind, mlops_core::SemanticKind::Unsupported);
    assert_eq!(
        (lst.count, lst.null_count),
        (
            exp["lst"]["count"].as_u64().unwrap(),
            exp["lst"]["null_count"].as_u64().unwrap()
        )
    );
}

#[test]
fn every_arrow_numeric_width_matches_reference() {
    let exp = expected("arrow_types.expected.json");
    let p = profile("arrow_types.parquet");
    for name in [
        "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16", "float32", "float64",
        "date32", "decimal",
    ] {
        check_numeric(&p, "arrow_types.parquet", name, &exp[name]);
    }
}

#[test]
fn object_store_and_url_paths_agree_with_local_file() {
    let local = profile("mixed.parquet");
    let url = format!("file://{}", fixture("mixed.parquet").canonicalize().unwrap().display());
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let remote = rt
        .block_on(
            ParquetProfiler::new(ProfileConfig::default())
                .with_max_in_flight(2)
                .profile_url(&url),
        )
        .unwrap();
    assert_eq!(remote.num_rows(), local.num_rows());
    for name in local.column_names() {
        let (a, b) = (local.summary(&name).unwrap(), remote.summary(&name).unwrap());
        assert_eq!(
            (a.count, a.null_count, a.nan_count, a.min, a.max, a.distinct),
            (b.count, b.null_count, b.nan_count, b.min, b.max, b.distinct),
            "{name}"
        );
        match (a.mean, b.mean) {
            (Some(x), Some(y)) => assert!(close(x, y, 1e-12), "{name}"),
            (x, y) => assert_eq!(x, y),
        }
    }
    let missing =
        rt.block_on(ParquetProfiler::new(ProfileConfig::default()).profile_url("file:///definitely/not/here.parquet"));
    // `file://` URLs are read as local files, so a missing one is the same I/O error as a missing path.
    assert!(matches!(missing, Err(mlops_data::Error::Io { .. })), "{missing:?}");
    let unknown = rt.block_on(ParquetProfiler::new(ProfileConfig::default()).profile_url("ftp://host/x.parquet"));
    assert!(
        matches!(unknown, Err(mlops_data::Error::NotImplemented { .. })),
        "{unknown:?}"
    );
}

#[test]
fn progress_reports_every_row_group() {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = seen.clone();
    ParquetProfiler::new(ProfileConfig::default())
        .with_progress(move |p| sink.lock().unwrap().push(p))
        .profile_file(fixture("mixed.parquet"))
        .unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 5);
    let last = seen.iter().max_by_key(|p| p.row_groups_done).unwrap();
    assert_eq!((last.row_groups_done, last.rows_done, last.rows_total), (5, 5000, 5000));
}
