#!/usr/bin/env python3
"""jetgen: JetClass-like and BTag-like jet samples for mpmlua, made with Pythia 8.

Chain: Pythia 8 (pythia8mc wheel) hard process + shower + hadronisation + MPI ->
anti-kt clustering with Pythia's SlowJet (its bundled fjcore) -> a light detector
model (tracker with straight-line impact parameters and Gaussian resolution,
ECAL/HCAL cells for everything that is not a track) -> padded arrays -> HDF5.

Subcommands:
  jetclass   large-R (R=0.8) jets of the ten JetClass classes, 128 constituents x 7 features
  btag       R=0.4 jets from ttbar, charged tracks only (15 x 7), flavour + vertex labels
  bundle     regenerate exactly the files bundled in data/ (see data/README.md)

Reproducibility: the work is cut into fixed chunks (class, chunk index); every chunk
gets its own Pythia seed and numpy generator derived from --seed, so the output does
not depend on --workers or on scheduling. Same seed + same arguments -> same bytes.

See tools/jetgen/README.md for the physics choices.
"""
import argparse
import json
import math
import multiprocessing as mp
import os
import sys
import time

import numpy as np

GENERATOR_VERSION = "jetgen 1.0"
FORMAT_VERSION = 1

# ============================================================================ settings
COMMON = [
    "Beams:eCM = 13000.",
    "Print:quiet = on",
    "Next:numberCount = 0", "Next:numberShowEvent = 0",
    "Next:numberShowInfo = 0", "Next:numberShowProcess = 0",
    "Init:showChangedSettings = off", "Init:showProcesses = off",
    "Init:showChangedParticleData = off",
    # Unstable particles decay only inside the volume where displaced tracks can still
    # be reconstructed (R < 0.5 m, |z| < 1.5 m): B, D, tau decay at displaced vertices;
    # K0S, Lambda, Sigma, Xi, Omega decay in flight there (the displaced "V0" tracks a
    # detector sees) and reach the calorimeter undecayed otherwise; pi+-, K+-, K0L,
    # mu, n are stable in Pythia by default.
    "ParticleDecays:limitCylinder = on",
    "ParticleDecays:xyMax = 500.",
    "ParticleDecays:zMax = 1500.",
]
W_HAD = ["24:onMode = off", "24:onIfAny = 1 2 3 4 5"]
W_LEP = ["24:onMode = off", "24:onIfAny = 11 13 15"]
Z_NUNU = ["23:onMode = off", "23:onIfAny = 12 14 16"]
TT = ["Top:gg2ttbar = on", "Top:qqbar2ttbar = on"]
HZ = ["HiggsSM:ffbar2HZ = on", "25:m0 = 125.", "25:onMode = off"] + Z_NUNU


def pthat(x):
    return [f"PhaseSpace:pTHatMin = {x:.1f}"]


# Label order of the reference schema (MPMV2_FACTS.md).
JC_LABELS = ["QCD", "TTBarLep", "TTBar", "WToQQ", "ZToQQ",
             "HToBB", "HToCC", "HToGG", "HToWW4Q", "HToWW2Q1L"]

# label -> dict(configs=[pythia settings, ...], res=|pdg id| of the boosted object to
# truth-match, or None).  With several configs the class quota of every chunk is split
# evenly between them (used to mirror the W charges in H -> W W* -> l nu q q).
JC_CLASSES = {
    0: dict(configs=[["HardQCD:all = on"] + pthat(450)], res=None),
    1: dict(configs=[TT + W_LEP + pthat(450)], res=6),
    2: dict(configs=[TT + W_HAD + pthat(480)], res=6),
    3: dict(configs=[["WeakBosonAndParton:qqbar2Wg = on", "WeakBosonAndParton:qg2Wq = on"]
                     + W_HAD + pthat(450)], res=24),
    4: dict(configs=[["WeakBosonAndParton:qqbar2gmZg = on", "WeakBosonAndParton:qg2gmZq = on",
                      "WeakZ0:gmZmode = 2", "23:onMode = off", "23:onIfAny = 1 2 3 4 5"]
                     + pthat(450)], res=23),
    5: dict(configs=[HZ + ["25:onIfMatch = 5 -5"] + pthat(450)], res=25),
    6: dict(configs=[HZ + ["25:onIfMatch = 4 -4"] + pthat(450)], res=25),
    7: dict(configs=[HZ + ["25:onIfMatch = 21 21"] + pthat(450)], res=25),
    8: dict(configs=[HZ + ["25:onIfMatch = 24 -24"] + W_HAD + pthat(450)], res=25),
    9: dict(configs=[
        HZ + ["25:onIfMatch = 24 -24", "24:onMode = off",
              "24:onPosIfAny = 1 2 3 4 5", "24:onNegIfAny = 11 13 15"] + pthat(450),
        HZ + ["25:onIfMatch = 24 -24", "24:onMode = off",
              "24:onPosIfAny = 11 13 15", "24:onNegIfAny = 1 2 3 4 5"] + pthat(450)],
        res=25),
}

BT_SETTINGS = TT   # all top and W decays

JC = dict(R=0.8, jet_ptmin=500.0, jet_ptmax=1000.0, jet_etamax=2.0, nmax=128,
          max_jets_per_event=2, truth_ptmin=400.0, match_dr=0.8, clip=0.8)
