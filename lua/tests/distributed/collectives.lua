-- Run under `mpirun -n K` (K >= 2) by Tests/LuaBindingsTests/DistributedTests.swift: the values
-- of every collective of mpm.distributed, and the mismatch checks. Rank 0 prints
-- "collectives: ok".
local d = mpm.distributed
local r, k = d.rank(), d.size()
assert(k >= 2, "run me with mpirun -n 2 or more")
assert(d.launched() and d.is_main() == (r == 0))
local function same(a, b, what)
  assert(table.concat(a:shape(), "x") == table.concat(b:shape(), "x") and (a - b):abs():max():item() < 1e-6, what .. ": " .. tostring(a) .. " vs " .. tostring(b))
end
local total = k * (k - 1) / 2 -- sum of the ranks

local t = mpm.tensor { 1.0, 2.0, 3.0 } * (r + 1)
assert(d.allreduce_(t) == t, "allreduce_ returns its argument")
same(t, mpm.tensor { 1.0, 2.0, 3.0 } * (total + k), "sum")
local m = mpm.tensor { { 2.0, 4.0 } } * r
d.allreduce_(m, "mean")
same(m, mpm.tensor { { 2.0, 4.0 } } * (total / k), "mean")
local x = mpm.tensor { r, -r }
d.allreduce_(x, "max")
assert(x[1]:item() == k - 1 and x[2]:item() == 0, "max: " .. tostring(x))
-- a list goes as one buffer; a transposed (non-contiguous) view is written back in place
local base = mpm.tensor { { 1.0, 2.0 }, { 3.0, 4.0 } }
local list = { mpm.tensor { 1.0 } * r, base:t() }
d.allreduce_(list)
same(list[1], mpm.tensor { total * 1.0 }, "list item 1")
same(base, mpm.tensor { { 1.0, 2.0 }, { 3.0, 4.0 } } * k, "list item 2 (a view)")

local b = mpm.tensor { { 1, 2 }, { 3, 4 } } + 10 * r
d.broadcast_(b, 0)
same(b, mpm.tensor { { 1, 2 }, { 3, 4 } }, "broadcast from 0")
local c = mpm.tensor { 1.0 } * r
d.broadcast_(c, k - 1)
same(c, mpm.tensor { k - 1.0 }, "broadcast from the last rank")

local g = d.allgather(mpm.tensor { r, 10 * r })
assert(g:size(1) == k and g:size(2) == 2)
for i = 1, k do assert(g[i][1]:item() == i - 1 and g[i][2]:item() == 10 * (i - 1), "allgather: " .. tostring(g)) end

-- disagreements are errors on every rank, not hangs
local ok, err = pcall(d.allreduce_, mpm.zeros(2 + r))
assert(not ok and err:match("the ranks disagree %(element counts from 2 to %d+%)"), tostring(err))
ok, err = pcall(d.allreduce_, r == 0 and mpm.zeros(2) or mpm.zeros(2, 1))
assert(not ok and err:match("different shapes"), tostring(err))
ok, err = pcall(d.allreduce_, r == 0 and mpm.zeros(2) or mpm.tensor { 1, 2 })
assert(not ok and err:match("different dtypes"), tostring(err))
ok, err = pcall(d.allreduce_, mpm.zeros(2), r == 0 and "sum" or "max")
assert(not ok and err:match("different ops"), tostring(err))
if r == 0 then ok, err = pcall(d.barrier) else ok, err = pcall(d.allreduce_, mpm.zeros(1)) end
assert(not ok and err:match("different operations"), tostring(err))
ok, err = pcall(d.broadcast_, mpm.zeros(1), k)
assert(not ok and err:match("root must be a rank from 0"), tostring(err))
d.barrier()
if r == 0 then print("collectives: ok") end
