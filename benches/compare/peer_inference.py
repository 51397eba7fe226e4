#!/usr/bin/env python3
"""MLP inference with peer runtimes, for the inference comparison.

    peer_inference.py gen DIR [--seed 0]
    peer_inference.py run DIR --peers onnxruntime,sklearn,torch [--threads 1,2]
                              [--seconds 2] [--latency-iters 20000]

gen writes the benchmark model and input into DIR (numpy + safetensors):
  weights.safetensors  MLP 64 -> 256 -> 256 -> 1, relu, identity output, float32,
                       nn.Sequential names "0.weight" [256, 64], "0.bias", "2.*", "4.*"
                       (mlops-serve's weights/architecture contract, version 1)
  architecture.json    {"format_version": 1, "architecture": "mlp", "layers": [64, 256, 256, 1], ...}
  input.npy, input.f32 the batch: 1024 rows x 64 features, float32 (the .f32 file is the
                       same numbers raw: little-endian, row-major, no header)
  reference.npy        numpy float64 forward pass on that batch, [1024, 1]
  bench.json           seed, shapes and file names
Weights and input come from numpy's default_rng(seed): He-normal weights, small
normal biases, standard normal inputs.

run measures each peer on those files, once per thread count, and prints one JSON
line per (peer, threads) on stdout:
  {"peer": "onnxruntime", "version": "1.32.0", "threads": 2, "batch": 1024,
   "rows_per_s": ..., "p50_us": ..., "p99_us": ..., ...}
  rows_per_s  1024 / median time of one batch-1024 call; the calls are repeated for
              --seconds after a warm-up (0.5 s) and each is timed alone
  p50_us/p99_us  latency of one batch-1 call (the first row), --latency-iters calls
              after 1000 warm-up calls, perf_counter_ns around each call
Each peer's output for the whole batch is checked against reference.npy (max abs
diff < 5e-5, so any two peers agree within 1e-4) and written raw (float32 LE) to
DIR/outputs/<peer>_t<threads>.f32 for the cross-check of run_inference_comparison.sh.

Peers (all float32, same weights, same input):
  onnxruntime  ONNX graph Gemm(transB=1) + Relu x2 + Gemm, built with onnx.helper from
               the weights (saved as DIR/model.onnx), CPUExecutionProvider,
               intra_op_num_threads = threads, inter_op_num_threads = 1, sequential
  sklearn      MLPRegressor(hidden_layer_sizes=(256, 256), relu) with coefs_ /
               intercepts_ set to the weights (float32), predict(); BLAS threads
               limited with threadpoolctl
  torch        nn.Sequential(Linear, ReLU, Linear, ReLU, Linear) with
               load_state_dict(weights), torch.set_num_threads(threads),
               inference_mode
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import struct
import sys
import time
import warnings

import numpy as np

LAYERS = [64, 256, 256, 1]
BATCH = 1024
REF_TOL = 5e-5


# ----------------------------------------------------------------- files


def read_safetensors_f32(path: str) -> dict[str, np.ndarray]:
    """Minimal safetensors reader (F32 only), so no peer venv needs the package."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", (name, info["dtype"])
        s, e = info["data_offsets"]
        out[name] = np.frombuffer(data[8 + n + s:8 + n + e], dtype="<f4").reshape(info["shape"]).copy()
    return out


