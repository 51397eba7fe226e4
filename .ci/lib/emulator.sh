# shellcheck shell=bash
# The lifecycle shared by the loopback storage emulators (.ci/s3-server.sh,
# .ci/gcs-server.sh, .ci/azure-server.sh): install, pick a loopback port, start in the
# background with a bounded lifetime and a watchdog on a watched pid, wait for readiness,
# print the `export KEY=VALUE` lines that callers eval, report status, stop.
#
# Sourced by those scripts (after their own `set -euo pipefail`), where it only defines
# functions; run by them only for `source .ci/<name>.sh` (emulator_sourced, at the end).
# Each script's commands, knobs and output are documented in its header.
#
# A script calls `emulator_init NAME KNOB WHAT [VENV_DIR]` (e.g. `s3-server S3_SERVER
# "S3 server" .venv-s3`), which sets ROOT, STATE, MAX_SECONDS, START_TIMEOUT and WATCH from
# the knobs ${KNOB}_STATE_DIR, ${KNOB}_MAX_SECONDS, ${KNOB}_START_TIMEOUT and
# ${KNOB}_WATCH_PID, and for a server run by Python from a venv, VENV (knob ${KNOB}_VENV,
# default <repo>/VENV_DIR) and PY. It then sets
#   EMU_RUNNING   what the "running:" log line adds about the server ("bucket mlops-test")
# and for a Python server REQUIREMENTS (and optionally CONSTRAINTS, PIP_ARGS), LAUNCHER
# (its code; argv: port) and READY (code that waits for it and creates the bucket; argv:
# port, BUCKET, pid, seconds). It redefines the hooks that do not fit it (the defaults,
# below, are for a Python server):
#   emulator_install                install or refresh the server (idempotent)
#   emulator_launch PORT            start it in the background with emulator_spawn
#   emulator_ready PORT PID SECS    wait until it answers, create the bucket; exit status
#   emulator_free_port              print a free loopback port
#   emulator_stopped                extra cleanup after a stop (default: none)
# and EMU_MARK, a string the server's command line contains (guards against a recycled
# pid; "$PY -c " by default); it defines
#   emulator_print_env PORT         print the export lines
# and ends with `emulator_main "$@"`.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

emulator_init() { # NAME KNOB WHAT [VENV_DIR]
    EMU_NAME="$1"
    EMU_KNOB="$2"
    EMU_WHAT="$3"
    local state="${2}_STATE_DIR" max="${2}_MAX_SECONDS" wait="${2}_START_TIMEOUT" watch="${2}_WATCH_PID"
    local venv="${2}_VENV"
    STATE="${!state:-$ROOT/target/$1}"
    MAX_SECONDS="${!max:-3600}"
    START_TIMEOUT="${!wait:-30}"
    WATCH="${!watch:-0}"
    if [[ -n "${4:-}" ]]; then
        VENV="${!venv:-$ROOT/$4}"
        PY="$VENV/bin/python"
        EMU_MARK="$PY -c "
    fi
}

log() { printf '%s: %s\n' "$EMU_NAME" "$*" >&2; }
die() {
    log "ERROR: $*"
    exit 1
}

# Creates or refreshes the venv $VENV with REQUIREMENTS (array), pinned by CONSTRAINTS (a
# requirements-file text, may be empty) and installed with PIP_ARGS (array, may be empty);
# a stamp file makes this a no-op while the pins are unchanged.
venv_install() {
    local stamp want
    want="${REQUIREMENTS[*]}"
    if [[ -n "${CONSTRAINTS:-}" ]]; then
        want+=$'\n'"$CONSTRAINTS"
    fi
    stamp="$VENV/.$EMU_NAME-stamp"
    if [[ -x "$PY" && -f "$stamp" ]] && [[ "$(cat "$stamp")" == "$want" ]]; then
        return 0
    fi
    local base_py
    base_py="$(command -v python3 || true)"
    [[ -n "$base_py" ]] || die "python3 not found (needed for the $EMU_NAME venv)"
    if [[ -e "$VENV" && ! -f "$VENV/pyvenv.cfg" ]]; then
        die "$VENV exists but is not a venv; refusing to replace it"
    fi
    log "creating venv $VENV (${REQUIREMENTS[*]})"
    rm -rf "$VENV"
    "$base_py" -m venv "$VENV" || die "python3 -m venv failed (on Debian: apt-get install python3-venv)"
    local cfile="" attempt
    local -a cons=()
    if [[ -n "${CONSTRAINTS:-}" ]]; then
        cfile="$(mktemp)"
        printf '%s\n' "$CONSTRAINTS" >"$cfile"
        cons=(-c "$cfile")
    fi
    for attempt in 1 2 3; do
        if [[ $attempt == 3 && -n "$cfile" ]]; then
            # Last resort (e.g. the index briefly failing on one pinned wheel): keep the
            # top-level pins, let pip choose the rest.
            log "WARNING: retrying without the dependency pins"
            cons=()
        fi
        if "$PY" -m pip install --disable-pip-version-check --no-input -q \
            ${PIP_ARGS[@]+"${PIP_ARGS[@]}"} ${cons[@]+"${cons[@]}"} "${REQUIREMENTS[@]}" >&2; then
            rm -f "$cfile"
            printf '%s' "$want" >"$stamp"
            log "venv ready"
            return 0
        fi
        log "pip install failed (attempt $attempt/3)"
        sleep $((attempt * 5))
    done
    rm -f "$cfile"
    rm -rf "$VENV"
    die "could not install ${REQUIREMENTS[*]} into $VENV"
}

