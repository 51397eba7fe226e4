#!/usr/bin/env bash
# Local Azure Blob Storage emulator (Azurite) for the az:// registry tests.
#
# Usage
#   .ci/azure-server.sh start    install Azurite if missing, start it (or reuse a running
#                                one), create container mlops-test, and print
#                                `export KEY=VALUE` lines on stdout (logs go to stderr)
#   .ci/azure-server.sh env      print the same `export` lines for the running emulator
#   .ci/azure-server.sh stop     stop the emulator (no-op if none is running)
#   .ci/azure-server.sh status   exit 0 if running and answering, 1 otherwise
#   .ci/azure-server.sh install  only install/refresh Azurite
#   source .ci/azure-server.sh   start + export the variables into the current shell
#                                (the emulator is also stopped when that shell exits)
#
# Typical CI use (see .ci/s3-server.sh for why not `eval "$(... start)"` in one line):
#   trap '.ci/azure-server.sh stop' EXIT
#   azure_env="$(AZURE_SERVER_WATCH_PID=$$ .ci/azure-server.sh start)"
#   eval "$azure_env"
#
# Exported variables: AZURE_STORAGE_USE_EMULATOR, AZURITE_BLOB_STORAGE_URL (object_store's
# emulator switch and address; the account is Azurite's well-known development account,
# which object_store uses when the switch is on), AZURE_STORAGE_ACCOUNT_NAME,
# AZURE_STORAGE_ACCOUNT_KEY, MLOPS_TEST_AZURE_CONTAINER, MLOPS_TEST_AZURE_URL.
#
# Knobs (environment):
#   AZURE_SERVER_NODE_DIR      install dir           (default: <repo>/.node-azurite)
#   AZURE_SERVER_STATE_DIR     pid/port/log dir      (default: <repo>/target/azure-server)
#   AZURE_SERVER_MAX_SECONDS   hard lifetime cap     (default: 3600; the emulator is killed after it)
#   AZURE_SERVER_WATCH_PID     if set, the emulator exits by itself once this PID is gone
#   AZURE_SERVER_START_TIMEOUT seconds to wait for the emulator to answer (default: 30)
#
# Versions are pinned by .ci/azurite/package.json and its package-lock.json (`npm ci`):
# Azurite 3.35.0, the newest release that does not require Node 22 (3.36 needs >= 21,
# 3.37 >= 22), and @azure/storage-blob 12.27.0 to create the container. Their dependency
# closure needs Node >= 20 (checked below). Azurite keeps its data under the state dir
# (wiped on start and stop) and runs with telemetry off (the machines reach no telemetry endpoint, and must not try).
#
# Checked by hand before trusting the tests (2026-11, Azurite 3.35.0): Put Blob with
# `If-None-Match: *` (object_store's PutMode::Create) answers 409 BlobAlreadyExists when the
# blob exists, and 50 rounds of 8 concurrent conditional creates of one blob each had
# exactly one winner. The registry tests check the same through object_store.

# ---- sourced: run `start` in a child bash (keeps set -e out of the caller), export. ----
if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
    __azure_server_env="$(AZURE_SERVER_WATCH_PID="${AZURE_SERVER_WATCH_PID:-$$}" bash "${BASH_SOURCE[0]}" start)" || {
        unset __azure_server_env
        return 1
    }
    eval "$__azure_server_env"
    unset __azure_server_env
    return 0
fi

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE_DIR="${AZURE_SERVER_NODE_DIR:-$ROOT/.node-azurite}"
STATE="${AZURE_SERVER_STATE_DIR:-$ROOT/target/azure-server}"
MAX_SECONDS="${AZURE_SERVER_MAX_SECONDS:-3600}"
START_TIMEOUT="${AZURE_SERVER_START_TIMEOUT:-30}"
CONTAINER="mlops-test"
PINS="$ROOT/.ci/azurite"
MAIN="$NODE_DIR/node_modules/azurite/dist/src/blob/main.js"
MIN_NODE_MAJOR=20
ACCOUNT="devstoreaccount1"
# Azurite's published development key (the same for every Azurite install; not a secret).
ACCOUNT_KEY="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

