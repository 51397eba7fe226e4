"""MLflow's model registry doing what registry_ops.rs does, timed the same way.

SQLite backend store and local artifacts, as MLflow documents for a local
registry. Operations: register (create_model_version of a logged model's
artifacts), set alias, resolve alias (get_model_version_by_alias), search
(search_model_versions by name). Prints one JSON object, milliseconds per
operation (median, mean, p90), as registry_ops does.

    python peer_mlflow_registry.py DIR [OPS] [PRELOAD]
"""

import json
import os
import statistics
import sys
import time
import warnings


def summary(ms):
    ms = sorted(ms)
    n = len(ms)
    return {"median_ms": ms[n // 2], "mean_ms": statistics.fmean(ms), "p90_ms": ms[n * 9 // 10], "n": n}


def main():
    directory = os.path.abspath(sys.argv[1])
    ops = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    preload = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    os.makedirs(directory, exist_ok=True)
    warnings.filterwarnings("ignore")
    import mlflow
    from mlflow import MlflowClient

    uri = f"sqlite:///{directory}/mlflow.db"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    # Local artifacts: one small model file per version, like our package's weights.
    artifacts = os.path.join(directory, "artifacts")
    os.makedirs(artifacts, exist_ok=True)
    sources = []
    for i in range(preload + ops):
        d = os.path.join(artifacts, f"v{i}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "weights.bin"), "wb") as f:
            f.write(bytes((i + j) % 256 for j in range(4096)))
        sources.append(d)
    name = "bench"
    client.create_registered_model(name)
    for i in range(preload):
        client.create_model_version(name, sources[i], tags={"auc": "0.9"})

    def timed(n, op):
        out = []
        for i in range(n):
            start = time.perf_counter()
            op(i)
            out.append((time.perf_counter() - start) * 1e3)
        return out

    register = timed(ops, lambda i: client.create_model_version(name, sources[preload + i], tags={"auc": "0.9"}))
    total = preload + ops
    set_alias = timed(ops, lambda i: client.set_registered_model_alias(name, "champion", str(1 + i % total)))
    resolve = timed(ops, lambda i: client.get_model_version_by_alias(name, "champion"))
    search = timed(ops, lambda i: client.search_model_versions(f"name='{name}'", max_results=10000))
    found = len(client.search_model_versions(f"name='{name}'", max_results=10000))
    print(json.dumps({
        "system": f"mlflow {mlflow.__version__}",
        "versions_at_end": total,
        "search_results": found,
        "register": summary(register),
        "set_alias": summary(set_alias),
        "resolve_alias": summary(resolve),
        "search": summary(search),
    }))


if __name__ == "__main__":
    main()
