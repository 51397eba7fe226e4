#!/usr/bin/env bash
# Inference comparison: one MLP (64 -> 256 -> 256 -> 1, relu, float32) run by
# onnxruntime, scikit-learn and PyTorch (CPU), and by ours once its benchmark
# binary exists, on the same safetensors weights and the same input batch.
#
#   benches/compare/run_inference_comparison.sh             # from any directory
#   TORCH=0 benches/compare/run_inference_comparison.sh     # without PyTorch
#
# Steps: (a) create the venvs if missing (.venv-serve: scikit-learn,
# onnxruntime, onnx; .venv-serve-torch: PyTorch), (b) generate the model and
# input into bench-data/inference/ (peer_inference.py gen: weights.safetensors,
# architecture.json, input.npy / input.f32, reference.npy), (c) run ours if its
# binary is there, (d) run each Python peer at each thread count, (e) check that
# all outputs agree (max abs diff < 1e-4 between any two, and with the numpy
# float64 reference) and print a table.
#
# stdout: one JSON line per (peer, threads), also kept in
# bench-data/inference/results.jsonl:
#   {"peer": "onnxruntime", "version": "1.32.0", "threads": 2, "batch": 1024,
#    "rows_per_s": ..., "p50_us": ..., "p99_us": ..., ...}
# rows_per_s is 1024 / the median time of one batch-1024 call (calls repeated for
# BENCH_SECONDS after a 0.5 s warm-up); p50_us / p99_us are the latency of one
# batch-1 call over LATENCY_ITERS calls. Logs and the table go to stderr.
#
# Environment knobs:
#   SEED=0                  seed of the weights and the input
#   PEERS="onnxruntime sklearn torch"
#   THREADS="1 2"           thread counts (ORT intra-op threads, BLAS threads, torch threads)
#   BENCH_SECONDS=2         timed batch calls per (peer, threads)
#   LATENCY_ITERS=20000     batch-1 calls per (peer, threads)
#   CALLERS=1,8,32          concurrent callers in the Batcher rows (empty: no Batcher rows)
#   RATES=25000,50000,100000  offered requests/s of the open-loop Batcher rows (empty: none)
#   ROUNDS=1                times the whole set (ours, then each peer) runs, alternating,
#                           so every ratio compares runs minutes apart at most; the
#                           table gives each round's figures, and ratios per round
#   TORCH=1                 0 = skip PyTorch (PyPI's Linux x86_64 wheel is the CUDA
#                           build: about 4 GB of downloads, 5.4 GB installed)
#   PYTHON=python3          interpreter used to create the venvs
#   OURS_BIN=...            our benchmark binary (default target/release/examples/bench_inference)
#
# Timings are only meaningful on a quiet machine: with 2 shared cores the
# 2-thread figures mostly measure contention.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
cd "$REPO_ROOT"

SEED=${SEED:-0}
PEERS=${PEERS-"onnxruntime sklearn torch"}
THREADS=${THREADS:-"1 2"}
BENCH_SECONDS=${BENCH_SECONDS:-2}
ROUNDS=${ROUNDS:-1}
LATENCY_ITERS=${LATENCY_ITERS:-20000}
TORCH=${TORCH:-1}
PYTHON=${PYTHON:-python3}

DATA_DIR=bench-data/inference
RESULTS=$DATA_DIR/results.jsonl
VENV=$REPO_ROOT/.venv-serve
TORCH_VENV=$REPO_ROOT/.venv-serve-torch
OURS=${OURS_BIN:-$REPO_ROOT/target/release/examples/bench_inference}

# Pinned peer versions (PyPI).
SKLEARN_VERSION=1.9.1
NUMPY_VERSION=2.4.6
SCIPY_VERSION=1.17.1
THREADPOOLCTL_VERSION=3.8.0
ONNX_VERSION=1.23.2
ORT_VERSION=1.32.0
TORCH_VERSION=2.15.0

log() { printf '[inference-compare] %s\n' "$*" >&2; }

# ---------------------------------------------------------------- (a) venvs
ensure_venv() {
    local dir=$1 check=$2
    shift 2
    if [[ -x $dir/bin/python ]] && "$dir/bin/python" -c "$check" >/dev/null 2>&1; then
        return 0
    fi
    log "creating $dir ($*)"
    "$PYTHON" -m venv "$dir" || return 1
    "$dir/bin/python" -m pip install -q --upgrade pip || return 1
    "$dir/bin/python" -m pip install -q "$@" || return 1
    "$dir/bin/python" -c "$check"
}
ensure_venv "$VENV" \
    "import numpy, onnx, onnxruntime, sklearn, threadpoolctl
assert (sklearn.__version__, numpy.__version__, onnx.__version__, onnxruntime.__version__) == \
    ('$SKLEARN_VERSION', '$NUMPY_VERSION', '$ONNX_VERSION', '$ORT_VERSION')" \
    "scikit-learn==$SKLEARN_VERSION" "numpy==$NUMPY_VERSION" "scipy==$SCIPY_VERSION" \
    "threadpoolctl==$THREADPOOLCTL_VERSION" "onnx==$ONNX_VERSION" "onnxruntime==$ORT_VERSION"

