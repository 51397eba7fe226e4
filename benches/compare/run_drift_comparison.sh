#!/usr/bin/env bash
# Drift comparison: our drift_report example vs Evidently's DataDriftPreset on
# the same reference/current Parquet files, in one run; prints the time ratio,
# peak memory, and whether the per-column verdicts agree.
#
# Ours runs RUNS times (default 3) and the median is compared: the time covers
# the whole process (start, reading both files, report, JSON), while Evidently's
# covers reading and the report after its imports, so the ratio favours it.
#
#   benches/compare/run_drift_comparison.sh           # ROWS=1000000 by default
#   ROWS=200000 benches/compare/run_drift_comparison.sh
#   ROWS=10000000 PEER=none benches/compare/run_drift_comparison.sh   # ours only
set -euo pipefail
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
cd "$ROOT"
ROWS=${ROWS:-1000000}
RUNS=${RUNS:-3}
PEER=${PEER:-evidently}
VENV=$ROOT/.venv-evidently
DATA=bench-data
mkdir -p "$DATA"
if [[ ! -x $VENV/bin/python ]] || ! "$VENV/bin/python" -c "import evidently" 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q "evidently>=0.7,<0.8" "pandas<3" pyarrow
fi
command -v /usr/bin/time >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get install -y -q time >/dev/null; }
cargo build --release -q -p mlops-examples --example drift_report
REF=$DATA/drift_ref_$ROWS.parquet
CUR=$DATA/drift_cur_$ROWS.parquet
[[ -f $REF && -f $CUR ]] || "$VENV/bin/python" "$SCRIPT_DIR/gen_drift_data.py" "$DATA" --rows "$ROWS"

: > "$DATA/drift_ours.runs"
for run in $(seq "$RUNS"); do
    start=$(date +%s.%N)
    /usr/bin/time -v target/release/examples/drift_report --reference "$REF" --current "$CUR" --json "$DATA/drift_ours.json" 2> "$DATA/drift_ours.time.$run"
    end=$(date +%s.%N)
    echo "$start $end $run" >> "$DATA/drift_ours.runs"
done
if [[ $PEER == evidently ]]; then
    /usr/bin/time -v "$VENV/bin/python" "$SCRIPT_DIR/peer_evidently.py" "$REF" "$CUR" > "$DATA/drift_evidently.json" 2> "$DATA/drift_evidently.time"
else
    rm -f "$DATA/drift_evidently.json"
fi

"$VENV/bin/python" - "$DATA" <<'PY'
import json, os, re, sys
data = sys.argv[1]
ours = json.load(open(f"{data}/drift_ours.json"))
def rss(path):
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(path).read())
    return int(m.group(1)) / 1024 if m else float("nan")
runs = [line.split() for line in open(f"{data}/drift_ours.runs")]
times = sorted((float(e) - float(s), r) for s, e, r in runs)
ours_s = times[len(times) // 2][0]
ours_rss = max(rss(f"{data}/drift_ours.time.{r}") for _, r in times)
print(f"ours, {len(times)} runs: " + ", ".join(f"{t:.3f} s" for t, _ in times) + f"  (median {ours_s:.3f} s)")
if not os.path.exists(f"{data}/drift_evidently.json"):
    print(f"ours:      {ours_s:8.3f} s  peak RSS {ours_rss:8.1f} MiB  dataset_drift={ours['dataset_drift']}  "
          f"({ours['reference_rows']} + {ours['current_rows']} rows)")
    sys.exit(0)
ev = json.loads(open(f"{data}/drift_evidently.json").read().strip().splitlines()[-1])
agree = sum(1 for c in ours["columns"] if ev["columns"].get(c["name"], {}).get("drifted") == c["drifted"])
NAMES = {"K-S p_value": "ks", "chi-square p_value": "chisquare", "Z-test p_value": "z",
         "Wasserstein distance (normed)": "wasserstein", "Jensen-Shannon distance": "jensenshannon", "PSI": "psi",
         "Hellinger distance (normed)": "hellinger", "Anderson-Darling test p_value": "anderson",
         "Cramer-von-Mises test p_value": "cramer_von_mises"}
same_method = sum(1 for c in ours["columns"] if NAMES.get(ev["columns"].get(c["name"], {}).get("method")) == c["method"])
n = len(ours["columns"])
print(f"ours:      {ours_s:8.3f} s  peak RSS {ours_rss:8.1f} MiB  dataset_drift={ours['dataset_drift']}")
print(f"evidently: {ev['seconds']:8.3f} s  peak RSS {rss(f'{data}/drift_evidently.time'):8.1f} MiB  dataset_drift={ev['dataset_drift']}")
print(f"speed-up: {ev['seconds'] / ours_s:.1f}x   verdicts agree on {agree}/{n} columns, methods on {same_method}/{n}")
for c in ours["columns"]:
    e = ev["columns"].get(c["name"], {})
    flag = "" if e.get("drifted") == c["drifted"] else "   <-- differs"
    print(f"  {c['name']:10s} ours {c['method']:>14s} {c['score']!s:>22} {c['drifted']!s:>5}   evidently {e.get('method')!s:>14} {e.get('score')!s:>22} {e.get('drifted')!s:>5}{flag}")
PY
