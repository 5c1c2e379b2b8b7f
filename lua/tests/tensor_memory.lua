-- Tensor bytes drive the Lua collector: 10,000 tensors of 4 MB each, never collected by hand,
-- keep the peak resident memory under 1 GB.
local before = mpm.memory()
for i = 1, 10000 do
  local t = mpm.zeros(1024, 1024)  -- 4 MiB of float32
  t:add_(i)
end
local after = mpm.memory()
assert(after.peak_rss < 1024 * 1024 * 1024,
  ("peak resident memory %.0f MiB (started at %.0f MiB)"):format(after.peak_rss / 2^20, before.rss / 2^20))
assert(after.collections > 0, "tensor memory should have triggered collections")
