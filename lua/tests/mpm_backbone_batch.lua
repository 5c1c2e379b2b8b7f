-- A Swift backbone called with one data.Batch uses its features, types (1-based) and offsets:
-- bb(batch) gives the same three results as bb(batch.features, batch.types, batch.offsets); a
-- loaded backbone finds its preprocessing beside its file.
local T = require "mpm.testing"
local root = debug.getinfo(1, "S").source:sub(2):match("^(.*)/lua/tests/[^/]*$") or "."
mpm.manual_seed(4)

local ds = mpm.data.open(root .. "/data/jetclass_train.h5")
local loader = ds:loader { batch_size = 6, shuffle = false, seed = 5, max_jets = 12 }
local batch
for b in loader:iter() do batch = b; break end

local model = mpm.MPM { preset = "tiny" }
local bb = model:backbone()
model:eval()
local g <close> = mpm.no_grad()
local a1, a2, a3 = bb(batch)
local b1, b2, b3 = bb(batch.features, batch.types, batch.offsets)
T.equal(a1:size(1), batch.num_particles, "one row per particle")
T.equal((a1 - b1):abs():max():item(), 0, "particles match the explicit call")
T.equal((a2 - b2):abs():max():item(), 0, "registers+particles match the explicit call")
T.equal((a3 - b3):abs():max():item(), 0, "offsets match the explicit call")
local c1 = bb:forward(batch)
T.equal((c1 - b1):abs():max():item(), 0, "bb:forward(batch) as well")
T.raises(function() bb(batch, batch) end, "expected arguments %(features, types, offsets%) but got 6")
T.raises(function() mpm.nn.Linear(3, 4)(batch) end, "Linear: argument 1 is a batch, but this module takes %(x%)")

-- The record's preprocessing path is where training ran ("runs/x/preprocessing.h5"); loaded
-- from elsewhere, the file of that name beside the backbone is found instead.
local dir = os.tmpname()
os.remove(dir)
mpm.files.mkdir(dir)
ds:fit_preprocessing { jets = 50 }:save(dir .. "/preprocessing.h5")
model:save_backbone(dir .. "/backbone.h5", { preprocessing = "runs/elsewhere/preprocessing.h5" })
local _, record = mpm.load_backbone(dir .. "/backbone.h5")
T.equal(record.preprocessing, dir .. "/preprocessing.h5", "preprocessing found beside the backbone")
T.equal(mpm.data.load_preprocessing(record.preprocessing) ~= nil, true, "and it loads")
model:save_backbone(dir .. "/other.h5", { preprocessing = "missing/nowhere.h5" })
T.equal(select(2, mpm.load_backbone(dir .. "/other.h5")).preprocessing, "missing/nowhere.h5", "a path found nowhere stays as stored")
os.execute("rm -rf '" .. dir .. "'")
print("mpm_backbone_batch: ok")
