-- The module protocol, shared by Swift modules (userdata) and Lua-defined modules (tables):
-- parameters, state dicts, train/eval, printing. Lua modules are made with
-- `mpm.nn.Module:extend "Name"`; their parameters, buffers and child modules are found by
-- walking their fields in the order they were first assigned (then any others, sorted), and
-- through plain tables of them (`self.layers = {a, b}` gives `layers.1`, `layers.2`).
local mpm = require "mpm.core"
local check_options = require("mpm.options").check
local nn = mpm.nn
local is_tensor = mpm.is_tensor
local is_swift = nn._is_swift_module

-- Per-instance bookkeeping kept outside the instance, so walking its fields sees only what
-- the user stored. Weak keys: nothing here keeps a module or tensor alive.
local field_order = setmetatable({}, { __mode = "k" })
local parameter_marks = setmetatable({}, { __mode = "k" })
local buffer_marks = setmetatable({}, { __mode = "k" })

local Module = {}
Module.__index = Module
Module.__name = "Module"
Module.__is_module_class = true

local function is_lua_module(v)
  if type(v) ~= "table" then return false end
  local mt = getmetatable(v)
  return type(mt) == "table" and rawget(mt, "__is_module_class") == true
end

--- mpm.nn.is_module(v) -> true for Swift and Lua modules.
function nn.is_module(v) return is_swift(v) or is_lua_module(v) end
local is_module = nn.is_module

--- mpm.nn.Parameter(t) -> t: marks t as a parameter of the Lua module holding it (and makes
--- it require grad). A leaf tensor that requires grad is a parameter even unmarked; the mark
--- keeps a frozen one (requires_grad_(false)) a parameter.
function nn.Parameter(t)
  if not is_tensor(t) then error("Parameter: expected a tensor, got " .. type(t), 2) end
  t:requires_grad_(true)
  parameter_marks[t] = true
  return t
end

