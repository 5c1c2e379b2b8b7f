"""Times the benchmark cases with NumPy (and PyTorch when installed), on the same threads as
mpmlua, and prints one JSON object: {case: {"numpy": seconds, "torch": seconds}}.

Run by bench/run.lua in the same `make bench` run, so the ratios it prints compare like with
like on this (shared, noisy) machine. Each figure is the fastest of several repeats.
"""
import json
import sys
import time

import numpy as np

try:
    import torch
    torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
except ImportError:
    torch = None


def best(fn, repeats=10):
    fn()
    fastest = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        fastest = min(fastest, time.perf_counter() - start)
    return fastest


def lengths_for_attention():
    """Set lengths 10..128, the same formula as bench/run.lua."""
    return np.array([10 + (i * 37) % 119 for i in range(256)])


def numpy_cases():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((1024, 1024), dtype=np.float32)
    b = rng.standard_normal((1024, 1024), dtype=np.float32)
    big = rng.standard_normal(4 * 1024 * 1024, dtype=np.float32)
    big2 = rng.standard_normal(4 * 1024 * 1024, dtype=np.float32)
    rows = rng.standard_normal((16384, 512), dtype=np.float32)

    def layer_norm():
        mean = rows.mean(axis=1, keepdims=True)
        centred = rows - mean
        rstd = 1 / np.sqrt((centred * centred).mean(axis=1, keepdims=True) + 1e-5)
        y = centred * rstd
        g = np.ones_like(y)
        # backward of normalisation without affine parameters
        return rstd * (g - g.mean(axis=1, keepdims=True) - y * (g * y).mean(axis=1, keepdims=True))

    def softmax():
        e = np.exp(rows - rows.max(axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
        g = np.ones_like(p)
        return p * (g - (g * p).sum(axis=1, keepdims=True))

    return {
        "matmul 1024x1024": best(lambda: a @ b),
        "add 4M floats": best(lambda: big + big2),
        "sum over last dim [16384,512]": best(lambda: rows.sum(axis=1)),
        "masked_fill(x > 0) 4M floats": best(lambda: np.where(big > 0, np.float32(0), big)),
        "layer_norm fwd+bwd [16384,512]": best(layer_norm, 5),
        "softmax fwd+bwd [16384,512]": best(softmax, 5),
    }


def torch_cases():
    torch.manual_seed(0)
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    big, big2 = torch.randn(4 * 1024 * 1024), torch.randn(4 * 1024 * 1024)
    rows = torch.randn(16384, 512, requires_grad=True)

    def layer_norm():
        y = torch.nn.functional.layer_norm(rows, (512,))
        y.sum().backward()

    def softmax():
        torch.softmax(rows, dim=1).sum().backward()

    # Attention the way PyTorch users batch sets: padded to the longest set with a key mask.
    lengths = torch.tensor(lengths_for_attention())
    longest = int(lengths.max())
    q = torch.randn(len(lengths), 8, longest, 64, requires_grad=True)
    k = torch.randn(len(lengths), 8, longest, 64, requires_grad=True)
    v = torch.randn(len(lengths), 8, longest, 64, requires_grad=True)
    keep = (torch.arange(longest)[None, :] < lengths[:, None])[:, None, None, :]

    def attention():
        out = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=keep)
        out.sum().backward()

    with torch.no_grad():
        results = {
            "matmul 1024x1024": best(lambda: a @ b),
            "add 4M floats": best(lambda: big + big2),
            "sum over last dim [16384,512]": best(lambda: rows.sum(dim=1)),
            "masked_fill(x > 0) 4M floats": best(lambda: big.masked_fill(big > 0, 0)),
        }
    results["layer_norm fwd+bwd [16384,512]"] = best(layer_norm, 5)
    results["softmax fwd+bwd [16384,512]"] = best(softmax, 5)
    results["attention fwd+bwd, 256 packed sets, 8x64 heads"] = best(attention, 3)  # padded + mask
    return results


if __name__ == "__main__":
    out = {}
    for case, seconds in numpy_cases().items():
        out.setdefault(case, {})["numpy"] = seconds
    if torch is not None:
        for case, seconds in torch_cases().items():
            out.setdefault(case, {})["torch"] = seconds
    json.dump(out, sys.stdout)
