#!/bin/sh
# Installs the Debian packages mpmlua builds and tests with, when any is missing.
# Run as root (CI does); otherwise it prints the apt-get command to run.
set -eu
PACKAGES="pkg-config liblua5.4-dev libopenblas-dev libhdf5-dev hdf5-tools libedit-dev gnuplot-nox tmux"
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