-- Keys of table t: first those in `order` (assignment order), then integers 1..n, then the
-- rest sorted, so walks are deterministic (pairs order is not).
local function ordered_keys(t, order)
  local keys, seen = {}, {}
  local function add(k)
    if not seen[k] and rawget(t, k) ~= nil then
      seen[k] = true
      keys[#keys + 1] = k
    end
  end
  if order then for _, k in ipairs(order) do add(k) end end
  for i = 1, rawlen(t) do add(i) end
  local rest = {}
  for k in next, t do
    if not seen[k] and (type(k) == "string" or math.type(k) == "integer") then rest[#rest + 1] = k end
  end
  table.sort(rest, function(a, b)
    if type(a) == type(b) then return a < b end
    return type(a) == "number"
  end)
  for _, k in ipairs(rest) do keys[#keys + 1] = k end
  return keys
end

-- Calls visit(kind, name, value) for what `m` owns directly: kind is "parameter", "buffer"
-- or "module".
local function own_entries(m, visit)
  if is_swift(m) then
    for _, e in ipairs(m:_own_parameters()) do visit("parameter", e[1], e[2]) end
    for _, e in ipairs(m:_own_buffers()) do visit("buffer", e[1], e[2]) end
    for _, e in ipairs(m:_own_children()) do visit("module", e[1], e[2]) end
    return
  end
  local seen = {}
  local function walk(t, prefix, order)
    if seen[t] then return end
    seen[t] = true
    for _, k in ipairs(ordered_keys(t, order)) do
      local v, name = rawget(t, k), prefix .. tostring(k)
      if is_tensor(v) then
        if parameter_marks[v] or (v.requires_grad and v.is_leaf) then
          visit("parameter", name, v)
        elseif buffer_marks[v] then
          visit("buffer", name, v)
        end
      elseif is_module(v) then
        visit("module", name, v)
      elseif type(v) == "table" and getmetatable(v) == nil then
        walk(v, name .. ".", nil)
      end
    end
  end
  walk(m, "", field_order[m])
end

-- Walks the whole tree depth first; each module is visited once (shared ones too).
local function walk_tree(m, prefix, fn, seen)
  seen = seen or { [m] = true }
  own_entries(m, function(kind, name, v)
    if kind ~= "module" then return fn(kind, prefix .. name, v, m) end
    if seen[v] then return end
    seen[v] = true
    fn("module", prefix .. name, v, m)
    walk_tree(v, prefix .. name .. ".", fn, seen)
  end)
end

-- Whether v is target or holds it anywhere in its tree (through plain tables too): adding
-- v under target would then make a cycle.
local function holds(v, target)
  if rawequal(v, target) then return true end
  if not (is_module(v) or (type(v) == "table" and getmetatable(v) == nil)) then return false end
  local found = false
  walk_tree(v, "", function(kind, _, child)
    if kind == "module" and rawequal(child, target) then found = true end
  end)
  return found
end

local function iterate(list)
  local i = 0
  return function()
    i = i + 1
    local e = list[i]
    if e then return e[1], e[2] end
  end
end

local protocol = {}

local function named(m, kinds, prefix)
  local list, seen = {}, {}
  walk_tree(m, prefix or "", function(kind, name, v)
    if kinds[kind] and not seen[v] then
      seen[v] = true
      list[#list + 1] = { name, v }
    end
  end)
  return list
end

--- m:named_parameters([prefix]) -> iterator of name, tensor (dotted names, each tensor once):
--- for name, p in m:named_parameters() do ... end
function protocol.named_parameters(m, prefix) return iterate(named(m, { parameter = true }, prefix)) end

--- m:parameters() -> list of parameter tensors (each once), for optimisers.
function protocol.parameters(m)
  local out = {}
  for _, e in ipairs(named(m, { parameter = true })) do out[#out + 1] = e[2] end
  return out
end

--- m:named_buffers() -> iterator of name, tensor over saved non-trained tensors.
function protocol.named_buffers(m, prefix) return iterate(named(m, { buffer = true }, prefix)) end

--- m:buffers() -> list of buffers.
function protocol.buffers(m)
  local out = {}
  for _, e in ipairs(named(m, { buffer = true })) do out[#out + 1] = e[2] end
  return out
end

local function child_list(m)
  local out = {}
  own_entries(m, function(kind, name, v) if kind == "module" then out[#out + 1] = { name, v } end end)
  return out
end

--- m:named_children() -> iterator of name, module over the direct children.
function protocol.named_children(m) return iterate(child_list(m)) end

--- m:children() -> list of direct child modules.
function protocol.children(m)
  local out = {}
  for _, e in ipairs(child_list(m)) do out[#out + 1] = e[2] end
  return out
end

--- m:named_modules() -> iterator of name, module over m ("") and every descendant.
function protocol.named_modules(m)
  local list = { { "", m } }
  walk_tree(m, "", function(kind, name, v) if kind == "module" then list[#list + 1] = { name, v } end end)
  return iterate(list)
end

--- m:modules() -> list of m and every descendant module.
function protocol.modules(m)
  local out = {}
  for _, v in protocol.named_modules(m) do out[#out + 1] = v end
  return out
end

--- m:num_parameters() -> number of parameter elements (shared tensors counted once).
function protocol.num_parameters(m)
  local n = 0
  for _, p in ipairs(protocol.parameters(m)) do n = n + p:numel() end
  return n
end

--- m:state_dict() -> {["dotted.name"] = tensor}: every parameter and buffer. The tensors
--- share storage with the module (mpm.save writes them; clone to keep a snapshot).
function protocol.state_dict(m)
  local sd = {}
  walk_tree(m, "", function(kind, name, v)
    if kind ~= "module" then sd[name] = v:detach() end
  end)
  return sd
end

--- m:load_state_dict(sd [, {strict=true}]) -> {missing=, unexpected=}: copies the tensors
--- of sd into the parameters and buffers in place. With strict (the default) any missing,
--- unexpected or mis-shaped key is an error listing all of them and nothing is copied;
--- otherwise what fits is loaded (mis-shaped keys are always an error). The walk that names
--- the targets is here (it sees Lua modules' fields); the check and the copy are Swift's
--- (Module.loadState), shared with Swift callers.
function protocol.load_state_dict(m, sd, options)
  if type(sd) ~= "table" then error("load_state_dict: expected a table of tensors, got " .. type(sd), 2) end
  local strict = check_options("load_state_dict", options, { strict = true }, 2).strict ~= false
  local targets = {}
  walk_tree(m, "", function(kind, name, v) if kind ~= "module" then targets[name] = v end end)
  return nn._load_state(targets, sd, strict, protocol.type_name(m))
end

local function set_training(m, mode)
  for _, v in protocol.named_modules(m) do
    if is_swift(v) then v:_set_training(mode) else rawset(v, "training", mode) end
  end
end

--- m:train([mode=true]) -> m: train mode (dropout on) for m and all descendants.
function protocol.train(m, mode)
  if mode == nil then mode = true end
  if type(mode) ~= "boolean" then error("train: mode must be a boolean, got " .. type(mode), 2) end
  set_training(m, mode)
  return m
end

--- m:eval() -> m: eval mode (dropout off) for m and all descendants.
function protocol.eval(m)
  set_training(m, false)
  return m
end

--- m:zero_grad() -> m: forgets every parameter's gradient (grad = nil).
function protocol.zero_grad(m)
  for _, p in ipairs(protocol.parameters(m)) do p.grad = nil end
  return m
end

--- m:requires_grad_([flag=true]) -> m: freezes (false) or unfreezes every parameter.
function protocol.requires_grad_(m, flag)
  if flag == nil then flag = true end
  for _, p in ipairs(protocol.parameters(m)) do p:requires_grad_(flag) end
  return m
end

--- m:apply(fn) -> m: calls fn(module) for m and every descendant (e.g. custom init).
function protocol.apply(m, fn)
  for _, v in protocol.named_modules(m) do fn(v) end
  return m
end

--- m:type_name() -> "Linear", or the Lua class name.
function protocol.type_name(m)
  if is_swift(m) then return m:_type_name() end
  local mt = getmetatable(m)
  return (type(mt) == "table" and rawget(mt, "__name")) or "Module"
end

local function format_count(n)
  local s = tostring(n)
  return (s:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", ""))
end

--- tostring(m): the module tree, one line per module with its parameter count.
function protocol.tree(m)
  local lines, seen = {}, {}
  local function line(v, name, depth)
    local summary
    if is_swift(v) then
      summary = v:_summary()
    else
      summary = protocol.type_name(v) .. "(" .. (v.extra_repr and tostring(v:extra_repr()) or "") .. ")"
    end
    local label = name and ("(" .. name .. "): ") or ""
    lines[#lines + 1] = string.rep("  ", depth) .. label .. summary ..
      "  [" .. format_count(protocol.num_parameters(v)) .. " params]"
    if seen[v] then return end
    seen[v] = true
    for _, e in ipairs(child_list(v)) do line(e[2], e[1], depth + 1) end
  end
  line(m, nil, 0)
  return table.concat(lines, "\n")
end

-- Swift modules get the same protocol through their method table.
local swift_methods = nn._swift_methods()
for name, f in pairs(protocol) do
  swift_methods[name] = f
  Module[name] = f
end
-- Containers refuse a module whose tree holds them, seen through Lua modules too (the Swift
-- check alone cannot look inside a Lua module's fields).
local swift_append = swift_methods.append
--- seq:append(module) -> seq: adds a module at the end of a Sequential or ModuleList; a
--- module whose tree holds seq is refused (a module cannot contain itself).
swift_methods.append = function(self, m)
  if is_module(m) and holds(m, self) then
    error(protocol.type_name(self) .. ":append: adding this module would make a cycle (a module cannot contain itself)", 2)
  end
  return swift_append(self, m)
end
local swift_metatable = getmetatable(nn.Identity())
swift_metatable.__tostring = protocol.tree

-- Lua-defined modules ------------------------------------------------------------------

Module.__tostring = protocol.tree
Module.__call = function(self, ...) return self:forward(...) end
Module.__newindex = function(self, key, value)
  if type(value) == "table" or is_swift(value) then
    if holds(value, self) then
      error(protocol.type_name(self) .. ": setting field '" .. tostring(key) ..
        "' would make a cycle (a module cannot contain itself)", 2)
    end
  end
  local order = field_order[self]
  if order then order[#order + 1] = key end
  rawset(self, key, value)
end

--- Module:extend(name) -> class: a new module class; define class:init(...) and
--- class:forward(...), then make instances with class(...). Subclasses extend further;
--- class.super is the parent (call class.super.init(self, ...) to chain).
function Module:extend(name)
  if type(name) ~= "string" then error("extend: expected a class name string, got " .. type(name), 2) end
  local class = {}
  for k, v in pairs(self) do
    if type(k) == "string" and k:sub(1, 2) == "__" then class[k] = v end
  end
  class.__index = class
  class.__name = name
  class.super = self
  return setmetatable(class, {
    __index = self,
    __call = function(c, ...) return c:new(...) end,
    __tostring = function() return "module class " .. name end,
  })
end

--- class:new(...) -> instance (what class(...) calls): runs init(...) on a fresh instance.
function Module:new(...)
  local obj = setmetatable({}, self)
  field_order[obj] = {}
  rawset(obj, "training", true)
  obj:init(...)
  return obj
end

--- Module:init(...): override to build the module's fields.
function Module:init() end

--- Module:forward(...): override with the computation.
function Module:forward()
  error(protocol.type_name(self) .. ": forward is not defined (define " .. protocol.type_name(self) .. ":forward)", 2)
end

--- m:register_buffer(name, t): stores t as m[name] and saves it in the state dict without
--- training it (running statistics, fixed frequencies).
function Module:register_buffer(name, t)
  if not is_tensor(t) then error("register_buffer: expected a tensor, got " .. type(t), 2) end
  buffer_marks[t] = true
  self[name] = t
  return t
end

nn.Module = Module

return nn