def write_safetensors(path: str, tensors: dict[str, np.ndarray]) -> None:
    """safetensors layout: u64 LE header length, JSON header (space-padded to 8), data."""
    header, offset, blobs = {}, 0, []
    for name, arr in tensors.items():
        b = np.ascontiguousarray(arr, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def forward_np(t: dict[str, np.ndarray], x: np.ndarray, dtype=np.float64) -> np.ndarray:
    h = x.astype(dtype)
    n = len(LAYERS) - 1
    for k in range(n):
        h = h @ t[f"{2 * k}.weight"].astype(dtype).T + t[f"{2 * k}.bias"].astype(dtype)
        if k < n - 1:
            h = np.maximum(h, 0)
    return h


def gen(directory: str, seed: int) -> None:
    os.makedirs(directory, exist_ok=True)
    rng = np.random.default_rng(seed)
    tensors = {}
    for k, (n_in, n_out) in enumerate(zip(LAYERS[:-1], LAYERS[1:])):
        tensors[f"{2 * k}.weight"] = rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_out, n_in)).astype(np.float32)
        tensors[f"{2 * k}.bias"] = rng.normal(0.0, 0.1, size=n_out).astype(np.float32)
    x = rng.standard_normal((BATCH, LAYERS[0])).astype(np.float32)
    write_safetensors(os.path.join(directory, "weights.safetensors"), tensors)
    arch = {"format_version": 1, "architecture": "mlp", "layers": LAYERS, "activation": "relu",
            "output": "identity", "features": [f"f{i}" for i in range(LAYERS[0])]}
    with open(os.path.join(directory, "architecture.json"), "w") as f:
        json.dump(arch, f)
        f.write("\n")
    np.save(os.path.join(directory, "input.npy"), x)
    x.astype("<f4").tofile(os.path.join(directory, "input.f32"))
    ref = forward_np(tensors, x)
    np.save(os.path.join(directory, "reference.npy"), ref)
    meta = {"seed": seed, "layers": LAYERS, "batch": BATCH, "features": LAYERS[0], "dtype": "float32",
            "input_npy": "input.npy", "input_raw": "input.f32 (little-endian float32, row-major, no header)",
            "reference": "reference.npy (numpy float64 forward pass)", "weights": "weights.safetensors",
            "architecture": "architecture.json"}
    with open(os.path.join(directory, "bench.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    print(f"wrote {directory}: weights {sum(v.size for v in tensors.values())} floats, input {x.shape}, "
          f"reference output range [{ref.min():.3f}, {ref.max():.3f}]", file=sys.stderr)


# ----------------------------------------------------------------- peers
# Each returns (version, predict(x: float32 [n, 64]) -> array [n] or [n, 1], set_threads(n) or None).


def peer_onnxruntime(t: dict, directory: str):
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits, prev = [], [], "x"
    n = len(LAYERS) - 1
    for k in range(n):
        w, b = f"w{k}", f"b{k}"
        inits += [numpy_helper.from_array(t[f"{2 * k}.weight"], w), numpy_helper.from_array(t[f"{2 * k}.bias"], b)]
        out = "y" if k == n - 1 else f"h{k}"
        nodes.append(helper.make_node("Gemm", [prev, w, b], [out], transB=1))
        prev = out
        if k < n - 1:
            nodes.append(helper.make_node("Relu", [out], [f"r{k}"]))
            prev = f"r{k}"
    graph = helper.make_graph(nodes, "mlp",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", LAYERS[0]])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", LAYERS[-1]])],
                              initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="peer_inference")
    model.ir_version = 8
    onnx.checker.check_model(model)
    path = os.path.join(directory, "model.onnx")
    onnx.save(model, path)

    state = {}

    def set_threads(n_threads: int) -> None:
        so = ort.SessionOptions()
        so.intra_op_num_threads = n_threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        state["sess"] = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])

    def predict(x):
        return state["sess"].run(["y"], {"x": x})[0]

    return ort.__version__, predict, set_threads


def peer_sklearn(t: dict, directory: str):
    import sklearn
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPRegressor
    from threadpoolctl import threadpool_limits

    # Fit one iteration on float32 dummy data to get a fitted float32 estimator,
    # then replace its parameters ([in, out] in scikit-learn).
    reg = MLPRegressor(hidden_layer_sizes=tuple(LAYERS[1:-1]), activation="relu", max_iter=1, random_state=0)
    rng = np.random.default_rng(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(rng.standard_normal((8, LAYERS[0])).astype(np.float32), rng.standard_normal(8).astype(np.float32))
    n = len(LAYERS) - 1
    reg.coefs_ = [np.ascontiguousarray(t[f"{2 * k}.weight"].T) for k in range(n)]
    reg.intercepts_ = [t[f"{2 * k}.bias"].copy() for k in range(n)]
    assert reg.out_activation_ == "identity" and reg.coefs_[0].dtype == np.float32
    state = {}

    def set_threads(n_threads: int) -> None:
        if "limit" in state:
            state["limit"].unregister()
        state["limit"] = threadpool_limits(limits=n_threads)

    return sklearn.__version__, reg.predict, set_threads


def peer_torch(t: dict, directory: str):
    import torch

    mods = []
    n = len(LAYERS) - 1
    for k in range(n):
        mods.append(torch.nn.Linear(LAYERS[k], LAYERS[k + 1]))
        if k < n - 1:
            mods.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*mods).eval()
    model.load_state_dict({k: torch.from_numpy(v) for k, v in t.items()}, strict=True)

    def predict(x):
        with torch.inference_mode():
            return model(torch.from_numpy(x)).numpy()

    return torch.__version__, predict, torch.set_num_threads