BT = dict(R=0.4, jet_ptmin=20.0, jet_etamax=2.5, nmax=15, trk_ptmin=1.0,
          lab_dr=0.3, lab_hadron_ptmin=5.0, vtx_merge_mm=1e-3, lepton_veto_dr=0.4,
          v0_tau0_mm=1.0, clip=0.8, min_tracks=1, nvtx=16)
DET = dict(
    particle_etamax=5.0,           # particles fed to the clustering
    trk_etamax=2.5, trk_ptmin=0.5,  # tracker acceptance (JetClass-like reco)
    # track pT resolution: sigma(pT)/pT = sqrt(a^2 + (b*pT)^2)
    trk_pt_res_a=0.005, trk_pt_res_b=1.5e-4,
    # impact-parameter resolution, mm (pT in GeV):
    # sigma(d0) = sqrt(a^2 + (b*sqrt(cosh eta)/pT)^2), sigma(z0) = sqrt(a^2 + (b*cosh(eta)^1.5/pT)^2)
    a_d0=0.010, b_d0=0.030, a_z0=0.020, b_z0=0.060,
    ecal_cell=0.02, ecal_emin=0.5, hcal_cell=0.087, hcal_emin=1.0,
    # ECAL: sigma(E) = sqrt((0.007 E)^2 + 0.07^2 E + 0.35^2); HCAL: sqrt((0.05 E)^2 + 1.5^2 E)
    ecal_res=(0.007, 0.07, 0.35), hcal_res=(0.05, 1.5, 0.0),
)

KIND_CODE = {"jetclass": 1, "btag": 2}

# ============================================================================ seeds


def pythia_seed(seed, *key):
    """Pythia seed in [1, 900000000] derived from the user seed and a chunk key."""
    ss = np.random.SeedSequence(entropy=seed, spawn_key=tuple(int(k) for k in key))
    return int(ss.generate_state(1, dtype=np.uint64)[0] % 899_999_999) + 1


def np_rng(seed, *key):
    return np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=tuple(int(k) for k in key) + (7,)))

# ============================================================================ helpers


def wrap(d):
    return (d + np.pi) % (2 * np.pi) - np.pi


def particle_type(pid, charge):
    """0 photon, 1 negative hadron, 2 neutral hadron, 3 positive hadron,
    4 electron, 5 positron, 6 muon, 7 antimuon (for tracks / cells).
    Vectorised: pid (int array) and charge (float array) -> int64 array."""
    pid = np.asarray(pid)
    t = np.where(charge < 0, 1, 3).astype(np.int64)
    t[charge == 0] = 2
    t[pid == 22] = 0
    t[pid == 11] = 4
    t[pid == -11] = 5
    t[pid == 13] = 6
    t[pid == -13] = 7
    return t


