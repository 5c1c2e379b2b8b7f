-- The Lua half keeps the order stated in lua/mpm/layers.lua (docs/architecture.md, "The Lua
-- half"): every file of lua/mpm requires, at its top, only modules at lower levels (or files of
-- its own package), returns its table, never writes into `mpm`, and never reaches a Lua-defined
-- module through `mpm.X`. Run alone (mpmlua lua/tests/module_layers.lua) it lists every breach.
local mpm = require "mpm"
local layers = require "mpm.layers"
local T = require "mpm.testing"

-- Blanks a source's comments and, with `strings`, the text inside its string literals, keeping
-- every newline so that line numbers stay where they were.
local function blank(source, strings)
  local out, i, n = {}, 1, #source
  local function spaces(text) return (text:gsub("[^\n]", " ")) end
  while i <= n do
    local c = source:sub(i, i)
    local long = source:match("^%[(=*)%[", c == "[" and i or (source:sub(i, i + 1) == "--" and i + 2 or n + 1))
    if source:sub(i, i + 1) == "--" then
      local stop = long and select(2, source:find("]" .. long .. "]", i, true))
        or (source:find("\n", i, true) or n + 1) - 1
      out[#out + 1] = spaces(source:sub(i, stop or n))
      i = (stop or n) + 1
    elseif c == '"' or c == "'" then
      local j = i + 1
      while j <= n and source:sub(j, j) ~= c and source:sub(j, j) ~= "\n" do
        j = j + (source:sub(j, j) == "\\" and 2 or 1)
      end
      local text = source:sub(i + 1, j - 1)
      out[#out + 1] = c .. (strings and spaces(text) or text) .. c
      i = j + 1
    elseif long then
      local open = "[" .. long .. "["
      local _, stop = source:find("]" .. long .. "]", i + #open, true)
      stop = stop or n
      local text = source:sub(i + #open, stop - #open)
      out[#out + 1] = open .. (strings and spaces(text) or text) .. "]" .. long .. "]"
      i = stop + 1
    else
      local j = source:find("[-\"'%[]", i + 1) or n + 1
      out[#out + 1] = source:sub(i, j - 1)
      i = j
    end
  end
  return table.concat(out)
end

local function lines_of(text)
  local lines = {}
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
  return lines
end

local function level_of(name)
  local entry = layers.entry(name)
  return entry and entry.level
end

-- The locals of a file bound to a table of the core: {nn = "nn"} for `local nn = mpm.nn` or
-- `local nn = require("mpm.core").nn` (several names at once too: `local a, b = mpm.a, mpm.b`).
local function aliases_of(code)
  local aliases = {}
  for _, line in ipairs(code) do
    local names, values = line:match("^local%s+([%w_,%s]+)=%s*(.-)%s*$")
    if names then
      local list = {}
      for alias in names:gmatch("[%w_]+") do list[#list + 1] = alias end
      local k = 0
      for value in (values .. ","):gmatch("%s*([^,]-)%s*,") do
        k = k + 1
        local field = value:match("^mpm%.([%a_][%w_]*)$") or value:match("^require%s*%(%s*[\"']mpm%.core[\"']%s*%)%.([%a_][%w_]*)$")
        if field and list[k] then aliases[list[k]] = field end
      end
    end
  end
  return aliases
end

-- The breaches of the stated order in `files` ({path=, module=, source=}...), each as
-- "path:line: what (the rule)". defined_by maps the Lua-defined names of mpm ("train",
-- "nn.Module") to the module that defines them (layers.defined_by, filled in by init.lua).
local function check(files, defined_by)
  local found = {}
  local function report(file, line, text) found[#found + 1] = ("%s:%d: %s"):format(file.path, line, text) end
  for _, file in ipairs(files) do
    local name = file.module
    -- init.lua and its list are the assembler: the one place that writes mpm.
    if name ~= "mpm" and name ~= "mpm.layers" then
      local own_package, level = layers.package(name), level_of(name)
      if level == nil then report(file, 1, ("%s is not in the stated order (add it to lua/mpm/layers.lua)"):format(name)) end
      level = level or math.huge
      local code = lines_of(blank(file.source, false))   -- comments out, strings kept (require names)
      local bare = lines_of(blank(file.source, true))    -- comments and string contents out
      local aliases = aliases_of(code)
      -- A Lua-defined name reached from another package: `mpm.A.B`, or `X.B` with X an alias of
      -- mpm.A (via = "X").
      local function reached(line, key, inner, via)
        local owner = defined_by[key] and key or (inner and defined_by[key .. "." .. inner] and key .. "." .. inner)
        if owner and layers.package(defined_by[owner]) ~= own_package then
          local shown = via and ("%s.%s (mpm.%s)"):format(via, inner, owner) or "mpm." .. owner
          report(file, line, ("%s reaches %s (defined by %s) through the mpm table: require %s at the top")
            :format(name, shown, defined_by[owner], defined_by[owner]))
        end
      end
      for number, line in ipairs(code) do
        for required in line:gmatch("%f[%w_]require%s*%(?%s*[\"'](mpm[%w_.]*)[\"']") do
          local target = level_of(required)
          if required == "mpm" then
            report(file, number, name .. " requires mpm, the assembled table: require the modules it uses")
          elseif required ~= "mpm.core" and layers.package(required) ~= own_package then
            if target == nil then
              report(file, number, ("%s requires %s, which is not in the stated order"):format(name, required))
            elseif target >= level then
              report(file, number, ("%s (level %d) requires %s (level %d): %s"):format(name, level, required, target,
                target == level and "sideways, between modules of one level" or "upward, to a higher level"))
            end
          end
          if not line:match("^%S") then
            report(file, number, ("%s requires %s inside a function or block: requires go at the top of the file"):format(name, required))
          end
        end
      end
      for number, line in ipairs(bare) do
        if line:match("^return%s+function%s*%(%s*mpm%s*%)") then
          report(file, number, name .. " has the old form (return function(mpm) ... end): return the module's table")
        end
        if line:match("^%s*function%s+mpm[.:]") or line:match("%f[%w_]mpm%.[%w_.]+%s*=%f[^=]") then
          report(file, number, name .. " writes into the mpm table (only lua/mpm/init.lua assembles it)")
        end
        for before, key, inner in line:gmatch("(.?)mpm%.([%a_][%w_]*)%.?([%a_]?[%w_]*)") do
          if not before:match("[%w_.:]") then reached(number, key, inner ~= "" and inner or nil) end
        end
        for alias, field in pairs(aliases) do
          for before, inner in line:gmatch("(.?)" .. alias .. "%.([%a_][%w_]*)") do
            if not before:match("[%w_.:]") then reached(number, field, inner, alias) end
          end
        end
      end
    end
  end
  return found
end

-- The checker catches what it is for, on sources made up here.
local example_defined_by = { train = "mpm.train", ["nn.Module"] = "mpm.nn" }
local function example(module, source) return { path = module:gsub("%.", "/") .. ".lua", module = module, source = source } end
local function one(source_module, source)
  local found = check({ example(source_module, source) }, example_defined_by)
  return table.concat(found, "\n"), #found
end
local found, count = one("mpm.stats", 'local mpm = require "mpm.core"\nlocal plot = require "mpm.plot"\nreturn {}\n')
T.equal(count, 1, "an upward require is one breach")
T.equal(found:match("mpm/stats%.lua:2: mpm%.stats %(level 4%) requires mpm%.plot %(level 5%): upward") ~= nil, true, found)
found = one("mpm.stats", 'local cli = require("mpm.cli")\nreturn {}\n')
T.equal(found:match("stats%.lua:1: .*requires mpm%.cli %(level 4%): sideways") ~= nil, true, found)
found = one("mpm.nn.utils", 'local nn = require "mpm.nn.module"\nlocal mpm = require "mpm.core"\nlocal o = require "mpm.options"\nreturn {}\n')
T.equal(found, "", "its own package and lower levels are allowed")
found = one("mpm.optim.sgd", 'local mpm = require "mpm.core"\nlocal function f()\n  return mpm.train.run{} -- mpm.train in a comment\nend\nlocal s = "mpm.train in a string"\nreturn {}\n')
T.equal(found:match("sgd%.lua:3: mpm%.optim%.sgd reaches mpm%.train %(defined by mpm%.train%) through the mpm table") ~= nil, true, found)
T.equal(select(2, one("mpm.optim.sgd", 'local mpm = require "mpm.core"\nlocal s = "mpm.train in a string" -- mpm.train\nreturn {}\n')), 0,
  "names in strings and comments are not uses")
found = one("mpm.optim.sgd", 'local nn, files = mpm.nn, mpm.files\nlocal M = nn.Module:extend "M"\nreturn {}\n')
T.equal(found:match("sgd%.lua:2: .*reaches nn%.Module %(mpm%.nn%.Module%) %(defined by mpm%.nn%)") ~= nil, true, found)
T.equal(select(2, one("mpm.nn.utils", 'local nn = require("mpm.core").nn\nlocal M = nn.Module\nreturn {}\n')), 0,
  "a package uses its own names through the core table it extends")
found = one("mpm.tasks.task", 'return function(mpm)\n  require "mpm.nn" (mpm)\n  mpm.tasks.Task = {}\nend\n')
T.equal(found:match("task%.lua:1: .*old form") ~= nil and found:match("task%.lua:2: .*inside a function or block") ~= nil
  and found:match("task%.lua:3: .*writes into the mpm table") ~= nil, true, found)
T.equal(one("mpm.newthing", "return {}\n"):match("not in the stated order") ~= nil, true, "a file the order does not name")

-- init.lua recorded which module defines each name: a file of mpm.nn using mpm.train or
-- mpm.data.preprocessing through the mpm table is caught with the names it really has.
local real = check({ example("mpm.nn.example", 'local mpm = require "mpm.core"\nlocal run = mpm.train.run\n'
  .. 'local data = mpm.data\nlocal f = data.preprocessing\nreturn {}\n') }, layers.defined_by)
T.equal(#real, 2, table.concat(real, "\n"))
T.equal(real[1]:match(":2: .*reaches mpm%.train %(defined by mpm%.train%)") ~= nil, true, real[1])
T.equal(real[2]:match(":4: .*reaches data%.preprocessing %(mpm%.data%.preprocessing%) %(defined by mpm%.data%)") ~= nil, true, real[2])

-- Every module of lua/mpm keeps the order.
local root = debug.getinfo(1, "S").source:sub(2):match("^(.*)/lua/tests/[^/]*$") or "."
local files = {}
local listing = assert(io.popen("find " .. mpm.files.quote(root .. "/lua/mpm") .. " -name '*.lua' | sort"))
for path in listing:lines() do
  local relative = path:sub(#root + 2)
  local module = relative:match("^lua/(.*)%.lua$"):gsub("/init$", ""):gsub("/", ".")
  local handle = assert(io.open(path))
  files[#files + 1] = { path = relative, module = module, source = handle:read("a") }
  handle:close()
end
listing:close()
T.equal(#files > 20, true, "the sources of lua/mpm were found")
local breaches = check(files, layers.defined_by)
-- docs/architecture.md states the same order (its table of levels).
local stated, listed = {}, {}
local doc = assert(io.open(root .. "/docs/architecture.md"))
for line in doc:lines() do
  local level, module = line:match("^| (%d+) | `(mpm[%w_.]*)` |")
  if level then stated[#stated + 1] = level .. " " .. module end
end
doc:close()
for _, entry in ipairs(layers) do listed[#listed + 1] = entry.level .. " " .. entry.module end
T.equal(stated, listed, "the levels in docs/architecture.md (The Lua half) against lua/mpm/layers.lua")
if #breaches > 0 then
  error(("%d breaches of the module order (lua/mpm/layers.lua):\n%s"):format(#breaches, table.concat(breaches, "\n")), 0)
end