# Waits until Azurite answers, then creates the container (idempotent).
# argv: port, container, server pid, timeout seconds; env: ACCOUNT, ACCOUNT_KEY
READY='
const { BlobServiceClient, StorageSharedKeyCredential } = require("@azure/storage-blob");
// `node -e` puts the arguments right after the node binary.
const [port, container, pid, timeout] = process.argv.slice(1);
const cred = new StorageSharedKeyCredential(process.env.ACCOUNT, process.env.ACCOUNT_KEY);
const svc = new BlobServiceClient(`http://127.0.0.1:${port}/${process.env.ACCOUNT}`, cred,
  { retryOptions: { maxTries: 1, tryTimeoutInMs: 3000 } });
const deadline = Date.now() + Number(timeout) * 1000;
const alive = () => { try { process.kill(Number(pid), 0); return true; } catch (e) { return e.code === "EPERM"; } };
(async () => {
  for (;;) {
    if (!alive()) { console.error(`azure-server: server process ${pid} exited before answering`); process.exit(1); }
    try { await svc.getProperties(); break; } catch (e) {
      if (e.statusCode !== undefined) throw e;
      if (Date.now() > deadline) { console.error(`azure-server: no answer on port ${port} after ${timeout}s`); process.exit(1); }
      await new Promise(r => setTimeout(r, 200));
    }
  }
  const c = svc.getContainerClient(container);
  await c.createIfNotExists();
  if (!(await c.exists())) throw new Error(`container ${container} missing after create`);
})().catch(e => { console.error(`azure-server: ${e.message}`); process.exit(1); });
'

log() { printf 'azure-server: %s\n' "$*" >&2; }
die() {
    log "ERROR: $*"
    exit 1
}

ensure_node() {
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        log "node/npm not found: installing Debian's nodejs and npm"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q >/dev/null && apt-get install -y -q nodejs npm >/dev/null ||
            die "could not install nodejs and npm (Azurite needs Node >= $MIN_NODE_MAJOR)"
    fi
    local major
    major="$(node -p 'process.versions.node.split(".")[0]')"
    [[ "$major" =~ ^[0-9]+$ && "$major" -ge $MIN_NODE_MAJOR ]] ||
        die "Node $(node --version) is too old: Azurite 3.35.0's dependencies need Node >= $MIN_NODE_MAJOR"
}

install_azurite() {
    ensure_node
    local stamp want
    want="$(cat "$PINS/package.json" "$PINS/package-lock.json")"
    stamp="$NODE_DIR/.azure-server-stamp"
    if [[ -f "$MAIN" && -f "$stamp" ]] && [[ "$(cat "$stamp")" == "$want" ]]; then
        return 0
    fi
    if [[ -e "$NODE_DIR" && ! -f "$NODE_DIR/package.json" ]]; then
        die "$NODE_DIR exists but is not an Azurite install; refusing to replace it"
    fi
    log "installing Azurite into $NODE_DIR (npm ci from .ci/azurite)"
    rm -rf "$NODE_DIR"
    mkdir -p "$NODE_DIR"
    cp "$PINS/package.json" "$PINS/package-lock.json" "$NODE_DIR/"
    local attempt
    for attempt in 1 2 3; do
        if (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error >&2); then
            printf '%s' "$want" >"$stamp"
            log "Azurite ready"
            return 0
        fi
        log "npm ci failed (attempt $attempt/3)"
        sleep $((attempt * 5))
    done
    rm -rf "$NODE_DIR"
    die "could not install Azurite into $NODE_DIR"
}

ready() { # port pid timeout
    (cd "$NODE_DIR" && ACCOUNT="$ACCOUNT" ACCOUNT_KEY="$ACCOUNT_KEY" node -e "$READY" "$1" "$CONTAINER" "$2" "$3")
}

server_pid() {
    local pid
    [[ -f "$STATE/pid" ]] || return 1
    pid="$(cat "$STATE/pid")"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    # Guard against a recycled pid from an old run: it must be our emulator's command line.
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$MAIN" || return 1
    printf '%s' "$pid"
}

server_port() {
    [[ -f "$STATE/port" ]] || return 1
    cat "$STATE/port"
}

