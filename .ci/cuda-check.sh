#!/usr/bin/env bash
# Type-checks and lints mlops-serve with its `cuda` feature on a machine
# without a system CUDA: nvcc and the headers come from PyPI. NOT part of
# `.ci/run` (about 1.5 GB of downloads and ~20 minutes of nvcc on 2 cores the
# first time); run it by hand after touching device code:
#
#   .ci/cuda-check.sh                 # venv in .venv-cuda, target in target-cuda
#
# What it proves: candle's CUDA kernels compile with nvcc for CUDA_COMPUTE_CAP
# (default 90, Hopper) and our crate type-checks and passes clippy with the
# feature on. What it cannot: link or run (that needs the CUDA driver library,
# libcuda.so, which only a GPU machine's driver provides).
#
# Package facts (checked 2026-11-30): `nvidia-cuda-nvcc-cu12` wheels (12.x)
# ship only `ptxas`, not `nvcc`; the CUDA 13 wheels do. nvcc 13.0 also needs
# `nvidia-cuda-cccl` (for <nv/target>), `nvidia-cuda-crt`, and `nvidia-nvvm`
# pinned to 13.0 (a newer nvvm emits PTX that ptxas 13.0 refuses).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv-cuda}
if [[ ! -x $VENV/bin/nvcc-ok ]]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q "nvidia-cuda-nvcc==13.0.*" "nvidia-cuda-runtime==13.0.*" \
        "nvidia-cuda-cccl==13.0.*" "nvidia-cuda-crt==13.0.*" "nvidia-nvvm==13.0.*"
    touch "$VENV/bin/nvcc-ok"
fi
CUDA=$(echo "$VENV"/lib/python3*/site-packages/nvidia/cu13)
export PATH=$CUDA/bin:$PATH CUDA_ROOT=$CUDA CUDA_PATH=$CUDA
export CUDA_COMPUTE_CAP=${CUDA_COMPUTE_CAP:-90}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target-cuda}
nvcc --version | tail -1
cargo clippy -p mlops-serve --features cuda --all-targets -- -D warnings
echo "cuda feature: kernels built, mlops-serve type-checks and passes clippy"
