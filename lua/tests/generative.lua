-- The generative metrics of mpm.metrics (W1P, W1M, FPD, KPD and their truth-vs-truth floor):
-- hand cases, one-line errors for bad inputs, and every number against the jetnet package
-- (tools/generative_oracle.py, random jets and feature matrices). Without python3 and jetnet
-- (make deps installs them) the comparison is skipped with a message.
local T = require "mpm.testing"
local mpm = require "mpm.core"
local M = mpm.metrics
local root = debug.getinfo(1, "S").source:sub(2):match("^(.*)/lua/tests/[^/]*$") or "."

-- Hand cases.
T.close(M.wasserstein(mpm.tensor { 0, 1, 3 }, mpm.tensor { 5, 6, 8 }), 5, 1e-12, "w1 of a shift")
T.close(M.wasserstein(mpm.tensor { 0, 0, 1 }, mpm.tensor { 0, 1, 1 }), 1 / 3, 1e-12, "w1 of moved mass")
T.equal(M.wasserstein(mpm.tensor { 2 }, mpm.tensor { 2, 2 }), 0, "w1 of one value")
-- Two massless particles of pt 10 and 20 at deta 0.1 apart: m^2 = 2 pt1 pt2 (cosh 0.1 - 1).
local pair = mpm.tensor { { 10, 0, 0 }, { 20, 0.1, 0 }, { 5, 0, 0 } }
local offsets = mpm.tensor({ 0, 2, 3 }, { dtype = "int64" })
local masses = M.jet_mass(pair, offsets):tolist()
T.close(masses[1], math.sqrt(400 * (math.cosh(0.1) - 1)), 1e-4, "mass of two particles")
T.equal(masses[2], 0, "mass of one particle")
-- EFPs of the pair: sum pt 30, edge 2*10*20*0.1 = 40, double edge 4, wedge 10*2^2 + 20*1^2 = 60.
local efps = M.efps(pair, offsets):tolist()
for i, expected in ipairs { 30, 40, 4, 60, 1600 } do T.close(efps[1][i], expected, 1e-4, "efp " .. i) end
T.equal(efps[2], { 5, 0, 0, 0, 0 }, "efps of one particle")
local x = mpm.randn(300, 3)
T.close(M.frechet_distance(x, x), 0, 1e-9, "frechet distance of a sample with itself")
T.close(M.frechet_distance(x, x + 2), 12, 1e-6, "frechet distance of a shift: |mu|^2")

-- Errors: one line naming the function and the problem.
local jets = { features = pair, offsets = offsets }
T.raises(function() M.wasserstein(mpm.tensor {}, mpm.tensor { 1 }) end, "wasserstein: a sample is empty")
T.raises(function() M.wasserstein(mpm.tensor { 0 / 0 }, mpm.tensor { 1 }) end, "wasserstein: the samples contain NaN")
T.raises(function() M.generative { real = jets } end, "generative: real and generated are required")
T.raises(function() M.generative { real = jets, generated = { features = pair:narrow(2, 1, 2), offsets = offsets } } end,
  "generative: generated features must be a float32 tensor %[T, F%] with pt, deta, dphi first")
T.raises(function() M.generative { real = jets, generated = { features = mpm.randn(3, 7), offsets = offsets } } end,
  "generative: real has 3 features per particle but generated has 7")
T.raises(function() M.generative { real = { features = mpm.tensor { { 0 / 0, 0, 0 } }, offsets = mpm.tensor({ 0, 1 }, { dtype = "int64" }) }, generated = jets } end,
  "generative: real features hold NaN %(particle 1, feature 'pt'%)")
T.raises(function() M.generative { real = { features = pair:narrow(1, 1, 1), offsets = mpm.tensor({ 0, 1 }, { dtype = "int64" }) }, generated = jets } end,
  "generative: real has 1 jets; it needs at least 2")
T.raises(function() M.generative { real = { features = mpm.zeros(0, 3), offsets = mpm.tensor({ 0 }, { dtype = "int64" }) }, generated = jets } end,
  "generative: real has 0 jets")
T.raises(function() M.generative { real = jets, generated = { features = pair, offsets = offsets, particles = mpm.tensor({ 1 }, { dtype = "int64" }) } } end,
  "generative: w1p: a sample is empty")
T.raises(function() M.generative { real = jets, generated = { features = pair, offsets = offsets, particles = mpm.tensor({ 9 }, { dtype = "int64" }) } } end,
  "generative: generated particles: row 9 is outside 1..3")
