"""PyTorch eager twin of the MPM training step for `make bench-step` (bench/step.lua drives it).

Same architecture and parameter count as Sources/MPM (MPMModel, MPMBackbone, TransformerEncoder,
TransformerLayer, SwiGLU, CFMTask, IDTask): pre-norm blocks with LayerScale, SwiGLU, learned
registers, pt-rank mask tokens, ID + CFM heads. Sets are padded to the batch maximum and attention
is scaled_dot_product_attention with a key mask, as a PyTorch user would write it; the heads and
losses run on the real rows only. The index maps of the padded layout are built once, outside the
timed step (a loader would hand them over).

    python3 bench/step_torch.py --case small --preset small --multiplicities FILE --threads 2 --steps 8 [--precision bf16]
prints: RESULT case step=SECONDS cpu=SECONDS embed=SECONDS params=N rss=BYTES (cpu: the step's CPU time, all threads)
--precision bf16 runs the step's forward and loss, and the embedding, under
torch.autocast("cpu", dtype=torch.bfloat16), as the reference trains (fp32 master weights).
"""
import argparse
import math
import resource
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

PRESETS = {
    "small": dict(D=128, L=4, H=4, R=4, Dd=64, Ld=2, Hd=2),
    "paper": dict(D=512, L=8, H=8, R=8, Dd=128, Ld=4, Hd=4),
}
MASK, ID_WEIGHT, MASK_TOKENS, TYPES, FEATURES = 0.4, 0.3, 128, 8, 7


class SwiGLU(nn.Module):
    def __init__(self, dim, mult=2):
        super().__init__()
        hidden = int(round(dim * mult))
        self.lin1 = nn.Linear(dim, 2 * hidden)
        self.lin2 = nn.Linear(hidden, dim)

    def forward(self, x):
        a, g = self.lin1(x).chunk(2, dim=-1)
        return self.lin2(a * F.silu(g))


class Layer(nn.Module):
    """Pre-norm block: x + ls1 * attn(norm1(x)); y + ls2 * ff(norm2(y))."""

    def __init__(self, dim, heads, ls=1e-3):
        super().__init__()
        self.heads = heads
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.qkv, self.out = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        self.ff = SwiGLU(dim)
        self.ls1 = nn.Parameter(torch.full((dim,), ls))
        self.ls2 = nn.Parameter(torch.full((dim,), ls))

    def forward(self, x, mask):
        b, n, d = x.shape
        q, k, v = self.qkv(self.norm1(x)).view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        h = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        x = x + self.ls1 * self.out(h.transpose(1, 2).reshape(b, n, d))
        return x + self.ls2 * self.ff(self.norm2(x))


class Encoder(nn.Module):
    def __init__(self, dim, depth, heads, registers):
        super().__init__()
        self.registers = nn.Parameter(torch.randn(registers, dim) * 1e-3) if registers else None
        self.layers = nn.ModuleList(Layer(dim, heads) for _ in range(depth))
        self.final_norm = nn.LayerNorm(dim)

    def forward(self, x, keep):
        """x [B, N, D] padded, keep [B, N] bool -> [B, R + N, D] with the registers first."""
        if self.registers is not None:
            b = x.shape[0]
            x = torch.cat([self.registers.expand(b, -1, -1), x], 1)
            keep = torch.cat([keep.new_ones(b, self.registers.shape[0]), keep], 1)
        mask = keep[:, None, None, :]
        for layer in self.layers:
            x = layer(x, mask)
        return self.final_norm(x), keep


class MPM(nn.Module):
    def __init__(self, p):
        super().__init__()
        self.feature_embedding = nn.Linear(FEATURES, p["D"])
        self.type_embedding = nn.Embedding(TYPES, p["D"])
        self.encoder = Encoder(p["D"], p["L"], p["H"], p["R"])
        self.decoder_input = nn.Linear(p["D"], p["Dd"])
        self.mask_tokens = nn.Parameter(torch.randn(MASK_TOKENS, p["Dd"]) * 1e-3)
        self.decoder = Encoder(p["Dd"], p["Ld"], p["Hd"], 0)

    def embed(self, feats, types, keep):
        return self.encoder(self.feature_embedding(feats) + self.type_embedding(types), keep)

    def forward(self, kf, kt, keep, ranks, dkeep):
        h, hkeep = self.embed(kf, kt, keep)
        # The decoder set of a jet: its encoder rows and its mask tokens (no positions, so the
        # two padded blocks side by side are the same sets).
        tokens = self.mask_tokens[ranks.clamp(max=MASK_TOKENS - 1)]
        z, _ = self.decoder(torch.cat([self.decoder_input(h), tokens], 1), torch.cat([hkeep, dkeep], 1))
        return z[:, h.shape[1]:][dkeep]