TORCH_PEER=0
if [[ " $PEERS " == *" torch "* ]]; then
    if [[ $TORCH != 1 ]]; then
        log "torch: skipped (TORCH=$TORCH)"
    else
        log "torch: PyPI's torch==$TORCH_VERSION for Linux x86_64 is the CUDA build; the first run downloads ~4 GB (TORCH=0 skips it)"
        if ensure_venv "$TORCH_VENV" \
            "import numpy, torch; assert torch.__version__.split('+')[0] == '$TORCH_VERSION', torch.__version__" \
            "torch==$TORCH_VERSION" "numpy==$NUMPY_VERSION"; then
            TORCH_PEER=1
        else
            log "torch: skipped (torch==$TORCH_VERSION did not install or import from PyPI; see the pip output above)"
        fi
    fi
fi

# ---------------------------------------------------------------- (b) model + input
mkdir -p "$DATA_DIR"
rm -rf "$DATA_DIR/outputs"
mkdir -p "$DATA_DIR/outputs"
: >"$RESULTS"
"$VENV/bin/python" "$SCRIPT_DIR/peer_inference.py" gen "$DATA_DIR" --seed "$SEED"
log "host: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), load average $(cut -d' ' -f1-3 /proc/loadavg)"

# ---------------------------------------------------------------- (c) ours (Rust)
# Our side is examples/bench_inference.rs, a release binary that loads
# $DATA_DIR/weights.safetensors and architecture.json into an mlops-serve
# Predictor, reads the batch from $DATA_DIR/input.f32, times the same calls as
# peer_inference.py, prints the same JSON lines with "peer": "mlops-serve" (plus
# the bare forward pass, and single-row latency through the Batcher with
# $CALLERS concurrent callers), and writes its batch output as raw float32 to
# $DATA_DIR/outputs/ours_t<threads>.f32 for step (e). Build it first:
# cargo build --release --example bench_inference (or set OURS_BIN).
CALLERS=${CALLERS:-1,8,32}
# Offered loads (requests/s) for the open-loop batcher rows: one thread sends
# single-row requests on a fixed schedule, at most the largest of $CALLERS in
# flight, to one worker.
RATES=${RATES:-25000,50000,100000}
# Tags each JSON line with its round.
tag_round() { sed "s/^{/{\"round\": $1, /"; }
run_ours() {
    local round=$1 t callers=()
    if [[ ! -x $OURS ]]; then
        log "ours: skipped ($OURS not found: the Rust inference benchmark is not built); running the peers only"
        return 0
    fi
    # The Batcher's latency is measured once, in the first round.
    # Callers are OS threads, then tokio tasks on one thread (--async-callers).
    # Then open loop at each of $RATES (--rates).
    if [[ $round == 1 && -n $CALLERS ]]; then callers=(--callers "$CALLERS" --async-callers); fi
    for t in $THREADS; do
        # Open loop with one worker only: the sending thread polls on a core
        # of its own, and two workers besides it would oversubscribe 2 cores.
        local paced=()
        if [[ $round == 1 && $t == 1 && -n $CALLERS && -n $RATES ]]; then paced=(--rates "$RATES"); fi
        log "round $round: running ours (threads=$t)"
        "$OURS" "$DATA_DIR" --threads "$t" --seconds "$BENCH_SECONDS" --latency-iters "$LATENCY_ITERS" \
            --outputs "$DATA_DIR/outputs/ours_t$t.f32" "${callers[@]}" "${paced[@]}" | tag_round "$round" | tee -a "$RESULTS"
    done
}

# ---------------------------------------------------------------- (d) Python peers
THREAD_LIST=$(echo "$THREADS" | tr ' ' ',')
run_peer() {
    local round=$1 py=$2 peer=$3
    log "round $round: running $peer (threads $THREAD_LIST, ${BENCH_SECONDS} s of batch calls and $LATENCY_ITERS batch-1 calls each)"
    "$py" "$SCRIPT_DIR/peer_inference.py" run "$DATA_DIR" --peers "$peer" --threads "$THREAD_LIST" \
        --seconds "$BENCH_SECONDS" --latency-iters "$LATENCY_ITERS" | tag_round "$round" | tee -a "$RESULTS"
}
for round in $(seq 1 "$ROUNDS"); do
    run_ours "$round"
    for peer in $PEERS; do
        case $peer in
            onnxruntime | sklearn) run_peer "$round" "$VENV/bin/python" "$peer" ;;
            torch) if [[ $TORCH_PEER == 1 ]]; then run_peer "$round" "$TORCH_VENV/bin/python" torch; fi ;;
            *) log "error: unknown peer '$peer'"; exit 1 ;;
        esac
    done
done