def heavy_flavour(aid):
    """5 for an open-bottom hadron, 4 for an open-charm hadron, else 0."""
    if aid < 100:
        return 0
    q3, q2, q1 = (aid // 1000) % 10, (aid // 100) % 10, (aid // 10) % 10
    if q3 != 0 and q1 == 0:           # diquarks (parton level), not hadrons
        return 0
    if q3 == 0 and q2 == q1:          # quarkonia
        return 0
    if q3 == 5 or q2 == 5:
        return 5
    if q3 == 4 or q2 == 4:
        return 4
    return 0


def heavy_flavour_array(aid):
    """heavy_flavour() for an array of |pdg id| (same rules, element-wise)."""
    aid = np.asarray(aid, np.int64)
    q3, q2, q1 = (aid // 1000) % 10, (aid // 100) % 10, (aid // 10) % 10
    hf = np.where((q3 == 5) | (q2 == 5), 5, np.where((q3 == 4) | (q2 == 4), 4, 0))
    hf[(aid < 100) | ((q3 != 0) & (q1 == 0)) | ((q3 == 0) & (q2 == q1))] = 0
    return hf


_PYTHIA_TEMPLATE = None


def make_pythia(settings, seed):
    """A fresh Pythia with COMMON + settings and the given seed, initialised.
    The default Settings/ParticleData (Pythia's XML database, ~0.07 s to read) are read
    once per process and copied into each new instance (Pythia's copy constructor);
    the instance is otherwise exactly Pythia("", False): same settings, same events."""
    import pythia8mc as p8
    global _PYTHIA_TEMPLATE
    if _PYTHIA_TEMPLATE is None:
        _PYTHIA_TEMPLATE = p8.Pythia("", False)
    py = p8.Pythia(_PYTHIA_TEMPLATE.settings, _PYTHIA_TEMPLATE.particleData, False)
    for s in COMMON + list(settings) + ["Random:setSeed = on", f"Random:seed = {seed}"]:
        if not py.readString(s):
            raise RuntimeError("Pythia rejected setting: " + s)
    if not py.init():
        raise RuntimeError("Pythia init failed")
    return py


# columns of the per-particle array
PX, PY, PZ, E, Q, VX, VY, VZ, IDX = range(9)


_PARTICLE_COLUMNS = None


def extract(ev, idx):
    """Columns PX..IDX (float64) and pdg ids of event particles idx. The bindings give
    no bulk access cheaper than reading particle by particle (Pythia.nextBatch's awkward
    record costs ~2 ms per event, more than reading a jet's constituents), so each
    column is one C-level map of an unbound accessor over the particles."""
    global _PARTICLE_COLUMNS
    if _PARTICLE_COLUMNS is None:
        import pythia8mc as p8
        P = p8.Particle
        _PARTICLE_COLUMNS = ((P.px, P.py, P.pz, P.e, P.charge, P.xProd, P.yProd, P.zProd), P.id)
    cols, pid = _PARTICLE_COLUMNS
    qs = list(map(ev.__getitem__, idx))
    n = len(qs)
    a = np.empty((n, 9))
    for c, f in enumerate(cols):
        a[:, c] = np.fromiter(map(f, qs), np.float64, n)
    a[:, IDX] = idx
    return a, np.fromiter(map(pid, qs), np.int64, n)


def smear_track_pt(a, rng):
    """Scale the momentum of tracks by a Gaussian pT resolution (direction kept)."""
    pt = np.hypot(a[:, PX], a[:, PY])
    rel = np.sqrt(DET["trk_pt_res_a"] ** 2 + (DET["trk_pt_res_b"] * pt) ** 2)
    f = 1.0 + rel * rng.normal(size=len(pt))
    f = np.clip(f, 0.5, 2.0)
    out = a.copy()
    out[:, PX:PZ + 1] *= f[:, None]
    p2 = (out[:, PX:PZ + 1] ** 2).sum(1)
    m2 = np.maximum(a[:, E] ** 2 - (a[:, PX:PZ + 1] ** 2).sum(1), 0.0)
    out[:, E] = np.sqrt(p2 + m2)
    return out


def impact_parameters(a, jet_px, jet_py, jet_eta, rng):
    """Straight-line tracks from the production vertex (mm) with momentum (GeV).
    Returns signed smeared d0, sigma(d0), signed smeared z0, sigma(z0) (all mm).
    d0 sign: sign of (point of closest approach) . (jet axis) in the transverse plane;
    z0 sign: sign(z0 * (eta_jet - eta_track))."""
    x, y, z = a[:, VX], a[:, VY], a[:, VZ]
    px, py, pz = a[:, PX], a[:, PY], a[:, PZ]
    pt2 = px * px + py * py
    pt = np.sqrt(pt2)
    d0 = (x * py - y * px) / pt                       # PCA = d0 * (py, -px)/pt
    t = -(x * px + y * py) / pt2
    z0 = z + pz * t
    eta = np.arcsinh(pz / pt)
    ch = np.cosh(eta)
    sd0 = np.sqrt(DET["a_d0"] ** 2 + (DET["b_d0"] * np.sqrt(ch) / pt) ** 2)
    sz0 = np.sqrt(DET["a_z0"] ** 2 + (DET["b_z0"] * ch ** 1.5 / pt) ** 2)
    d0m = d0 + rng.normal(size=len(pt)) * sd0
    z0m = z0 + rng.normal(size=len(pt)) * sz0
    proj = d0m * (py * jet_px - px * jet_py)          # PCA . jet axis (up to pt > 0)
    sd = np.where(proj >= 0, 1.0, -1.0)
    sz = np.where(z0m * (jet_eta - eta) >= 0, 1.0, -1.0)
    return np.abs(d0m) * sd, sd0, np.abs(z0m) * sz, sz0


def calo_reco(a, pid, rng):
    """Light Delphes/CMS-like reconstruction of a jet's truth constituents.
    Tracks: charged, |eta| < 2.5, pT > 0.5 GeV (pT smeared, kept with their vertex).
    Everything else (photons, electrons and charged particles not tracked, neutral
    hadrons) deposits in ECAL (photons, electrons; 0.02 x 0.02 cells, E > 0.5 GeV) or
    HCAL (hadrons; 0.087 x 0.087 cells, E > 1 GeV); untracked muons are lost. Cell
    energies are smeared; cells are massless and placed uniformly within the cell.
    Returns (array with the columns of `extract`, particle type 0..7)."""
    pt = np.hypot(a[:, PX], a[:, PY])
    eta = np.arcsinh(a[:, PZ] / pt)
    phi = np.arctan2(a[:, PY], a[:, PX])
    chg = a[:, Q] != 0
    trk = chg & (np.abs(eta) < DET["trk_etamax"]) & (pt > DET["trk_ptmin"])
    apid = np.abs(pid)
    em = ~trk & ((pid == 22) | (apid == 11))
    had = ~trk & ~em & (apid != 13)
    t = smear_track_pt(a[trk], rng)
    rows = [t]
    types = [particle_type(pid[trk], t[:, Q])]
    for sel, cell, emin, res, ctype in (
            (em, DET["ecal_cell"], DET["ecal_emin"], DET["ecal_res"], 0),
            (had, DET["hcal_cell"], DET["hcal_emin"], DET["hcal_res"], 2)):
        if not sel.any():
            continue
        nphi = int(round(2 * np.pi / cell))
        wphi = 2 * np.pi / nphi
        ie = np.floor(eta[sel] / cell).astype(np.int64)
        ip = np.floor((phi[sel] + np.pi) / wphi).astype(np.int64) % nphi
        key = ie * 100000 + ip
        uk, inv = np.unique(key, return_inverse=True)
        Ecell = np.bincount(inv, weights=a[sel, E])
        c0, c1, c2 = res
        sig = np.sqrt((c0 * Ecell) ** 2 + c1 ** 2 * Ecell + c2 ** 2)
        Ecell = Ecell + rng.normal(size=len(Ecell)) * sig
        ue = np.floor_divide(uk, 100000)           # recover ie, ip (0 <= ip < 100000)
        up = uk - ue * 100000
        ceta = (ue + rng.uniform(size=len(uk))) * cell
        cphi = (up + rng.uniform(size=len(uk))) * wphi - np.pi
        ok = Ecell > emin
        Ecell, ceta, cphi = Ecell[ok], ceta[ok], cphi[ok]
        cpt = Ecell / np.cosh(ceta)
        r = np.zeros((len(Ecell), 9))
        r[:, PX] = cpt * np.cos(cphi)
        r[:, PY] = cpt * np.sin(cphi)
        r[:, PZ] = cpt * np.sinh(ceta)
        r[:, E] = Ecell
        r[:, IDX] = -1
        rows.append(r)
        types.append(np.full(len(Ecell), ctype, dtype=np.int64))
    return np.concatenate(rows), np.concatenate(types)


def four_vector_summary(a):
    P = a[:, PX:E + 1].sum(0)
    pt = math.hypot(P[0], P[1])
    eta = math.asinh(P[2] / pt) if pt > 0 else 0.0
    phi = math.atan2(P[1], P[0])
    m = math.sqrt(max(P[3] ** 2 - P[0] ** 2 - P[1] ** 2 - P[2] ** 2, 0.0))
    return pt, eta, phi, m, P[0], P[1]


def decay_products(proc, res_id):
    """For each copy of the resonance |id| == res_id in the hard-process record:
    list of (eta, phi) of its visible decay products (recursing through t/W/Z/H)."""
    out = []
    for i in range(proc.size()):
        q = proc[i]
        if q.idAbs() != res_id or q.daughter1() <= 0:
            continue
        prods, stack = [], list(q.daughterList())
        while stack:
            d = proc[stack.pop()]
            if d.idAbs() in (6, 23, 24, 25) and d.daughter1() > 0:
                stack.extend(d.daughterList())
                continue
            if d.idAbs() in (12, 14, 16):
                continue
            prods.append((d.eta(), d.phi()))
        out.append(prods)
    return out


def matched(eta, phi, products, dr):
    for prods in products:
        if prods and all((eta - e) ** 2 + wrap(phi - f) ** 2 < dr * dr for e, f in prods):
            return True
    return False


def finish_features(a, types, nmax, jet, clip):
    """Order by pT, cap at nmax, compute the 7 features relative to the jet axis."""
    jpt, jeta, jphi, jm, jpx, jpy = jet
    pt = np.hypot(a[:, PX], a[:, PY])
    o = np.argsort(-pt, kind="stable")[:nmax]
    a, types, pt = a[o], types[o], pt[o]
    n = len(o)
    eta = np.arcsinh(a[:, PZ] / pt)
    phi = np.arctan2(a[:, PY], a[:, PX])
    f = np.zeros((nmax, 7), np.float32)
    f[:n, 0] = pt
    f[:n, 1] = np.clip(eta - jeta, -clip, clip)
    f[:n, 2] = np.clip(wrap(phi - jphi), -clip, clip)
    ids = np.zeros(nmax, np.int64)
    ids[:n] = types
    return f, ids, a, n


# ============================================================================ workers


def jetclass_chunk(task):
    """Generate exactly task['n'] jets of class task['label']."""
    import pythia8mc as p8
    seed, label, chunk, n = task["seed"], task["label"], task["chunk"], task["n"]
    spec = JC_CLASSES[label]
    ncfg = len(spec["configs"])
    quotas = [n // ncfg + (k < n % ncfg) for k in range(ncfg)]
    feats, ids, jets = [], [], []
    nev = 0
    t0 = time.time()
    for icfg, quota in enumerate(quotas):
        if quota == 0:
            continue
        py = make_pythia(spec["configs"][icfg], pythia_seed(seed, KIND_CODE["jetclass"], label, chunk, icfg))
        rng = np_rng(seed, KIND_CODE["jetclass"], label, chunk, icfg)
        sj = p8.SlowJet(-1, JC["R"], JC["truth_ptmin"], DET["particle_etamax"], 2, 2)
        ev = py.event
        got = 0
        nev_cfg = 0
        while got < quota:
            nev_cfg += 1
            if nev_cfg > 2000 * quota + 10000:
                raise RuntimeError(f"class {JC_LABELS[label]}: too few jets accepted")
            if not py.next():
                continue
            sj.analyze(ev)
            products = None
            taken = 0
            for j in range(sj.sizeJet()):
                if got >= quota or taken >= JC["max_jets_per_event"]:
                    break
                p = sj.p(j)
                if abs(p.eta()) > JC["jet_etamax"] + 0.5:
                    continue
                a, pid = extract(ev, list(sj.constituents(j)))
                reco, types = calo_reco(a, pid, rng)
                if len(reco) == 0:
                    continue
                jet = four_vector_summary(reco)
                if not (JC["jet_ptmin"] <= jet[0] <= JC["jet_ptmax"] and abs(jet[1]) < JC["jet_etamax"]):
                    continue
                if spec["res"] is not None:
                    if products is None:
                        products = decay_products(py.process, spec["res"])
                    if not matched(jet[1], jet[2], products, JC["match_dr"]):
                        continue
                f, t, r, nc = finish_features(reco, types, JC["nmax"], jet, JC["clip"])
                charged = (t[:nc] != 0) & (t[:nc] != 2)
                if charged.any():
                    d0, sd0, z0, sz0 = impact_parameters(r[charged], jet[4], jet[5], jet[1], rng)
                    sub = f[:nc]
                    sub[charged, 3] = d0
                    sub[charged, 4] = sd0
                    sub[charged, 5] = z0
                    sub[charged, 6] = sz0
                feats.append(f)
                ids.append(t)
                jets.append((jet[0], jet[1], jet[2], jet[3], nc))
                got += 1
                taken += 1
        nev += nev_cfg
        del py
    return dict(index=task["index"], csts=np.stack(feats), csts_id=np.stack(ids),
                jets=np.array(jets, np.float64), labels=np.full(n, label, np.int64),
                nev=nev, seconds=time.time() - t0)


def hf_hadrons(ev, ptmin):
    """Weakly decaying (last of their flavour) b and c hadrons: (flavour, eta, phi).
    The only per-particle step is reading every |id| (a C-level map over the event);
    the few b/c hadron candidates are then checked one by one."""
    import pythia8mc as p8
    aid = np.fromiter(map(p8.Particle.idAbs, ev.particles()), np.int64)
    hf = heavy_flavour_array(aid)
    out = []
    for i in np.flatnonzero((hf > 0) & (aid >= 400)).tolist():
        q = ev[i]
        if q.pT() < ptmin:
            continue
        h = hf[i]
        if any(hf[d] == h for d in q.daughterList()):
            continue
        out.append((int(h), q.eta(), q.phi()))
    return out


def hard_leptons(proc):
    """(eta, phi) of charged leptons from W decays in the hard process (overlap removal)."""
    out = []
    for i in range(proc.size()):
        q = proc[i]
        if q.idAbs() in (11, 13, 15) and q.mother1() > 0 and proc[q.mother1()].idAbs() == 24:
            out.append((q.eta(), q.phi()))
    return out


def track_origin(ev, i, tau0_v0, cache):
    """Heavy-flavour origin of final-state particle i: 2 if it descends from a bottom
    hadron (incl. b -> c cascades), 1 from a charm hadron, 0 otherwise. The walk stops
    at a long-lived particle (tau0 > tau0_v0 mm, e.g. K0S, Lambda): its daughters come
    from a V0 vertex and are not counted as heavy-flavour tracks."""
    if i in cache:
        return cache[i]
    res = 0
    j = ev[i].mother1()
    first = True
    while j > 0:
        q = ev[j]
        hf = heavy_flavour(q.idAbs())
        if hf == 5:
            res = 2
            break
        if hf == 4:
            res = 1          # keep walking: a b above it wins
        elif first and q.tau0() > tau0_v0:
            break            # direct mother is a V0 / long-lived hadron
        if not (90 < q.statusAbs() < 100):
            break
        first = False
        j = q.mother1()
    cache[i] = res
    return res


def btag_chunk(task):
    """Generate exactly task['n'] jets with flavour quotas (light, charm, bottom)."""
    import pythia8mc as p8
    seed, chunk, n = task["seed"], task["chunk"], task["n"]
    quotas = task["quotas"]   # light, charm, bottom
    py = make_pythia(BT_SETTINGS, pythia_seed(seed, KIND_CODE["btag"], chunk))
    rng = np_rng(seed, KIND_CODE["btag"], chunk)
    sj = p8.SlowJet(-1, BT["R"], BT["jet_ptmin"], DET["particle_etamax"], 2, 2)
    ev = py.event
    nmax, nv = BT["nmax"], BT["nvtx"]
    buckets = {0: [], 1: [], 2: []}
    got = [0, 0, 0]
    nev = 0
    t0 = time.time()
    while any(g < qq for g, qq in zip(got, quotas)):
        nev += 1
        if nev > 1000 * n + 10000:
            raise RuntimeError("btag: too few jets accepted")
        if not py.next():
            continue
        sj.analyze(ev)
        jl = []
        for j in range(sj.sizeJet()):
            p = sj.p(j)
            if p.pT() >= BT["jet_ptmin"] and abs(p.eta()) < BT["jet_etamax"]:
                jl.append((j, p.pT(), p.eta(), p.phi(), sj.m(j), p.px(), p.py()))
        if not jl:
            continue
        had = hf_hadrons(ev, BT["lab_hadron_ptmin"])
        leps = hard_leptons(py.process)
        cache = {}
        for (j, pt, eta, phi, m, jpx, jpy) in jl:
            if any((eta - le) ** 2 + wrap(phi - lp) ** 2 < BT["lepton_veto_dr"] ** 2 for le, lp in leps):
                continue
            fl = 0
            for hf, he, hp in had:
                if (he - eta) ** 2 + wrap(hp - phi) ** 2 < BT["lab_dr"] ** 2:
                    fl = max(fl, hf)
            label = {0: 0, 4: 1, 5: 2}[fl]
            if got[label] >= quotas[label]:
                continue
            tr = [i for i in sj.constituents(j) if ev[i].isCharged()]
            if not tr:
                continue
            a, pid = extract(ev, tr)
            tpt = np.hypot(a[:, PX], a[:, PY])
            teta = np.arcsinh(a[:, PZ] / tpt)
            sel = (tpt > BT["trk_ptmin"]) & (np.abs(teta) < DET["trk_etamax"])
            if sel.sum() < BT["min_tracks"]:
                continue
            a, pid = a[sel], pid[sel]
            a = smear_track_pt(a, rng)
            types = particle_type(pid, a[:, Q])
            jet = (pt, eta, phi, m, jpx, jpy)
            f, t, r, nc = finish_features(a, types, nmax, jet, BT["clip"])
            d0, sd0, z0, sz0 = impact_parameters(r, jpx, jpy, eta, rng)
            f[:nc, 3] = d0
            f[:nc, 4] = sd0
            f[:nc, 5] = z0
            f[:nc, 6] = sz0
            # truth vertices: greedy merge of production vertices closer than 1 um;
            # vertex 0 is the primary vertex (origin)
            vid = np.full(nmax, -1, np.int64)
            ttype = np.full(nmax, -1, np.int64)
            vpos = np.zeros((nv, 4), np.float32)
            # P: the origin and the nc track vertices; close[k, m]: P[k], P[m] within 1 um.
            # Greedy in track order: track k joins the first earlier vertex ("rep", the
            # origin or a track that opened a vertex) that is close, else opens one.
            P = np.vstack([np.zeros((1, 3)), r[:nc, VX:VZ + 1]])
            close = np.sqrt(((P[:, None, :] - P[None, :, :]) ** 2).sum(-1)) < BT["vtx_merge_mm"]
            reps = [0]
            for k in range(1, nc + 1):
                hit = [iv for iv, rp in enumerate(reps) if close[k, rp]]
                if hit:
                    vid[k - 1] = hit[0]
                else:
                    reps.append(k)
                    vid[k - 1] = len(reps) - 1
            origin = [track_origin(ev, i, BT["v0_tau0_mm"], cache) for i in r[:nc, IDX].astype(int).tolist()]
            o = np.array(origin, np.int64)
            ttype[:nc] = np.where(o > 0, o, np.where(vid[:nc] == 0, 0, 3))
            W = P[reps]
            vpos[:len(reps), :3] = W
            vpos[:len(reps), 3] = np.sqrt((W ** 2).sum(1))
            buckets[label].append((f, t, (pt, eta, phi, m, nc), vid, ttype, vpos))
            got[label] += 1
    del py
    rows = buckets[0] + buckets[1] + buckets[2]
    return dict(index=task["index"],
                csts=np.stack([r[0] for r in rows]),
                csts_id=np.stack([r[1] for r in rows]),
                jets=np.array([r[2] for r in rows], np.float64),
                labels=np.array([0] * quotas[0] + [1] * quotas[1] + [2] * quotas[2], np.int64),
                vtx_id=np.stack([r[3] for r in rows]),
                track_type=np.stack([r[4] for r in rows]),
                vtx_pos=np.stack([r[5] for r in rows]),
                nev=nev, seconds=time.time() - t0)


def run_task(task):
    return (jetclass_chunk if task["kind"] == "jetclass" else btag_chunk)(task)

# ============================================================================ driver


def make_tasks(kind, n, seed, chunk, classes=None):
    tasks = []
    if kind == "jetclass":
        # `classes` (label numbers) restricts the file to those classes, balanced among them;
        # chunk seeds depend on (seed, label, chunk) only, so a class's jets are the same ones
        # the full ten-class file of that seed holds first.
        chosen = classes if classes else list(range(10))
        per = {c: n // len(chosen) + (i < n % len(chosen)) for i, c in enumerate(chosen)}
        # chunk list: class-major order (merge order); scheduling interleaves classes
        for c in chosen:
            k = 0
            left = per[c]
            while left > 0:
                m = min(chunk, left)
                tasks.append(dict(kind=kind, seed=seed, label=c, chunk=k, n=m))
                left -= m
                k += 1
    else:
        # exact global balance: N/3 per flavour (remainder to light, then charm);
        # each chunk's jets go one by one to the flavour with the largest remaining need
        need = [n // 3 + (f < n % 3) for f in range(3)]
        k = 0
        left = n
        while left > 0:
            m = min(chunk, left)
            q = [0, 0, 0]
            for _ in range(m):
                f = max(range(3), key=lambda i: (need[i], -i))
                need[f] -= 1
                q[f] += 1
            tasks.append(dict(kind=kind, seed=seed, chunk=k, n=m, quotas=q))
            left -= m
            k += 1
    for i, t in enumerate(tasks):
        t["index"] = i
    return tasks


# Relative cost of one jet per class (CPU seconds, one core, measured here), and of
# one Pythia initialisation; used only to order the work (longest first in a round).
JC_SEC_PER_JET = {0: 1 / 119, 1: 1 / 46, 2: 1 / 106, 3: 1 / 82, 4: 1 / 80,
                  5: 1 / 83, 6: 1 / 96, 7: 1 / 89, 8: 1 / 82, 9: 1 / 42}
BT_SEC_PER_JET = 1 / 200
INIT_SEC = 0.5


def task_cost(t):
    if t["kind"] == "jetclass":
        return t["n"] * JC_SEC_PER_JET[t["label"]] + INIT_SEC * len(JC_CLASSES[t["label"]]["configs"])
    return t["n"] * BT_SEC_PER_JET + INIT_SEC


def fmt_time(s):
    s = int(max(s, 0))
    return f"{s // 3600}h{s % 3600 // 60:02d}m{s % 60:02d}s" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


def generate(kind, n, seed, workers, chunk, quiet=False, classes=None):
    tasks = make_tasks(kind, n, seed, chunk, classes)
    # Round by round (chunk index), classes interleaved so that the progress rate is
    # representative; within a round the longest chunks first (estimated from the
    # per-class rates), so that with several workers no core idles at the end waiting
    # for a slow TTBarLep/HToWW2Q1L chunk started last. The order of execution does
    # not change the output.
    order = sorted(range(len(tasks)), key=lambda i: (tasks[i].get("chunk", 0), -task_cost(tasks[i]), i))
    sched = [tasks[i] for i in order]
    results = [None] * len(tasks)
    done = 0
    nev = 0
    t0 = time.time()

    def report(r):
        nonlocal done, nev
        results[r["index"]] = r
        done += len(r["labels"])
        nev += r["nev"]
        if not quiet:
            el = time.time() - t0
            rate = done / el if el > 0 else 0.0
            eta = (n - done) / rate if rate > 0 else 0.0
            print(f"[{kind}] {done}/{n} jets ({100.0 * done / n:.0f}%)  {rate:.1f} jets/s  "
                  f"elapsed {fmt_time(el)}  ETA {fmt_time(eta)}", file=sys.stderr, flush=True)

    if workers <= 1:
        for t in sched:
            report(run_task(t))
    else:
        import pythia8mc  # noqa: F401  (imported once here; forked workers inherit it)
        with mp.get_context("fork").Pool(workers, maxtasksperchild=4) as pool:
            for r in pool.imap_unordered(run_task, sched):
                report(r)
    wall = time.time() - t0
    out = {}
    for key in results[0]:
        if key in ("index", "nev", "seconds"):
            continue
        out[key] = np.concatenate([r[key] for r in results])
    # deterministic shuffle so that classes are mixed
    perm = np_rng(seed, KIND_CODE[kind], 999).permutation(len(out["labels"]))
    out = {k: v[perm] for k, v in out.items()}
    stats = dict(events=nev, wall_s=wall, jets_per_s=n / wall if wall > 0 else 0.0)
    if not quiet:
        print(f"[{kind}] done: {n} jets from {nev} events in {fmt_time(wall)} "
              f"({stats['jets_per_s']:.1f} jets/s, {workers} worker(s))", file=sys.stderr, flush=True)
    return out, stats


def truncate_mantissa(x, keep_bits):
    """Zero the low mantissa bits of float32 values (round toward zero) so that gzip
    compresses them better; relative precision 2^-keep_bits. Keeps |x| bounds and 0."""
    if keep_bits >= 23:
        return x
    u = np.ascontiguousarray(x, np.float32).view(np.uint32)
    m = np.uint32((0xFFFFFFFF << (23 - keep_bits)) & 0xFFFFFFFF)
    return (u & m).view(np.float32)


def write_h5(path, kind, data, attrs, keep_bits):
    import h5py
    import pythia8mc  # noqa: F401  (version recorded below)
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    tmp = os.path.join(d, f".{os.path.basename(path)}.tmp.{os.getpid()}")
    N = len(data["labels"])
    nmax = data["csts"].shape[1]
    mask = data["csts"][:, :, 0] > 0
    csts = np.where(mask[:, :, None], data["csts"], 0).astype(np.float32)
    csts = truncate_mantissa(csts, keep_bits)
    jets = data["jets"].astype(np.float32)
    jets[:, :4] = truncate_mantissa(jets[:, :4], keep_bits)
    arrays = dict(csts=csts, csts_id=np.where(mask, data["csts_id"], 0).astype(np.int64),
                  mask=mask, labels=data["labels"].astype(np.int64), jets=jets)
    if kind == "btag":
        arrays["vtx_id"] = np.where(mask, data["vtx_id"], -1).astype(np.int64)
        arrays["track_type"] = np.where(mask, data["track_type"], -1).astype(np.int64)
        arrays["vtx_pos"] = truncate_mantissa(data["vtx_pos"].astype(np.float32), keep_bits)
    cr = max(1, min(N, 512))
    try:
        with h5py.File(tmp, "w", libver="earliest", track_order=False) as f:
            for k, v in arrays.items():
                f.create_dataset(k, data=v, chunks=(cr,) + v.shape[1:], compression="gzip",
                                 compression_opts=6, shuffle=True, track_times=False)
            for k, v in attrs.items():
                f.attrs[k] = v
            f["csts"].attrs["columns"] = "pt [GeV], deta, dphi, d0 [mm], d0err [mm], dz [mm], dzerr [mm]"
            f["csts_id"].attrs["classes"] = ("0 photon, 1 negative hadron, 2 neutral hadron, 3 positive hadron, "
                                             "4 electron, 5 positron, 6 muon, 7 antimuon")
            f["jets"].attrs["columns"] = "pt [GeV], eta, phi, mass [GeV], number of stored constituents"
            if kind == "jetclass":
                f["labels"].attrs["classes"] = ", ".join(f"{i} {n}" for i, n in enumerate(JC_LABELS))
            else:
                f["labels"].attrs["classes"] = "0 light, 1 charm, 2 bottom"
                f["track_type"].attrs["classes"] = ("0 primary vertex, 1 from charm hadron, 2 from bottom hadron "
                                                    "(incl. b->c), 3 other secondary, -1 padding")
                f["vtx_id"].attrs["meaning"] = "truth vertex per track (0 = primary vertex), -1 padding"
                f["vtx_pos"].attrs["columns"] = "x, y, z, 3D flight distance [mm], indexed by vtx_id"
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def file_attrs(kind, n, seed, chunk, keep_bits, classes=None):
    import pythia8mc as p8
    py = p8.Pythia("", False)
    pyver = f"{py.parm('Pythia:versionNumber'):.3f}"
    settings = dict(common=COMMON)
    if kind == "jetclass":
        settings["classes"] = {JC_LABELS[c]: dict(label=c, pythia=v["configs"], truth_match_pdg=v["res"])
                               for c, v in JC_CLASSES.items()}
        settings["jets"] = JC
    else:
        settings["pythia"] = BT_SETTINGS
        settings["jets"] = BT
    settings["detector"] = DET
    return {
        "generator": GENERATOR_VERSION,
        "format_version": FORMAT_VERSION,
        "pythia_version": pyver,
        "pythia_python_package": "pythia8mc==8.317.2",
        "kind": kind,
        "n_jets": n,
        "seed": seed,
        "chunk": chunk,
        "float_mantissa_bits": keep_bits,
        "units": "pt, mass in GeV; d0, d0err, dz, dzerr, vertex positions in mm",
        "settings_json": json.dumps(settings, sort_keys=True),
        "command": f"python3 tools/jetgen/jetgen.py {kind} --n {n} --seed {seed} --chunk {chunk} --keep-bits {keep_bits}"
                   + (" --classes " + ",".join(JC_LABELS[c] for c in classes) if classes else ""),
    }


def parse_classes(text):
    """'QCD,TTBar' -> [0, 2] (JetClass label numbers, in JC_LABELS order); None for all ten."""
    if not text:
        return None
    names = [c.strip() for c in text.split(",") if c.strip()]
    unknown = [c for c in names if c not in JC_LABELS]
    if unknown or not names:
        sys.exit(f"--classes: unknown class {', '.join(unknown) or '(none given)'}; the classes are {', '.join(JC_LABELS)}")
    return sorted({JC_LABELS.index(c) for c in names})


def cmd_generate(args):
    if args.n <= 0:
        sys.exit("--n must be positive")
    classes = parse_classes(getattr(args, "classes", None))
    data, stats = generate(args.kind, args.n, args.seed, args.workers, args.chunk, args.quiet, classes)
    attrs = file_attrs(args.kind, args.n, args.seed, args.chunk, args.keep_bits, classes)
    write_h5(args.out, args.kind, data, attrs, args.keep_bits)
    if not args.quiet:
        print(f"wrote {args.out} ({os.path.getsize(args.out) / 1e6:.2f} MB)", file=sys.stderr)


# The bundled data set (data/): (file, kind, n, seed). Changing this changes data/.
BUNDLE = [
    ("jetclass_train.h5", "jetclass", 3000, 101),
    ("jetclass_val.h5", "jetclass", 1000, 102),
    ("jetclass_test.h5", "jetclass", 1000, 103),
    ("btag_train.h5", "btag", 6000, 201),
    ("btag_val.h5", "btag", 2000, 202),
    ("btag_test.h5", "btag", 2000, 203),
]
BUNDLE_CHUNK = 200
BUNDLE_KEEP_BITS = 12


def cmd_bundle(args):
    for name, kind, n, seed in BUNDLE:
        if args.only and name not in args.only:
            continue
        out = os.path.join(args.dir, name)
        print(f"== {out}: {kind} n={n} seed={seed}", file=sys.stderr, flush=True)
        data, _ = generate(kind, n, seed, args.workers, BUNDLE_CHUNK, args.quiet)
        write_h5(out, kind, data, file_attrs(kind, n, seed, BUNDLE_CHUNK, BUNDLE_KEEP_BITS), BUNDLE_KEEP_BITS)


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Generate JetClass-like and BTag-like jets with Pythia 8 for mpmlua.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
               "  python3 tools/jetgen/jetgen.py jetclass --n 3000 --seed 1 --out data/jetclass_train.h5\n"
               "  python3 tools/jetgen/jetgen.py btag --n 6000 --seed 2 --out data/btag_train.h5 --workers 2\n"
               "  python3 tools/jetgen/jetgen.py jetclass --n 200000 --classes QCD,TTBar --out data/generated/cwola_train.h5\n"
               "  python3 tools/jetgen/jetgen.py bundle            # regenerate data/*.h5\n")
    sub = ap.add_subparsers(dest="cmd", required=True)
    for kind, helptext in (("jetclass", "R=0.8 jets of the 10 JetClass classes (balanced)"),
                           ("btag", "R=0.4 ttbar jets, tracks only, light/charm/bottom (balanced)")):
        p = sub.add_parser(kind, help=helptext)
        p.add_argument("--n", type=int, required=True, help="number of jets")
        p.add_argument("--seed", type=int, default=1, help="master seed (default 1)")
        p.add_argument("--out", required=True, help="output HDF5 file")
        p.add_argument("--workers", type=int, default=1,
                       help="processes (output does not depend on it; default 1)")
        p.add_argument("--chunk", type=int, default=200,
                       help="jets per work unit; part of the seed derivation (default 200)")
        p.add_argument("--keep-bits", type=int, default=23,
                       help="float32 mantissa bits kept (23 = lossless; 12 = 2.4e-4 relative, "
                            "used for the bundled files to shrink them)")
        p.add_argument("--quiet", action="store_true")
        if kind == "jetclass":
            p.add_argument("--classes", help="comma-separated class names to generate, balanced among them "
                                             "(default all ten), e.g. QCD,TTBar for CWoLa")
        p.set_defaults(func=cmd_generate, kind=kind)
    p = sub.add_parser("bundle", help="regenerate the bundled files in data/")
    p.add_argument("--dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data"))
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--only", nargs="*", help="file names to (re)make, e.g. btag_val.h5")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_bundle)
    args = ap.parse_args(argv)
    # fjcore prints its banner on stdout; keep stdout clean by sending it to stderr
    sys.stdout.flush()
    os.dup2(2, 1)
    args.func(args)


if __name__ == "__main__":
    main()
