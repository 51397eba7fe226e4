#!/usr/bin/env bash
# Local S3-compatible server (moto, S3 only) for the object-store tests.
#
# Usage
#   .ci/s3-server.sh start    install the venv if missing, start the server (or reuse
#                             a running one), create bucket mlops-test, and print
#                             `export KEY=VALUE` lines on stdout (logs go to stderr)
#   .ci/s3-server.sh env      print the same `export` lines for the running server
#   .ci/s3-server.sh stop     stop the server (no-op if none is running)
#   .ci/s3-server.sh status   exit 0 if running and answering, 1 otherwise
#   .ci/s3-server.sh install  only create/refresh the venv
#   source .ci/s3-server.sh   start + export the variables into the current shell
#                             (the server is also stopped when that shell exits)
#
# Typical CI use (the trap makes sure no server outlives the run):
#   trap '.ci/s3-server.sh stop' EXIT
#   s3_env="$(S3_SERVER_WATCH_PID=$$ .ci/s3-server.sh start)"   # a failure stops set -e scripts
#   eval "$s3_env"
# (Not `eval "$(... start)"` in one line: eval of an empty string succeeds, so a failed start
# would go unnoticed under set -e.)
#
# Exported variables: AWS_ENDPOINT, AWS_ENDPOINT_URL, AWS_ALLOW_HTTP, AWS_ACCESS_KEY_ID,
# AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_DEFAULT_REGION, MLOPS_TEST_S3_BUCKET,
# MLOPS_TEST_S3_URL.
#
# Knobs (environment):
#   S3_SERVER_VENV          venv path            (default: <repo>/.venv-s3)
#   S3_SERVER_STATE_DIR     pid/port/log dir     (default: <repo>/target/s3-server)
#   S3_SERVER_MAX_SECONDS   hard lifetime cap    (default: 3600; the server is killed after it)
#   S3_SERVER_WATCH_PID     if set, the server exits by itself once this PID is gone
#   S3_SERVER_START_TIMEOUT seconds to wait for the server to answer (default: 30)
#
# Why a wrapper instead of plain `moto_server`: moto's S3 backend checks
# `If-None-Match: *` and then writes without any lock, and its server is threaded, so
# concurrent conditional creates of one key can both succeed (measured with plain
# moto_server, 8 writers per key: 13 of 20 rounds with 8 MiB bodies went wrong - 2 or 3
# winners and/or HTTP 500 "read of closed file" - and 1 of 200 rounds with tiny bodies had
# 2 winners; with the wrapper, 0 of 320). The wrapper below serialises every request through one
# lock, which makes PutObject / CompleteMultipartUpload with `If-None-Match: *` atomic.

# ---- sourced: `start` in a child bash, its exports here (see emulator_sourced in the lib). ----
if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
    eval "$(bash "$(dirname "${BASH_SOURCE[0]}")/lib/emulator.sh" sourced "${BASH_SOURCE[0]}" "$$")"
    return 1 # reached only when the start failed: a successful one ends its exports with `return 0`
fi

set -euo pipefail
# The lifecycle (install, port, start, watchdog, readiness, env, stop) is shared with the
# other emulators; this file holds what is particular to the S3 server.
# shellcheck source=lib/emulator.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/emulator.sh"
emulator_init s3-server S3_SERVER "S3 server" .venv-s3
BUCKET="mlops-test"
EMU_RUNNING="bucket $BUCKET"

# Verified set (Python 3.11, 2026-11): `moto[s3]==5.2.5 flask flask-cors` and its closure.
# moto[s3] + flask + flask-cors is all the S3 server needs; moto[server] would pull ~30
# more packages (cfn-lint, sympy, docker, ...) for other services and double install time.
REQUIREMENTS=("moto[s3]==5.2.5" "Flask==3.1.3" "flask-cors==6.0.5")
CONSTRAINTS="blinker==1.9.0
boto3==1.44.5
botocore==1.44.5
certifi==2026.10.19.post1
cffi==2.1.1
charset-normalizer==3.5.2
click==8.5.1
cryptography==50.0.2
Flask==3.1.3
flask-cors==6.0.5
idna==3.20
itsdangerous==2.2.0
Jinja2==3.1.6
jmespath==1.1.0
MarkupSafe==3.0.4
moto==5.2.5
py-partiql-parser==0.6.3
pycparser==3.12
python-dateutil==2.9.0.post0
PyYAML==6.0.4
requests==2.34.2
responses==0.26.3
s3transfer==0.19.3
six==1.17.0
urllib3==2.8.0
Werkzeug==3.1.9
xmltodict==1.0.4"

# The server: moto's own WSGI app, every request serialised through one lock.
# argv: port
LAUNCHER='
import os, signal, sys, threading
port = int(sys.argv[1])
os.environ.setdefault("MOTO_PORT", str(port))
from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication, MotoRequestHandler, create_backend_app)

app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()

def serialised(environ, start_response):
    # Whole request (body read, precondition check, write, response body) under one lock:
    # moto does check-then-write without locking, so this is what makes
    # If-None-Match: * atomic. Responses are buffered, which is fine for tests.
    with lock:
        it = app(environ, start_response)
        try:
            body = b"".join(it)
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()
    return [body]

def stop(signum, frame):
    sys.exit(0)

signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)

run_simple("127.0.0.1", port, serialised, threaded=True,
           request_handler=MotoRequestHandler)
'

# Waits until the server answers, then creates the bucket (idempotent).
# argv: port, bucket, server pid, timeout seconds
READY='
import os, sys, time
import boto3, botocore.config, botocore.exceptions
port, bucket, pid, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test",
                  config=botocore.config.Config(connect_timeout=1, read_timeout=5,
                                                retries={"max_attempts": 1}))
deadline = time.monotonic() + timeout
while True:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        sys.exit(f"s3-server: server process {pid} exited before answering")
    try:
        s3.list_buckets()
        break
    except (botocore.exceptions.EndpointConnectionError,
            botocore.exceptions.ConnectionClosedError,
            botocore.exceptions.ReadTimeoutError):
        if time.monotonic() > deadline:
            sys.exit(f"s3-server: no answer on port {port} after {timeout:.0f}s")
        time.sleep(0.2)
try:
    s3.create_bucket(Bucket=bucket)
except botocore.exceptions.ClientError as e:
    if e.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
        raise
s3.head_bucket(Bucket=bucket)
'

emulator_print_env() {
    local url="http://127.0.0.1:$1"
    cat <<EOF
export AWS_ENDPOINT=$url
export AWS_ENDPOINT_URL=$url
export AWS_ALLOW_HTTP=true
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
export AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1
export MLOPS_TEST_S3_BUCKET=$BUCKET
export MLOPS_TEST_S3_URL=s3://$BUCKET
EOF
}

emulator_main "$@"
