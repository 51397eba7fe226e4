#!/usr/bin/env bash
# Data-profile comparison: our `profile` example vs whylogs and polars on the
# same Parquet file.
#
#   benches/compare/run_profile_comparison.sh        # from any directory
#
# Steps: (a) create the peer venvs if missing, (b) build our example in
# release mode, (c) generate bench-data/profile_<rows>_rg<rg>_<codec>.parquet
# if missing, (d) run ours and each peer under `/usr/bin/time -v` (wall time,
# peak RSS), (e) print a table and write bench-data/profile_comparison.json.
#
# Environment knobs:
#   ROWS=10000000          rows in the generated file
#   ROW_GROUP_SIZE=1000000 Parquet row-group size
#   COMPRESSION=zstd       zstd | snappy | none
#   PEERS="whylogs polars" any of: whylogs whylogs-track polars polars-full ("" = ours only)
#   REPEAT=1               runs per tool; the fastest run is reported
#   PYTHON=python3         interpreter used to create the venvs
#   SKIP_BUILD=0           1 = use the existing target/release/examples/profile
#   OURS_BIN=...           path of our binary (default target/release/examples/profile)
#
# "seconds" is the profiling time: for the peers it is measured inside the
# process around read + profile (no interpreter start-up / imports); for ours
# it is the process wall time (start-up is negligible for a native binary).
# The process wall time of every tool is reported too ("wall s").
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
cd "$REPO_ROOT"

ROWS=${ROWS:-10000000}
ROW_GROUP_SIZE=${ROW_GROUP_SIZE:-1000000}
COMPRESSION=${COMPRESSION:-zstd}
PEERS=${PEERS-"whylogs polars"}
REPEAT=${REPEAT:-1}
PYTHON=${PYTHON:-python3}
SKIP_BUILD=${SKIP_BUILD:-0}

DATA_DIR=bench-data
DATA=$DATA_DIR/profile_${ROWS}_rg${ROW_GROUP_SIZE}_${COMPRESSION}.parquet
RUN_DIR=$DATA_DIR/profile_runs
RESULT_JSON=$DATA_DIR/profile_comparison.json
WL_VENV=$REPO_ROOT/.venv-bench-whylogs
PL_VENV=$REPO_ROOT/.venv-bench-polars
OURS=${OURS_BIN:-$REPO_ROOT/target/release/examples/profile}

# whylogs: no usage-statistics thread (it would add HTTP time-outs to wall time).
export WHYLOGS_NO_ANALYTICS=1

log() { printf '[profile-compare] %s\n' "$*" >&2; }

# ---------------------------------------------------------------- (a) venvs
ensure_venv() {
    local dir=$1 check=$2
    shift 2
    if [[ -x $dir/bin/python ]] && "$dir/bin/python" -c "$check" >/dev/null 2>&1; then
        return 0
    fi
    log "creating $dir ($*)"
    "$PYTHON" -m venv "$dir"
    "$dir/bin/python" -m pip install -q --upgrade pip
    "$dir/bin/python" -m pip install -q "$@"
    "$dir/bin/python" -c "$check"
}
# whylogs 1.6.4 needs the old numpy / pandas / pyarrow lines.
ensure_venv "$WL_VENV" \
    'import whylogs, numpy, pandas, pyarrow; assert whylogs.__version__ == "1.6.4", whylogs.__version__' \
    'whylogs==1.6.4' 'numpy<2' 'pandas<2.3' 'pyarrow<20'
ensure_venv "$PL_VENV" 'import polars, pyarrow' polars pyarrow

# GNU time for wall time + peak RSS.
if ! /usr/bin/time -v true >/dev/null 2>&1; then
    log "installing GNU time"
    SUDO=
    if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; fi
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time
fi

# ---------------------------------------------------------------- (b) build
if [[ $SKIP_BUILD != 1 ]]; then
    log "building our profile example (release)"
    cargo build --release -p mlops-examples --example profile
fi
RUN_OURS=1
if [[ ! -x $OURS ]]; then
    if [[ $SKIP_BUILD == 1 ]]; then
        log "warning: $OURS not found; skipping ours (SKIP_BUILD=1)"
        RUN_OURS=0
    else
        log "error: $OURS not found after the build"
        exit 1
    fi
fi

# ---------------------------------------------------------------- (c) data
mkdir -p "$DATA_DIR"
if [[ ! -f $DATA ]]; then
    log "generating $DATA ($ROWS rows, row groups of $ROW_GROUP_SIZE, $COMPRESSION)"
    "$WL_VENV/bin/python" "$SCRIPT_DIR/gen_profile_data.py" "$DATA" \
        --rows "$ROWS" --row-group-size "$ROW_GROUP_SIZE" --compression "$COMPRESSION"
else
    log "using existing $DATA"
fi

# ---------------------------------------------------------------- (d) runs
rm -rf "$RUN_DIR"
mkdir -p "$RUN_DIR"
# Warm the page cache so every tool starts from the same (cached) state.
cat "$DATA" >/dev/null

