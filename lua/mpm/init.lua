-- mpm: the Lua half of mpmlua. The Swift core (tensors, modules, data) arrives as "mpm.core";
-- this file loads the Lua modules in the order lua/mpm/layers.lua states and assembles the one
-- public `mpm` table from what they return (DESIGN.md). It is the only file that writes `mpm`.
local mpm = require "mpm.core"
local layers = require "mpm.layers"

-- The names in mpm and one level down ("train", "nn.Module"), to see what each module adds.
local function names_in(t)
  local names = {}
  for key, value in pairs(t) do
    names[key] = true
    if type(value) == "table" then
      for inner in pairs(value) do names[key .. "." .. tostring(inner)] = true end
    end
  end
  return names
end

for _, entry in ipairs(layers) do
  if entry.as or entry.exports then
    local before = names_in(mpm)
    local module = require(entry.module)
    if entry.as then mpm[entry.as] = module end
    for name, field in pairs(entry.exports or {}) do mpm[name] = module[field] end
    for name in pairs(names_in(mpm)) do
      if not before[name] then layers.defined_by[name] = entry.module end
    end
  end
end

return mpm
