-- mpm.explore: embedding a file equals calling the backbone by hand and pooling;
-- PCA against numpy (and a known covariance); neighbours against brute force; the probe on
-- separable and on shuffled labels; save/load exact (and readable by h5py); one-line errors for
-- bad inputs (mpm.linalg itself: tensor_linalg.lua); plots (PNG and terminal text); docstrings with
-- an example on every function. Without python3 + numpy + h5py the numpy checks are skipped.
local T = require "mpm.testing"
local root = debug.getinfo(1, "S").source:sub(2):match("^(.*)/lua/tests/[^/]*$") or "."
local data = root .. "/data/jetclass_test.h5"
local dir = os.tmpname()
os.remove(dir)
mpm.files.mkdir(dir)
local function path(name) return dir .. "/" .. name end

local function one_line(f, pattern)
  local message = T.raises(f, pattern)
  T.equal(message:find("\n"), nil, "one line: " .. message)
  return message
end

-- A tiny backbone (random weights: the arithmetic is what is tested) with its preprocessing.
local ds = mpm.data.open(data)
ds:fit_preprocessing { jets = 300 }:save(path("preprocessing.h5"))
mpm.manual_seed(3)
local model = mpm.MPM { preset = "tiny" }
model:save_backbone(path("backbone.h5"), { preprocessing = path("preprocessing.h5") })