T.raises(function() M.generative { real = jets, generated = jets, kpd = { size = 3 } } end, "generative: kpd: unknown option 'size'")
T.raises(function() M.generative { real = jets, generated = { features = pair, offsets = mpm.tensor({ 0, 2, 4 }, { dtype = "int64" }) } } end,
  "generative: generated offsets end at 4 but the packed tensor has 3 rows")
T.raises(function() M.fpd(mpm.randn(10, 3), mpm.randn(10, 4)) end, "fpd: real has 3 features but generated has 4")
T.raises(function() M.kpd(mpm.randn(10, 3), mpm.randn(10, 3), { batch_size = 1 }) end, "kpd: needs batches in 1..1000 and batch_size in 2..50000")
T.raises(function() M.kpd(mpm.randn(10, 3), mpm.randn(10, 3), { batch_size = 2 ^ 40 }) end, "batch_size in 2..50000, got 10 and 1099511627776")
T.raises(function() M.mmd(mpm.randn(10, 3), mpm.randn(10, 3), { degree = 2 ^ 40 }) end, "mmd: degree must be between 1 and 10")
T.raises(function() M.fpd(mpm.randn(10, 3), mpm.randn(10, 3), { max_samples = 2 ^ 40 }) end, "fpd: needs 2 <= min_samples <= max_samples <= 1000000")
T.raises(function() M.mmd(mpm.randn(1, 3), mpm.randn(10, 3)) end, "mmd: x has shape %[1,3%]; it needs at least 2 rows")

-- A perfect generator scores about its floor; a collapsed one does not. Smoke check on the
-- bundled data's scale without jetnet: real jets against themselves shifted by one jet.
local function synthetic(n, spread, seed)
  local generator = mpm.Generator(seed)
  local counts, rows = {}, {}
  local offs = { 0 }
  for j = 1, n do
    counts[j] = 5 + (j * 7) % 20
    offs[j + 1] = offs[j] + counts[j]
  end
  local total = offs[n + 1]
  local pt = mpm.rand({ total }, { generator = generator }) * 30 + 1
  local angles = mpm.randn({ total, 2 }, { generator = generator }) * spread
  rows = mpm.cat({ pt:unsqueeze(2), angles }, 2)
  return { features = rows, offsets = mpm.tensor(offs, { dtype = "int64" }) }
end
local same = M.generative { real = synthetic(200, 0.15, 1), generated = synthetic(200, 0.15, 2) }
local narrow = M.generative { real = synthetic(200, 0.15, 1), generated = synthetic(200, 0.05, 2) }
T.equal(same.jets, { reference = 100, real = 100, generated = 100 }, "jets per half")
assert(narrow.w1p.deta > 5 * narrow.floor.w1p.deta, "narrow angles: w1p(deta) " .. narrow.w1p.deta .. " vs floor " .. narrow.floor.w1p.deta)
assert(narrow.fpd > 5 * narrow.floor.fpd, "narrow angles: fpd " .. narrow.fpd .. " vs floor " .. narrow.floor.fpd)
assert(same.w1p.deta < 3 * same.floor.w1p.deta, "same distribution: w1p(deta) near the floor")

-- The comparison with jetnet.
if not os.execute("python3 -c 'import jetnet' >/dev/null 2>&1") then
  print("generative.lua: SKIPPED the jetnet comparison: python3 cannot import jetnet "
    .. "(make deps installs it: torch==2.13.0+cpu, then jetnet)")
  return
end
local path = os.tmpname()
assert(os.execute("python3 " .. mpm.files.quote(root .. "/tools/generative_oracle.py") .. " " .. mpm.files.quote(path)),
  "tools/generative_oracle.py failed")
local file = assert(io.open(path))
local oracle = mpm.json.decode(file:read("a"))
file:close()
os.remove(path)

