#!/usr/bin/env python3
"""Generate the Parquet data set used by the data-profile comparison benchmark.

One file: N rows x 12 columns (10 numeric + 2 string), written row group by
row group with ``pq.ParquetWriter`` so the generator holds at most one row
group (plus the writer's buffers) in memory at a time.

Columns
-------
  f_normal       float64  normal(100, 15)         2 % null, 0.5 % NaN
  f_lognormal    float64  lognormal(0, 1)         1 % null
  f_uniform      float64  uniform(0, 1)           no nulls
  f_wide         float64  normal(0, 1e6)          3 % null, 0.1 % NaN
  f_exponential  float64  exponential(scale=5)    no nulls
  f_bimodal      float64  mix of N(-5,1) / N(5,2) 1 % null
  i_small        int64    uniform 0..=99          2 % null
  i_poisson      int64    poisson(3)              no nulls
  i_large        int64    uniform 0..1e12         1 % null
  i_row          int64    row index 0..N-1        no nulls
  s_category     string   ~20 values, skewed      1 % null
  s_user         string   ~50k values, zipf-ish   2 % null

Deterministic: the data depends only on (--seed, --rows, --row-group-size);
each row group is drawn from ``default_rng([seed, row_group_index])``.

Usage: gen_profile_data.py OUT.parquet [--rows N] [--row-group-size M]
                          [--compression zstd|snappy|none] [--seed S]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

CATEGORIES = [
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
    "india", "juliett", "kilo", "lima", "mike", "november", "oscar", "papa",
    "quebec", "romeo", "sierra", "tango",
]
N_USERS = 50_000

SCHEMA = pa.schema(
    [
        ("f_normal", pa.float64()),
        ("f_lognormal", pa.float64()),
        ("f_uniform", pa.float64()),
        ("f_wide", pa.float64()),
        ("f_exponential", pa.float64()),
        ("f_bimodal", pa.float64()),
        ("i_small", pa.int64()),
        ("i_poisson", pa.int64()),
        ("i_large", pa.int64()),
        ("i_row", pa.int64()),
        ("s_category", pa.string()),
        ("s_user", pa.string()),
    ]
)


def _float_col(values: np.ndarray, rng: np.random.Generator, null_frac: float,
               nan_frac: float = 0.0) -> pa.Array:
    n = len(values)
    if nan_frac > 0:
        values[rng.random(n) < nan_frac] = np.nan
    mask = rng.random(n) < null_frac if null_frac > 0 else None
    return pa.array(values, type=pa.float64(), mask=mask)


def _int_col(values: np.ndarray, rng: np.random.Generator, null_frac: float) -> pa.Array:
    n = len(values)
    mask = rng.random(n) < null_frac if null_frac > 0 else None
    return pa.array(values.astype(np.int64, copy=False), type=pa.int64(), mask=mask)


def _string_col(vocab: pa.Array, idx: np.ndarray, rng: np.random.Generator,
                null_frac: float) -> pa.Array:
    mask = rng.random(len(idx)) < null_frac if null_frac > 0 else None
    indices = pa.array(idx.astype(np.int32, copy=False), type=pa.int32(), mask=mask)
    # take() with a null index yields a null string.
    return vocab.take(indices)


def make_batch(seed: int, group: int, start: int, n: int,
               cat_vocab: pa.Array, cat_p: np.ndarray,
               user_vocab: pa.Array) -> pa.RecordBatch:
    rng = np.random.default_rng([seed, group])
    bimodal_pick = rng.random(n) < 0.4
    bimodal = np.where(bimodal_pick, rng.normal(-5.0, 1.0, n), rng.normal(5.0, 2.0, n))
    # Zipf-ish user ids, folded into the 50k vocabulary.
    user_idx = (rng.zipf(1.3, n) - 1) % N_USERS
    cols = [
        _float_col(rng.normal(100.0, 15.0, n), rng, 0.02, 0.005),
        _float_col(rng.lognormal(0.0, 1.0, n), rng, 0.01),
        _float_col(rng.random(n), rng, 0.0),
        _float_col(rng.normal(0.0, 1e6, n), rng, 0.03, 0.001),
        _float_col(rng.exponential(5.0, n), rng, 0.0),
        _float_col(bimodal, rng, 0.01),
        _int_col(rng.integers(0, 100, n), rng, 0.02),
        _int_col(rng.poisson(3.0, n), rng, 0.0),
        _int_col(rng.integers(0, 1_000_000_000_000, n), rng, 0.01),
        _int_col(np.arange(start, start + n, dtype=np.int64), rng, 0.0),
        _string_col(cat_vocab, rng.choice(len(CATEGORIES), size=n, p=cat_p), rng, 0.01),
        _string_col(user_vocab, user_idx, rng, 0.02),
    ]
    return pa.RecordBatch.from_arrays(cols, schema=SCHEMA)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", help="output .parquet path")
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--row-group-size", type=int, default=1_000_000)
    ap.add_argument("--compression", default="zstd", choices=["zstd", "snappy", "none"])
    ap.add_argument("--seed", type=int, default=20240501)
    args = ap.parse_args(argv)
    if args.rows <= 0 or args.row_group_size <= 0:
        ap.error("--rows and --row-group-size must be positive")

    cat_vocab = pa.array(CATEGORIES, type=pa.string())
    # Skewed category frequencies: weight 1/(k+1), normalised.
    w = 1.0 / np.arange(1, len(CATEGORIES) + 1)
    cat_p = w / w.sum()
    user_vocab = pa.array([f"user_{i:05d}" for i in range(N_USERS)], type=pa.string())

    tmp = args.out + ".tmp"
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    t0 = time.perf_counter()
    compression = None if args.compression == "none" else args.compression
    with pq.ParquetWriter(tmp, SCHEMA, compression=compression) as writer:
        start, group = 0, 0
        while start < args.rows:
            n = min(args.row_group_size, args.rows - start)
            batch = make_batch(args.seed, group, start, n, cat_vocab, cat_p, user_vocab)
            # One write_batch per row group; row_group_size caps it at n.
            writer.write_batch(batch, row_group_size=n)
            del batch
            start += n
            group += 1
            print(f"gen: {start}/{args.rows} rows", file=sys.stderr, flush=True)
    os.replace(tmp, args.out)
    size = os.path.getsize(args.out)
    print(
        f"gen: wrote {args.out}: {args.rows} rows, {group} row groups, "
        f"{size / 2**20:.1f} MiB, {time.perf_counter() - t0:.1f}s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
