-- mpm.data preprocessing (fit, save, load, inverse), masking of a batch, and writers.
local mpm = require "mpm"
local T = require "mpm.testing"

local root = debug.getinfo(1, "S").source:match("^@(.*)lua/tests/[^/]*$") or "./"
local train = mpm.data.open(root .. "data/jetclass_train.h5")
local val = mpm.data.open(root .. "data/jetclass_val.h5")
local tmp = os.tmpname()
os.remove(tmp)

-- Quantile preprocessing: ~N(0,1) on held-out jets, invertible, saved and loaded.
local pre = train:fit_preprocessing{method = "quantile"}
T.equal(pre.method, "quantile", "method")
T.equal(pre.quantiles, 500, "500 quantiles")
local b = val:read(1, #val)
local z = pre:transform(b, 7)
for k = 1, 7 do
  local column = z.features:select(2, k)
  T.close(column:mean():item(), 0, 0.05, mpm.data.FEATURES[k] .. " mean")
  T.close(column:std():item(), 1, 0.1, mpm.data.FEATURES[k] .. " std")
end
-- Inverse: exact up to float rounding inside the fitted range (values beyond the fitted
-- extremes are clipped, as sklearn does, so the check uses the jets the transform was fitted on).
local fitted = train:read(1, #train)
local zf = pre:transform(fitted, 7)
local back = pre:inverse(zf.features, zf.types)
local scale = fitted.features:abs():max(1)
T.close(((back - fitted.features):abs() / (scale + 1e-6)):max():item(), 0, 1e-4, "inverse(transform(x)) = x")
T.equal(back:select(2, 4):masked_select(fitted.types:eq(1)):abs():max():item(), 0, "photon d0 back to 0")
pre:save(tmp .. "-pre.h5")
local loaded = mpm.data.load_preprocessing(tmp .. "-pre.h5")
T.equal((loaded:transform(b.features, b.types, 7) - z.features):abs():max():item(), 0, "loaded transform is the same")
local std = mpm.data.fit_preprocessing(train, {method = "standardise", jets = 500})
T.equal(std.method, "standardise", "standardise")
T.raises(function() train:fit_preprocessing{method = "log"} end, "unknown method 'log'")
T.raises(function() train:fit_preprocessing{jets = 0} end, "cannot fit on 0 jets")
T.raises(function() mpm.data.load_preprocessing(root .. "data/btag_train.h5") end, "not a preprocessing file")

-- Masking a batch: floor(frac * n) per jet, 1-based rows and ranks, seeded.
local m = mpm.data.mask(b, 0.4, 3)
T.equal(b.mask.fraction, 0.4, "stored on the batch")
T.equal(m.dropped_offsets[#m.dropped_offsets]:item(), m.dropped:numel(), "dropped offsets end")
local again = mpm.data.mask(b, 0.4, 3)
T.equal((again.dropped - m.dropped):abs():sum():item(), 0, "same seed, same split")
T.equal(m.ranks[1]:item(), 1, "first rank is 1")
T.raises(function() mpm.data.mask(b, 2) end, "fraction must lie in")
T.raises(function() mpm.data.mask(3, 0.4) end, "data.Batch expected")

-- Writing jets (reference schema) and reading them back.
local part = val:read(1, 200)
mpm.data.write(tmp .. "-jets.h5", part, {attributes = {note = "lua test", version = 2}})
local back_ds = mpm.data.open(tmp .. "-jets.h5")
T.equal(#back_ds, 200, "written jets")
local reread = back_ds:read(1, 200)
T.equal((reread.features - part.features):abs():max():item(), 0, "features round trip")
T.equal((reread.types - part.types):abs():max():item(), 0, "types round trip")
T.equal((reread.labels - part.labels):abs():max():item(), 0, "labels round trip")

-- Generated jets built from tensors (1-based types), with kinematics summed from constituents.
local gen = mpm.data.batch{
  features = mpm.tensor({{100, 0.2, -0.1, 0, 0, 0, 0}, {50, -0.3, 0.25, 0.01, 0.01, 0.02, 0.02}}):float(),
  types = mpm.tensor({4, 2}), offsets = mpm.tensor({0, 2}), labels = mpm.tensor({3})}
mpm.data.write(tmp .. "-gen.h5", {gen, gen}, {recompute_jets = true, length = 16})
local g = mpm.data.open(tmp .. "-gen.h5"):read(1, 2)
T.equal(g.labels:tolist()[2], 3, "label kept 1-based")
T.equal(g.types:tolist()[1], 4, "type kept 1-based")
local mass = math.sqrt(2 * 100 * 50 * (math.cosh(0.5) - math.cos(0.35)))
T.close(g.jets[1][4]:item(), mass, 1e-3, "mass from constituents")

-- Named tensors (embeddings, predictions).
mpm.data.write(tmp .. "-emb.h5", {embeddings = mpm.randn(4, 3), labels = mpm.tensor({1, 2, 3, 4})})
T.raises(function() mpm.data.write(tmp .. "-bad.h5", {x = 3}) end, "'x' must be a tensor")
T.raises(function() mpm.data.write(tmp .. "-bad.h5", part, {lenght = 3}) end, "unknown option 'lenght'")
T.raises(function() mpm.data.write(tmp .. "-bad.h5", part, {length = 5}) end, "more than the 5 slots")
T.raises(function() mpm.data.write("/no/such/folder/x.h5", part) end, "does not exist")
T.equal(io.open(tmp .. "-bad.h5"), nil, "nothing written on error")

for _, suffix in ipairs({"-pre.h5", "-jets.h5", "-gen.h5", "-emb.h5"}) do os.remove(tmp .. suffix) end
