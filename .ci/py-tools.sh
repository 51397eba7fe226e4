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

# The venv installer is the emulators' (stamped pins, retries): one copy of it.
# shellcheck source=lib/emulator.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/emulator.sh"
EMU_NAME=py-tools
VENV="${PY_TOOLS_VENV:-$ROOT/.venv-tools}"
PY="$VENV/bin/python"
# prometheus_client is pure Python with no dependencies: one pin is the whole closure.
REQUIREMENTS=("prometheus-client==0.26.0")

venv_install
"$PY" -c 'import prometheus_client.parser' || die "$PY cannot import prometheus_client"
printf 'export MLOPS_PYTHON=%q\n' "$PY"
