#!/usr/bin/env python3
"""ONNX and ONNX Runtime as the oracle of mpm.onnx.export (run by lua/tests/onnx_export.lua).

    python3 tools/onnx_oracle.py CASE.h5 MODEL.onnx:OUTPUT=DATASET[,OUTPUT=DATASET] ... [--tolerance 1e-4]
        [--preprocessing FILE.preprocessing.h5]

CASE.h5 (written by the Lua test with mpm.save) holds padded inputs `features` [B, N, 7], `types`
[B, N] (0-based; padding may hold anything) and `mask` [B, N], plus mpmlua's outputs on the same
jets. For each model: onnx.checker (full check) must pass, the file loads in ONNX Runtime (CPU, 2
threads), and each named output must equal its dataset within the tolerance (max absolute
difference). An output with one more dimension than its dataset (`particles` [B, N, D], a
per-track head's `logits`) is compared at the real particles only: the dataset holds them packed
[T, ...], in the padded array's row-major order. An output `edge_*` [B, N, N] is compared at the
pairs i < j of real particles, set after set, as EdgeHead returns them packed. The same run with 5 more padded slots of
random features and types must not move any output by more than 1e-5: padding never changes a
real particle's output. With --preprocessing, `preprocess` below (the function docs/export.md
gives users) applied to the case's `raw_features` (physical units) must give `features` for
every charged particle to 1e-5 (neutral particles' impact parameters are random by design).
Prints one line per comparison; exits 1 on any failure.
"""
import argparse
import sys

import h5py
import numpy as np
import onnx
import onnxruntime as ort


def preprocess(features, types, path, rng=np.random.default_rng()):
    """Physical features [..., 7] and 0-based types [...] -> the network's inputs, with the fitted
    file written beside an exported model (NAME.preprocessing.h5): scikit-learn's
    QuantileTransformer(output_distribution="normal") per feature, then N(0,1) noise in place of
    the 4 impact parameters of neutral particles (photons, neutral hadrons), as mpmlua does."""
    from scipy.special import ndtri
    with h5py.File(path, "r") as f:
        method = f.attrs["method"]
        method = method.decode() if isinstance(method, bytes) else str(method)
        if method != "quantile":
            z = (features - f["mean"][()]) / f["std"][()]
        else:
            q, r = f["quantiles"][()], f["references"][()]
            z = np.empty(features.shape, np.float64)
            for k in range(features.shape[-1]):
                x = features[..., k].astype(np.float64)
                u = 0.5 * (np.interp(x, q[k], r) - np.interp(-x, -q[k][::-1], -r[::-1]))
                u[x - 1e-7 < q[k][0]] = 0
                u[x + 1e-7 > q[k][-1]] = 1
                clip = -ndtri(1e-7 - np.spacing(1))
                z[..., k] = np.clip(ndtri(u), -clip, clip)
    neutral = (types == 0) | (types == 2)
    z[..., 3:][neutral] = rng.normal(size=(int(neutral.sum()), 4))
    return z.astype(np.float32)


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
    parser.add_argument("--preprocessing")
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
    if a.preprocessing:
        charged = mask & (types != 0) & (types != 2)
        diff = float(np.max(np.abs(preprocess(data["raw_features"], types, a.preprocessing)[charged] - features[charged])))
        failed |= diff > 1e-5
        print(f"onnx_oracle: preprocess() of the raw features: max |numpy - mpmlua| = {diff:.2e} on {int(charged.sum())} charged particles"
              + ("" if diff <= 1e-5 else "  FAILED (tolerance 1e-5)"))
    for spec in a.models:
        path, pairs = spec.split(":", 1)
        s = session(path)
        out = run(s, features, types, mask)
        more = run(s, padded_features, padded_types, padded_mask)
        for pair in pairs.split(","):
            name, dataset = pair.split("=")
            got, expected = out[name], data[dataset].astype(np.float32)
            grown = more[name]
            if got.ndim == expected.ndim + 1 and got.shape[:2] == mask.shape:   # per particle: the real ones
                got, grown = got[mask], grown[:, :n][mask]
            elif name.startswith("edge_"):   # per pair: i < j of real particles, set after set
                def pairs(a):
                    return np.concatenate([a[j, :k, :k][np.triu_indices(k, 1)] for j, k in enumerate(counts)])
                got, grown = pairs(got), pairs(grown)
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
