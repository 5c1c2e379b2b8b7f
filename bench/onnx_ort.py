#!/usr/bin/env python3
"""ONNX Runtime's side of bench/onnx.lua: the fastest of CALLS runs of each model on the padded jets.

    python3 bench/onnx_ort.py JETS.h5 MODEL.onnx [MODEL.onnx ...] --threads 2 --calls 5

Prints one line per model: `ort MODEL SECONDS` (CPU provider, intra-op threads = --threads,
one warm-up run first)."""
import argparse
import time

import h5py
import numpy as np
import onnxruntime as ort


def main():
    p = argparse.ArgumentParser()
    p.add_argument("jets")
    p.add_argument("models", nargs="+")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--calls", type=int, default=5)
    a = p.parse_args()
    with h5py.File(a.jets, "r") as f:
        inputs = {"features": f["features"][()].astype(np.float32), "types": f["types"][()].astype(np.int64),
                  "mask": f["mask"][()].astype(bool)}
    for path in a.models:
        options = ort.SessionOptions()
        options.intra_op_num_threads = a.threads
        options.inter_op_num_threads = 1
        s = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        s.run(None, inputs)
        best = float("inf")
        for _ in range(a.calls):
            t0 = time.perf_counter()
            s.run(None, inputs)
            best = min(best, time.perf_counter() - t0)
        print(f"ort {path} {best:.6f}")


if __name__ == "__main__":
    main()
