-- mpm: the Lua half of mpmlua. The Swift core (tensors, modules, data) arrives as "mpm.core";
-- this file adds what is written in Lua and returns the one `mpm` table (DESIGN.md).
local mpm = require "mpm.core"

require "mpm.options" (mpm)
require "mpm.autograd" (mpm)
require "mpm.nn" (mpm)
require "mpm.optim" (mpm)
require "mpm.tasks" (mpm)
require "mpm.finetune" (mpm)
require "mpm.downstream" (mpm)
require "mpm.downstream_tracks" (mpm)

--- mpm.help(value): prints the docstring of a function or type, or an overview.
function mpm.help(value)
  if value == nil then
    print([[mpmlua: tensors with autograd, modules, optimisers and jet datasets for Lua 5.4.
  mpm.help(f)      this text for any documented function, e.g. mpm.help(mpm.clock)
  mpm.<TAB>        (in the REPL) lists what the mpm table holds
Docs: docs/ in the source tree; examples/ holds runnable scripts.]])
    return
  end
  local doc = mpm.doc(value)
  if doc == nil and type(value) == "table" then doc = rawget(value, "__doc") end
  if doc == nil then
    local mt = getmetatable(value)
    if type(mt) == "table" and type(rawget(mt, "methods")) == "table" then
      local names = {}
      for name in pairs(mt.methods) do names[#names + 1] = name end
      table.sort(names)
      doc = (rawget(mt, "__name") or "object") .. " methods: " .. table.concat(names, ", ")
    end
  end
  print(doc or ("no documentation for this " .. type(value)))
end

return mpm