class CFM(nn.Module):
    def __init__(self, dim, features=7, ctx=128, time_dim=16, hidden=128, depth=3):
        super().__init__()
        self.context = nn.Linear(dim, ctx)
        self.register_buffer("freq", torch.tensor([math.pi * math.exp(k) for k in range(time_dim)]))
        layers, width = [], features + ctx + time_dim
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.SiLU()]
            width = hidden
        self.velocity = nn.Sequential(*layers, nn.Linear(width, features))

    def loss(self, decoded, x):
        ctx = self.context(decoded)
        t = torch.sigmoid(torch.randn(x.shape[0], 1))
        eps = torch.randn_like(x)
        xt = x * (1 - t) + eps * t
        v = self.velocity(torch.cat([xt, ctx, torch.cos(t * self.freq)], 1))
        return F.mse_loss(v, x - eps)


def padded(mults, generator):
    """Random jets of these multiplicities, 40% dropped (pt-ranked), in the padded layout."""
    b = len(mults)
    drop = [int(math.floor(MASK * n)) for n in mults]
    kept = [n - d for n, d in zip(mults, drop)]
    kmax, dmax, nmax = max(kept), max(max(drop), 1), max(mults)
    kf = torch.zeros(b, kmax, FEATURES)
    kt = torch.zeros(b, kmax, dtype=torch.long)
    keep = torch.zeros(b, kmax, dtype=torch.bool)
    ranks = torch.zeros(b, dmax, dtype=torch.long)
    dkeep = torch.zeros(b, dmax, dtype=torch.bool)
    full = torch.zeros(b, nmax, FEATURES)
    ftypes = torch.zeros(b, nmax, dtype=torch.long)
    fkeep = torch.zeros(b, nmax, dtype=torch.bool)
    targets, target_types = [], []
    for j, (n, d, k) in enumerate(zip(mults, drop, kept)):
        x = torch.randn(n, FEATURES, generator=generator)
        ty = torch.randint(0, TYPES, (n,), generator=generator)
        full[j, :n], ftypes[j, :n], fkeep[j, :n] = x, ty, True
        kf[j, :k], kt[j, :k], keep[j, :k] = x[:k], ty[:k], True
        ranks[j, :d] = torch.arange(d)
        dkeep[j, :d] = True
        targets.append(x[k:])
        target_types.append(ty[k:])
    return (kf, kt, keep, ranks, dkeep), torch.cat(targets), torch.cat(target_types), (full, ftypes, fkeep)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", required=True)
    ap.add_argument("--preset", default="small", choices=sorted(PRESETS))
    ap.add_argument("--multiplicities", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--embed-calls", type=int, default=5, help="timed backbone embeddings (after one warm-up)")
    ap.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    mults = [int(v) for v in open(a.multiplicities).read().split(",") if v.strip()]
    inputs, x, types, full = padded(mults, torch.Generator().manual_seed(1))
    p = PRESETS[a.preset]
    model, cfm, idhead = MPM(p), CFM(p["Dd"]), nn.Linear(p["Dd"], TYPES)
    params = [q for m in (model, idhead, cfm) for q in m.parameters()]
    count = sum(q.numel() for q in params)
    opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=1e-5)
    warmup = 1
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.precision == "bf16")

    def step():
        with autocast:
            decoded = model(*inputs)
            loss = cfm.loss(decoded, x) + ID_WEIGHT * F.cross_entropy(idhead(decoded), types, label_smoothing=0.1)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()

    times, cpu = [], []
    for s in range(warmup + a.steps):
        t0, c0 = time.perf_counter(), time.process_time()
        step()
        if s >= warmup:
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    model.eval()
    etimes = []
    with torch.no_grad(), autocast:
        for s in range(warmup + a.embed_calls):
            t0 = time.perf_counter()
            model.embed(*full)
            if s >= warmup:
                etimes.append(time.perf_counter() - t0)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(f"RESULT {a.case} step={statistics.median(times):.6f} cpu={statistics.median(cpu):.6f} embed={statistics.median(etimes):.6f} "
          f"params={count} rss={rss}")


if __name__ == "__main__":
    main()
