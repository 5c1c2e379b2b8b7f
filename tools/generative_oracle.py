#!/usr/bin/env python3
"""Independent oracle for mpm.metrics' generative metrics: the jetnet package's numbers on random jets.

    python3 tools/generative_oracle.py OUT.json [--seed 7]

lua/tests/generative.lua runs this, then checks mpm.metrics against OUT.json. Every array is
float32 (what an mpmlua tensor holds), written exactly, and handed to jetnet as float64, so both
sides compute from the same numbers. Particles are (pt, deta, dphi) rows as the data layer
stores them; jetnet takes (eta, phi, pt), zero-padded, which is reordered here.

Exact (to rounding): scipy's wasserstein_distance; jetnet.utils.jet_features' mass and
jetnet.utils.efps (d <= 2); jetnet.evaluation.w1p and w1m with its resampling replaced by the
identity (each sample whole, once), which is what mpm.metrics computes; jetnet's Frechet
distance of Gaussian fits and unbiased polynomial MMD on whole samples. Estimates from random
resamplings (fpd, kpd) are jetnet's public functions with the settings mpm uses, with their
errors, to be compared within them. The jets are cut in halves as mpm.metrics.generative does:
the value compares the real first half with the generated second half, the floor the real
first half with the real second half.
"""
import argparse
import json
import warnings

import numpy as np
from scipy.stats import wasserstein_distance

import jetnet.evaluation.gen_metrics as gen_metrics
from jetnet import utils
from jetnet.evaluation import fpd, kpd, w1m, w1p


class WholeSample:
    """Stands in for jetnet's module-level random generator: every "resampling" is the whole
    sample in order, so jetnet's W1 averages one exact W1 of the full samples."""

    def choice(self, n, size=None):
        return np.arange(n)


def f32(a):
    return np.asarray(a, dtype=np.float32)


def make_jets(rng, count, collapse=None):
    """count jets of 1..40 massless particles (pt GeV, deta, dphi); with collapse, a random 40%
    of each jet's particles are "reconstructed" by pulling them towards the mean (regression's
    failure) and those rows are returned as the selection."""
    sizes = rng.integers(1, 41, count)
    sizes[0] = 1  # a one-particle jet: mass 0, no pairs
    rows, selected = [], []
    for n in sizes:
        pt = rng.exponential(15.0, n) + 0.5
        deta, dphi = rng.normal(0, 0.15, n), rng.normal(0, 0.15, n)
        jet = np.stack([pt, deta, dphi], 1)
        if collapse is not None:
            pick = rng.random(n) < 0.4
            jet[pick] = collapse * jet[pick] + (1 - collapse) * np.array([15.5, 0.0, 0.0])
            selected += list(np.nonzero(pick)[0] + sum(len(r) for r in rows))
        rows.append(f32(jet))
    offsets = np.concatenate([[0], np.cumsum([len(r) for r in rows])])
    return np.concatenate(rows), offsets, np.array(selected, dtype=np.int64)


def padded(features, offsets, selection=None):
    """jetnet's layout: [B, P, 3] as (eta, phi, pt) in float64, zero-padded, and the mask of
    the selected particles (all real ones when no selection)."""
    b, p = len(offsets) - 1, int(np.max(np.diff(offsets)))
    jets, mask = np.zeros((b, p, 3)), np.zeros((b, p), dtype=bool)
    chosen = np.zeros(len(features), dtype=bool)
    chosen[selection if selection is not None else slice(None)] = True
    for j in range(b):
        rows = features[offsets[j]:offsets[j + 1]].astype(np.float64)
        jets[j, :len(rows)] = rows[:, [1, 2, 0]]
        mask[j, :len(rows)] = chosen[offsets[j]:offsets[j + 1]]
    return jets, mask