# The hooks' defaults, for a Python server in a venv (a script redefines what differs).
emulator_install() { venv_install; }
emulator_launch() { emulator_spawn "$PY" -c "$LAUNCHER" "$1"; }
emulator_ready() { "$PY" -c "$READY" "$1" "$BUCKET" "$2" "$3"; }
emulator_free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
emulator_stopped() { :; }

# Starts "$@" in the background as the server: sets EMU_PID. timeout caps its life at
# MAX_SECONDS (and forwards SIGTERM to it); --foreground keeps it in the caller's process
# group, so a kill of the CI job's group reaches it. stdio is detached so
# `$(.ci/<name>.sh start)` returns. With a watched pid, a detached loop ends the server
# once that process is gone (and ends itself when the server does).
emulator_spawn() {
    timeout --foreground --kill-after=10 "$MAX_SECONDS" "$@" \
        </dev/null >>"$STATE/server.log" 2>&1 &
    EMU_PID=$!
    if [[ "$WATCH" != 0 ]]; then
        local pid="$EMU_PID" watch="$WATCH" log_file="$STATE/server.log" name="$EMU_NAME"
        (
            while kill -0 "$watch" 2>/dev/null && kill -0 "$pid" 2>/dev/null; do sleep 2; done
            if kill -0 "$pid" 2>/dev/null; then
                echo "$name: watched pid $watch is gone, exiting" >>"$log_file"
                kill -TERM "$pid" 2>/dev/null || true
            fi
        ) </dev/null >/dev/null 2>&1 &
    fi
}

server_pid() {
    local pid
    [[ -f "$STATE/pid" ]] || return 1
    pid="$(cat "$STATE/pid")"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    # Guard against a recycled pid from an old run: it must be our server's command line.
    # (Not `tr ... | grep -q`: grep -q exits at the first match, and tr, still writing a
    # long launcher's command line, then dies of SIGPIPE, which pipefail made a failure:
    # `env` once said "no GCS emulator running" while it ran.)
    local cmdline
    cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
    [[ "$cmdline" == *"$EMU_MARK"* ]] || return 1
    printf '%s' "$pid"
}

server_port() {
    [[ -f "$STATE/port" ]] || return 1
    cat "$STATE/port"
}

is_ready() {
    local pid port
    pid="$(server_pid)" || return 1
    port="$(server_port)" || return 1
    emulator_ready "$port" "$pid" 3 2>/dev/null
}

cmd_stop() {
    local pid i
    if pid="$(server_pid)"; then
        log "stopping pid $pid"
        kill -TERM "$pid" 2>/dev/null || true
        for i in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.2
        done
        if kill -0 "$pid" 2>/dev/null; then
            log "pid $pid ignored SIGTERM for 10s, sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$STATE/pid" "$STATE/port"
    emulator_stopped
}

cmd_start() {
    emulator_install
    mkdir -p "$STATE"
    if is_ready; then
        log "already running: pid $(server_pid), port $(server_port)"
        emulator_print_env "$(server_port)"
        return 0
    fi
    cmd_stop # clear stale state (or a running-but-broken server)

    [[ "$WATCH" =~ ^[0-9]+$ ]] || die "${EMU_KNOB}_WATCH_PID must be a pid, got '$WATCH'"
    local attempt port
    : >"$STATE/server.log"
    for attempt in 1 2 3; do
        port="$(emulator_free_port)"
        emulator_launch "$port"
        printf '%s\n' "$EMU_PID" >"$STATE/pid"
        printf '%s\n' "$port" >"$STATE/port"
        if emulator_ready "$port" "$EMU_PID" "$START_TIMEOUT" >&2; then
            log "running: pid $EMU_PID, port $port, $EMU_RUNNING, log $STATE/server.log"
            emulator_print_env "$port"
            return 0
        fi
        log "start attempt $attempt on port $port failed; last log lines:"
        tail -n 20 "$STATE/server.log" >&2 || true
        cmd_stop
    done
    die "$EMU_WHAT did not come up (see $STATE/server.log)"
}

cmd_env() {
    local port
    server_pid >/dev/null || die "no $EMU_WHAT running (run: .ci/$EMU_NAME.sh start)"
    port="$(server_port)" || die "no port file in $STATE"
    emulator_print_env "$port"
}

cmd_status() {
    if is_ready; then
        log "running: pid $(server_pid), port $(server_port)"
    else
        log "not running"
        return 1
    fi
}

emulator_main() {
    case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    env) cmd_env ;;
    status) cmd_status ;;
    install) emulator_install ;;
    *)
        echo "usage: $0 start|stop|env|status|install   (or: source $0)" >&2
        exit 2
        ;;
    esac
}

# `source .ci/<name>.sh` runs `bash .ci/lib/emulator.sh sourced .ci/<name>.sh CALLER_PID`
# and evals what it prints. This starts the server in a child bash (which keeps set -e and
# these functions out of the caller's shell), watching the caller's shell unless
# <NAME>_WATCH_PID names another pid, and prints its export lines followed by `return 0`;
# nothing when the start failed (the caller then returns 1).
emulator_sourced() { # SCRIPT CALLER_PID
    local knob out
    knob="$(basename "$1" .sh)"
    knob="${knob^^}"
    knob="${knob//-/_}_WATCH_PID"
    out="$(env "$knob=${!knob:-$2}" bash "$1" start)" || exit 1
    printf '%s\nreturn 0\n' "$out"
}

if [[ "${BASH_SOURCE[0]}" == "$0" && "${1:-}" == sourced && $# == 3 ]]; then
    set -euo pipefail
    emulator_sourced "$2" "$3"
fi
