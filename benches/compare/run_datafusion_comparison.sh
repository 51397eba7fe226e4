#!/usr/bin/env bash
# Profiling past one machine, measured on one: our ParquetProfiler against a
# local DataFusion SessionContext (PARTITIONS partitions) and a Ballista
# cluster (our scheduler and two executors, all on 127.0.0.1), on the same
# Parquet files, in alternating rounds (mlops-datafusion's
# bench_profile_datafusion example). A 2-core machine cannot show scale-out
# speed: what it shows is the overhead of each path, and each executor's
# share of the work (rows profiled, partial profiles shipped and their size).
#
#   benches/compare/run_datafusion_comparison.sh
#
# Knobs: ROWS=2000000, FILES=8, PARTITIONS=2, ROUNDS=5, EXECUTOR_TASKS=1 (tasks per executor).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
cd "$ROOT"

ROWS=${ROWS:-2000000}
FILES=${FILES:-8}
PARTITIONS=${PARTITIONS:-2}
ROUNDS=${ROUNDS:-5}
EXECUTOR_TASKS=${EXECUTOR_TASKS:-1}
OUT=bench-data/datafusion
BIN=target/release/examples

log() { echo "[datafusion-compare] $*" >&2; }

log "building the release examples (scheduler, executor, bench)"
# Local files only: without the `aws` feature (and its object_store/reqwest build).
cargo build --release -p mlops-datafusion --no-default-features --examples >&2

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_port() {
    local port=$1 pid=$2
    for _ in $(seq 1 600); do
        if (echo >/dev/tcp/127.0.0.1/"$port") 2>/dev/null; then return 0; fi
        kill -0 "$pid" 2>/dev/null || { log "process $pid exited before listening on $port"; return 1; }
        sleep 0.1
    done
    log "nothing listening on $port after 60 s"; return 1
}

mkdir -p "$OUT"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

SCHEDULER=$(free_port)
"$BIN/ballista_scheduler" --port "$SCHEDULER" 2>"$OUT/scheduler.log" &
PIDS+=($!)
wait_port "$SCHEDULER" "${PIDS[-1]}"
for i in 1 2; do
    FLIGHT=$(free_port); GRPC=$(free_port)
    mkdir -p "$OUT/executor-$i"
    "$BIN/ballista_executor" --scheduler-port "$SCHEDULER" --port "$FLIGHT" --grpc-port "$GRPC" \
        --work-dir "$OUT/executor-$i" --concurrent-tasks "$EXECUTOR_TASKS" 2>"$OUT/executor-$i.log" &
    PIDS+=($!)
    wait_port "$FLIGHT" "${PIDS[-1]}"
done
log "cluster up: scheduler 127.0.0.1:$SCHEDULER, 2 executors"

"$BIN/bench_profile_datafusion" --rows "$ROWS" --files "$FILES" --dir "$OUT/files" \
    --partitions "$PARTITIONS" --rounds "$ROUNDS" --cluster "df://127.0.0.1:$SCHEDULER"
sleep 0.5
for i in 1 2; do
    echo "executor $i (all rounds): $(grep 'mlops_profile work' "$OUT/executor-$i.log" | tail -1 | sed 's/mlops_profile work: //')"
done
