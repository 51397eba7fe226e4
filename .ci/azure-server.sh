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

# ---- sourced: `start` in a child bash, its exports here (see emulator_sourced in the lib). ----
if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
    eval "$(bash "$(dirname "${BASH_SOURCE[0]}")/lib/emulator.sh" sourced "${BASH_SOURCE[0]}" "$$")"
    return 1 # reached only when the start failed: a successful one ends its exports with `return 0`
fi

set -euo pipefail
# The lifecycle (port, start, watchdog, readiness, env, stop) is shared with the other
# emulators; this file holds what is particular to Azurite and its Node install.
# shellcheck source=lib/emulator.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/emulator.sh"
emulator_init azure-server AZURE_SERVER "Azurite"
NODE_DIR="${AZURE_SERVER_NODE_DIR:-$ROOT/.node-azurite}"
CONTAINER="mlops-test"
PINS="$ROOT/.ci/azurite"
MAIN="$NODE_DIR/node_modules/azurite/dist/src/blob/main.js"
MIN_NODE_MAJOR=20
ACCOUNT="devstoreaccount1"
# Azurite's published development key (the same for every Azurite install; not a secret).
ACCOUNT_KEY="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
EMU_MARK="$MAIN"
EMU_RUNNING="container $CONTAINER"

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

emulator_install() {
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

emulator_ready() { # port pid timeout
    (cd "$NODE_DIR" && ACCOUNT="$ACCOUNT" ACCOUNT_KEY="$ACCOUNT_KEY" node -e "$READY" "$1" "$CONTAINER" "$2" "$3")
}

emulator_free_port() {
    node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# On disk, not --inMemoryPersistence: Azurite stores a conditional put's body before it
# checks the condition, and the in-memory store does not reclaim the losers' bodies, so
# racing writers filled its 1 GiB limit after 16 rounds of 8 writers x 8 MiB, and every
# later put got 409 MemoryExtentStoreAtSizeLimit, a status that object_store reads as
# AlreadyExists for a create. The data dir is wiped on start and stop.
emulator_launch() {
    rm -rf "$STATE/data"
    mkdir -p "$STATE/data"
    emulator_spawn node "$MAIN" --blobHost 127.0.0.1 --blobPort "$1" \
        --location "$STATE/data" --disableTelemetry \
        --skipApiVersionCheck --disableProductStyleUrl --silent
}

emulator_stopped() { rm -rf "$STATE/data"; }

emulator_print_env() {
    cat <<EOF
export AZURE_STORAGE_USE_EMULATOR=true
export AZURITE_BLOB_STORAGE_URL=http://127.0.0.1:$1
export AZURE_STORAGE_ACCOUNT_NAME=$ACCOUNT
export AZURE_STORAGE_ACCOUNT_KEY=$ACCOUNT_KEY
export MLOPS_TEST_AZURE_CONTAINER=$CONTAINER
export MLOPS_TEST_AZURE_URL=az://$CONTAINER
EOF
}

emulator_main "$@"
