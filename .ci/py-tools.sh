#!/usr/bin/env bash
# Python tools the Rust tests check their output with (today: prometheus_client's
# text-format parser, for mlops-monitor/tests/export.rs).
#
# Usage
#   .ci/py-tools.sh          create/refresh the venv if needed, then print
#                            `export MLOPS_PYTHON=<venv python>` on stdout (logs on stderr)
#   eval "$(.ci/py-tools.sh)"
#
# In a set -e script, keep the failure visible (eval of an empty string succeeds):
#   py_env="$(.ci/py-tools.sh)"; eval "$py_env"
#
# Knobs: PY_TOOLS_VENV (default <repo>/.venv-tools, gitignored through /.venv*).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${PY_TOOLS_VENV:-$ROOT/.venv-tools}"
PY="$VENV/bin/python"
# prometheus_client is pure Python with no dependencies: one pin is the whole closure.
REQUIREMENTS=("prometheus-client==0.26.0")

log() { printf 'py-tools: %s\n' "$*" >&2; }
die() {
    log "ERROR: $*"
    exit 1
}

want="$(printf '%s\n' "${REQUIREMENTS[@]}")"
stamp="$VENV/.py-tools-stamp"
if ! [[ -x "$PY" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    base_py="$(command -v python3 || true)"
    [[ -n "$base_py" ]] || die "python3 not found"
    if [[ -e "$VENV" && ! -f "$VENV/pyvenv.cfg" ]]; then
        die "$VENV exists but is not a venv; refusing to replace it"
    fi
    log "creating venv $VENV (${REQUIREMENTS[*]})"
    rm -rf "$VENV"
    "$base_py" -m venv "$VENV" || die "python3 -m venv failed (on Debian: apt-get install python3-venv)"
    ok=""
    for attempt in 1 2 3; do
        if "$PY" -m pip install --disable-pip-version-check --no-input -q "${REQUIREMENTS[@]}" >&2; then
            ok=1
            break
        fi
        log "pip install failed (attempt $attempt/3)"
        sleep $((attempt * 5))
    done
    if [[ -z "$ok" ]]; then
        rm -rf "$VENV"
        die "could not install ${REQUIREMENTS[*]} into $VENV"
    fi
    printf '%s' "$want" >"$stamp"
fi
"$PY" -c 'import prometheus_client.parser' || die "$PY cannot import prometheus_client"
printf 'export MLOPS_PYTHON=%q\n' "$PY"
