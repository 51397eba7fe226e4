#!/usr/bin/env bash
# Explanations: our Integrated Gradients (32 steps, Candle autodiff) against
# SHAP's KernelExplainer on the same MLP (64 -> 256 -> 256 -> 1) and the same
# input rows, in one run. Reports explained rows per second, the ratio, and
# how alike the two global importance rankings are (Spearman's rho over the
# 64 features): the methods differ (path integral vs Shapley sampling), so
# their values are not expected to be equal, only to agree on what matters.
#
#   benches/compare/run_explain_comparison.sh
#
# Knobs: OURS_ROWS=1024, SHAP_ROWS=20 (KernelExplainer is slow), STEPS=32.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
cd "$ROOT"

OURS_ROWS=${OURS_ROWS:-1024}
SHAP_ROWS=${SHAP_ROWS:-20}
STEPS=${STEPS:-32}
SHAP_VERSION=${SHAP_VERSION:-0.51.0}
DATA=bench-data/inference
VENV=$ROOT/.venv-shap

if [[ ! -f $DATA/input.npy ]]; then
    PEERS="" TORCH=0 benches/compare/run_inference_comparison.sh >/dev/null
fi
if ! "$VENV/bin/python" -c "import shap" 2>/dev/null; then
    [[ -x $VENV/bin/python ]] || python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q "shap==$SHAP_VERSION"
fi
cargo build --release -q -p mlops-benches --bin explain_rows
TARGET=$(cargo metadata --format-version 1 --no-deps | "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')

mkdir -p bench-data/explain
ours=$("$TARGET/release/explain_rows" "$DATA" "$OURS_ROWS" "$STEPS")
peer=$("$VENV/bin/python" "$SCRIPT_DIR/peer_explain.py" "$DATA" "$SHAP_ROWS")
echo "$ours" | tee bench-data/explain/results.jsonl
echo "$peer" | tee -a bench-data/explain/results.jsonl
"$VENV/bin/python" - "$ours" "$peer" <<'PY' >&2
import json, sys
from scipy.stats import spearmanr
ours, peer = (json.loads(a) for a in sys.argv[1:3])
features = sorted(ours["importance"])
rho = spearmanr([ours["importance"][f] for f in features], [peer["importance"][f] for f in features]).statistic
print(f"{ours['explainer']:<42}{ours['rows_per_s']:>12.1f} rows/s  ({ours['rows']} rows)")
print(f"{peer['explainer']:<42}{peer['rows_per_s']:>12.1f} rows/s  ({peer['rows']} rows)")
print(f"ratio: {ours['rows_per_s'] / peer['rows_per_s']:.0f}x; Spearman rho of global importance: {rho:.3f}")
PY
