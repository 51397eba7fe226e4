"""Runs Evidently's DataDriftPreset (legacy API) on two Parquet files; prints
one JSON line: seconds and the per-column verdicts, for comparison with ours.

usage: peer_evidently.py REF.parquet CUR.parquet
"""
import json
import sys
import time

import pandas as pd
import pyarrow.parquet as pq
from evidently.legacy.metrics import DataDriftTable
from evidently.legacy.pipeline.column_mapping import ColumnMapping
from evidently.legacy.report import Report


def main():
    ref_path, cur_path = sys.argv[1], sys.argv[2]
    started = time.perf_counter()
    ref = pq.read_table(ref_path).to_pandas()
    cur = pq.read_table(cur_path).to_pandas()
    numeric = [c for c in ref.columns if pd.api.types.is_numeric_dtype(ref[c])]
    categorical = [c for c in ref.columns if c not in numeric]
    report = Report(metrics=[DataDriftTable()])
    report.run(reference_data=ref, current_data=cur,
               column_mapping=ColumnMapping(numerical_features=numeric, categorical_features=categorical))
    result = report.as_dict()["metrics"][0]["result"]
    seconds = time.perf_counter() - started
    columns = {name: {"method": v["stattest_name"], "score": v["drift_score"], "drifted": bool(v["drift_detected"])}
               for name, v in result["drift_by_columns"].items()}
    print(json.dumps({"peer": "evidently", "seconds": seconds, "dataset_drift": result.get("dataset_drift"),
                      "columns": columns}))


if __name__ == "__main__":
    main()
