-- REPL helpers: how results are shown and how names are completed. Loaded by the mpmlua host.
local repl = {}

local function is_identifier(s)
  return type(s) == "string" and s:match("^[%a_][%w_]*$") ~= nil
end

local function format_key(k)
  if is_identifier(k) then return k end
  if type(k) == "string" then return ("[%q]"):format(k) end
  return "[" .. tostring(k) .. "]"
end

--- Shows a value the way a person wants to read it: tables one level deep, sorted keys.
function repl.format(value, depth)
  depth = depth or 0
  if type(value) == "string" then return ("%q"):format(value) end
  if type(value) ~= "table" or getmetatable(value) and getmetatable(value).__tostring then
    return tostring(value)
  end
  if depth >= 2 then return tostring(value) end
  local parts, n = {}, #value
  for i = 1, n do
    parts[#parts + 1] = repl.format(value[i], depth + 1)
    if #parts > 20 then parts[#parts + 1] = "..."; break end
  end
  local keys = {}
  for k in pairs(value) do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
  end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  for i, k in ipairs(keys) do
    if i > 20 then parts[#parts + 1] = "..."; break end
    parts[#parts + 1] = format_key(k) .. " = " .. repl.format(value[k], depth + 1)
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end

--- Prints the results of one REPL command, tab-separated.
function repl.show(...)
  local n = select("#", ...)
  local out = {}
  for i = 1, n do out[i] = repl.format((select(i, ...))) end
  print(table.concat(out, "\t"))
end

-- Fields reachable from a value: its own keys (tables) and its metatable's __index table or
-- method table (userdata methods), without calling any metamethod.
local function fields(value, methods_only)
  local names = {}
  if type(value) == "table" and not methods_only then
    for k in pairs(value) do if is_identifier(k) then names[k] = true end end
  end
  local mt = getmetatable(value)
  -- Swift objects list their read-only fields (batch.features, ds.classes) in the metatable.
  if type(mt) == "table" and not methods_only and type(rawget(mt, "fields")) == "table" then
    for _, k in ipairs(rawget(mt, "fields")) do if is_identifier(k) then names[k] = true end end
  end
  local seen = 0
  while type(mt) == "table" and seen < 8 do
    local methods = rawget(mt, "methods")
    local index = rawget(mt, "__index")
    for _, t in pairs { methods or false, index or false } do  -- (ipairs would stop at a nil methods)
      if type(t) == "table" then
        for k in pairs(t) do if is_identifier(k) then names[k] = true end end
      end
    end
    mt = type(index) == "table" and getmetatable(index) or nil
    seen = seen + 1
  end
  return names
end

--- Completion candidates for `text`, e.g. "mpm.ma" -> {"mpm.matmul", "mpm.max"}; "t:nu" ->
--- {"t:numel"}. Walks globals and fields with rawget only: completing never runs user code.
--- Names starting with "_" are left out unless the text being completed starts with one.
function repl.complete(text)
  local path, sep, partial = text:match("^(.-)([%.:]?)([%w_]*)$")
  local value = _G
  if sep ~= "" then
    for part in path:gmatch("[^%.]+") do
      if type(value) ~= "table" then
        local mt = getmetatable(value)
        value = mt and type(rawget(mt, "__index")) == "table" and rawget(rawget(mt, "__index"), part) or nil
      else
        value = rawget(value, part)
      end
      if value == nil then return {} end
    end
  end
  local out = {}
  local prefix = path .. sep
  if sep == "" then prefix = "" end
  -- Private names (a leading underscore, metamethods) show only when asked for with "_".
  local private = partial:sub(1, 1) == "_"
  for name in pairs(fields(value, sep == ":")) do
    if name:sub(1, #partial) == partial and (private or name:sub(1, 1) ~= "_") then out[#out + 1] = prefix .. name end
  end
  if sep == "" then
    for _, kw in ipairs { "and", "break", "do", "else", "elseif", "end", "false", "for", "function",
                          "goto", "if", "in", "local", "nil", "not", "or", "repeat", "return",
                          "then", "true", "until", "while" } do
      if kw:sub(1, #partial) == partial then out[#out + 1] = kw end
    end
  end
  table.sort(out)
  return out
end

return repl
