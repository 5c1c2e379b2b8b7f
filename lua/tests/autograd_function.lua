-- mpm.autograd.Function: Lua-defined ops with hand-written backwards (Tensor.custom).
local T = require "mpm.testing"

-- y = x^3 * w (a number argument scales it): dy/dx = 3 x^2 w s, dy/dw = x^3 s.
local calls = 0
local cube = mpm.autograd.Function {
  name = "cube_times",
  forward = function(ctx, x, w, s)
    ctx:save_for_backward(x, w)
    ctx.s = s
    return x * x * x * w * s
  end,
  backward = function(ctx, g)
    calls = calls + 1
    local x, w = ctx.saved_tensors[1], ctx.saved_tensors[2]
    return g * x * x * w * (3 * ctx.s), g * x * x * x * ctx.s, nil
  end,
}

local x = mpm.tensor({1.0, 2.0, -1.0}, {requires_grad = true})
local w = mpm.tensor({0.5, -1.0, 2.0}, {requires_grad = true})
local y = cube(x, w, 2)
T.equal(y.requires_grad, true, "output requires grad")
T.equal(tostring(y):find("grad_fn=<cube_times>", 1, true) ~= nil, true, "grad_fn name")
y:sum():backward()
T.equal(calls, 1, "backward ran once")
local gx, gw = x.grad:tolist(), w.grad:tolist()
for i, v in ipairs({3 * 1 * 0.5 * 2, 3 * 4 * -1 * 2, 3 * 1 * 2 * 2}) do T.close(gx[i], v, 1e-6, "dx " .. i) end
for i, v in ipairs({1 * 2, 8 * 2, -1 * 2}) do T.close(gw[i], v, 1e-6, "dw " .. i) end

-- Matches the same computation through the built-in ops, inside a larger graph.
local a = mpm.randn(4):requires_grad_()
local b = mpm.randn(4):requires_grad_()
local g1 = mpm.autograd.grad_of((cube(a * 2, b:exp(), 0.5) * a):sum(), {a, b})
local g2 = mpm.autograd.grad_of(((a * 2) ^ 3 * b:exp() * 0.5 * a):sum(), {a, b})
for k = 1, 2 do
  local u, v = g1[k]:tolist(), g2[k]:tolist()
  for i = 1, 4 do T.close(u[i], v[i], 1e-4, "grad_of input " .. k .. " element " .. i) end
end

-- Two outputs; an output no gradient reaches arrives as nil.
local seen
local mul_square = mpm.autograd.Function {
  forward = function(ctx, x, w)
    ctx:save_for_backward(x, w)
    return x * w, x * x
  end,
  backward = function(ctx, ga, gb)
    seen = {ga ~= nil, gb ~= nil}
    local x, w = ctx.saved_tensors[1], ctx.saved_tensors[2]
    local gx = ga and ga * w or nil
    if gb then gx = gx and gx + gb * x * 2 or gb * x * 2 end
    return gx, ga and ga * x or nil
  end,
}
x.grad, w.grad = nil, nil
local p, q = mul_square(x, w)
;(p + q):sum():backward()
T.equal(seen[1] and seen[2], true, "both output gradients")
for i, v in ipairs({0.5 + 2, -1 + 4, 2 - 2}) do T.close(x.grad:tolist()[i], v, 1e-6, "two outputs dx " .. i) end
x.grad, w.grad = nil, nil
local _, q2 = mul_square(x, w)
q2:sum():backward()
T.equal(seen[1], false, "unused output gives nil")
T.equal(w.grad, nil, "no gradient for w")

-- No node under no_grad or when no input requires grad.
calls = 0
T.equal(mpm.no_grad(function() return cube(x, w, 1) end).requires_grad, false, "no_grad records nothing")
T.equal(cube(mpm.ones(3), mpm.ones(3), 1).requires_grad, false, "no input requires grad")
T.equal(calls, 0, "backward never called")

-- In-place modification of a saved tensor, and errors raised in and by the Lua functions.
local c = mpm.ones(3)
local yc = cube(x, c, 1)
c:add_(1)
T.raises(function() yc:sum():backward() end, "saved by cube_times%) was modified in place")
local bad = mpm.autograd.Function {
  forward = function(_, x) return x * 2 end,
  backward = function() error("backward failed here") end,
}
T.raises(function() bad(x):sum():backward() end, "backward failed here")
local wrong = mpm.autograd.Function {
  forward = function(_, x) return x * 2 end,
  backward = function() return mpm.zeros(5) end,
}
T.raises(function() wrong(x):sum():backward() end, "gradient for input 1 has shape %[5%] but the input has shape %[3%]")
T.raises(function() mpm.autograd.Function { forward = 1 } end, "expected {forward = function, backward = function}")
local nothing = mpm.autograd.Function { forward = function() return 3 end, backward = function() end }
T.raises(function() nothing(x) end, "forward result 1 is a number, expected a tensor")
