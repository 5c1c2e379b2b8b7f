#!/usr/bin/env python3
"""Writes functional.json: inputs and NumPy-computed outputs for the fused kernels of
Sources/Tensors/Functional, read by Tests/TensorsTests/FunctionalGoldenTests.swift.

Every reference below is written from the PyTorch documentation's formulas in float64 NumPy,
independently of the Swift code. Class indices in the file are 0-based. Run from anywhere:

    python3 Tests/TensorsTests/Golden/make_golden.py            # rewrites functional.json
    python3 Tests/TensorsTests/Golden/make_golden.py --check-torch   # also compares with PyTorch

Only NumPy is needed; --check-torch needs torch and changes nothing on disk.
"""
import json
import os
import sys

import numpy as np

rng = np.random.default_rng(20240611)


def arr(x):
    x = np.asarray(x)
    return {"shape": list(x.shape), "data": [float(v) for v in x.reshape(-1)]}


def f32(*shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32).astype(np.float64)


# ---- references -------------------------------------------------------------------------

def softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def layer_norm(x, k, w=None, b=None, eps=1e-5):
    axes = tuple(range(x.ndim - k, x.ndim))
    mu = x.mean(axis=axes, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=axes, keepdims=True)
    y = (x - mu) / np.sqrt(var + eps)
    if w is not None:
        y = y * w
    if b is not None:
        y = y + b
    return y


def cross_entropy(x, t, weight=None, ignore_index=-100, reduction="mean", smoothing=0.0):
    """x [N, C], t [N] class indices (PyTorch semantics, see LossNLL.cpp)."""
    n, c = x.shape
    w = np.ones(c) if weight is None else weight
    logp = log_softmax(x, 1)
    keep = t != ignore_index
    safe = np.where(keep, t, 0)
    nll = -w[safe] * logp[np.arange(n), safe] * keep
    smooth = -(logp * w).sum(1) * keep
    loss = (1 - smoothing) * nll + smoothing / c * smooth
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / (w[safe] * keep).sum()


def cross_entropy_probs(x, p, weight=None, reduction="mean", smoothing=0.0):
    n, c = x.shape
    w = np.ones(c) if weight is None else weight
    p = p * (1 - smoothing) + smoothing / c
    loss = -(w * p * log_softmax(x, 1)).sum(1)
    return {"none": loss, "sum": loss.sum(), "mean": loss.sum() / n}[reduction]


def reduce(v, reduction):
    return {"none": v, "sum": v.sum(), "mean": v.mean()}[reduction]


def bce_with_logits(x, y, weight=None, pos_weight=None, reduction="mean"):
    sig = 1 / (1 + np.exp(-x))
    pw = 1.0 if pos_weight is None else pos_weight
    loss = -(pw * y * np.log(sig) + (1 - y) * np.log(1 - sig))
    if weight is not None:
        loss = loss * weight
    return reduce(loss, reduction)


def smooth_l1(d, beta):
    a = np.abs(d)
    return np.where(a < beta, 0.5 * d * d / beta, a - 0.5 * beta)


def huber(d, delta):
    a = np.abs(d)
    return np.where(a <= delta, 0.5 * d * d, delta * (a - 0.5 * delta))


def swiglu(x):
    h = x.shape[-1] // 2
    a, b = x[..., :h], x[..., h:]
    return a / (1 + np.exp(-a)) * b


def padded_attention(q, k, v, qoff, koff, heads, scale=None):
    """Reference on the padded form: every set is padded to the longest one and padded keys
    are masked out with -inf before the softmax; padded query rows are dropped at the end."""
    b = len(qoff) - 1
    nq = max(qoff[i + 1] - qoff[i] for i in range(b))
    nk = max(koff[i + 1] - koff[i] for i in range(b))
    dh = q.shape[1] // heads
    dv = v.shape[1] // heads
    scale = 1 / np.sqrt(dh) if scale is None else scale
    out = np.zeros((q.shape[0], heads * dv))
    for s in range(b):
        lq, lk = qoff[s + 1] - qoff[s], koff[s + 1] - koff[s]
        Q = np.zeros((nq, heads, dh)); K = np.zeros((nk, heads, dh)); V = np.zeros((nk, heads, dv))
        Q[:lq] = q[qoff[s]:qoff[s + 1]].reshape(lq, heads, dh)
        K[:lk] = k[koff[s]:koff[s + 1]].reshape(lk, heads, dh)
        V[:lk] = v[koff[s]:koff[s + 1]].reshape(lk, heads, dv)
        mask = np.arange(nk) < lk
        for h in range(heads):
            scores = scale * Q[:, h] @ K[:, h].T
            scores[:, ~mask] = -np.inf
            o = softmax(scores, 1) @ V[:, h]
            out[qoff[s]:qoff[s + 1], h * dv:(h + 1) * dv] = o[:lq]
    return out


