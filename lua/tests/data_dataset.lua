-- mpm.data: opening jet files, the 0-based/1-based boundary, batches, errors.
local mpm = require "mpm"
local T = require "mpm.testing"

-- The repository root, from this script's own path (tests may run from any folder).
local root = debug.getinfo(1, "S").source:match("^@(.*)lua/tests/[^/]*$") or "./"
local function data(name) return root .. "data/" .. name end

-- Names are 1-based Lua sequences: NAMES[code] works for the 1-based codes Lua sees.
T.equal(#mpm.data.PARTICLE_TYPES, 8, "8 particle types")
T.equal(mpm.data.PARTICLE_TYPES[1], "photon", "type 1")
T.equal(mpm.data.PARTICLE_TYPES[8], "antimuon", "type 8")
T.equal(mpm.data.JETCLASS_CLASSES[1], "QCD", "class 1")
T.equal(mpm.data.JETCLASS_CLASSES[3], "TTBar", "class 3")
T.equal(mpm.data.BTAG_CLASSES[3], "bottom", "btag class 3")
T.equal(mpm.data.TRACK_ORIGINS[1], "primary vertex", "origin 1")
T.equal(mpm.data.FEATURES[4], "d0", "feature 4")

local ds = mpm.data.open(data("jetclass_val.h5"))
T.equal(ds.kind, "jetclass", "kind detected")
T.equal(#ds, ds.num_jets, "#ds")
T.equal(ds.max_particles, 128, "slots")
T.equal(ds.classes[1], "QCD", "classes")
T.equal(mpm.data.open(data("btag_train.h5")).kind, "btag", "btag detected")
T.equal(mpm.data.open(data("btag_train.h5"), {kind = "btag"}).max_particles, 15, "btag slots")

-- Jets 1..4 (inclusive); codes arrive 1-based.
local b = ds:read(1, 4)
T.equal(#b, 4, "#batch")
T.equal(b.batch_size, 4, "batch_size")
T.equal(b.offsets:size(1), 5, "offsets B+1")
T.equal(b.offsets[1]:item(), 0, "offsets start at 0")
T.equal(b.offsets[5]:item(), b.num_particles, "offsets end at T")
T.equal(b.features:size(1), b.num_particles, "features rows")
T.equal(b.features:size(2), 7, "features columns")
T.equal(b.types:min():item() >= 1 and b.types:max():item() <= 8, true, "types 1..8")
T.equal(b.jet_indices:tolist()[1], 1, "jet numbers from 1")
for i, label in ipairs(b.labels:tolist()) do
  T.equal(type(mpm.data.JETCLASS_CLASSES[label]), "string", "label " .. i .. " names a class")
end
T.equal(b.types, b.types, "the same tensor on each read")
T.equal(b:counts():sum():item(), b.num_particles, "counts")
T.equal(b.mask, nil, "no masking unless asked")

-- The padded view: 1-based codes in real slots, 0 in padding; it matches the packed rows.
local p = b:padded(128)
T.equal(p.features:size(2), 128, "padded length")
T.equal(p.mask:long():sum():item(), b.num_particles, "mask counts real particles")
local n1 = b:counts():tolist()[1]
T.equal(p.types[1][n1 + 1]:item(), 0, "padding type is 0")
T.equal(p.types[1][1]:item(), b.types[1]:item(), "first particle type")
T.close(p.features[1][1][1]:item(), b.features[1][1]:item(), 0, "first particle pt")

-- Index lists keep their order; an int64 tensor works too.
local picked = ds:read({10, 2, 2})
T.equal(table.concat(picked.jet_indices:tolist(), ","), "10,2,2", "index list order")
T.equal(ds:read(mpm.tensor({7})).jet_indices:item(), 7, "tensor of jet numbers")

-- BTag codes: vertex ids and origins are 1-based too.
local bt = mpm.data.open(data("btag_train.h5")):read(1, 50)
T.equal(bt.track_types:min():item() >= 1 and bt.track_types:max():item() <= 4, true, "origins 1..4")
T.equal(bt.vertex_ids:min():item() >= 1, true, "vertex ids from 1")
T.equal(bt.types:eq(1):long():sum():item() + bt.types:eq(3):long():sum():item(), 0, "no neutral particles in btag")

-- Bad input: each a clear error naming the file and the problem.
T.raises(function() mpm.data.open(data("missing.h5")) end, "missing.h5: no such file")
T.raises(function() mpm.data.open(root .. "data") end, "is a directory")
T.raises(function() mpm.data.open(data("README.md")) end, "is not an HDF5 file")
T.raises(function() mpm.data.open(data("jetclass_val.h5"), {kind = "btag"}) end, "has no dataset 'vtx_id'")
T.raises(function() mpm.data.open(data("jetclass_val.h5"), {knd = "btag"}) end, "unknown option 'knd'")
T.raises(function() mpm.data.open(data("jetclass_val.h5"), {kind = "top"}) end, "unknown kind 'top'")
T.raises(function() ds:read(0, 3) end, "out of range")
T.raises(function() ds:read(1, #ds + 1) end, "out of range")
T.raises(function() ds:read({1, #ds + 1}) end, "jet index " .. #ds .. " is out of range")
