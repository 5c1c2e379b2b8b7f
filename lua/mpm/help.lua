-- mpm.help: docstrings and help(). mpm.doc and mpm.help (the REPL's help) are this module's doc
-- and help, installed by lua/mpm/init.lua.
local mpm = require "mpm.core"
local help = {}

-- Docstrings of Lua functions are their `---` comments. Swift functions carry theirs from
-- registration (a weak table read by the core mpm.doc); for a Lua function without one, the
-- comment block right above its definition is read from the source file (found through
-- debug.getinfo) the first time it is asked for. So help(f), mpm.doc(f) and docs/reference.md
-- (tools/gen_docs.lua) show the comment the code carries, and there is nothing to keep in step.
-- The Swift half's mpm.doc, taken before init.lua puts help.doc in its place.
local core_doc = mpm.doc
local source_cache = {}

local function source_lines(path)
  local lines = source_cache[path]
  if lines == nil then
    lines = false
    local f = io.open(path, "r")
    if f then
      lines = {}
      for line in f:lines() do lines[#lines + 1] = line end
      f:close()
    end
    source_cache[path] = lines
  end
  return lines or nil
end

local function comment_doc(f)
  local info = debug.getinfo(f, "S")
  if info.what ~= "Lua" or info.source:sub(1, 1) ~= "@" then return nil end
  local lines = source_lines(info.source:sub(2))
  if not lines then return nil end
  local block = {}
  local i = info.linedefined - 1
  while i >= 1 and lines[i]:match("^%s*%-%-%-") do
    table.insert(block, 1, (lines[i]:gsub("^%s*%-%-%- ?", "")))
    i = i - 1
  end
  if #block == 0 then return nil end
  return table.concat(block, "\n")
end

--- mpm.doc(value) -> string or nil: the docstring of a function or type, as help(value) shows:
--- registered with a Swift function, the `---` comment above a Lua function's definition, or a
--- table's `__doc` field.
---   print(mpm.doc(mpm.explore.embed))
function help.doc(value)
  local doc = core_doc(value)
  if doc == nil and type(value) == "function" then doc = comment_doc(value) end
  if doc == nil and type(value) == "table" then doc = rawget(value, "__doc") end
  return doc
end

-- The first line of a value's docstring, for listings.
local function summary(v)
  local doc = help.doc(v)
  return doc and doc:match("^[^\n]*") or type(v)
end

-- "name  summary" lines for the public (no leading underscore) string keys of t.
local function listing(t, prefix)
  local names = {}
  for k in pairs(t) do if type(k) == "string" and k:sub(1, 1) ~= "_" then names[#names + 1] = k end end
  table.sort(names)
  local lines = {}
  for _, k in ipairs(names) do
    local v = rawget(t, k)
    local text = type(v) == "function" and summary(v) or (type(v) == "table" and "(table)" or mpm.is_tensor(v) and ("tensor " .. table.concat(v:shape(), "x")) or tostring(v))
    lines[#lines + 1] = ("  %s%-18s %s"):format(prefix, k, text)
  end
  return lines
end

--- mpm.help([value]): prints the docstring of a function or type; for a table (mpm.explore) its
--- fields with the first line of each one's doc; for an object (a tensor, a batch, an
--- embeddings object) its fields and methods; with no value an overview.
---   help(mpm.explore.embed); help(mpm.linalg); help(E)
function help.help(value)
  if value == nil then
    print([[mpmlua: tensors with autograd, modules, optimisers and jet datasets for Lua 5.4.
  help(f)          the docstring of any documented function, e.g. help(mpm.explore.embed)
  help(t)          the fields of a table, e.g. help(mpm.explore), help(mpm.linalg)
  help(obj)        an object's fields and methods, e.g. help(E), help(batch)
  mpm.<TAB>        (in the REPL) lists what the mpm table holds; E:<TAB> an object's methods
Docs: docs/ in the source tree (docs/explore.md: exploring embeddings); examples/ holds runnable scripts.]])
    return
  end
  local doc = help.doc(value)
  local lines = { doc }
  local mt = getmetatable(value)
  if type(value) == "table" and mt == nil then
    -- A plain table (a library such as mpm.explore): its fields.
    for _, line in ipairs(listing(value, "")) do lines[#lines + 1] = line end
  elseif type(mt) == "table" then
    local name = rawget(mt, "__name") or "object"
    if doc == nil then lines[1] = name end
    local fields = rawget(mt, "fields")
    if type(value) == "table" then
      local own = listing(value, ".")
      if #own > 0 then lines[#lines + 1] = "fields:"; for _, l in ipairs(own) do lines[#lines + 1] = l end end
    elseif type(fields) == "table" then
      lines[#lines + 1] = "fields: " .. table.concat(fields, ", ")
    end
    local methods = rawget(mt, "methods") or (type(rawget(mt, "__index")) == "table" and rawget(mt, "__index"))
    if type(methods) == "table" and methods ~= value then
      lines[#lines + 1] = "methods:"
      for _, l in ipairs(listing(methods, ":")) do lines[#lines + 1] = l end
    end
  end
  if #lines == 0 then lines[1] = "no documentation for this " .. type(value) end
  print(table.concat(lines, "\n"))
end

return help
