-- An error raised in a Lua callback invoked from Swift comes back unchanged: strings keep
-- their message and position, tables stay the same table.
local T = require "mpm.testing"

local payload = { code = 42 }
local ok, err = pcall(mpm.timeit, function() error(payload) end, 1)
assert(not ok)
assert(rawequal(err, payload), "the error table must be the very same table")
T.equal(err.code, 42, "error table field")

ok, err = pcall(mpm.timeit, function() error("inner failure") end, 1)
assert(not ok and err:find("host_callbacks.lua:%d+: inner failure"), err)

-- error() with no position and a non-string value
ok, err = pcall(mpm.timeit, function() error(17, 0) end, 1)
T.equal(err, 17, "numeric error value")

-- Nested: Lua -> Swift -> Lua -> Swift -> Lua error.
ok, err = pcall(mpm.timeit, function()
  mpm.timeit(function() error({ depth = 2 }) end, 1)
end, 1)
assert(not ok and type(err) == "table" and err.depth == 2)

-- A callback that succeeds many times and state stays consistent.
local count = 0
mpm.timeit(function() count = count + 1 end, 1000)
T.equal(count, 1000, "callback calls")
