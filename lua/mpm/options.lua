-- mpm.options: the one option check of the Lua half, so every function taking an options table
-- words its errors alike (the Swift bindings' LuaState.checkOptions uses the same words).
-- init.lua installs them as mpm.check_options and mpm.check_option_names.
local options = {}

--- mpm.check_option_names(name, options, allowed [, level=1]): only the names: every key of
--- the table `options` must be a key of `allowed` (values are not looked at).
function options.check_names(name, given, allowed, level)
  level = (level or 1) + 1
  if type(given) ~= "table" then error(name .. ": expected an options table, got " .. type(given), level) end
  for k in pairs(given) do
    if allowed[k] == nil then
      local names = {}
      for a in pairs(allowed) do names[#names + 1] = a end
      table.sort(names)
      error(("%s: unknown option '%s' (expected one of: %s)"):format(name, tostring(k), table.concat(names, ", ")), level)
    end
  end
end

--- mpm.check_options(name, options, defaults [, level=1]) -> table: `options` with every
--- default of `defaults` filled in. An option name not in `defaults` is an error naming the
--- allowed ones; a default "required" marks an option that must be given; `false` stands for
--- "absent" (Lua tables cannot hold nil). level is the caller's level, as for error().
---   local o = mpm.check_options("plot.lines", options, {path = "required", logy = false})
function options.check(name, given, defaults, level)
  level = (level or 1) + 1
  if given == nil then given = {} end
  options.check_names(name, given, defaults, level)
  local filled = {}
  for k, default in pairs(defaults) do
    local v = given[k]
    if v == nil then
      if default == "required" then error(("%s: option '%s' is required"):format(name, k), level) end
      v = default
    end
    filled[k] = v
  end
  return filled
end

return options
