#!/usr/bin/env bash
# Two builds of the Batcher side by side: single-row requests through a
# Batcher (one worker) from OS-thread callers and from tokio tasks on one
# thread, with the two bench_inference binaries taking turns, round after
# round, so both meet the same machine. Prints each round's JSON lines (tagged
# "build" and "round") on stdout and, on stderr, per (callers, kind, build) the
# p50 and p99 ranges and the median requests/s over the rounds.
#
#   # build A, keep it, change the code, build B:
#   cargo build --release --example bench_inference && cp target/release/examples/bench_inference /tmp/bench_a
#   ...                                                 # edit
#   cargo build --release --example bench_inference
#   benches/compare/ab_batcher.sh /tmp/bench_a target/release/examples/bench_inference
#
# Needs bench-data/inference (made by run_inference_comparison.sh, or by
# `python3 benches/compare/peer_inference.py gen bench-data/inference --seed 0`
# in its venv). Knobs: ROUNDS=5, CALLERS=1,8,32, REQUESTS=5000 (per caller).
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 BINARY_A BINARY_B" >&2
    exit 2
fi
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
A=$1
B=$2
ROUNDS=${ROUNDS:-5}
CALLERS=${CALLERS:-1,8,32}
REQUESTS=${REQUESTS:-5000}
DATA_DIR=$REPO_ROOT/bench-data/inference
for bin in "$A" "$B"; do
    [[ -x $bin ]] || { echo "error: $bin is not an executable" >&2; exit 1; }
done
[[ -f $DATA_DIR/weights.safetensors ]] || { echo "error: no model in $DATA_DIR (see the header)" >&2; exit 1; }

lines=$(mktemp)
trap 'rm -f "$lines"' EXIT
for round in $(seq 1 "$ROUNDS"); do
    for build in A B; do
        bin=$A
        [[ $build == B ]] && bin=$B
        # Few batch and single-row calls: only the batcher lines are kept.
        "$bin" "$DATA_DIR" --threads 1 --seconds 0.2 --latency-iters 500 --callers "$CALLERS" \
            --async-callers --requests-per-caller "$REQUESTS" 2>/dev/null |
            grep '"mlops-serve-batcher"' | sed "s/^{/{\"build\": \"$build\", \"round\": $round, /" | tee -a "$lines"
    done
done

python3 - "$lines" <<'PY' >&2
import json
import statistics
import sys
from collections import defaultdict

runs = defaultdict(list)
for line in open(sys.argv[1]):
    r = json.loads(line)
    runs[(r["callers"], r["callers_are"], r["build"])].append(r)
print(f"\n{'callers':>7}  {'callers are':<26} build  {'p50 µs (min–max)':<18} {'p99 µs (min–max)':<20} median req/s")
for (callers, kind, build), rs in sorted(runs.items()):
    p50 = [r["p50_us"] for r in rs]
    p99 = [r["p99_us"] for r in rs]
    rps = statistics.median(r["requests_per_s"] for r in rs)
    p50s = f"{min(p50):.1f}–{max(p50):.1f}"
    p99s = f"{min(p99):.1f}–{max(p99):.1f}"
    print(f"{callers:>7}  {kind:<26} {build:<5}  {p50s:<18} {p99s:<20} {rps:>12,.0f}")
PY