PEERS = {"onnxruntime": peer_onnxruntime, "sklearn": peer_sklearn, "torch": peer_torch}


# ----------------------------------------------------------------- timing


def throughput(predict, x: np.ndarray, seconds: float) -> tuple[float, int]:
    end = time.perf_counter() + 0.5
    while time.perf_counter() < end:
        predict(x)
    times = []
    end = time.perf_counter() + seconds
    while True:
        t0 = time.perf_counter_ns()
        predict(x)
        t1 = time.perf_counter_ns()
        times.append(t1 - t0)
        if t1 / 1e9 >= end and len(times) >= 5:
            break
    return len(x) / (statistics.median(times) / 1e9), len(times)


def latency(predict, x1: np.ndarray, iters: int) -> tuple[float, float]:
    for _ in range(1000):
        predict(x1)
    ns = np.empty(iters, dtype=np.int64)
    clock = time.perf_counter_ns
    for i in range(iters):
        t0 = clock()
        predict(x1)
        ns[i] = clock() - t0
    p50, p99 = np.percentile(ns, [50, 99])
    return p50 / 1e3, p99 / 1e3


def run(directory: str, peers: list[str], threads: list[int], seconds: float, latency_iters: int) -> None:
    t = read_safetensors_f32(os.path.join(directory, "weights.safetensors"))
    x = np.load(os.path.join(directory, "input.npy"))
    ref = np.load(os.path.join(directory, "reference.npy"))
    assert x.dtype == np.float32 and x.shape == (BATCH, LAYERS[0]), (x.dtype, x.shape)
    x1 = np.ascontiguousarray(x[:1])
    out_dir = os.path.join(directory, "outputs")
    os.makedirs(out_dir, exist_ok=True)
    for name in peers:
        version, predict, set_threads = PEERS[name](t, directory)
        for n_threads in threads:
            set_threads(n_threads)
            y = np.asarray(predict(x), dtype=np.float32).reshape(BATCH, LAYERS[-1])
            diff = float(np.abs(y.astype(np.float64) - ref).max())
            if diff >= REF_TOL:
                sys.exit(f"{name} (threads={n_threads}): output differs from the numpy reference by {diff:g}")
            y1 = np.asarray(predict(x1), dtype=np.float32).reshape(1, LAYERS[-1])
            if abs(float(y1[0, 0]) - float(ref[0, 0])) >= REF_TOL:
                sys.exit(f"{name} (threads={n_threads}): batch-1 output differs from the reference")
            y.astype("<f4").tofile(os.path.join(out_dir, f"{name}_t{n_threads}.f32"))
            rows_per_s, batch_runs = throughput(predict, x, seconds)
            p50, p99 = latency(predict, x1, latency_iters)
            print(json.dumps({"peer": name, "version": version, "threads": n_threads, "batch": BATCH,
                              "rows_per_s": round(rows_per_s, 1), "p50_us": round(p50, 2), "p99_us": round(p99, 2),
                              "batch_runs": batch_runs, "latency_iters": latency_iters,
                              "max_abs_diff_vs_reference": diff}), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description="MLP inference with peer runtimes")
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen", help="write the model and input")
    g.add_argument("dir")
    g.add_argument("--seed", type=int, default=0)
    r = sub.add_parser("run", help="time the peers, one JSON line per (peer, threads)")
    r.add_argument("dir")
    r.add_argument("--peers", default="onnxruntime,sklearn,torch")
    r.add_argument("--threads", default="1,2")
    r.add_argument("--seconds", type=float, default=2.0, help="timed batch calls per setting (after 0.5 s warm-up)")
    r.add_argument("--latency-iters", type=int, default=20000)
    a = ap.parse_args()
    if a.cmd == "gen":
        gen(a.dir, a.seed)
    else:
        peers = [p for p in a.peers.split(",") if p]
        unknown = [p for p in peers if p not in PEERS]
        if unknown:
            sys.exit(f"unknown peer(s) {unknown}; known: {sorted(PEERS)}")
        run(a.dir, peers, [int(v) for v in a.threads.split(",")], a.seconds, a.latency_iters)


if __name__ == "__main__":
    main()
