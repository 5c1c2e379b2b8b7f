-- mpm.cli: command-line options for the scripts (examples, bench, tools, the protocols).
-- Options are `--name value` or `--name=value` (flags take no value); unknown names are
-- errors; --help prints usage.
--
--   local cli = require "mpm.cli"
--   local o = cli.options(arg, {
--     {"steps", 600, "integer", "training steps"},
--     {"resume", false, "flag", "continue from OUT/checkpoint.h5"},
--   }, "mpmlua examples/pretrain.lua [options]")
--   if not o then return end       -- --help was printed
-- (on a bad option cli.options raises a one-line usage error; cli.parse a plain error.)
local cli = {}

local function convert(spec, text)
  local name, kind = spec[1], spec[3]
  if kind == "integer" then
    local v = math.tointeger(tonumber(text))
    if v == nil then error(("--%s expects an integer, got '%s'"):format(name, tostring(text)), 0) end
    return v
  elseif kind == "number" then
    local v = tonumber(text)
    if v == nil then error(("--%s expects a number, got '%s'"):format(name, tostring(text)), 0) end
    return v
  elseif kind == "boolean" then
    if text == "true" or text == "yes" or text == "1" then return true end
    if text == "false" or text == "no" or text == "0" then return false end
    error(("--%s expects true or false, got '%s'"):format(name, tostring(text)), 0)
  end
  return text
end

-- The key of an option in the parsed table: dashes become underscores (--batch-size -> batch_size).
local function key_of(name) return (name:gsub("-", "_")) end

--- cli.defaults(spec) -> {key = default}: the options a script gets with no arguments, keyed
--- as cli.parse keys them (dashes become underscores), so a Lua function and its command line
--- can share one defaults table.
---   cli.defaults{{"batch-size", 64, "integer", "jets per batch"}}   -- {batch_size = 64}
function cli.defaults(spec)
  local out = {}
  for _, s in ipairs(spec) do out[key_of(s[1])] = s[2] end
  return out
end

--- cli.usage(spec, synopsis) -> text: the --help text of a spec (one line per option, with
--- its default).
---   print(cli.usage({{"steps", 100, "integer", "training steps"}}, "mpmlua run.lua [options]"))
function cli.usage(spec, synopsis)
  local lines = { "usage: " .. synopsis, "", "options:" }
  for _, s in ipairs(spec) do
    local name, default, kind, help = s[1], s[2], s[3], s[4]
    local left = "  --" .. name .. (kind == "flag" and "" or (" " .. (kind == "string" and "VALUE" or kind:upper())))
    local d = (kind == "flag" or default == nil or default == false) and "" or ("  (default " .. tostring(default) .. ")")
    lines[#lines + 1] = ("%-28s %s%s"):format(left, help or "", d)
  end
  lines[#lines + 1] = ("%-28s %s"):format("  --help", "this text")
  return table.concat(lines, "\n")
end

--- cli.parse(args, spec, synopsis) -> options table, or nil after printing --help.
--- spec entries: {name, default, kind ("string", "integer", "number", "boolean", "flag"), help}.
--- Option names with dashes become keys with underscores (--batch-size -> batch_size).
---   local o = cli.parse({"--steps", "5"}, {{"steps", 100, "integer", "training steps"}}, "run")   -- o.steps == 5
function cli.parse(args, spec, synopsis)
  local by_name, out = {}, cli.defaults(spec)
  for _, s in ipairs(spec) do by_name[s[1]] = s end
  local i = 1
  local n = #(args or {})
  while i <= n do
    local a = args[i]
    if a == "--help" or a == "-h" then
      print(cli.usage(spec, synopsis))
      return nil
    end
    local name, value = a:match("^%-%-([%w%-]+)=(.*)$")
    if not name then name = a:match("^%-%-([%w%-]+)$") end
    if not name then error(("unexpected argument '%s' (options start with --; see --help)"):format(a), 0) end
    local s = by_name[name]
    if not s then
      local names = {}
      for _, e in ipairs(spec) do names[#names + 1] = "--" .. e[1] end
      error(("unknown option --%s (expected one of: %s, --help)"):format(name, table.concat(names, ", ")), 0)
    end
    if s[3] == "flag" then
      if value ~= nil then error(("--%s takes no value"):format(name), 0) end
      out[key_of(name)] = true
    else
      if value == nil then
        i = i + 1
        value = args[i]
        if value == nil then error(("--%s needs a value"):format(name), 0) end
      end
      out[key_of(name)] = convert(s, value)
    end
    i = i + 1
  end
  return out
end

-- A usage error: a table whose __tostring is the message. The host prints such an error as
-- one line without a traceback; pcall and tostring see the message as usual.
local UsageError = { __tostring = function(e) return e.message end }

--- cli.options(args, spec, synopsis) -> options table, or nil after printing --help.
--- For scripts run from a shell: a bad option raises "SCRIPT: message" as a usage error,
--- which mpmlua prints as one line, without a traceback, and exits with status 1.
---   local o = cli.options(arg, spec, "mpmlua examples/reconstruct.lua [options]")
---   if o == nil then return end   -- --help was printed
function cli.options(args, spec, synopsis)
  local ok, options = pcall(cli.parse, args, spec, synopsis)
  if ok then return options end
  local script = (args and args[0] or ""):match("([^/]+)%.lua$") or "options"
  error(setmetatable({ message = ("%s: %s"):format(script, tostring(options)) }, UsageError), 0)
end

--- cli.run(path, ...) -> what the script returns: runs a script file (an example) as
--- `mpmlua path ...` would, its `arg` in an environment of its own over the globals (so the
--- caller's `arg` is untouched); its error is raised as it is.
---   local rows = cli.run("examples/jetclass.lua", "--sweep", "--sizes", "100,1000")
function cli.run(path, ...)
  local env = setmetatable({ arg = { [0] = path, ... } }, { __index = _G })
  local chunk, err = loadfile(path, "t", env)
  if not chunk then error(err, 0) end
  return chunk()
end

return cli
