#!/usr/bin/env python3
"""SHAP's KernelExplainer on the inference benchmark's MLP (the peer of our
Integrated Gradients in run_explain_comparison.sh).

    peer_explain.py DIR ROWS

The model is the numpy float32 forward pass of DIR/weights.safetensors; the
background is the mean input row (one sample: the same reference our IG
baseline uses), and `nsamples="auto"` (2·64 + 2048 model evaluations per row).
Prints one JSON object: rows per second and the global importance (mean |SHAP
value| per feature) over the first ROWS rows of DIR/input.npy.
"""

import json
import sys
import time
from pathlib import Path

import numpy as np
import shap

sys.path.insert(0, str(Path(__file__).parent))
from peer_inference import forward_np, read_safetensors_f32  # noqa: E402


def main() -> None:
    directory, rows = Path(sys.argv[1]), int(sys.argv[2])
    tensors = read_safetensors_f32(str(directory / "weights.safetensors"))
    x = np.load(directory / "input.npy").astype(np.float32)

    def model(batch: np.ndarray) -> np.ndarray:
        return forward_np(tensors, batch, dtype=np.float32)[:, 0]

    background = x.mean(axis=0, keepdims=True)
    explainer = shap.KernelExplainer(model, background)
    explainer.shap_values(x[:1], silent=True)  # warm-up
    started = time.perf_counter()
    values = np.asarray(explainer.shap_values(x[:rows], silent=True))
    seconds = time.perf_counter() - started
    importance = np.abs(values).mean(axis=0)
    print(json.dumps({
        "explainer": f"shap {shap.__version__} KernelExplainer",
        "rows": rows,
        "seconds": seconds,
        "rows_per_s": rows / seconds,
        "importance": {f"f{j}": float(v) for j, v in enumerate(importance)},
    }))


if __name__ == "__main__":
    main()
