-- Tensor bytes drive the Lua collector: 10,000 tensors of 4 MB each (40 GB in all), never
-- collected by hand, grow the resident memory by less than 1 GB. The growth is sampled during
-- the loop rather than read from the process's peak, which the tests run before this one (in the
-- same process) may already have set.
local before = mpm.memory()
local highest = before.rss
for i = 1, 10000 do
  local t = mpm.zeros(1024, 1024)  -- 4 MiB of float32
  t:add_(i)
  if i % 50 == 0 then highest = math.max(highest, mpm.memory().rss) end
end
local after = mpm.memory()
assert(highest - before.rss < 1024 * 1024 * 1024,
  ("resident memory grew by %.0f MiB (from %.0f MiB)"):format((highest - before.rss) / 2^20, before.rss / 2^20))
assert(after.collections > before.collections, "tensor memory should have triggered collections")
