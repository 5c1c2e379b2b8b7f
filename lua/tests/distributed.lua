-- mpm.distributed without mpirun: one rank, every collective an identity (MPI is never started),
-- and the argument checks. The multi-rank tests are in Tests/LuaBindingsTests/DistributedTests.swift.
local mpm = require "mpm"
local d = mpm.distributed
assert(d.rank() == 0 and d.size() == 1 and d.is_main() and not d.launched())
local t = mpm.tensor { 1.0, 2.0 }
assert(d.allreduce_(t) == t and d.allreduce_(t, "mean") == t and d.allreduce_(t, "max") == t)
assert(t[1]:item() == 1 and t[2]:item() == 2)
local list = { mpm.tensor { 3 }, mpm.tensor { { 4 } } }
assert(d.broadcast_(list, 0) == list and list[2][1][1]:item() == 4)
local g = d.allgather(mpm.tensor { { 1, 2 } })
assert(g:dim() == 3 and g:size(1) == 1 and g[1][1][2]:item() == 2)
d.barrier()
local function fails(pattern, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok and tostring(err):match(pattern), tostring(err))
end
fails("op must be \"sum\", \"mean\" or \"max\"", d.allreduce_, t, "min")
fails("op \"mean\" needs float32", d.allreduce_, mpm.tensor { 1 }, "mean")
fails("bool tensors are not reduced", d.allreduce_, mpm.tensor { 1 }:gt(0))
fails("must share a dtype", d.allreduce_, { mpm.tensor { 1 }, mpm.tensor { 1.0 } })
fails("item 2 of the list is a string", d.allreduce_, { mpm.tensor { 1 }, "x" })
fails("non%-empty list", d.broadcast_, {})
fails("root must be a rank from 0 to 0, got 1", d.broadcast_, t, 1)
-- the loader's shard: each rank's part of the same prepared batch
local root = debug.getinfo(1, "S").source:match("^@(.*)lua/tests/[^/]*$") or "./"
local ds = mpm.data.open(root .. "data/jetclass_train.h5")
local function loader(shard)
  return ds:loader { batch_size = 8, shuffle = true, seed = 3, mask = 0.4, drop_last = true, max_jets = 32, shard = shard }
end
local whole, a, b = loader():iter(), loader { rank = 0, size = 2 }:iter(), loader { rank = 1, size = 2 }:iter()
for _ = 1, 2 do
  local w, x, y = whole(), a(), b()
  assert(x.batch_size == 4 and y.batch_size == 4)
  assert((mpm.cat({ x.features, y.features }, 1) - w.features):abs():max():item() == 0)
  local parts = mpm.cat({ x.features:index_select(1, x.mask.dropped), y.features:index_select(1, y.mask.dropped) }, 1)
  assert((parts - w.features:index_select(1, w.mask.dropped)):abs():max():item() == 0)
  assert((mpm.cat({ x.mask.ranks, y.mask.ranks }, 1) - w.mask.ranks):abs():max():item() == 0)
end
fails("divisible by the shard size 3", loader, { rank = 0, size = 3 })
fails("shard rank must lie in 0..size%-1", loader, { rank = 2, size = 2 })
fails("shard needs drop_last", function() return ds:loader { batch_size = 8, shard = { rank = 0, size = 2 } } end)
print("distributed: ok")
