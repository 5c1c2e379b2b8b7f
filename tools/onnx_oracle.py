#!/usr/bin/env python3
"""ONNX and ONNX Runtime as the oracle of mpm.onnx.export (run by lua/tests/onnx_export.lua).

    python3 tools/onnx_oracle.py CASE.h5 MODEL.onnx:OUTPUT=DATASET[,OUTPUT=DATASET] ... [--tolerance 1e-4]

CASE.h5 (written by the Lua test with mpm.save) holds padded inputs `features` [B, N, 7], `types`
[B, N] (0-based; padding may hold anything) and `mask` [B, N], plus mpmlua's outputs on the same
jets. For each model: onnx.checker (full check) must pass, the file loads in ONNX Runtime (CPU, 2
threads), and each named output must equal its dataset within the tolerance (max absolute
difference). An output `particles` is compared at the real particles only: the dataset holds them
packed [T, D], in the padded array's row-major order. The same run with 5 more padded slots of
random features and types must not move any output by more than 1e-5: padding never changes a
real particle's output. Prints one line per comparison; exits 1 on any failure.
"""
import argparse
import sys

import h5py
import numpy as np
import onnx
import onnxruntime as ort


def session(path):
    onnx.checker.check_model(onnx.load(path), full_check=True)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    options.inter_op_num_threads = 1
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def run(s, features, types, mask):
    names = [o.name for o in s.get_outputs()]
    return dict(zip(names, s.run(None, {"features": features, "types": types, "mask": mask})))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("case")
    parser.add_argument("models", nargs="+")
    parser.add_argument("--tolerance", type=float, default=1e-4)
    a = parser.parse_args()
    with h5py.File(a.case, "r") as f:
        data = {k: f[k][()] for k in f.keys() if isinstance(f[k], h5py.Dataset)}
    features = data["features"].astype(np.float32)
    types = data["types"].astype(np.int64)
    mask = data["mask"].astype(bool)
    counts = mask.sum(1)
    rng = np.random.default_rng(7)
    b, n, _ = features.shape
    padded_features = np.concatenate([features, rng.normal(size=(b, 5, 7)).astype(np.float32)], 1)
    padded_types = np.concatenate([types, rng.integers(0, 8, size=(b, 5))], 1)
    padded_mask = np.concatenate([mask, np.zeros((b, 5), bool)], 1)
    failed = False
    for spec in a.models:
        path, pairs = spec.split(":", 1)
        s = session(path)
        out = run(s, features, types, mask)
        more = run(s, padded_features, padded_types, padded_mask)
        for pair in pairs.split(","):
            name, dataset = pair.split("=")
            got, expected = out[name], data[dataset].astype(np.float32)
            grown = more[name]
            if name == "particles":
                got, grown = got[mask], grown[:, :n][mask]
            diff = float(np.max(np.abs(got - expected)))
            pad = float(np.max(np.abs(grown - got)))
            ok = diff <= a.tolerance and pad <= 1e-5
            failed |= not ok
            print(f"onnx_oracle: {path.rsplit('/', 1)[-1]} {name}: max |ONNX Runtime - mpmlua| = {diff:.2e}, "
                  f"with 5 more padded slots {pad:.2e} ({b} jets of {counts.min()}..{counts.max()} particles)"
                  + ("" if ok else f"  FAILED (tolerance {a.tolerance:g}, padding 1e-5)"))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
