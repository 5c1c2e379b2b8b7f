-- Fault: a module container that would contain itself (docs/reliability.md, "Module cycles").
-- Before: `s:append(s); s(x)` overflowed the stack (segfault). Now every way of building a
-- cycle is refused with one clear error, and walks of a cycle made behind the checks' back
-- (a plain table filled later) still end.
-- usage: mpmlua tools/faults/container_cycle.lua [--short]
local T = require "mpm.testing"
local nn = mpm.nn
local cycle = "would make a cycle %(a module cannot contain itself%)"

-- A Swift container appended to itself: the original crash, refused; the container still works.
local s = nn.Sequential(nn.Linear(8, 8))
local msg = T.raises(function() s:append(s) end, "Sequential:append: adding this module " .. cycle)
T.equal(select(2, msg:gsub("\n", "")), 0, "the error is one line")
T.equal(#s, 1, "the refused append changed nothing")
T.equal(table.concat(s(mpm.randn(4, 8)):shape(), ","), "4,8", "the container still runs")

-- Two containers, each in the other; deeper nesting too.
local a, b = nn.Sequential(), nn.ModuleList()
a:append(b)
T.raises(function() b:append(a) end, "ModuleList:append: adding this module " .. cycle)
local outer = nn.Sequential(nn.Sequential(a))
T.raises(function() a:append(outer) end, "Sequential:append: adding this module " .. cycle)

-- Lua modules: a field holding the module itself, or anything that holds it.
local Box = nn.Module:extend "Box"
function Box:init(inner) self.inner = inner end
function Box:forward(x) return self.inner(x) end
local box = Box(nn.Linear(2, 2))
T.raises(function() box.me = box end, "Box: setting field 'me' " .. cycle)
T.raises(function() box.list = { 1, { box } } end, "Box: setting field 'list' " .. cycle)
T.raises(function() box.seq = nn.Sequential(Box(nn.Sequential(box))) end, "Box: setting field 'seq' " .. cycle)

-- Mixed: a Swift container refuses a Lua module that holds the container.
local seq = nn.Sequential(nn.Linear(4, 4))
T.raises(function() seq:append(Box(seq)) end, "Sequential:append: adding this module " .. cycle)
T.raises(function() Box(seq).inner2 = nil; local w = Box(nn.Identity()); w.h = { seq }; seq:append(w) end,
  "Sequential:append: adding this module " .. cycle)

-- Sharing one module in two places is not a cycle.
local shared = nn.Linear(3, 3)
local twice = nn.Sequential(shared, shared)
twice:append(shared)
T.equal(#twice:parameters(), 2, "a shared module's parameters are counted once")

-- A cycle built behind the checks' back (a plain table filled after the assignment): printing,
-- parameters and state dicts end; a forward through it is an error, not a crash.
local loop = Box(nn.Linear(2, 2))
loop.list = {}
loop.list[1] = loop
T.equal(#loop:parameters(), 2, "parameters of a cyclic Lua module")
local printed = tostring(loop)
T.equal(select(2, printed:gsub("\n", "")), 2, "tostring of a cyclic Lua module: three lines")
local n = 0
for _ in pairs(loop:state_dict()) do n = n + 1 end
T.equal(n, 2, "state_dict of a cyclic Lua module")
local q = nn.Sequential()
local holder = {}
local c = Box(nn.Identity())
c.h = holder
q:append(c)
holder[1] = q
rawset(c, "inner", q)
T.raises(function() q(mpm.randn(2, 2)) end, "stack overflow")
T.equal(#q:modules(), 2, "modules() of a mixed cycle: q and the Box, once each")

print("container_cycle: ok")
