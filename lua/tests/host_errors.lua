-- Errors raised by Swift functions reach Lua as ordinary errors with the argument position,
-- and skipped Swift cleanup never leaks: 100,000 failing calls leave resident memory flat.
local T = require "mpm.testing"

T.raises(function() mpm.timeit("not a function") end,
  "bad argument #1 to 'timeit' %(function expected, got string%)")
T.raises(function() mpm.timeit(function() end, 2.5) end,
  "bad argument #2 to 'timeit' %(number has no integer representation%)")
T.raises(function() mpm.timeit(function() end, "x") end,
  "bad argument #2 to 'timeit' %(number expected, got string%)")
T.raises(function() mpm.timeit(function() end, 0) end, "repeats must be at least 1, got 0")
-- Integral floats are integers.
assert(mpm.timeit(function() end, 2.0) >= 0)

-- The message carries the caller's position.
local _, message = pcall(mpm.timeit, "x")
assert(message:find("bad argument #1"), message)
local ok, located = pcall(function() mpm.timeit(1) end)
assert(not ok and located:find("host_errors.lua:%d+:"), located)

local function hammer(n)
  for _ = 1, n do
    local ok2, err = pcall(mpm.timeit, {}, 3.5)
    if ok2 or not err:find("bad argument #1 to '[%w.]*timeit'") then error("unexpected result: " .. tostring(err)) end
  end
end
hammer(20000)  -- warm up: buffers, interned strings
collectgarbage()
local before = mpm.memory().rss
hammer(100000)
collectgarbage()
local growth = mpm.memory().rss - before
assert(growth < 4 * 1024 * 1024, ("resident memory grew by %d bytes over 100,000 failing calls"):format(growth))