run_one() {
    local label=$1 i=$2
    shift 2
    local base=$RUN_DIR/$label.$i
    log "running $label (run $i/$REPEAT)"
    local t0 t1
    t0=$(date +%s%N)
    if ! /usr/bin/time -v -o "$base.time" "$@" >"$base.out" 2>"$base.err"; then
        log "error: $label failed; last lines of its stderr:"
        tail -n 20 "$base.err" >&2
        exit 1
    fi
    t1=$(date +%s%N)
    # Nanosecond wall clock (GNU time's own only has 10 ms resolution).
    echo "$((t1 - t0))" >"$base.wall_ns"
}

for ((i = 1; i <= REPEAT; i++)); do
    if [[ $RUN_OURS == 1 ]]; then
        run_one ours "$i" "$OURS" "$DATA"
    fi
    for peer in $PEERS; do
        case $peer in
            whylogs*) py=$WL_VENV/bin/python ;;
            polars*) py=$PL_VENV/bin/python ;;
            *) log "error: unknown peer '$peer'"; exit 1 ;;
        esac
        run_one "$peer" "$i" "$py" "$SCRIPT_DIR/peers_profile.py" "$DATA" "$peer"
    done
done

# ---------------------------------------------------------------- (e) report
LABELS=$PEERS
if [[ $RUN_OURS == 1 ]]; then LABELS="ours $PEERS"; fi

"$WL_VENV/bin/python" - "$DATA" "$ROWS" "$RUN_DIR" "$REPEAT" "$RESULT_JSON" $LABELS <<'PY'
import json
import os
import sys

data, rows_expected, run_dir, repeat, out_json, *labels = sys.argv[1:]
rows_expected, repeat = int(rows_expected), int(repeat)
NCOLS = 12


def parse_time_v(path):
    wall = rss_kib = None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("Elapsed (wall clock) time"):
                parts = [float(p) for p in line.rsplit(": ", 1)[1].split(":")]
                wall = 0.0
                for p in parts:
                    wall = wall * 60 + p
            elif line.startswith("Maximum resident set size (kbytes)"):
                rss_kib = int(line.rsplit(": ", 1)[1])
    return wall, rss_kib


def last_json(path):
    """Our binary prints one JSON document; peers print one JSON line."""
    with open(path) as f:
        text = f.read().strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        try:
            return json.loads(text.splitlines()[-1])
        except json.JSONDecodeError:
            return None


results = {}
for label in labels:
    best = None
    for i in range(1, repeat + 1):
        base = os.path.join(run_dir, f"{label}.{i}")
        _wall_10ms, rss_kib = parse_time_v(base + ".time")
        with open(base + ".wall_ns") as f:
            wall = int(f.read()) / 1e9
        doc = last_json(base + ".out")
        if label == "ours":
            seconds = wall
            rows = doc.get("num_rows") if isinstance(doc, dict) else None
            if doc is None:
                print(f"warning: ours printed no valid JSON on stdout ({base}.out)", file=sys.stderr)
        else:
            if not isinstance(doc, dict):
                sys.exit(f"error: {label} printed no JSON line ({base}.out)")
            seconds, rows = doc["seconds"], doc["rows"]
        if rows is not None and rows != rows_expected:
            print(f"warning: {label} reports {rows} rows, expected {rows_expected}", file=sys.stderr)
        run = {"seconds": seconds, "wall_seconds": wall, "peak_rss_mib": rss_kib / 1024.0, "rows": rows}
        if best is None or run["seconds"] < best["seconds"]:
            best = run
    best["values_per_second"] = rows_expected * NCOLS / max(best["seconds"], 1e-9)
    results[label] = best

ours = results.get("ours")
for label, r in results.items():
    r["time_vs_ours"] = r["seconds"] / max(ours["seconds"], 1e-9) if ours else None

file_bytes = os.path.getsize(data)
file_mib = file_bytes / 2**20

hdr = f"{'peer':<14} {'seconds':>9} {'wall s':>8} {'values/s':>12} {'peak RSS MiB':>13} {'x ours':>8}"
print()
print(f"data: {data}  ({rows_expected:,} rows x {NCOLS} cols, {file_mib:.1f} MiB, {os.cpu_count()} CPUs)")
print(hdr)
print("-" * len(hdr))
for label, r in results.items():
    ratio = f"{r['time_vs_ours']:.2f}" if r["time_vs_ours"] is not None else "n/a"
    print(f"{label:<14} {r['seconds']:>9.3f} {r['wall_seconds']:>8.2f} {r['values_per_second']:>12.3e} "
          f"{r['peak_rss_mib']:>13.1f} {ratio:>8}")
rss_over_file = None
if ours:
    rss_over_file = ours["peak_rss_mib"] / file_mib
    print(f"\nfile size {file_mib:.1f} MiB vs our peak RSS {ours['peak_rss_mib']:.1f} MiB: "
          f"RSS / file = {rss_over_file:.2f}x")
else:
    print("\n(ours not run: no ratios)")

report = {
    "data_file": data,
    "file_bytes": file_bytes,
    "rows": rows_expected,
    "columns": NCOLS,
    "cpus": os.cpu_count(),
    "repeat": repeat,
    "results": results,
    "ours_peak_rss_over_file_size": rss_over_file,
    "notes": "seconds: peers = in-process read+profile time; ours = process wall time. "
             "x ours = peer seconds / our seconds.",
}
with open(out_json, "w") as f:
    json.dump(report, f, indent=2)
    f.write("\n")
print(f"wrote {out_json}")
PY
