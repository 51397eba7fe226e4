#!/usr/bin/env python3
"""Profile a Parquet file with a peer library, for the profile comparison.

Usage: peers_profile.py FILE.parquet PEER [--show]

PEER is one of
  whylogs      whylogs 1.6.x: each row group is read with pyarrow, converted
               to pandas and profiled with ``why.log(df).view()``; the views
               are merged with ``DatasetProfileView.merge`` (the chunked /
               "Merging Profiles" pattern from the whylogs docs). The merged
               view is then summarised (``view.to_pandas()``) so the lazy
               sketches (quantiles, cardinality, frequent items) are evaluated.
  whylogs-track  same, but one ``DatasetProfile`` is updated in place with
               ``profile.track(pandas=df)`` per row group (no merge step).
  polars       ``pl.scan_parquet(path).describe(percentiles=P)`` with
               P = 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99 (count, null_count,
               mean, std, min, max, quantiles; no distinct counts, no top-k).
  polars-full  ``pl.read_parquet`` once, then describe(P) plus approx_n_unique
               of every column and the top-10 values of every string column,
               which is closer to what our profile computes.

Timing (time.perf_counter) covers reading the file and profiling, not the
interpreter start or the imports. Prints one JSON line on stdout:
  {"peer": ..., "seconds": ..., "rows": ...}
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

PERCENTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)


def run_whylogs(path: str, show: bool, track: bool) -> tuple[int, float]:
    # whylogs sends anonymous usage stats from a background thread (3 s HTTP
    # timeout, joined at exit) unless this is set; keep it out of the timings.
    os.environ.setdefault("WHYLOGS_NO_ANALYTICS", "1")
    import pyarrow.parquet as pq
    import whylogs as why
    from whylogs.core import DatasetProfile

    rows = 0
    t0 = time.perf_counter()
    pf = pq.ParquetFile(path)
    merged = None
    profile = DatasetProfile() if track else None
    for i in range(pf.num_row_groups):
        df = pf.read_row_group(i).to_pandas()
        rows += len(df)
        if track:
            profile.track(pandas=df)
        else:
            view = why.log(df).view()
            merged = view if merged is None else merged.merge(view)
        del df
    if track:
        merged = profile.view()
    summary = merged.to_pandas()
    elapsed = time.perf_counter() - t0
    if show:
        with_cols = [c for c in summary.columns if c.startswith(("counts/", "distribution/", "cardinality/est"))]
        print(summary[with_cols].to_string(), file=sys.stderr)
    return rows, elapsed


def run_polars(path: str, show: bool, full: bool) -> tuple[int, float]:
    import polars as pl

    t0 = time.perf_counter()
    if not full:
        desc = pl.scan_parquet(path).describe(percentiles=PERCENTILES)
        # describe() has a "count" row; count + null_count = rows.
        first = desc.columns[1]
        stat = desc.get_column("statistic").to_list()
        count = desc.get_column(first)[stat.index("count")]
        nulls = desc.get_column(first)[stat.index("null_count")]
        rows = int(float(count)) + int(float(nulls))
        extra = []
    else:
        df = pl.read_parquet(path)
        rows = df.height
        desc = df.describe(percentiles=PERCENTILES)
        uniq = df.select(pl.all().approx_n_unique())
        extra = [uniq]
        for name, dtype in df.schema.items():
            if dtype == pl.String:
                extra.append(df.get_column(name).value_counts(sort=True).head(10))
        del df
    elapsed = time.perf_counter() - t0
    if show:
        with pl.Config(tbl_cols=-1, tbl_rows=-1, tbl_width_chars=400):
            print(desc, file=sys.stderr)
            for e in extra:
                print(e, file=sys.stderr)
    return rows, elapsed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="profile a parquet file with a peer library")
    ap.add_argument("path")
    ap.add_argument("peer", choices=["whylogs", "whylogs-track", "polars", "polars-full"])
    ap.add_argument("--show", action="store_true", help="print the peer's profile on stderr")
    args = ap.parse_args(argv)

    if args.peer.startswith("whylogs"):
        rows, seconds = run_whylogs(args.path, args.show, track=args.peer == "whylogs-track")
    else:
        rows, seconds = run_polars(args.path, args.show, full=args.peer == "polars-full")
    print(json.dumps({"peer": args.peer, "seconds": round(seconds, 4), "rows": rows}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