print_env() {
    cat <<EOF
export AZURE_STORAGE_USE_EMULATOR=true
export AZURITE_BLOB_STORAGE_URL=http://127.0.0.1:$1
export AZURE_STORAGE_ACCOUNT_NAME=$ACCOUNT
export AZURE_STORAGE_ACCOUNT_KEY=$ACCOUNT_KEY
export MLOPS_TEST_AZURE_CONTAINER=$CONTAINER
export MLOPS_TEST_AZURE_URL=az://$CONTAINER
EOF
}

free_port() {
    node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

is_ready() {
    local pid port
    pid="$(server_pid)" || return 1
    port="$(server_port)" || return 1
    ready "$port" "$pid" 3 2>/dev/null
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
    rm -rf "$STATE/data"
}

cmd_start() {
    install_azurite
    mkdir -p "$STATE"
    if is_ready; then
        log "already running: pid $(server_pid), port $(server_port)"
        print_env "$(server_port)"
        return 0
    fi
    cmd_stop # clear stale state (or a running-but-broken server)

    local attempt port pid watch="${AZURE_SERVER_WATCH_PID:-0}"
    [[ "$watch" =~ ^[0-9]+$ ]] || die "AZURE_SERVER_WATCH_PID must be a pid, got '$watch'"
    : >"$STATE/server.log"
    for attempt in 1 2 3; do
        port="$(free_port)"
        # timeout caps the emulator's life at MAX_SECONDS and forwards SIGTERM to it;
        # --foreground keeps it in the caller's process group. stdio is detached so
        # `$(.ci/azure-server.sh start)` returns.
        # On disk, not --inMemoryPersistence: Azurite stores a conditional put's body before
        # it checks the condition, and the in-memory store does not reclaim the losers'
        # bodies, so racing writers filled its 1 GiB limit after 16 rounds of 8 writers x
        # 8 MiB, and every later put got 409 MemoryExtentStoreAtSizeLimit, a status that
        # object_store reads as AlreadyExists for a create. The data dir is wiped on start
        # and stop.
        rm -rf "$STATE/data"
        mkdir -p "$STATE/data"
        timeout --foreground --kill-after=10 "$MAX_SECONDS" \
            node "$MAIN" --blobHost 127.0.0.1 --blobPort "$port" \
            --location "$STATE/data" --disableTelemetry \
            --skipApiVersionCheck --disableProductStyleUrl --silent \
            </dev/null >>"$STATE/server.log" 2>&1 &
        pid=$!
        printf '%s\n' "$pid" >"$STATE/pid"
        printf '%s\n' "$port" >"$STATE/port"
        if [[ "$watch" != 0 ]]; then
            # Azurite has no parent watch of its own: this loop ends it once the watched
            # process is gone (and ends itself when the emulator does).
            (
                while kill -0 "$watch" 2>/dev/null && kill -0 "$pid" 2>/dev/null; do sleep 2; done
                if kill -0 "$pid" 2>/dev/null; then
                    echo "azure-server: watched pid $watch is gone, exiting" >>"$STATE/server.log"
                    kill -TERM "$pid" 2>/dev/null || true
                fi
            ) </dev/null >/dev/null 2>&1 &
        fi
        if ready "$port" "$pid" "$START_TIMEOUT" >&2; then
            log "running: pid $pid, port $port, container $CONTAINER, log $STATE/server.log"
            print_env "$port"
            return 0
        fi
        log "start attempt $attempt on port $port failed; last log lines:"
        tail -n 20 "$STATE/server.log" >&2 || true
        cmd_stop
    done
    die "Azurite did not come up (see $STATE/server.log)"
}

cmd_env() {
    local port
    server_pid >/dev/null || die "no Azurite running (run: .ci/azure-server.sh start)"
    port="$(server_port)" || die "no port file in $STATE"
    print_env "$port"
}

cmd_status() {
    if is_ready; then
        log "running: pid $(server_pid), port $(server_port)"
    else
        log "not running"
        return 1
    fi
}

case "${1:-}" in
start) cmd_start ;;
stop) cmd_stop ;;
env) cmd_env ;;
status) cmd_status ;;
install) install_azurite ;;
*)
    echo "usage: $0 start|stop|env|status|install   (or: source $0)" >&2
    exit 2
    ;;
esac
