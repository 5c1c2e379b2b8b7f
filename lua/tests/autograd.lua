-- Autograd from Lua: backward, accumulation, no_grad scopes, functional gradients, and the
-- errors a user can run into.
local T = require "mpm.testing"

local w = mpm.tensor({1.0, -2.0, 3.0}, {requires_grad = true})
local loss = (w * w):sum()
loss:backward()
T.equal(w.grad:tolist()[2], -4, "d(sum w^2)/dw = 2w")
;(w * 3):sum():backward()
T.equal(w.grad:tolist()[1], 2 + 3, "gradients accumulate")
w.grad = nil
T.equal(w.grad, nil, "grad can be cleared")

-- no_grad: function form and <close> form; both restore the mode even after an error
local y = mpm.no_grad(function() return w * 2 end)
T.equal(y.requires_grad, false, "no_grad function form")
do
  local scope <close> = mpm.no_grad()
  T.equal((w * 2).requires_grad, false, "no_grad scope")
end
T.equal((w * 2).requires_grad, true, "grad mode restored after the scope")
pcall(mpm.no_grad, function() error("inside") end)
T.equal(mpm.autograd.is_grad_enabled(), true, "grad mode restored after an error")

-- backward of a non-scalar needs a gradient
T.raises(function() (w * 2):backward() end, "")
local v = w * 2
v:backward(mpm.ones(3))
T.equal(w.grad:tolist()[3], 2, "backward with a gradient")

-- a second backward through a freed graph is an error; retain_graph allows it
w.grad = nil
local z = (w * w):sum()
z:backward({retain_graph = true})
z:backward()
T.equal(w.grad:tolist()[1], 4, "retain_graph keeps the graph for a second pass")
T.raises(function() z:backward() end, "retain_graph")

-- modifying a saved tensor in place is detected
local a = mpm.tensor({1.0, 2.0}, {requires_grad = true})
local b = a * 1
local c = b * b
b:add_(1)
T.raises(function() c:sum():backward() end, "modified in place")

-- functional gradients shaped like the input table
local grad = mpm.autograd.grad(function(p, k) return (p.a * p.b.c):sum() * k end)
local grads, value = grad({a = mpm.tensor({2.0}), b = {c = mpm.tensor({5.0})}}, 3)
T.equal(grads.a:item(), 15, "grad a")
T.equal(grads.b.c:item(), 6, "grad nested b.c")
T.equal(value:item(), 30, "value returned after the gradients")

-- mpm.autocast: the function and <close> forms set this thread's product precision and restore
-- it, also after an error; unknown precisions are an error; the support query answers on every
-- CPU (bf16 runs in fp32 where the CPU lacks bf16 instructions, with a note saying so).
T.equal(mpm.precision(), "fp32", "fp32 outside every scope")
local seen, twice = mpm.autocast("bf16", function(k) return mpm.precision(), 2 * k end, 21)
T.equal(seen, "bf16", "autocast function form")
T.equal(twice, 42, "autocast returns f's results")
do
  local scope <close> = mpm.autocast("bf16")
  T.equal(mpm.precision(), "bf16", "autocast scope")
  mpm.autocast("fp32", function() T.equal(mpm.precision(), "fp32", "scopes nest") end)
end
T.equal(mpm.precision(), "fp32", "restored after the scope")
pcall(mpm.autocast, "bf16", function() error("inside") end)
T.equal(mpm.precision(), "fp32", "restored after an error")
T.raises(function() mpm.autocast("fp16", print) end, 'autocast: precision must be "fp32" or "bf16", got "fp16"')
T.raises(function() mpm.autocast(nil, print) end, 'autocast: precision must be "fp32" or "bf16", got nil')
local runs, note = mpm.precision_support("bf16")
T.equal(runs, mpm.config().bf16 and "bf16" or "fp32", "bf16 runs where the config says it does")
T.equal(note == nil, mpm.config().bf16, "a note exactly when bf16 falls back")
-- A linear layer under bf16, forward and backward, stays close to fp32 (PrecisionTests bound it).
mpm.manual_seed(3)
local lin = mpm.nn.Linear(96, 128)
local x = mpm.randn(600, 96)
local y32 = lin(x)
local y16 = mpm.autocast("bf16", lin, x)
local diff = (y16 - y32):abs():max():item()
T.equal(diff < 0.05 * y32:abs():max():item(), true, "bf16 linear within a few bf16 roundings of fp32: " .. diff)