-- Exact quantities: double precision on both sides from the same float32 inputs, so only
-- summation order differs; 1e-9 relative would pass, 1e-6 leaves room for other BLAS builds.
-- The largest relative deviations seen, of numbers (double) and of float32 tensors (masses,
-- EFPs; relative to at least 1, since the one-particle jet's mass is rounding on both sides).
local worst = { number = { 0, "-" }, tensor = { 0, "-" } }
local function check(actual, expected, what, absolute)
  local deviation = math.abs(actual - expected)
  local w = absolute and worst.tensor or worst.number
  local relative = deviation / math.max(math.abs(expected), absolute and 1 or 0)
  if relative > w[1] then w[1], w[2] = relative, what end
  if not (deviation <= 1e-6 * math.abs(expected) + (absolute or 0)) then
    error(("%s: jetnet %.17g, mpm %.17g"):format(what, expected, actual), 2)
  end
end
-- Estimates from resamplings: jetnet's draws and ours differ, so each is the true value plus
-- its own noise; they must agree within 3 combined standard errors (1e-4 absolute covers
-- errors that round to 0 when every resampling gives the same value).
local function agree(value, error, expected, expected_error, what)
  local allowed = 3 * math.sqrt(error ^ 2 + expected_error ^ 2) + 1e-4
  if not (math.abs(value - expected) <= allowed) then
    error(("%s: jetnet %.6g +- %.2g, mpm %.6g +- %.2g (allowed %.2g)"):format(what, expected, expected_error, value, error, allowed), 2)
  end
end

for _, case in ipairs(oracle.w1) do
  check(M.wasserstein(mpm.tensor(case.u), mpm.tensor(case.v)), case.w1, "w1 '" .. case.name .. "'")
end

local function sample(s)
  return { features = mpm.tensor(s.features), offsets = mpm.tensor(s.offsets, { dtype = "int64" }),
    particles = s.particles and mpm.tensor(s.particles, { dtype = "int64" }) }
end
local real, generated = sample(oracle.jets.real), sample(oracle.jets.generated)
-- jetnet's mass of a one-particle jet is a signed root of rounding (-7e-7 GeV); ours is 0.
for j, mass in ipairs(M.jet_mass(real.features, real.offsets):tolist()) do
  check(mass, oracle.jets.real.mass[j], "mass of jet " .. j, 1e-5)
end
-- EFPs come back as float32: 1e-6 relative is float32's own rounding.
for j, row in ipairs(M.efps(real.features, real.offsets):tolist()) do
  for i = 1, 5 do check(row[i], oracle.jets.real.efps[j][i], ("efp %d of jet %d"):format(i, j), 1e-6) end
end
local report = M.generative { real = real, generated = generated }
T.equal(report.jets, { reference = 120, real = 120, generated = 130 }, "jets per half")
for _, side in ipairs { "value", "floor" } do
  local ours, theirs = side == "value" and report or report.floor, oracle.jets[side]
  for i, name in ipairs { "pt", "deta", "dphi" } do check(ours.w1p[name], theirs.w1p[i], side .. " w1p " .. name) end
  check(ours.w1m, theirs.w1m, side .. " w1m")
  agree(ours.fpd, ours.fpd_error, theirs.fpd, theirs.fpd_error, side .. " fpd")
  agree(ours.kpd, ours.kpd_error, theirs.kpd, theirs.kpd_error, side .. " kpd")
end
-- The collapsed reconstruction is far above its floor on every particle feature.
for _, name in ipairs { "pt", "deta", "dphi" } do
  assert(report.w1p[name] > 5 * report.floor.w1p[name], "collapsed " .. name .. " stands out from the floor")
end

local f = oracle.features
local fx, fy = mpm.tensor(f.x), mpm.tensor(f.y)
check(M.frechet_distance(fx, fy), f.frechet_distance, "frechet distance")
check(M.mmd(fx, fy), f.mmd4, "mmd, degree 4")
check(M.mmd(fx, fy, { degree = 3 }), f.mmd3, "mmd, degree 3")
local value, err = M.fpd(fx, fy)
agree(value, err, f.fpd, f.fpd_error, "fpd of feature matrices")
value, err = M.kpd(fx, fy, { batch_size = 500 })
agree(value, err, f.kpd, f.kpd_error, "kpd of feature matrices")
print(("generative.lua: jetnet agrees to %.2g relative for numbers (%s), %.2g for float32 tensors (%s)")
  :format(worst.number[1], worst.number[2], worst.tensor[1], worst.tensor[2]))
print(("generative.lua: jetnet agrees: value w1m %.4g (jetnet %.4g), fpd %.4g +- %.2g (jetnet %.4g +- %.2g), kpd %.3g +- %.2g (jetnet %.3g +- %.2g)")
  :format(report.w1m, oracle.jets.value.w1m, report.fpd, report.fpd_error, oracle.jets.value.fpd, oracle.jets.value.fpd_error,
    report.kpd, report.kpd_error, oracle.jets.value.kpd, oracle.jets.value.kpd_error))
