-- mpm.optim.lr_scheduler: learning-rate schedules. Each sets every parameter group's lr to
-- factor(step) * base_lr, where base_lr is the group's lr when the schedule first saw it, and
-- applies factor(0) at creation (as PyTorch). Call sched:step() after opt:step().
local check_options = require("mpm.options").check
local optim = require "mpm.optim.optimizer"
local lr_scheduler = {}

local Scheduler = {}
Scheduler.__index = Scheduler

local function define(name, allowed, make_factor)
  local class = setmetatable({}, { __index = Scheduler })
  class.__index = class
  class.__name = name
  class.__tostring = function(self)
    return ("%s(step=%d, lr=%s)"):format(name, self.last_step, table.concat(self:get_lr(), ", "))
  end
  return setmetatable(class, {
    __index = Scheduler,
    __call = function(c, optimizer, options)
      if type(optimizer) ~= "table" or type(optimizer.param_groups) ~= "table" then
        error(name .. ": expected an optimiser first", 2)
      end
      local o = check_options(name, options, allowed, 2)
      local self = setmetatable({ optimizer = optimizer, last_step = 0, base_lrs = {}, options = o }, c)
      self.factor = make_factor(o, name, 2)
      self:_apply(0, 3)
      return self
    end,
  })
end

-- Moves to `step` and sets every group's lr for it; a group added later (staged unfreezing)
-- gets its base lr from its lr at the moment the schedule first sees it. A non-finite lr is
-- an error naming the schedule and the step, raised before any group or the step changes.
function Scheduler:_apply(step, level)
  local groups, lrs = self.optimizer.param_groups, {}
  for i, g in ipairs(groups) do
    if self.base_lrs[i] == nil then self.base_lrs[i] = g.initial_lr or g.lr end
    lrs[i] = self.factor(step, i) * self.base_lrs[i]
    local bad = optim.nonfinite(lrs[i])
    if bad then
      error(("%s: step %d: the learning rate is %s%s"):format(self.__name, step, bad,
        #groups > 1 and (" (group " .. i .. ")") or ""), level + 1)
    end
  end
  for i, g in ipairs(groups) do g.lr = lrs[i] end
  self.last_step = step
end

--- sched:step(): advances one step and updates the groups' lr.
function Scheduler:step()
  self:_apply(self.last_step + 1, 2)
end

--- sched:get_lr() -> {lr per group} at the current step.
function Scheduler:get_lr()
  local out = {}
  for i, g in ipairs(self.optimizer.param_groups) do out[i] = g.lr end
  return out
end

--- sched:state_dict() -> {last_step=, base_lrs=}
function Scheduler:state_dict()
  return { last_step = self.last_step, base_lrs = table.move(self.base_lrs, 1, #self.base_lrs, 1, {}) }
end

function Scheduler:load_state_dict(sd)
  if type(sd) ~= "table" or math.type(sd.last_step) ~= "integer" then
    error(self.__name .. ".load_state_dict: expected a table with an integer 'last_step'", 2)
  end
  if type(sd.base_lrs) == "table" then self.base_lrs = table.move(sd.base_lrs, 1, #sd.base_lrs, 1, {}) end
  self:_apply(sd.last_step, 2)
end

local function nonnegative(name, o, key, level)
  if type(o[key]) ~= "number" or o[key] < 0 then error(name .. ": " .. key .. " must be a non-negative number", level + 1) end
end

--- WarmupExpDecay(opt, {warmup=50000, half_life=100000, floor=0.001}): lr rises linearly from 0
--- over `warmup` steps, then halves every `half_life` steps, never below floor * max (MPMv2).
--- factor(s) = s / warmup for s < warmup, else max(floor, exp(-ln 2 * (s - warmup) / half_life)).
lr_scheduler.WarmupExpDecay = define("WarmupExpDecay", { warmup = 50000, half_life = 100000, floor = 0.001 },
  function(o, name, level)
    nonnegative(name, o, "warmup", level + 1); nonnegative(name, o, "floor", level + 1)
    if type(o.half_life) ~= "number" or o.half_life <= 0 then error(name .. ": half_life must be positive", level + 1) end
    return function(s)
      if s < o.warmup then return s / o.warmup end
      return math.max(o.floor, math.exp(-math.log(2) * (s - o.warmup) / o.half_life))
    end
  end)

--- WarmupCosine(opt, {warmup=0, total=, final=0}): linear warm-up from 0, then a half cosine
--- from the max down to final * max at step `total`, constant after.
lr_scheduler.WarmupCosine = define("WarmupCosine", { warmup = 0, total = "required", final = 0 },
  function(o, name, level)
    nonnegative(name, o, "warmup", level + 1); nonnegative(name, o, "final", level + 1)
    if type(o.total) ~= "number" or o.total <= o.warmup then error(name .. ": total must be a number greater than warmup", level + 1) end
    return function(s)
      if s < o.warmup then return s / o.warmup end
      local progress = math.min(1, (s - o.warmup) / (o.total - o.warmup))
      return o.final + (1 - o.final) * 0.5 * (1 + math.cos(math.pi * progress))
    end
  end)

--- ConstantLR(opt [, {warmup=0}]): the base lr, after an optional linear warm-up from 0.
lr_scheduler.ConstantLR = define("ConstantLR", { warmup = 0 },
  function(o, name, level)
    nonnegative(name, o, "warmup", level + 1)
    return function(s) return s < o.warmup and s / o.warmup or 1 end
  end)

--- LambdaLR(opt, {lambda = f}) or LambdaLR(opt, {lambda = {f1, f2, ...}}): factor = f(step),
--- one function for all groups or one per group (groups beyond the list use the last).
lr_scheduler.LambdaLR = define("LambdaLR", { lambda = "required" },
  function(o, name, level)
    local fs = o.lambda
    if type(fs) == "function" then fs = { fs } end
    if type(fs) ~= "table" or #fs == 0 then error(name .. ": lambda must be a function or a list of functions", level + 1) end
    for i, f in ipairs(fs) do
      if type(f) ~= "function" then error(name .. ": lambda " .. i .. " is a " .. type(f) .. ", expected a function", level + 1) end
    end
    return function(s, group)
      local f = fs[math.min(group, #fs)]
      local v = f(s)
      if type(v) ~= "number" then error(name .. ": lambda returned " .. type(v) .. " at step " .. s .. ", expected a number", 0) end
      return v
    end
  end)

optim.lr_scheduler = lr_scheduler

return optim
