"""Generates a reference and a current Parquet data set for the drift comparison.

20 columns: 12 numeric (some shifted in current), 4 low-cardinality numeric,
4 categorical strings (some re-weighted). Deterministic.

usage: gen_drift_data.py OUT_DIR [--rows 1000000]
"""
import argparse
import pathlib

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


def table(rng, n, drift):
    cols = {}
    for i in range(12):
        shift = 0.3 * (i % 3 == 0) * drift
        cols[f"num_{i}"] = rng.normal(10 + i + shift, 1 + i % 4, n)
    for i in range(4):
        p = np.array([0.4, 0.3, 0.2, 0.1])
        if drift and i % 2 == 0:
            p = p[::-1]
        cols[f"level_{i}"] = rng.choice(np.arange(4, dtype=np.int64) + 1, n, p=p)
    cats = np.array([f"cat_{k}" for k in range(10)], dtype=object)
    for i in range(4):
        w = np.linspace(1, 2, 10)
        if drift and i == 0:
            w = w[::-1]
        cols[f"cat_{i}"] = rng.choice(cats, n, p=w / w.sum())
    return pa.table(cols)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--rows", type=int, default=1_000_000)
    a = ap.parse_args()
    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(4)
    pq.write_table(table(rng, a.rows, False), out / f"drift_ref_{a.rows}.parquet", row_group_size=250_000)
    pq.write_table(table(rng, a.rows, True), out / f"drift_cur_{a.rows}.parquet", row_group_size=250_000)


if __name__ == "__main__":
    main()