-- Embedding a file = loading the backbone, preprocessing and pooling by hand.
local E = mpm.explore.embed(path("backbone.h5"), data, { jets = 250, batch_size = 100 })
T.equal(#E, 250, "jets")
local bb, record = mpm.load_backbone(path("backbone.h5"))
local pre = mpm.data.load_preprocessing(record.preprocessing)
bb:eval()
local by_hand = {}
for first = 1, 250, 100 do
  local last = math.min(250, first + 99)
  local batch = pre:transform(ds:read(first, last), first)
  local particles = mpm.no_grad(function() return bb(batch.features, batch.types, batch.offsets) end)
  -- bb(batch) is the same call.
  local same = mpm.no_grad(function() return bb(batch) end)
  T.equal((same - particles):abs():max():item(), 0, "bb(batch) = bb(features, types, offsets)")
  by_hand[#by_hand + 1] = particles:segment_mean(batch.offsets)
end
T.close((mpm.cat(by_hand) - E.vectors):abs():max():item(), 0, 1e-6, "embed = backbone by hand + mean pool")
T.equal(E.labels:tolist(), ds:read(1, 250).labels:tolist(), "labels")
T.close((E.pt - ds:read(1, 250).jets:select(2, 1)):abs():max():item(), 0, 0, "pt from batch.jets")
T.equal(E.classes[1], "QCD", "class names")
local again = mpm.explore.embed(bb, data, { jets = 250, batch_size = 100, preprocessing = pre })
T.equal((again.vectors - E.vectors):abs():max():item(), 0, "a module with its preprocessing")
T.equal(bb.training, false, "the module's mode is restored")
local R = mpm.explore.embed(path("backbone.h5"), data, { jets = 20, pool = "registers" })
T.equal(R.vectors:shape(), { 20, E.vectors:size(2) }, "register pooling")
local M = mpm.explore.embed(path("backbone.h5"), data, { jets = 20, pool = function(p, b) return p:segment_max(b.offsets) end })
local X = mpm.explore.embed(path("backbone.h5"), data, { jets = 20, pool = "max" })
T.equal((M.vectors - X.vectors):abs():max():item(), 0, "a pooling function")
T.equal(mpm.explore.embed(path("backbone.h5"), data, { jets = { 5, 2 } }).jets:tolist(), { 5, 2 }, "chosen jets")

-- Bad inputs: one clear line each.
local bad = path("bad.h5")
if os.execute("python3 -c 'import h5py' >/dev/null 2>&1") then
  os.execute(("python3 - %s %s <<'EOF'\nimport sys, h5py\nsrc, dst = h5py.File(sys.argv[1]), h5py.File(sys.argv[2], 'w')\n" ..
    "for k in src: dst[k] = src[k][:][..., :5] if k == 'csts' else src[k][:]\nfor a, v in src.attrs.items(): dst.attrs[a] = v\nEOF")
    :format(mpm.files.quote(data), mpm.files.quote(bad)))
  one_line(function() mpm.explore.embed(path("backbone.h5"), bad) end, "expected %(1000,128,7%)")
end
one_line(function() mpm.explore.embed(mpm.nn.Linear(7, 4), data) end, "the backbone is a Linear, not an MPM backbone")
one_line(function() mpm.explore.embed(data, data) end, "is not a saved MPM backbone")
one_line(function() mpm.explore.embed(path("missing.h5"), data) end, "no such backbone file")
one_line(function() mpm.explore.embed(path("backbone.h5"), data, { jets = 5000 }) end, "jets = 5000, but the file holds 1000 jets")
one_line(function() mpm.explore.embed(path("backbone.h5"), data, { pool = "median" }) end, "pool must be")
one_line(function() E:neighbours(1, 250) end, "k = 250 is larger than the 249 jets available")
one_line(function() E:pca(1000) end, "k must be an integer in 1..")
one_line(function() E:select("Zprime") end, "no class \"Zprime\"")
T.raises(function() mpm.explore.embed(path("backbone.h5"), data, { colour = 1 }) end, "unknown option 'colour'")

-- Neighbours against brute force (cosine and euclidean).
local rows = E.vectors:tolist()
local function brute(i, metric)
  local out = {}
  for j, r in ipairs(rows) do
    if j ~= i then
      local dot, na, nb, sq = 0, 0, 0, 0
      for k = 1, #r do
        dot, na, nb = dot + r[k] * rows[i][k], na + r[k] ^ 2, nb + rows[i][k] ^ 2
        sq = sq + (r[k] - rows[i][k]) ^ 2
      end
      out[#out + 1] = { j, metric == "cosine" and 1 - dot / math.sqrt(na * nb) or math.sqrt(sq) }
    end
  end
  table.sort(out, function(a, b) return a[2] < b[2] end)
  return out
end
for _, metric in ipairs { "cosine", "euclidean" } do
  for _, i in ipairs { 1, 17, 250 } do
    local idx, dist = E:neighbours(i, 5, { metric = metric })
    local want = brute(i, metric)
    for r = 1, 5 do
      T.close(dist[r]:item(), want[r][2], 1e-4, ("%s distance %d of jet %d"):format(metric, r, i))
      -- The same jet, or one at (numerically) the same distance.
      local got = idx[r]:item()
      if got ~= want[r][1] then T.close(brute(i, metric)[r][2], dist[r]:item(), 1e-4, "tie") end
    end
  end
end
local by_vector = E:neighbours(E.vectors[3], 1)
T.equal(by_vector[1]:item(), 3, "a vector's nearest jet is itself")

-- PCA: a known covariance (axes with variances 9, 4, 1) and numpy on the embeddings.
local g = mpm.Generator(7)
local known = mpm.explore.new { vectors = mpm.randn(4000, 3, { generator = g }) * mpm.tensor { { 3., 2, 1 } } }
local _, ratio, comps = known:pca(3)
for k, expected in ipairs { 9 / 14, 4 / 14, 1 / 14 } do T.close(ratio[k]:item(), expected, 0.05, "explained " .. k) end
T.close(comps[1][1]:item(), 1, 0.01, "first component is the x axis")
local P, explained = E:pca(3)
T.equal(P:shape(), { 250, 3 }, "projections")
E:save(path("E.h5"))
if os.execute("python3 -c 'import numpy, h5py' >/dev/null 2>&1") then
  local out = path("numpy.txt")
  os.execute(("python3 - %s %s <<'EOF'\nimport sys, h5py, numpy as np\nf = h5py.File(sys.argv[1])\nx = f['vectors'][:].astype(np.float64)\n" ..
    "x = x - x.mean(0)\nw, v = np.linalg.eigh(np.cov(x.T))\nw, v = w[::-1][:3], v[:, ::-1][:, :3]\np = x @ v\n" ..
    "np.savetxt(sys.argv[2], np.concatenate([w / np.linalg.eigvalsh(np.cov(x.T)).sum(), np.abs(p[:5]).ravel()]))\nEOF")
    :format(mpm.files.quote(path("E.h5")), mpm.files.quote(out)))
  local values = {}
  for line in io.lines(out) do values[#values + 1] = tonumber(line) end
  for k = 1, 3 do T.close(explained[k]:item(), values[k], 1e-4, "explained vs numpy " .. k) end
  for i = 1, 5 do
    for k = 1, 3 do T.close(math.abs(P[i][k]:item()), values[3 + (i - 1) * 3 + k], 1e-3, "projection vs numpy") end
  end
else
  print("explore.lua: SKIPPED the numpy PCA comparison: python3 cannot import numpy and h5py")
end

-- Save/load: exact, and the source survives.
local L = mpm.explore.load(path("E.h5"))
T.equal((L.vectors - E.vectors):abs():max():item(), 0, "vectors round trip")
T.equal(L.labels:tolist(), E.labels:tolist(), "labels round trip")
T.equal((L.mass - E.mass):abs():max():item(), 0, "mass round trip")
T.equal(L.classes, E.classes, "classes round trip")
T.equal(L.source.backbone, E.source.backbone, "source round trip")
one_line(function() mpm.explore.load(data) end, "is not a saved embeddings file")

-- The probe: ~100% on linearly separable data, ~chance on shuffled labels.
local n, classes = 600, 3
local labels = (mpm.arange(0, n):float() / classes):floor() * -classes + mpm.arange(0, n) + 1
labels = labels:long()
local centres = mpm.randn(classes, 16, { generator = g }) * 4
local sep = mpm.explore.new { vectors = centres:index_select(1, labels) + mpm.randn(n, 16, { generator = g }) * 0.5, labels = labels }
local probe = sep:probe()
T.close(probe.accuracy, 1, 0.02, "separable: ~100%")
T.equal(probe.train + probe.test, n, "split")
T.equal(type(probe.per_class["class 1"]), "number", "per-class accuracy")
local shuffled = mpm.explore.new { vectors = sep.vectors, labels = labels:index_select(1, mpm.randperm(n, { generator = g })) }
local chance = shuffled:probe().accuracy
T.equal(chance < 0.5, true, "shuffled labels: ~chance (1/3), got " .. chance)
T.equal(tostring(probe):match("^probe") ~= nil, true, "probe prints")

-- Selection, class distances, printing.
local qcd = E:select("QCD")
T.equal(qcd.labels:eq(1):all():item(), true, "select by name")
T.equal(#E:select(E.pt:gt(E.pt:mean())), E.pt:gt(E.pt:mean()):long():sum():item(), "select by mask")
T.equal(#E:select { 1, 2 }, E.labels:le(2):long():sum():item(), "select several")
local m, summary = sep:class_distances()
T.equal(m:shape(), { 3, 3 }, "class distance matrix")
T.equal(summary.between > 3 * summary.within, true, "separable classes are far apart")
T.equal(tostring(E):match("^Embeddings: 250 jets x %d+ dims") ~= nil, true, "tostring(E)")

-- Two backbones on the same jets.
mpm.manual_seed(4)
mpm.MPM { preset = "tiny" }:save_backbone(path("other.h5"), { preprocessing = path("preprocessing.h5") })
local cmp = mpm.explore.compare({ path("backbone.h5"), path("other.h5"), path("backbone.h5") }, data, { jets = 200, k = 5 })
T.close(cmp.knn_agreement[1][3]:item(), 1, 1e-9, "a backbone agrees with itself")
T.equal(cmp.knn_agreement[1][2]:item() < 1, true, "different backbones differ")
T.equal(cmp.probe[1].accuracy, cmp.probe[3].accuracy, "same probe split")
T.equal(#tostring(cmp):gmatch("\n")() > 0, true, "compare prints")

-- Plots: a PNG, and terminal text.
if mpm.plot.available() then
  T.equal(E:plot { out = path("pca.png") }, path("pca.png"), "pca png")
  T.equal(mpm.files.exists(path("pca.png")), true, "png written")
  T.equal(mpm.plot.hist { values = E.mass, groups = E.labels, names = E.classes, out = path("mass.png") }, path("mass.png"), "hist png")
  T.equal(E:plot { terminal = "dumb", color = "pt" }, "dumb", "terminal plot")
end
one_line(function() mpm.plot.scatter { x = { 1 }, y = { 2 }, terminal = "none" } end, "out= %(a .png path%) is required")
T.equal(mpm.plot.terminal_kind("auto"), "none", "scripts draw nothing in the terminal")

-- Every function has a docstring with an example line.
local function documented(name, f)
  local doc = mpm.doc(f)
  T.equal(doc ~= nil, true, name .. " has a docstring")
  local example = doc:find("\n  [^\n]*[%w_]+[%.:][%w_]+[%({]") or doc:find("Example: [^\n]*[%w_]+[%.:][%w_]+[%({]")
  T.equal(example ~= nil, true, name .. " has an example: " .. doc)
end
for _, t in ipairs { { "mpm.explore.", mpm.explore }, { "E:", mpm.explore.Embeddings }, { "mpm.linalg.", mpm.linalg } } do
  for name, f in pairs(t[2]) do
    if type(f) == "function" and name:sub(1, 1) ~= "_" then documented(t[1] .. name, f) end
  end
end
for _, name in ipairs { "scatter", "hist", "sixel_supported", "terminal_kind" } do documented("mpm.plot." .. name, mpm.plot[name]) end

os.execute("rm -rf " .. mpm.files.quote(dir))