# ---------------------------------------------------------------- (e) cross-check + table
"$VENV/bin/python" - "$DATA_DIR" "$RESULTS" <<'PY' >&2
import glob
import json
import os
import sys

import numpy as np

data_dir, results = sys.argv[1:3]
ref = np.load(os.path.join(data_dir, "reference.npy"))
outs = {os.path.basename(p)[:-4]: np.fromfile(p, dtype="<f4").reshape(ref.shape).astype(np.float64)
        for p in sorted(glob.glob(os.path.join(data_dir, "outputs", "*.f32")))}
if not outs:
    sys.exit("error: no outputs to compare")
worst = max(float(np.abs(a - b).max()) for a in outs.values() for b in outs.values())
vs_ref = max(float(np.abs(a - ref).max()) for a in outs.values())
print(f"\noutputs of {len(outs)} runs ({', '.join(outs)}) on {ref.shape[0]} rows: "
      f"max abs diff between runs {worst:.2e}, vs numpy float64 reference {vs_ref:.2e}")
if worst >= 1e-4 or vs_ref >= 1e-4:
    sys.exit("error: the runs do not compute the same model (max abs diff >= 1e-4)")
lines = [json.loads(line) for line in open(results) if line.strip()]
rows = [r for r in lines if "threads" in r]
batcher = [r for r in lines if "callers" in r]
rounds = sorted({r.get("round", 1) for r in rows})
keys = []
for r in rows:
    if (r["peer"], r["threads"]) not in keys:
        keys.append((r["peer"], r["threads"]))
def cell(peer, threads, rnd):
    return next((r for r in rows if (r["peer"], r["threads"], r.get("round", 1)) == (peer, threads, rnd)), None)
width = 26
print(f"M rows/s at batch {rows[0]['batch']}, and single-row p50 / p99 us, per round (results in {results})")
print(f"{'peer':<14}{'version':<16}{'threads':>8}" + "".join(f"{'round ' + str(n):>{width}}" for n in rounds))
for peer, threads in keys:
    version = next(r.get("version", "") for r in rows if r["peer"] == peer)
    cells = []
    for n in rounds:
        r = cell(peer, threads, n)
        cells.append(f"{r['rows_per_s'] / 1e6:.3f}  {r['p50_us']:.1f} / {r['p99_us']:.1f}" if r else "-")
    print(f"{peer:<14}{version:<16}{threads:>8}" + "".join(f"{c:>{width}}" for c in cells))
print("\nratios within each round, ours / peer (throughput: higher is better; single-row p50: peer's / ours, higher is better)")
for peer, threads in keys:
    if peer == "mlops-serve":
        continue
    tput, lat = [], []
    for n in rounds:
        ours, theirs = cell("mlops-serve", threads, n), cell(peer, threads, n)
        if ours and theirs and theirs["rows_per_s"] and ours["p50_us"]:
            tput.append(ours["rows_per_s"] / theirs["rows_per_s"])
            lat.append(theirs["p50_us"] / ours["p50_us"])
    if tput:
        print(f"  vs {peer} ({threads} thread(s)): throughput " + ", ".join(f"{x:.2f}x" for x in tput)
              + "; single-row p50 " + ", ".join(f"{x:.2f}x" for x in lat))
for n in rounds:
    for threads in sorted({t for p, t in keys if p == "mlops-serve"}):
        r = cell("mlops-serve", threads, n)
        if r:
            print(f"round {n}, mlops-serve {threads} thread(s): Predictor "
                  f"{r['rows_per_s'] / r['bare_forward_rows_per_s_1_thread']:.3f}x the bare one-thread forward pass")
def batcher_table(title, rows, columns):
    """One table of batcher rows: (header, width, cell) per column."""
    if not rows:
        return
    print(f"\nsingle-row requests through the Batcher ({title})")
    print("".join(f"{h:>{w}}" for h, w, _ in columns))
    for r in rows:
        print("".join(f"{cell(r):>{w}}" for _, w, cell in columns))
common = [("p50 us", 10, lambda r: f"{r['p50_us']:.1f}"), ("p99 us", 10, lambda r: f"{r['p99_us']:.1f}"),
          ("req/s", 10, lambda r: f"{r['requests_per_s']:.0f}"), ("mean batch", 12, lambda r: f"{r['mean_batch_rows']:.2f}")]
batcher_table("closed loop: each caller waits for its answer",
              [r for r in batcher if r.get("offered_per_s") is None],
              [("workers", 8, lambda r: r["workers"]), ("callers", 8, lambda r: r["callers"]),
               ("callers are", 28, lambda r: r.get("callers_are", "OS threads"))] + common)
batcher_table("open loop: sent on a fixed schedule, latency from when due",
              [r for r in batcher if r.get("offered_per_s") is not None],
              [("workers", 8, lambda r: r["workers"]), ("in flight ≤", 12, lambda r: r["callers"]),
               ("offered/s", 11, lambda r: f"{r['offered_per_s']:.0f}")] + common)
PY
