-- mpm.optim.SGD: stochastic gradient descent with momentum and Nesterov (PyTorch's rule).
local optim = require "mpm.optim.optimizer"

local function validate(name, g, level)
  if type(g.lr) ~= "number" or g.lr < 0 then error(name .. ": lr must be a non-negative number", level + 1) end
  if type(g.momentum) ~= "number" or g.momentum < 0 then error(name .. ": momentum must be a non-negative number", level + 1) end
  if type(g.weight_decay) ~= "number" or g.weight_decay < 0 then error(name .. ": weight_decay must be a non-negative number", level + 1) end
  if type(g.dampening) ~= "number" then error(name .. ": dampening must be a number", level + 1) end
  if type(g.nesterov) ~= "boolean" then error(name .. ": nesterov must be a boolean", level + 1) end
  if g.nesterov and (g.momentum <= 0 or g.dampening ~= 0) then
    error(name .. ": Nesterov momentum needs momentum > 0 and dampening = 0", level + 1)
  end
end

--- mpm.optim.SGD(params, {lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=false})
--- p -= lr * d with d = g + weight_decay * p, then momentum: buf = momentum * buf +
--- (1 - dampening) * d (buf = d at the first step), d = buf, or d + momentum * buf (Nesterov).
optim.SGD = optim.Optimizer.define("SGD",
  { lr = 1e-3, momentum = 0, dampening = 0, weight_decay = 0, nesterov = false },
  validate,
  function(self, g, p, grad, state)
    state.momentum_buffer = optim._sgd(p, grad, state.momentum_buffer, g.lr, g.momentum, g.dampening,
      g.nesterov, g.weight_decay)
  end)

return optim
