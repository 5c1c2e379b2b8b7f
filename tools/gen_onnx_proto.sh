#!/bin/sh
# Regenerates Sources/CONNX's protobuf-c code for the ONNX schema from Debian's files:
# /usr/include/onnx/onnx.proto (libonnx-dev) compiled by /usr/bin/protoc-c (protobuf-c-compiler).
# The output is committed (docs/architecture.md, "ONNX export", says why); lua/tests/onnx_export.lua
# runs this script with --check, which fails when the committed files differ from a fresh run.
#   sh tools/gen_onnx_proto.sh            rewrite Sources/CONNX/onnx.pb-c.c and include/onnx.pb-c.h
#   sh tools/gen_onnx_proto.sh --check    compare only
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
proto=/usr/include/onnx/onnx.proto
command -v protoc-c >/dev/null 2>&1 || { echo "gen_onnx_proto: protoc-c is missing (apt-get install protobuf-c-compiler)" >&2; exit 2; }
[ -f "$proto" ] || { echo "gen_onnx_proto: $proto is missing (apt-get install libonnx-dev)" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
protoc-c --proto_path=/usr/include/onnx --c_out="$out" "$proto"
if [ "${1:-}" = "--check" ]; then
    cmp -s "$out/onnx.pb-c.c" "$root/Sources/CONNX/onnx.pb-c.c" && cmp -s "$out/onnx.pb-c.h" "$root/Sources/CONNX/include/onnx.pb-c.h" || {
        echo "gen_onnx_proto: Sources/CONNX differs from protoc-c's output for $proto (run sh tools/gen_onnx_proto.sh)" >&2
        exit 1
    }
    exit 0
fi
cp "$out/onnx.pb-c.c" "$root/Sources/CONNX/onnx.pb-c.c"
cp "$out/onnx.pb-c.h" "$root/Sources/CONNX/include/onnx.pb-c.h"
