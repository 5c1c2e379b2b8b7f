#!/bin/sh
# Installs the Debian packages mpmlua builds and tests with, and the Python packages of the
# metrics, generative-metrics and ONNX oracles, when any is missing.
# Run as root (CI does); otherwise it prints the apt-get command to run.
set -eu
# NumPy and scikit-learn: the independent oracle of mpm.metrics (tools/metrics_oracle.py, run by
# lua/tests/metrics.lua, which skips its comparison with a message when they cannot be installed).
if command -v python3 >/dev/null 2>&1 && ! python3 -c "import numpy, sklearn" >/dev/null 2>&1; then
    echo "installing numpy and scikit-learn (pip)"
    python3 -m pip install -q --only-binary=:all: scikit-learn numpy \
        || echo "could not install scikit-learn; lua/tests/metrics.lua will skip its comparison" >&2
fi
# jetnet: the oracle of the generative metrics (tools/generative_oracle.py, run by
# lua/tests/generative.lua, which skips its comparison with a message when it cannot be
# imported). PyTorch's CPU wheel first: jetnet needs torch, and plain torch pulls ~3 GB of
# CUDA. jetnet's EnergyFlow pulls Wasserstein 1.0.1, built for NumPy 1; 1.1 imports under
# NumPy 2 but declares numpy<2, hence --no-deps (it would downgrade NumPy for everything else).
if command -v python3 >/dev/null 2>&1 && ! python3 -c "import jetnet" >/dev/null 2>&1; then
    echo "installing PyTorch (CPU) and jetnet (pip)"
    { python3 -m pip install -q torch==2.13.0+cpu && python3 -m pip install -q jetnet \
        && python3 -m pip install -q --no-deps --only-binary=:all: "wasserstein>=1.1"; } \
        || echo "could not install jetnet; lua/tests/generative.lua will skip its comparison" >&2
fi
# onnx and ONNX Runtime (with h5py and scipy for the test's jets and preprocessing): the oracle of mpm.onnx.export
# (tools/onnx_oracle.py, run by lua/tests/onnx_export.lua, which skips its comparison without them).
if command -v python3 >/dev/null 2>&1 && ! python3 -c "import onnx, onnxruntime, h5py, scipy" >/dev/null 2>&1; then
    echo "installing onnx, onnxruntime, h5py and scipy (pip)"
    python3 -m pip install -q --only-binary=:all: onnx onnxruntime h5py scipy numpy \
        || echo "could not install onnx and onnxruntime; lua/tests/onnx_export.lua will skip its comparison" >&2
fi
# libdnnl-dev: oneDNN's bf16 and f32 matrix products; libssl-dev: SHA-256 digests of results'
# inputs; libonnx-dev: the ONNX schema (onnx.proto); protobuf-c: the library and compiler Export
# is built on.
PACKAGES="pkg-config liblua5.4-dev libopenblas-dev libdnnl-dev libhdf5-dev hdf5-tools libedit-dev gnuplot-nox tmux libopenmpi-dev openmpi-bin libssl-dev libonnx-dev libprotobuf-c-dev protobuf-c-compiler"
missing=""
for package in $PACKAGES; do
    dpkg -s "$package" >/dev/null 2>&1 || missing="$missing $package"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "mpmlua needs these Debian packages:$missing" >&2
    echo "install them with: sudo apt-get install$missing" >&2
    exit 1
fi
echo "installing:$missing"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
