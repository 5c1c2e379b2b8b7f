#!/bin/sh
# Installs the Debian packages mpmlua builds and tests with, and the Python packages of the
# metrics oracle, when any is missing.
# Run as root (CI does); otherwise it prints the apt-get command to run.
set -eu
# NumPy and scikit-learn: the independent oracle of mpm.metrics (tools/metrics_oracle.py, run by
# lua/tests/metrics.lua, which skips its comparison with a message when they cannot be installed).
if command -v python3 >/dev/null 2>&1 && ! python3 -c "import numpy, sklearn" >/dev/null 2>&1; then
    echo "installing numpy and scikit-learn (pip)"
    python3 -m pip install -q --only-binary=:all: scikit-learn numpy \
        || echo "could not install scikit-learn; lua/tests/metrics.lua will skip its comparison" >&2
fi
PACKAGES="pkg-config liblua5.4-dev libopenblas-dev libdnnl-dev libhdf5-dev hdf5-tools libedit-dev gnuplot-nox tmux libopenmpi-dev openmpi-bin"
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