def halves(features, offsets, selection):
    """The first and second half of the jets (as mpm cuts them), each with its selected rows."""
    b = len(offsets) - 1
    out = []
    for lo, hi in [(0, b // 2), (b // 2, b)]:
        first, last = offsets[lo], offsets[hi]
        rows = selection[(selection >= first) & (selection < last)] - first if selection is not None else None
        out.append((features[first:last], offsets[lo:hi + 1] - first, rows))
    return out


def scores(reference, other, kpd_batch):
    (ref_jets, ref_mask), (jets, mask) = padded(*reference), padded(*other)
    w1p_means, _ = w1p(ref_jets, jets, mask1=ref_mask, mask2=mask, num_eval_samples=0, num_batches=1)
    w1m_mean, _ = w1m(ref_jets, jets, num_eval_samples=0, num_batches=1)
    ref_efps = utils.efps(ref_jets, efpset_args=[("d<=", 2)], efp_jobs=1)
    efps = utils.efps(jets, efpset_args=[("d<=", 2)], efp_jobs=1)
    fpd_value, fpd_error = fpd(ref_efps, efps)
    kpd_value, kpd_error = kpd(ref_efps, efps, batch_size=kpd_batch)
    # W1P in mpm's column order (pt, deta, dphi) from jetnet's (eta, phi, pt).
    return {"w1p": [float(w1p_means[2]), float(w1p_means[0]), float(w1p_means[1])], "w1m": float(w1m_mean),
            "fpd": float(fpd_value), "fpd_error": float(fpd_error), "kpd": float(kpd_value), "kpd_error": float(kpd_error)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")  # jetnet recommends 50,000 jets; these are small on purpose
    gen_metrics.rng = WholeSample()
    rng = np.random.default_rng(args.seed)

    w1 = []
    for name, u, v in [("continuous, different sizes", rng.normal(size=700), rng.normal(0.3, 1.2, size=450)),
                       ("heavy ties", np.round(rng.normal(size=500)), np.round(rng.normal(0.5, 1, size=800))),
                       ("one value against many", [2.5], rng.exponential(size=300)),
                       ("identical", [1, 2, 3], [3, 2, 1])]:
        u, v = f32(u), f32(v)
        w1.append({"name": name, "u": u.tolist(), "v": v.tolist(),
                   "w1": float(wasserstein_distance(u.astype(np.float64), v.astype(np.float64)))})

    real, real_offsets, _ = make_jets(rng, 240)
    generated, generated_offsets, selection = make_jets(rng, 260, collapse=0.3)
    jets = {"real": {"features": real.tolist(), "offsets": real_offsets.tolist()},
            "generated": {"features": generated.tolist(), "offsets": generated_offsets.tolist(),
                          "particles": (selection + 1).tolist()}}
    real_jets, _ = padded(real, real_offsets)
    jets["real"]["mass"] = utils.jet_features(real_jets)["mass"].tolist()
    jets["real"]["efps"] = utils.efps(real_jets, efpset_args=[("d<=", 2)], efp_jobs=1).tolist()

    # The composite: W1P on the selected (reconstructed) particles of the generated jets.
    reference, truth = halves(real, real_offsets, None)
    _, candidate = halves(generated, generated_offsets, selection)
    kpd_batch = max(2, min(5000, len(reference[1]) - 1, len(candidate[1]) - 1))
    jets["kpd_batch_size"] = kpd_batch
    jets["value"] = scores(reference, candidate, kpd_batch)
    jets["floor"] = scores(reference, truth, max(2, min(5000, len(reference[1]) - 1, len(truth[1]) - 1)))

    # Feature matrices: correlated Gaussians of different sizes and shifts.
    mixing = rng.normal(size=(5, 5))
    x = f32(rng.normal(size=(1200, 5)) @ mixing)
    y = f32(rng.normal(0.1, 1.1, size=(900, 5)) @ mixing)
    xd, yd = x.astype(np.float64), y.astype(np.float64)
    features = {"x": x.tolist(), "y": y.tolist(),
                "frechet_distance": float(gen_metrics._calculate_frechet_distance(
                    xd.mean(0), np.cov(xd, rowvar=False), yd.mean(0), np.cov(yd, rowvar=False))),
                "mmd4": float(gen_metrics._mmd_poly_quadratic_unbiased(xd, yd, degree=4)),
                "mmd3": float(gen_metrics._mmd_poly_quadratic_unbiased(xd, yd, degree=3))}
    features["fpd"], features["fpd_error"] = map(float, fpd(xd, yd))
    features["kpd"], features["kpd_error"] = map(float, kpd(xd, yd, batch_size=500))

    with open(args.out, "w") as f:
        json.dump({"w1": w1, "jets": jets, "features": features}, f)


if __name__ == "__main__":
    main()