# ---- cases ------------------------------------------------------------------------------

def build():
    cases = {}
    x = f32(3, 5, scale=2)
    cases["softmax_last"] = {"inputs": {"x": arr(x)}, "params": {"dim": -1},
                             "outputs": {"softmax": arr(softmax(x, -1)), "log_softmax": arr(log_softmax(x, -1))}}
    x = f32(4, 3, 2)
    cases["softmax_dim0"] = {"inputs": {"x": arr(x)}, "params": {"dim": 0},
                             "outputs": {"softmax": arr(softmax(x, 0)), "log_softmax": arr(log_softmax(x, 0))}}

    x, w, b = f32(4, 6, scale=3) + 1.5, f32(6), f32(6)
    cases["layer_norm_affine"] = {"inputs": {"x": arr(x), "weight": arr(w), "bias": arr(b)},
                                  "params": {"normalized_shape": [6], "eps": 1e-5},
                                  "outputs": {"y": arr(layer_norm(x, 1, w, b))}}
    x = f32(2, 3, 4)
    cases["layer_norm_2d_plain"] = {"inputs": {"x": arr(x)}, "params": {"normalized_shape": [3, 4], "eps": 1e-3},
                                    "outputs": {"y": arr(layer_norm(x, 2, eps=1e-3))}}

    x = f32(6, 5, scale=2)
    t = np.array([0, 4, 2, -100, 1, 4])
    w = np.abs(f32(5)) + 0.2
    outs = {}
    for red in ["mean", "sum", "none"]:
        outs["plain_" + red] = arr(cross_entropy(x, t, reduction=red))
        outs["weighted_smooth_" + red] = arr(cross_entropy(x, t, weight=w, reduction=red, smoothing=0.1))
        outs["smooth_" + red] = arr(cross_entropy(x, t, reduction=red, smoothing=0.25))
    cases["cross_entropy"] = {"inputs": {"x": arr(x), "target": arr(t), "weight": arr(w)},
                              "params": {"ignore_index": -100}, "outputs": outs}
    p = softmax(f32(6, 5), 1)
    outs = {}
    for red in ["mean", "sum", "none"]:
        outs["plain_" + red] = arr(cross_entropy_probs(x, p, reduction=red))
        outs["weighted_smooth_" + red] = arr(cross_entropy_probs(x, p, weight=w, reduction=red, smoothing=0.1))
    cases["cross_entropy_probs"] = {"inputs": {"x": arr(x), "target": arr(p), "weight": arr(w)},
                                    "params": {}, "outputs": outs}

    x = f32(3, 4, scale=3)
    y = (rng.random((3, 4)) > 0.5).astype(np.float64)
    w = np.abs(f32(3, 1)) + 0.1
    pw = np.abs(f32(4)) + 0.5
    outs = {}
    for red in ["mean", "sum", "none"]:
        outs["plain_" + red] = arr(bce_with_logits(x, y, reduction=red))
        outs["weighted_" + red] = arr(bce_with_logits(x, y, weight=w, pos_weight=pw, reduction=red))
    cases["bce_with_logits"] = {"inputs": {"x": arr(x), "y": arr(y), "weight": arr(w), "pos_weight": arr(pw)},
                                "params": {}, "outputs": outs}

    x, y = f32(3, 4), f32(3, 4)
    d = x - y
    outs = {}
    for red in ["mean", "sum", "none"]:
        outs["mse_" + red] = arr(reduce(d * d, red))
        outs["l1_" + red] = arr(reduce(np.abs(d), red))
        outs["smooth_l1_" + red] = arr(reduce(smooth_l1(d, 0.5), red))
        outs["huber_" + red] = arr(reduce(huber(d, 0.7), red))
    cases["regression"] = {"inputs": {"x": arr(x), "y": arr(y)}, "params": {"beta": 0.5, "delta": 0.7},
                           "outputs": outs}

    x = f32(3, 10, scale=2)
    cases["swiglu"] = {"inputs": {"x": arr(x)}, "params": {}, "outputs": {"y": arr(swiglu(x))}}

    heads = 2
    qoff = [0, 1, 4, 11]
    koff = [0, 2, 7, 11]
    q, k, v = f32(11, 8), f32(11, 8), f32(11, 6)
    cases["attention_self"] = {"inputs": {"q": arr(q), "k": arr(k), "v": arr(v), "offsets": arr(qoff)},
                               "params": {"heads": heads},
                               "outputs": {"y": arr(padded_attention(q, k, v, qoff, qoff, heads))}}
    cases["attention_cross"] = {"inputs": {"q": arr(q), "k": arr(k), "v": arr(v), "q_offsets": arr(qoff),
                                           "kv_offsets": arr(koff)},
                                "params": {"heads": heads, "scale": 0.3},
                                "outputs": {"y": arr(padded_attention(q, k, v, qoff, koff, heads, 0.3))}}
    return cases


