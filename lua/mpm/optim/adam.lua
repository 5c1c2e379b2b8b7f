-- mpm.optim.Adam and mpm.optim.AdamW (decoupled weight decay), PyTorch's rules.
local mpm = require "mpm.core"
local optim = require "mpm.optim.optimizer"

local function validate(name, g, level)
  if type(g.lr) ~= "number" or g.lr < 0 then error(name .. ": lr must be a non-negative number", level + 1) end
  local b = g.betas
  if type(b) ~= "table" or #b ~= 2 or type(b[1]) ~= "number" or type(b[2]) ~= "number"
    or b[1] < 0 or b[1] >= 1 or b[2] < 0 or b[2] >= 1 then
    error(name .. ": betas must be {beta1, beta2} with each in [0, 1)", level + 1)
  end
  if type(g.eps) ~= "number" or g.eps < 0 then error(name .. ": eps must be a non-negative number", level + 1) end
  if type(g.weight_decay) ~= "number" or g.weight_decay < 0 then error(name .. ": weight_decay must be a non-negative number", level + 1) end
end

local function update(decoupled)
  return function(self, g, p, grad, state)
    if not state.step then
      state.step = 0
      state.exp_avg = mpm.zeros_like(p)
      state.exp_avg_sq = mpm.zeros_like(p)
    end
    state.step = state.step + 1
    optim._adam(p, grad, state.exp_avg, state.exp_avg_sq, state.step, g.lr, g.betas[1], g.betas[2], g.eps,
      g.weight_decay, decoupled)
  end
end

--- mpm.optim.Adam(params, {lr=1e-3, betas={0.9, 0.999}, eps=1e-8, weight_decay=0})
--- Adam with L2 weight decay added to the gradient.
optim.Adam = optim.Optimizer.define("Adam",
  { lr = 1e-3, betas = { 0.9, 0.999 }, eps = 1e-8, weight_decay = 0 }, validate, update(false))

--- mpm.optim.AdamW(params, {lr=1e-3, betas={0.9, 0.999}, eps=1e-8, weight_decay=1e-2})
--- Adam with decoupled weight decay: p *= 1 - lr * weight_decay before the Adam step.
optim.AdamW = optim.Optimizer.define("AdamW",
  { lr = 1e-3, betas = { 0.9, 0.999 }, eps = 1e-8, weight_decay = 1e-2 }, validate, update(true))

return optim
