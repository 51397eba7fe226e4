#!/usr/bin/env bash
# HTTP serving comparison: our `serve_http` example against `mlflow models
# serve` on the same model (the inference benchmark's MLP 64 -> 256 -> 256 -> 1,
# run by onnxruntime inside MLflow's pyfunc server), measured in one run by
# the same load generator (benches/compare/http_load.rs).
#
#   benches/compare/run_http_comparison.sh
#
# Steps: (a) the inference benchmark's data if missing (run_inference_comparison.sh
# PEERS="" makes it), (b) venv .venv-mlflow with MLflow and onnxruntime,
# (c) release builds of serve_http, import_model and http_load, (d) the package
# (import_model --sample), MLflow's pyfunc model and the request bodies
# (peer_http.py prepare), (e) each server started on a free loopback port,
# waited for (bounded), loaded with CONNECTIONS connections for SECONDS after a
# 0.5 s warm-up, and stopped; (f) a table with the ratios.
#
# stdout: one JSON line per (server, route), also kept in bench-data/http/results.jsonl.
#
# Knobs: CONNECTIONS=8, DURATION=5 (seconds per run), CLIENT_THREADS=1, MLFLOW_WORKERS=2 (uvicorn
# processes: one per core, as our server uses both cores).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
cd "$ROOT"

CONNECTIONS=${CONNECTIONS:-8}
SECONDS_PER_RUN=${DURATION:-5}
CLIENT_THREADS=${CLIENT_THREADS:-1}
MLFLOW_WORKERS=${MLFLOW_WORKERS:-2}
MLFLOW_VERSION=${MLFLOW_VERSION:-3.17.2}
ORT_VERSION=${ORT_VERSION:-1.32.0}
DATA=bench-data/inference
OUT=bench-data/http
VENV=$ROOT/.venv-mlflow

log() { echo "[http-compare] $*" >&2; }

if [[ ! -f $DATA/model.onnx ]]; then
    log "generating the inference benchmark's model and input"
    PEERS="" TORCH=0 benches/compare/run_inference_comparison.sh >/dev/null
fi
if ! "$VENV/bin/python" -c "import mlflow, onnxruntime" 2>/dev/null; then
    log "installing MLflow $MLFLOW_VERSION and onnxruntime $ORT_VERSION into $VENV"
    [[ -x $VENV/bin/python ]] || python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q "mlflow==$MLFLOW_VERSION" "onnxruntime==$ORT_VERSION"
fi
cargo build --release -q -p mlops-examples --example serve_http --example import_model
cargo build --release -q -p mlops-benches --bin http_load
TARGET=$(cargo metadata --format-version 1 --no-deps | "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')

WORK=$(mktemp -d "${TMPDIR:-/tmp}/http-compare.XXXXXX")
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

"$VENV/bin/python" "$SCRIPT_DIR/peer_http.py" prepare "$DATA" "$WORK" 2>"$WORK/prepare.log" || { cat "$WORK/prepare.log" >&2; exit 1; }
"$TARGET/release/examples/import_model" --weights "$DATA/weights.safetensors" --architecture "$DATA/architecture.json" \
    --name bench --out "$WORK/pkg" --sample "$WORK/sample.parquet" >/dev/null

free_port() { "$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_ready() { # URL: up to 60 s
    for _ in $(seq 600); do
        if curl -fs -o /dev/null "$1"; then return 0; fi
        sleep 0.1
    done
    log "server at $1 never became ready"; return 1
}
load() { # URL BODY
    "$TARGET/release/http_load" "$1" "$2" "$CONNECTIONS" "$SECONDS_PER_RUN" "$CLIENT_THREADS"
}

mkdir -p "$OUT"
: > "$OUT/results.jsonl"
record() { # SERVER ROUTE JSON
    echo "$3" | "$VENV/bin/python" -c 'import json,sys; d=json.load(sys.stdin); d["server"]=sys.argv[1]; d["route"]=sys.argv[2]; print(json.dumps(d))' "$1" "$2" | tee -a "$OUT/results.jsonl"
}

port=$(free_port)
log "ours: serve_http on 127.0.0.1:$port"
"$TARGET/release/examples/serve_http" --package "$WORK/pkg" --listen "127.0.0.1:$port" --max-in-flight 1024 \
    >"$WORK/ours.out" 2>"$WORK/ours.err" &
PIDS+=($!)
wait_ready "http://127.0.0.1:$port/v2/health/ready"
record mlops-rs /predict "$(load "http://127.0.0.1:$port/predict" "$WORK/body_ours.json")"
record mlops-rs /v2/models/bench/infer "$(load "http://127.0.0.1:$port/v2/models/bench/infer" "$WORK/body_oip.json")"
kill "${PIDS[0]}"; wait "${PIDS[0]}" 2>/dev/null || true

port=$(free_port)
log "MLflow $MLFLOW_VERSION: mlflow models serve on 127.0.0.1:$port ($MLFLOW_WORKERS workers)"
PATH="$VENV/bin:$PATH" "$VENV/bin/mlflow" models serve -m "$WORK/mlflow_model" -h 127.0.0.1 -p "$port" --env-manager local -w "$MLFLOW_WORKERS" \
    >"$WORK/mlflow.out" 2>"$WORK/mlflow.err" &
PIDS+=($!)
wait_ready "http://127.0.0.1:$port/ping" || { tail -20 "$WORK/mlflow.err" >&2; exit 1; }
record mlflow /invocations "$(load "http://127.0.0.1:$port/invocations" "$WORK/body_mlflow.json")"

"$VENV/bin/python" - "$OUT/results.jsonl" <<'PY' >&2
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
peer = next(r for r in rows if r["server"] == "mlflow")
print(f"{'server':<10}{'route':<26}{'req/s':>10}{'p50 µs':>10}{'p99 µs':>10}{'failed':>8}{'req/s vs mlflow':>17}")
for r in rows:
    print(f"{r['server']:<10}{r['route']:<26}{r['requests_per_s']:>10.0f}{r['p50_us']:>10.0f}{r['p99_us']:>10.0f}"
          f"{r['failed']:>8}{r['requests_per_s'] / peer['requests_per_s']:>16.1f}x")
PY
