-- demo.lua: a tour of the host. Run with `mpmlua examples/demo.lua`.
print(("mpmlua %s on %s"):format(mpm.version, _VERSION))
local memory = mpm.memory()
print(("resident memory: %.1f MiB"):format(memory.rss / 2^20))
local seconds = mpm.timeit(function()
  local s = 0
  for i = 1, 1e6 do s = s + i end
end, 3)
print(("a million Lua additions: %.2f ms"):format(seconds * 1e3))
mpm.help(mpm.timeit)
