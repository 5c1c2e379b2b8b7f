-- Fault: a learning-rate schedule or an optimiser given a NaN or infinite learning rate
-- (docs/reliability.md, "Learning rates"). Before: accepted silently, the weights turned NaN
-- and the run failed much later as "loss is NaN". Now: an error naming the schedule and step.
-- usage: mpmlua tools/faults/nonfinite_lr.lua [--short]
local T = require "mpm.testing"
local optim = mpm.optim
local sched = optim.lr_scheduler
local w = mpm.randn(4):requires_grad_(true)
local opt = optim.AdamW({ w }, { lr = 1e-2 })

local lambda = sched.LambdaLR(opt, { lambda = function(step) return step == 3 and 0 / 0 or 1 / (step + 1) end })
lambda:step()
lambda:step()
local msg = T.raises(function() lambda:step() end, "LambdaLR: step 3: the learning rate is NaN$")
T.equal(select(2, msg:gsub("\n", "")), 0, "one line")
T.equal(lambda.last_step, 2, "the refused step did not advance the schedule")
T.close(opt.param_groups[1].lr, 1e-2 / 3, 1e-9, "the optimiser keeps the last good lr")

T.raises(function() sched.LambdaLR(opt, { lambda = function() return math.huge end }) end,
  "LambdaLR: step 0: the learning rate is inf")
local two = optim.SGD({ { params = { w }, lr = 0.1 }, { params = { mpm.zeros(1):requires_grad_(true) }, lr = 0.1 } })
T.raises(function() sched.LambdaLR(two, { lambda = { function() return 1 end, function() return -1 / 0 end } }) end,
  "LambdaLR: step 0: the learning rate is %-inf %(group 2%)")
T.raises(function() sched.WarmupCosine(optim.SGD({ w }, { lr = 0.1 }), { total = 10, final = 0 / 0 }) end,
  "WarmupCosine: step 0: the learning rate is NaN")
local resumed = sched.ConstantLR(optim.SGD({ w }, { lr = 0.1 }))
T.raises(function() resumed:load_state_dict({ last_step = 5, base_lrs = { 0 / 0 } }) end,
  "ConstantLR: step 5: the learning rate is NaN")

-- Optimisers: at construction and when set directly on a group.
T.raises(function() optim.SGD({ w }, { lr = 0 / 0 }) end, "SGD: lr is NaN, expected a finite number")
T.raises(function() optim.Adam({ w }, { lr = math.huge }) end, "Adam: lr is inf, expected a finite number")
local before = w:clone()
opt.param_groups[1].lr = 0 / 0
w.grad = mpm.ones(4)
T.raises(function() opt:step() end, "AdamW: the learning rate of group 1 is NaN")
T.equal(w:eq(before):all():item(), true, "the refused step changed no weight")
opt.param_groups[1].lr = 1e-3
opt:step()
T.equal(w:isfinite():all():item(), true, "a finite lr steps again")

print("nonfinite_lr: ok")
