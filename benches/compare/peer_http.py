#!/usr/bin/env python3
"""Inputs for the HTTP comparison (run by run_http_comparison.sh).

    peer_http.py prepare DATA_DIR WORK_DIR

From the inference benchmark's data (DATA_DIR: weights, architecture.json,
input.npy, model.onnx, written by peer_inference.py gen) it writes into WORK_DIR:

* sample.parquet   the 1024 input rows as columns f0..f63 (float64), the sample
                   `import_model --sample` infers the package's signature from;
* body_ours.json   one row for our `POST /predict` ({"rows": [{f0: …}]});
* body_oip.json    the same row for `POST /v2/models/bench/infer` (one [1, 64] FP32 tensor);
* body_mlflow.json the same row for MLflow's `POST /invocations` (dataframe_split);
* mlflow_model/    an MLflow pyfunc model that runs model.onnx in onnxruntime
                   (one intra-op thread), served by `mlflow models serve`.
"""

import json
import sys
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd


class OnnxMlp(mlflow.pyfunc.PythonModel):
    """The benchmark MLP, run by onnxruntime inside MLflow's scoring server."""

    def load_context(self, context):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        self.session = ort.InferenceSession(context.artifacts["onnx"], options, providers=["CPUExecutionProvider"])
        self.input = self.session.get_inputs()[0].name

    def predict(self, context, model_input, params=None):
        x = model_input.to_numpy(dtype=np.float32)
        return self.session.run(None, {self.input: x})[0][:, 0]


def prepare(data_dir: Path, work: Path) -> None:
    work.mkdir(parents=True, exist_ok=True)
    x = np.load(data_dir / "input.npy").astype(np.float64)
    features = [f"f{j}" for j in range(x.shape[1])]
    frame = pd.DataFrame(x, columns=features)
    frame.to_parquet(work / "sample.parquet", index=False)
    row = [float(v) for v in x[0]]
    (work / "body_ours.json").write_text(json.dumps({"rows": [dict(zip(features, row))]}))
    (work / "body_oip.json").write_text(
        json.dumps({"inputs": [{"name": "x", "shape": [1, len(row)], "datatype": "FP32", "data": row}]})
    )
    (work / "body_mlflow.json").write_text(json.dumps({"dataframe_split": {"columns": features, "data": [row]}}))
    signature = mlflow.models.infer_signature(frame.head(4), np.zeros(4, dtype=np.float32))
    mlflow.pyfunc.save_model(
        work / "mlflow_model",
        python_model=OnnxMlp(),
        artifacts={"onnx": str(data_dir / "model.onnx")},
        signature=signature,
    )


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "prepare":
        sys.exit(__doc__)
    prepare(Path(sys.argv[2]), Path(sys.argv[3]))
