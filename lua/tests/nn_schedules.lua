-- Learning-rate schedules equal their formulas at chosen steps, restore from state dicts, and
-- handle groups added later.
local T = require "mpm.testing"
local optim, sched = mpm.optim, mpm.optim.lr_scheduler

local function optimiser(lr)
  return optim.AdamW({ mpm.zeros(1, { requires_grad = true }) }, { lr = lr })
end

local function advance(s, n) for _ = 1, n do s:step() end end

-- MPMv2 pre-training: warm-up 50k, half-life 100k, floor 0.001 * max
do
  local max = 1e-3
  local o = optimiser(max)
  local s = sched.WarmupExpDecay(o, { warmup = 50000, half_life = 100000, floor = 0.001 })
  local function formula(step)
    if step < 50000 then return max * step / 50000 end
    return max * math.max(0.001, math.exp(-math.log(2) * (step - 50000) / 100000))
  end
  local at = 0
  for _, step in ipairs({ 0, 1, 25000, 49999, 50000, 150000, 250000, 1000000, 1500000 }) do
    advance(s, step - at)
    at = step
    T.close(s:get_lr()[1], formula(step), 1e-12, "WarmupExpDecay at " .. step)
  end
  T.close(formula(150000), max / 2, 1e-15, "one half-life after the warm-up")
  T.close(s:get_lr()[1], max * 0.001, 1e-15, "the floor holds far out")
end

-- Warm-up then cosine
do
  local o = optimiser(2e-4)
  local s = sched.WarmupCosine(o, { warmup = 100, total = 1100, final = 0.1 })
  local at = 0
  for _, step in ipairs({ 0, 50, 100, 350, 600, 1100, 2000 }) do
    advance(s, step - at)
    at = step
    local f
    if step < 100 then f = step / 100 else
      local progress = math.min(1, (step - 100) / 1000)
      f = 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))
    end
    T.close(s:get_lr()[1], 2e-4 * f, 1e-12, "WarmupCosine at " .. step)
  end
  T.raises(function() sched.WarmupCosine(o, {}) end, "option 'total' is required")
  T.raises(function() sched.WarmupCosine(o, { total = 10, warmpu = 1 }) end, "unknown option 'warmpu'")
end

-- Constant (with warm-up) and LambdaLR
do
  local o = optimiser(0.5)
  local s = sched.ConstantLR(o, { warmup = 4 })
  T.equal(s:get_lr()[1], 0, "constant: warm-up starts at 0")
  advance(s, 2)
  T.equal(s:get_lr()[1], 0.25, "constant: half-way")
  advance(s, 10)
  T.equal(s:get_lr()[1], 0.5, "constant after warm-up")

  local o2 = optimiser(1.0)
  local l = sched.LambdaLR(o2, { lambda = function(step) return 0.9 ^ step end })
  advance(l, 3)
  T.close(l:get_lr()[1], 0.9 ^ 3, 1e-15, "LambdaLR")
  T.raises(function() sched.LambdaLR(o2, { lambda = 3 }) end, "lambda must be a function")
end

-- state_dict: a restored schedule continues at the same step
do
  local o1, o2 = optimiser(1e-3), optimiser(1e-3)
  local s1 = sched.WarmupExpDecay(o1, { warmup = 10, half_life = 20 })
  advance(s1, 17)
  local s2 = sched.WarmupExpDecay(o2, { warmup = 10, half_life = 20 })
  s2:load_state_dict(s1:state_dict())
  T.equal(s2:get_lr()[1], s1:get_lr()[1], "same lr after restore")
  s1:step(); s2:step()
  T.equal(s2:get_lr()[1], s1:get_lr()[1], "same lr one step later")
end

-- Staged unfreezing: a group added later keeps its own base lr and ramp
do
  local o = optimiser(1e-4)
  local s = sched.LambdaLR(o, { lambda = { function() return 1 end, function(step) return math.min(1, (step - 5) / 5) end } })
  advance(s, 5)
  o:add_param_group({ params = { mpm.zeros(1, { requires_grad = true }) }, lr = 1e-4 })
  s:step()
  T.close(s:get_lr()[2], 1e-4 * 1 / 5, 1e-15, "new group ramps from its own base lr")
  advance(s, 10)
  T.close(s:get_lr()[2], 1e-4, 1e-15, "and reaches it")
end
