#!/usr/bin/env bash
# Registry comparison: the same operations (register, set alias, resolve alias,
# search) on our local-disk registry and on MLflow's model registry (SQLite
# backend, local artifacts), in one run; prints medians side by side and the
# ratio MLflow / ours (above 1: we are faster).
#
# Timings are only meaningful on a quiet machine: nothing else compiling or
# running. Each side times OPS operations of each kind on a model that already
# has PRELOAD versions, in its own process, after its imports.
#
#   benches/compare/run_registry_comparison.sh             # OPS=200 PRELOAD=100
#   OPS=500 PRELOAD=1000 benches/compare/run_registry_comparison.sh
#
# Ours is the warm path of one long-lived client (as a service embedding the
# SDK runs): resolve_alias then costs one probe of the next alias event.
set -euo pipefail
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
cd "$ROOT"
OPS=${OPS:-200}
PRELOAD=${PRELOAD:-100}
VENV=$ROOT/.venv-mlflow
MLFLOW_VERSION=${MLFLOW_VERSION:-3.17.2}
if [[ ! -x $VENV/bin/python ]] || ! "$VENV/bin/python" -c "import mlflow" 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q "mlflow==$MLFLOW_VERSION"
fi
cargo build --release -q -p mlops-benches --bin registry_ops
WORK=$(mktemp -d "${TMPDIR:-/tmp}/registry-compare.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
target_dir=$(cargo metadata --format-version 1 --no-deps | "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
"$target_dir/release/registry_ops" "$WORK/ours" "$OPS" "$PRELOAD" > "$WORK/ours.json"
"$VENV/bin/python" "$SCRIPT_DIR/peer_mlflow_registry.py" "$WORK/mlflow" "$OPS" "$PRELOAD" > "$WORK/mlflow.json"
"$VENV/bin/python" - "$WORK/ours.json" "$WORK/mlflow.json" <<'PY'
import json, sys
ours, peer = (json.load(open(p)) for p in sys.argv[1:3])
print(f"{ours['versions_at_end']} versions at the end; search returns {ours['search_results']} (ours), "
      f"{peer['search_results']} ({peer['system']})")
print(f"{'operation':<14}{'ours median':>14}{'mlflow median':>16}{'ratio':>9}   (ours mean / p90)")
for op in ("register", "set_alias", "resolve_alias", "search"):
    o, m = ours[op]["median_ms"], peer[op]["median_ms"]
    print(f"{op:<14}{o:>11.3f} ms{m:>13.3f} ms{m / o:>8.1f}x   "
          f"({ours[op]['mean_ms']:.3f} / {ours[op]['p90_ms']:.3f} ms)")
PY