def check_torch(cases):
    """Compares the NumPy references with PyTorch (float64), for the cases PyTorch covers."""
    import torch
    import torch.nn.functional as F

    def T(a):
        return torch.tensor(np.array(a["data"]).reshape(a["shape"]), dtype=torch.float64)

    def close(name, ours, theirs):
        diff = float(np.max(np.abs(np.asarray(ours["data"]) - theirs.detach().numpy().reshape(-1))))
        print(f"{name:40s} max |numpy - torch| = {diff:.2e}")
        assert diff < 1e-10, name

    c = cases["cross_entropy"]
    x, t, w = T(c["inputs"]["x"]), T(c["inputs"]["target"]).long(), T(c["inputs"]["weight"])
    for red in ["mean", "sum", "none"]:
        close("cross_entropy plain " + red, c["outputs"]["plain_" + red], F.cross_entropy(x, t, reduction=red))
        close("cross_entropy weighted smooth " + red, c["outputs"]["weighted_smooth_" + red],
              F.cross_entropy(x, t, weight=w, reduction=red, label_smoothing=0.1))
        close("cross_entropy smooth " + red, c["outputs"]["smooth_" + red],
              F.cross_entropy(x, t, reduction=red, label_smoothing=0.25))
    c = cases["cross_entropy_probs"]
    p = T(c["inputs"]["target"])
    for red in ["mean", "sum", "none"]:
        close("cross_entropy probs " + red, c["outputs"]["plain_" + red], F.cross_entropy(x, p, reduction=red))
        close("cross_entropy probs weighted smooth " + red, c["outputs"]["weighted_smooth_" + red],
              F.cross_entropy(x, p, weight=w, reduction=red, label_smoothing=0.1))
    c = cases["bce_with_logits"]
    x, y, w, pw = (T(c["inputs"][k]) for k in ["x", "y", "weight", "pos_weight"])
    for red in ["mean", "sum", "none"]:
        close("bce plain " + red, c["outputs"]["plain_" + red], F.binary_cross_entropy_with_logits(x, y, reduction=red))
        close("bce weighted " + red, c["outputs"]["weighted_" + red],
              F.binary_cross_entropy_with_logits(x, y, weight=w, pos_weight=pw, reduction=red))
    c = cases["regression"]
    x, y = T(c["inputs"]["x"]), T(c["inputs"]["y"])
    for red in ["mean", "sum", "none"]:
        close("smooth_l1 " + red, c["outputs"]["smooth_l1_" + red], F.smooth_l1_loss(x, y, reduction=red, beta=0.5))
        close("huber " + red, c["outputs"]["huber_" + red], F.huber_loss(x, y, reduction=red, delta=0.7))
    c = cases["layer_norm_affine"]
    close("layer_norm", c["outputs"]["y"],
          F.layer_norm(T(c["inputs"]["x"]), [6], T(c["inputs"]["weight"]), T(c["inputs"]["bias"])))


def main():
    cases = build()
    if "--check-torch" in sys.argv:
        check_torch(cases)
        return
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "functional.json")
    with open(path, "w") as f:
        json.dump(cases, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
