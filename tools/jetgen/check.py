#!/usr/bin/env python3
"""Schema validation and physics sanity numbers for jetgen files.

  python3 tools/jetgen/check.py data/jetclass_train.h5 [more files ...]

Exit status 1 if any schema check fails. The physics numbers are printed for a
human (and recorded in data/README.md); they are not pass/fail.
"""
import sys

import h5py
import numpy as np

JC_LABELS = ["QCD", "TTBarLep", "TTBar", "WToQQ", "ZToQQ",
             "HToBB", "HToCC", "HToGG", "HToWW4Q", "HToWW2Q1L"]
BT_LABELS = ["light", "charm", "bottom"]
TYPES = ["photon", "h-", "h0", "h+", "e-", "e+", "mu-", "mu+"]


class Checker:
    def __init__(self):
        self.fail = 0

    def __call__(self, ok, what):
        print(f"  [{'ok' if ok else 'FAIL'}] {what}")
        if not ok:
            self.fail += 1


def mode(x, lo, hi, width):
    h, e = np.histogram(x, bins=np.arange(lo, hi + width, width))
    i = int(np.argmax(h))
    return 0.5 * (e[i] + e[i + 1])


def check_file(path):
    print(f"== {path}")
    ck = Checker()
    with h5py.File(path, "r") as f:
        kind = f.attrs.get("kind", "jetclass" if f["csts"].shape[1] == 128 else "btag")
        if isinstance(kind, bytes):
            kind = kind.decode()
        nmax = 128 if kind == "jetclass" else 15
        want = {"csts": ((nmax, 7), np.float32), "csts_id": ((nmax,), np.int64),
                "mask": ((nmax,), np.bool_), "labels": ((), np.int64), "jets": ((5,), None)}
        if kind == "btag":
            want.update(vtx_id=((nmax,), np.int64), track_type=((nmax,), np.int64))
        N = f["labels"].shape[0]
        print(f"  kind={kind} N={N} attrs: " + ", ".join(f"{k}={f.attrs[k]}" for k in
                                                         ("generator", "pythia_version", "seed", "n_jets") if k in f.attrs))
        for k, (shape, dt) in want.items():
            ok = k in f and f[k].shape == (N,) + shape and (dt is None or f[k].dtype == dt)
            if k == "jets" and ok:
                ok = f[k].dtype in (np.float32, np.float64)
            ck(ok, f"dataset {k}: shape {f[k].shape if k in f else None} dtype {f[k].dtype if k in f else None}")
        extra = set(f.keys()) - set(want) - ({"vtx_pos"} if kind == "btag" else set())
        ck(not extra, f"no unexpected datasets {sorted(extra) if extra else ''}")
        for k in f:
            ck(f[k].compression == "gzip", f"{k} gzip-compressed")
        x = f["csts"][:]
        ids = f["csts_id"][:]
        m = f["mask"][:]
        y = f["labels"][:]
        jets = f["jets"][:]
        extra_ds = {k: f[k][:] for k in ("vtx_id", "track_type", "vtx_pos") if k in f}
    pt = x[..., 0]
    ck(np.array_equal(m, pt > 0), "mask == (pt > 0)")
    ck(np.all(x[~m] == 0) and np.all(ids[~m] == 0), "padding all zeros (csts, csts_id)")
    n = m.sum(1)
    ck(np.all(m[:, :-1] >= m[:, 1:]), "real constituents first (contiguous)")
    ck(np.all((pt[:, :-1] >= pt[:, 1:]) | ~m[:, 1:]), "pt-ordered (decreasing)")
    ck(np.all(np.abs(x[..., 1:3]) <= 0.8), "|deta|,|dphi| <= 0.8")
    ck(np.all(np.isfinite(x)) and np.all(np.isfinite(jets)), "all finite")
    ck(np.all((ids >= 0) & (ids <= 7)), "csts_id in 0..7")
    neutral = m & ((ids == 0) | (ids == 2))
    charged = m & ~((ids == 0) | (ids == 2))
    ck(np.all(x[neutral][:, 3:7] == 0), "neutral: d0 = d0err = dz = dzerr = 0")
    ck(np.all(x[charged][:, 4] > 0) and np.all(x[charged][:, 6] > 0), "charged: d0err > 0, dzerr > 0")
    ck(np.array_equal(jets[:, 4].astype(int), n), "jets[:,4] == number of stored constituents")
    ck(np.all(n >= 1), "every jet has >= 1 constituent")
    nl = 10 if kind == "jetclass" else 3
    ck(np.all((y >= 0) & (y < nl)), f"labels in 0..{nl - 1}")
    counts = np.bincount(y, minlength=nl)
    ck(counts.max() - counts.min() <= 1, f"balanced classes {counts.tolist()}")
    print(f"  constituents per jet: mean {n.mean():.1f}, max {n.max()}, jets at the cap of {nmax}: {np.sum(n == nmax)}")
    print(f"  jet pt: min {jets[:, 0].min():.1f} median {np.median(jets[:, 0]):.1f} max {jets[:, 0].max():.1f} GeV; "
          f"|eta| max {np.abs(jets[:, 1]).max():.2f}")
    tf = np.bincount(ids[m], minlength=8) / m.sum()
    print("  type fractions: " + ", ".join(f"{t} {v:.3f}" for t, v in zip(TYPES, tf)))
    d0sig = np.zeros_like(pt)
    d0sig[charged] = x[charged][:, 3] / x[charged][:, 4]
    if kind == "jetclass":
        ck(jets[:, 0].min() >= 500 and jets[:, 0].max() <= 1000 and np.abs(jets[:, 1]).max() < 2,
           "jet 500 <= pt <= 1000 GeV, |eta| < 2")
        print("  class        n   <mult> <charged>  mass mode  mass median  frac(|d0/s|>3, charged)")
        for c, name in enumerate(JC_LABELS):
            s = y == c
            if not s.any():
                continue
            ch = charged[s]
            sig = np.abs(d0sig[s][ch])
            print(f"  {name:10s} {s.sum():5d} {n[s].mean():7.1f} {ch.sum(1).mean():8.1f}  "
                  f"{mode(jets[s, 3], 0, 300, 5):8.1f}  {np.median(jets[s, 3]):10.1f}  {np.mean(sig > 3):.3f}")
        s = y == 2
        if s.any():
            print(f"  TTBar: mass mode {mode(jets[s, 3], 0, 300, 5):.1f} GeV, "
                  f"{np.mean((jets[s, 3] > 140) & (jets[s, 3] < 200)):.0%} in 140-200 GeV")
        for c, lo, hi in ((3, 65, 95), (4, 75, 105), (5, 100, 140)):
            s = y == c
            if s.any():
                print(f"  {JC_LABELS[c]}: mass mode {mode(jets[s, 3], 0, 300, 5):.1f} GeV, "
                      f"{np.mean((jets[s, 3] > lo) & (jets[s, 3] < hi)):.0%} in {lo}-{hi} GeV")
        for c in (0, 5):
            s = y == c
            if s.any():
                k = (np.abs(d0sig[s]) > 3).sum(1)
                k2 = ((np.abs(d0sig[s]) > 3) & (np.abs(x[s][..., 3]) < 2.0)).sum(1)
                print(f"  {JC_LABELS[c]}: jets with >= 2 charged at |d0/sigma| > 3: {np.mean(k >= 2):.0%} "
                      f"({np.mean(k2 >= 2):.0%} with the b-tag track selection |d0| < 2 mm); "
                      f"median |d0| {np.median(np.abs(x[s][charged[s]][:, 3])) * 1e3:.1f} um")
    else:
        vid, tt = extra_ds["vtx_id"], extra_ds["track_type"]
        ck(np.all((vid >= 0) == m) and np.all((tt >= 0) == m), "vtx_id / track_type -1 exactly on padding")
        ck(np.all(tt <= 3) and np.all(ids[m] != 0) and np.all(ids[m] != 2), "tracks only; track_type in -1..3")
        ck(jets[:, 0].min() >= 20 and np.abs(jets[:, 1]).max() < 2.5, "jet pt >= 20 GeV, |eta| < 2.5")
        ck(np.all(pt[m] > 1.0 * 0.5), "track pt > 0.5 GeV")
        if "vtx_pos" in extra_ds:
            vp = extra_ds["vtx_pos"]
            ok = True
            for i in range(min(N, 500)):
                for k in np.nonzero(m[i])[0]:
                    if vid[i, k] == 0 and np.any(vp[i, 0] != 0):
                        ok = False
            ck(ok, "vtx_pos[.,0] is the primary vertex at the origin")
        ttf = [np.bincount(tt[y == c][m[y == c]], minlength=4) / m[y == c].sum() for c in range(3)]
        print("  flavour  <tracks>  <sec.vtx>  PV/C/B/other track fractions   median|d0|um  "
              "frac(|d0/s|>3)  jets>=2trk|d0/s|>3")
        for c, name in enumerate(BT_LABELS):
            s = y == c
            nsv = np.array([len(set(v[v > 0].tolist())) for v in vid[s]])
            sig = np.abs(d0sig[s][m[s]])
            k = (np.abs(d0sig[s]) > 3).sum(1)
            print(f"  {name:7s} {n[s].mean():8.2f} {nsv.mean():9.2f}   "
                  f"{' / '.join(f'{v:.2f}' for v in ttf[c])}   {np.median(np.abs(x[s][m[s]][:, 3])) * 1e3:9.1f}"
                  f"   {np.mean(sig > 3):12.3f}   {np.mean(k >= 2):10.1%}")
        print("  jets with >= 2 tracks at |d0/sigma| > 3 and |d0| < 2 mm (V0 tracks removed): " + ", ".join(
            f"{name} {np.mean((((np.abs(d0sig) > 3) & (np.abs(x[..., 3]) < 2.0)).sum(1) >= 2)[y == c]):.1%}"
            for c, name in enumerate(BT_LABELS)))
        for t, name in enumerate(["PV", "from c", "from b", "other"]):
            s = m & (tt == t)
            if s.any():
                print(f"  tracks {name:7s}: {s.sum():6d}, median |d0| {np.median(np.abs(x[s][:, 3])) * 1e3:.1f} um")
    print(f"  -> {'OK' if ck.fail == 0 else str(ck.fail) + ' FAILED'}")
    return ck.fail


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    fails = sum(check_file(p) for p in sys.argv[1:])
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
