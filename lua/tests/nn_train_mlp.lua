-- A small MLP trained from Lua fits a non-linear toy regression,
-- y = sin(3 x1) * x2 + x1^2 on [-1, 1]^2 (target variance about 0.2):
-- after 400 full-batch AdamW steps the mean squared error must be below 0.01.
local T = require "mpm.testing"
local nn, optim = mpm.nn, mpm.optim
mpm.manual_seed(1234)

local n = 256
local x = mpm.rand(n, 2) * 2 - 1
local x1, x2 = x:narrow(2, 1, 1), x:narrow(2, 2, 1)
local y = (x1 * 3):sin() * x2 + x1 ^ 2

local model = nn.MLP(2, 1, { width = 64, depth = 2, activation = "silu" })
local opt = optim.AdamW(model, { lr = 1e-2, weight_decay = 1e-5 })
local schedule = optim.lr_scheduler.WarmupCosine(opt, { warmup = 20, total = 400, final = 0.05 })

local first, loss
for step = 1, 400 do
  opt:zero_grad()
  loss = ((model(x) - y) ^ 2):mean()
  loss:backward()
  nn.utils.clip_grad_norm_(model, 1.0)
  opt:step()
  schedule:step()
  if step == 1 then first = loss:item() end
end
local final = mpm.no_grad(function() return ((model(x) - y) ^ 2):mean():item() end)
print(("toy regression: MSE %.5f -> %.5f"):format(first, final))
assert(final < 0.01, ("final MSE %.5f is not below 0.01"):format(final))
assert(final < 0.05 * first, "the loss must drop by more than 20x")
