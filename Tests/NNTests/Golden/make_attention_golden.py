"""Writes packed_attention.json: the NumPy reference for PackedAttention (AttentionTests).

Independent of the Swift code: plain per-set softmax attention in float64. Run from this
directory with `python3 make_attention_golden.py`; the output is committed.
"""
import json

import numpy as np


def attend(q, k, v, q_off, k_off, heads):
    d = q.shape[1]
    hd = d // heads
    out = np.zeros_like(q)
    for b in range(len(q_off) - 1):
        qs, ks, vs = q[q_off[b]:q_off[b + 1]], k[k_off[b]:k_off[b + 1]], v[k_off[b]:k_off[b + 1]]
        if len(qs) == 0 or len(ks) == 0:
            continue
        for h in range(heads):
            sl = slice(h * hd, (h + 1) * hd)
            s = qs[:, sl] @ ks[:, sl].T / np.sqrt(hd)
            s = s - s.max(axis=1, keepdims=True)
            w = np.exp(s)
            w /= w.sum(axis=1, keepdims=True)
            out[q_off[b]:q_off[b + 1], sl] = w @ vs[:, sl]
    return out


def case(rng, q_lengths, k_lengths, d, heads):
    q_off = np.concatenate([[0], np.cumsum(q_lengths)]).astype(int)
    k_off = np.concatenate([[0], np.cumsum(k_lengths)]).astype(int)
    # Values are rounded to float32 first so Swift sees exactly the same inputs.
    q = rng.standard_normal((q_off[-1], d)).astype(np.float32).astype(np.float64)
    k = rng.standard_normal((k_off[-1], d)).astype(np.float32).astype(np.float64)
    v = rng.standard_normal((k_off[-1], d)).astype(np.float32).astype(np.float64)
    return {
        "heads": heads, "dim": d,
        "q_offsets": q_off.tolist(), "k_offsets": k_off.tolist(),
        "q": q.ravel().tolist(), "k": k.ravel().tolist(), "v": v.ravel().tolist(),
        "expected": attend(q, k, v, q_off, k_off, heads).ravel().tolist(),
    }


rng = np.random.default_rng(20240601)
cases = {
    "cross": case(rng, [2, 1, 4, 3], [5, 1, 2, 6], 12, 3),      # queries and keys differ
    "self": case(rng, [3, 1, 5, 2, 7], [3, 1, 5, 2, 7], 8, 2),  # one layout for both
}
with open("packed_attention.json", "w") as f:
    json.dump(cases, f)
