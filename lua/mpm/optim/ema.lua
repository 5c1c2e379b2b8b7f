-- mpm.optim.EMA: an exponential moving average of parameters, for evaluation and sampling
-- (MPMv2 samples its CFM head with an EMA copy, decay 0.999).
local mpm = require "mpm.core"
local check_options = require("mpm.options").check
local nn = require "mpm.nn"
local optim = mpm.optim

local EMA = {}
EMA.__index = EMA
EMA.__name = "EMA"

--- mpm.optim.EMA(model_or_params [, {decay=0.999}]) -> ema
--- ema:update() after each optimiser step: avg = decay * avg + (1 - decay) * p.
--- ema:swap() exchanges the averages with the live parameters (call again to swap back);
--- ema:apply(f, ...) runs f with the averages swapped in and swaps back, even on error;
--- ema:copy_to() writes the averages into the parameters for good.
function EMA.new(params, options)
  local decay = check_options("EMA", options, { decay = 0.999 }, 3).decay
  if type(decay) ~= "number" or decay < 0 or decay > 1 then error("EMA: decay must be a number in [0, 1]", 3) end
  local list = nn.utils.parameters_of(params, "EMA", 3)
  local shadow = {}
  for i, p in ipairs(list) do shadow[i] = p:detach():clone() end
  return setmetatable({ params = list, shadow = shadow, decay = decay, num_updates = 0, swapped = false }, EMA)
end

function EMA:update()
  if self.swapped then error("EMA.update: the averages are swapped in; swap back before updating", 2) end
  optim._ema_update(self.shadow, self.params, self.decay)
  self.num_updates = self.num_updates + 1
end

function EMA:swap()
  optim._swap(self.shadow, self.params)
  self.swapped = not self.swapped
end

function EMA:apply(f, ...)
  if type(f) ~= "function" then error("EMA.apply: expected a function, got " .. type(f), 2) end
  self:swap()
  local results = table.pack(pcall(f, ...))
  self:swap()
  if not results[1] then error(results[2], 0) end
  return table.unpack(results, 2, results.n)
end

function EMA:copy_to()
  for i, p in ipairs(self.params) do nn._assign(p, self.shadow[i]) end
end

--- ema:state_dict() -> {decay=, num_updates=, averages = {[i] = tensor}}
function EMA:state_dict()
  if self.swapped then error("EMA.state_dict: the averages are swapped in; swap back first", 2) end
  local averages = {}
  for i, t in ipairs(self.shadow) do averages[i] = t end
  return { decay = self.decay, num_updates = self.num_updates, averages = averages }
end

function EMA:load_state_dict(sd)
  if type(sd) ~= "table" or type(sd.averages) ~= "table" then error("EMA.load_state_dict: expected a table with 'averages'", 2) end
  local n = 0
  for _ in pairs(sd.averages) do n = n + 1 end
  if n ~= #self.shadow then
    error(("EMA.load_state_dict: %d averages in the state dict, %d parameters here"):format(n, #self.shadow), 2)
  end
  for i, t in ipairs(self.shadow) do
    local src = sd.averages[i]
    local why = mpm.is_tensor(src) and nn._fits(t, src) or (not mpm.is_tensor(src) and "not a tensor")
    if why then error(("EMA.load_state_dict: average %d: %s"):format(i, why), 2) end
    nn._assign(t, src)
  end
  self.decay = sd.decay or self.decay
  self.num_updates = sd.num_updates or self.num_updates
end

function EMA.__tostring(self)
  return ("EMA(decay=%g, %d tensors, %d updates)"):format(self.decay, #self.shadow, self.num_updates)
end

optim.EMA = setmetatable(EMA, { __call = function(_, params, options) return EMA.new(params, options) end })

return optim
