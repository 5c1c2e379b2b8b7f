-- The base of the optimisers: parameter groups, state, zero_grad, state dicts. Subclasses
-- (sgd.lua, adam.lua) define their defaults and `update(group, p, state)`, which calls a Swift
-- kernel (mpm.optim._sgd, mpm.optim._adam) doing the whole update of one tensor in one pass.
local mpm = require "mpm.core"
local check_option_names = require("mpm.options").check_names
local autograd = require "mpm.autograd"
local nn = require "mpm.nn"
local optim = mpm.optim

local Optimizer = {}
Optimizer.__index = Optimizer
Optimizer.__name = "Optimizer"

local function is_list_of_tensors(t)
  return type(t) == "table" and getmetatable(t) == nil and (#t == 0 or mpm.is_tensor(t[1]))
end

--- optim.nonfinite(v) -> "NaN", "inf" or "-inf" for a number that is not finite, else nil
--- (schedules and optimisers refuse such a learning rate).
function optim.nonfinite(v)
  if type(v) ~= "number" then return nil end
  if v ~= v then return "NaN" end
  if v == math.huge then return "inf" end
  if v == -math.huge then return "-inf" end
  return nil
end
local nonfinite = optim.nonfinite

--- Makes an optimiser class `name` with `defaults` (every allowed option; "required" marks a
--- required one), `validate(name, group)` and `update(self, group, p, state)`.
function Optimizer.define(name, defaults, validate, update)
  local class = {}
  class.__index = class
  class.__tostring = Optimizer.__tostring
  class.__name = name
  class.defaults_template = defaults
  class.validate = validate
  class.update = update
  setmetatable(class, {
    __index = Optimizer,
    __call = function(c, params, options) return c.new(c, params, options, 2) end,
  })
  return class
end

function Optimizer.new(class, params, options, level)
  level = (level or 1) + 1
  options = options or {}
  -- Names only: a required option (lr) may come with each parameter group instead.
  check_option_names(class.__name, options, class.defaults_template, level)
  local self = setmetatable({ param_groups = {}, state = {} }, class)
  self.defaults = {}
  for k, v in pairs(class.defaults_template) do self.defaults[k] = v end
  for k, v in pairs(options) do self.defaults[k] = v end
  if is_list_of_tensors(params) or mpm.is_tensor(params) or nn.is_module(params) then
    self:add_param_group({ params = params }, level)
  elseif type(params) == "table" then
    for _, g in ipairs(params) do self:add_param_group(g, level) end
  else
    error(class.__name .. ": expected parameters (a module, a list of tensors or a list of groups), got " .. type(params), level)
  end
  return self
end

--- opt:add_param_group({params = ..., lr = ..., ...}): adds parameters with their own
--- options (the rest come from the optimiser's defaults), e.g. to unfreeze a backbone later.
function Optimizer:add_param_group(group, level)
  level = (level or 1) + 1
  if type(group) ~= "table" or group.params == nil then
    error(self.__name .. ": a parameter group is a table with a 'params' field", level)
  end
  local allowed = { params = true }
  for k in pairs(self.defaults) do allowed[k] = true end
  check_option_names(self.__name, group, allowed, level)
  local g = {}
  -- Tables (betas) are copied so that editing one group never changes another.
  local function copy(v) return type(v) == "table" and getmetatable(v) == nil and table.move(v, 1, #v, 1, {}) or v end
  for k, v in pairs(self.defaults) do g[k] = copy(v) end
  for k, v in pairs(group) do if k ~= "params" then g[k] = copy(v) end end
  g.params = nn.utils.parameters_of(group.params, self.__name, level)
  for _, p in ipairs(g.params) do
    for gi, other in ipairs(self.param_groups) do
      for _, q in ipairs(other.params) do
        if rawequal(p, q) then error(self.__name .. ": a parameter appears in group " .. gi .. " and in the new group", level) end
      end
    end
  end
  for k, v in pairs(g) do
    if v == "required" then error(self.__name .. ": option '" .. k .. "' is required", level) end
  end
  local bad = nonfinite(g.lr)
  if bad then error(self.__name .. ": lr is " .. bad .. ", expected a finite number", level) end
  self.validate(self.__name, g, level)
  self.param_groups[#self.param_groups + 1] = g
  return self
end

--- opt:zero_grad(): forgets every gradient (grad = nil, the cheap form).
function Optimizer:zero_grad()
  for _, g in ipairs(self.param_groups) do
    for _, p in ipairs(g.params) do p.grad = nil end
  end
end

--- opt:step([closure]) -> loss or nil: one update of every parameter that has a gradient;
--- closure (re-evaluating the loss with gradients) is called first when given.
function Optimizer:step(closure)
  local loss
  -- A learning rate set directly on a group (or loaded) is checked before anything moves.
  for gi, g in ipairs(self.param_groups) do
    local bad = nonfinite(g.lr)
    if bad then error(("%s: the learning rate of group %d is %s"):format(self.__name, gi, bad), 2) end
  end
  if closure then loss = autograd.enable_grad(closure) end
  for _, g in ipairs(self.param_groups) do
    for _, p in ipairs(g.params) do
      local grad = p.grad
      if grad then
        local state = self.state[p]
        if not state then
          state = {}
          self.state[p] = state
        end
        self:update(g, p, grad, state)
      end
    end
  end
  return loss
end

local function all_params(self)
  local list, index = {}, {}
  for _, g in ipairs(self.param_groups) do
    for _, p in ipairs(g.params) do
      list[#list + 1] = p
      index[p] = #list
    end
  end
  return list, index
end

--- opt:state_dict() -> {state = {[i] = {...}}, param_groups = {{lr=, ..., params = {i, ...}}}}:
--- parameters are numbered 1.. in group order (as PyTorch), so a fresh model's parameters
--- match. State tensors are shared with the optimiser (mpm.save writes them).
function Optimizer:state_dict()
  local _, index = all_params(self)
  local groups = {}
  for gi, g in ipairs(self.param_groups) do
    local copy = {}
    for k, v in pairs(g) do
      if k == "params" then
        local ids = {}
        for i, p in ipairs(v) do ids[i] = index[p] end
        copy.params = ids
      elseif type(v) == "table" then
        copy[k] = table.move(v, 1, #v, 1, {})
      else
        copy[k] = v
      end
    end
    groups[gi] = copy
  end
  local state = {}
  for p, s in pairs(self.state) do
    if index[p] then
      local copy = {}
      for k, v in pairs(s) do copy[k] = v end
      state[index[p]] = copy
    end
  end
  return { state = state, param_groups = groups }
end

--- opt:load_state_dict(sd): restores group options and per-parameter state saved by
--- state_dict; the groups must have the same sizes. Tensors are copied.
function Optimizer:load_state_dict(sd)
  if type(sd) ~= "table" or type(sd.param_groups) ~= "table" or type(sd.state) ~= "table" then
    error(self.__name .. ".load_state_dict: expected a table with 'state' and 'param_groups'", 2)
  end
  if #sd.param_groups ~= #self.param_groups then
    error(("%s.load_state_dict: the state dict has %d parameter groups, the optimiser %d"):format(
      self.__name, #sd.param_groups, #self.param_groups), 2)
  end
  for gi, saved in ipairs(sd.param_groups) do
    local n = type(saved.params) == "table" and #saved.params or -1
    if n ~= #self.param_groups[gi].params then
      error(("%s.load_state_dict: group %d has %d parameters in the state dict, %d in the optimiser"):format(
        self.__name, gi, n, #self.param_groups[gi].params), 2)
    end
  end
  local list = all_params(self)
  local new_state = {}
  for key, s in pairs(sd.state) do
    local i = math.tointeger(tonumber(key))
    local p = i and list[i]
    if not p then error(self.__name .. ".load_state_dict: state for unknown parameter " .. tostring(key), 2) end
    local copy = {}
    for k, v in pairs(s) do
      if mpm.is_tensor(v) then
        local why = nn._fits(p, v)
        if why and k ~= "step" then error(("%s.load_state_dict: state '%s' of parameter %d: %s"):format(self.__name, k, i, why), 2) end
        copy[k] = v:clone()
      else
        copy[k] = v
      end
    end
    new_state[p] = copy
  end
  for gi, saved in ipairs(sd.param_groups) do
    local g = self.param_groups[gi]
    for k, v in pairs(saved) do
      if k ~= "params" then g[k] = type(v) == "table" and table.move(v, 1, #v, 1, {}) or v end
    end
  end
  self.state = new_state
end

function Optimizer.__tostring(self)
  local parts = {}
  for gi, g in ipairs(self.param_groups) do
    local opts = {}
    for k, v in pairs(g) do
      if k ~= "params" then
        opts[#opts + 1] = k .. "=" .. (type(v) == "table" and ("{" .. table.concat(v, ", ") .. "}") or tostring(v))
      end
    end
    table.sort(opts)
    parts[#parts + 1] = ("  group %d: %d tensors, %s"):format(gi, #g.params, table.concat(opts, ", "))
  end
  return self.__name .. " (\n" .. table.concat(parts, "\n") .. "\n)"
end

optim.Optimizer = Optimizer

return optim
