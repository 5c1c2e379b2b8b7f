-- Optimisers from Lua: one AdamW step against its closed form, SGD with Nesterov, parameter
-- groups, staged unfreezing, state dicts, gradient clipping and the EMA.
local T = require "mpm.testing"
local nn, optim = mpm.nn, mpm.optim

-- One AdamW step equals the closed form computed by hand (Lua doubles)
local p0, g = { 0.5, -1.25, 2.0 }, { 0.1, -0.3, 0.02 }
local p = mpm.tensor(p0, { requires_grad = true })
local lr, b1, b2, eps, wd = 1e-2, 0.9, 0.999, 1e-8, 0.1
local opt = optim.AdamW({ p }, { lr = lr, betas = { b1, b2 }, eps = eps, weight_decay = wd })
p.grad = mpm.tensor(g)
opt:step()
local got = p:tolist()
for i = 1, 3 do
  local m, v = (1 - b1) * g[i], (1 - b2) * g[i] ^ 2
  local expected = p0[i] * (1 - lr * wd) - lr * (m / (1 - b1)) / (math.sqrt(v / (1 - b2)) + eps)
  T.close(got[i], expected, 1e-6, "AdamW element " .. i)
end
T.equal(opt.state[p].step, 1, "step counted")

-- A second step, checked against the recurrence
p.grad = mpm.tensor({ -0.2, 0.4, 0.1 })
local before = p:tolist()
local m1, v1 = opt.state[p].exp_avg:tolist(), opt.state[p].exp_avg_sq:tolist()
opt:step()
local g2 = { -0.2, 0.4, 0.1 }
for i = 1, 3 do
  local m = b1 * m1[i] + (1 - b1) * g2[i]
  local v = b2 * v1[i] + (1 - b2) * g2[i] ^ 2
  local expected = before[i] * (1 - lr * wd) - lr * (m / (1 - b1 ^ 2)) / (math.sqrt(v / (1 - b2 ^ 2)) + eps)
  T.close(p:tolist()[i], expected, 1e-6, "AdamW second step element " .. i)
end

-- SGD with Nesterov momentum against the recurrence
local q = mpm.tensor({ 1.0 }, { requires_grad = true })
local sgd = optim.SGD({ q }, { lr = 0.1, momentum = 0.9, nesterov = true, weight_decay = 0.01 })
local qd, buf = 1.0, nil
for _, gv in ipairs({ 0.5, 0.25, -1.0 }) do
  q.grad = mpm.tensor({ gv })
  sgd:step()
  local d = gv + 0.01 * qd
  buf = buf and 0.9 * buf + d or d
  qd = qd - 0.1 * (d + 0.9 * buf)
  T.close(q:tolist()[1], qd, 1e-6, "SGD Nesterov")
end
T.raises(function() optim.SGD({ q }, { lr = 0.1, nesterov = true }) end, "Nesterov momentum needs momentum > 0")

-- Options are checked
T.raises(function() optim.AdamW({ q }, { lr = 1e-3, weight_decya = 0 }) end, "unknown option 'weight_decya'")
T.raises(function() optim.Adam({ q }, { betas = { 0.9 } }) end, "betas must be")
T.raises(function() optim.SGD({ q, "x" }) end, "entry 2 is a string")

-- Parameter groups with their own lr and weight decay; a parameter without grad is skipped
local a, b = mpm.tensor({ 1.0 }, { requires_grad = true }), mpm.tensor({ 1.0 }, { requires_grad = true })
local groups = optim.SGD({ { params = { a }, lr = 0.5 }, { params = { b } } }, { lr = 0.1 })
a.grad, b.grad = mpm.tensor({ 1.0 }), nil
groups:step()
T.close(a:tolist()[1], 0.5, 1e-7, "group 1 uses its own lr")
T.equal(b:tolist()[1], 1.0, "no grad: untouched")
T.equal(groups.param_groups[2].lr, 0.1, "group 2 takes the default lr")
T.raises(function() groups:add_param_group({ params = { a } }) end, "appears in group 1")

-- Staged unfreezing: a frozen backbone joins later with its own lr
local head, backbone = nn.Linear(2, 1), nn.Linear(2, 2)
backbone:requires_grad_(false)
local ft = optim.AdamW(head, { lr = 1e-3, weight_decay = 1e-5 })
T.equal(#ft.param_groups, 1, "head only")
backbone:requires_grad_(true)
ft:add_param_group({ params = backbone, lr = 0 })
T.equal(#ft.param_groups[2].params, 2, "backbone group")
T.equal(ft.param_groups[2].weight_decay, 1e-5, "defaults fill the new group")

-- state_dict / load_state_dict: a restored optimiser continues identically
local function run(model, o, steps)
  local xs = mpm.tensor({ { 1.0, 2.0 }, { -1.0, 0.5 } })
  for _ = 1, steps do
    o:zero_grad()
    local loss = (model(xs) ^ 2):sum()
    loss:backward()
    o:step()
  end
end
mpm.manual_seed(5)
local m1 = nn.Linear(2, 1)
local o1 = optim.AdamW(m1, { lr = 0.1 })
run(m1, o1, 3)
local m2 = nn.Linear(2, 1)
m2:load_state_dict(m1:state_dict())
local o2 = optim.AdamW(m2, { lr = 0.5 })
o2:load_state_dict(o1:state_dict())
T.equal(o2.param_groups[1].lr, 0.1, "group options restored")
run(m1, o1, 2); run(m2, o2, 2)
T.equal((m1.weight - m2.weight):abs():max():item(), 0, "resumed optimiser matches bit for bit")
T.raises(function() optim.AdamW({ q }):load_state_dict(o1:state_dict()) end, "group 1 has 2 parameters in the state dict, 1 in the optimiser")

-- clip_grad_norm_ returns the total norm and scales
local c1, c2 = mpm.zeros(2, { requires_grad = true }), mpm.zeros(1, { requires_grad = true })
c1.grad, c2.grad = mpm.tensor({ 3.0, 0.0 }), mpm.tensor({ 4.0 })
T.close(nn.utils.clip_grad_norm_({ c1, c2 }, 1.0), 5, 1e-9, "total norm")
T.close(c2.grad:tolist()[1], 4 / (5 + 1e-6), 1e-6, "scaled to norm 1")

-- EMA: update, swap in for evaluation, apply restores even on error
local lin = nn.Linear(1, 1, { bias = false })
mpm.no_grad(function() lin.weight:fill_(1) end)
local ema = optim.EMA(lin, { decay = 0.5 })
mpm.no_grad(function() lin.weight:fill_(3) end)
ema:update()
T.equal(ema.shadow[1]:tolist()[1][1], 2, "avg = 0.5 * 1 + 0.5 * 3")
local seen = ema:apply(function() return lin.weight:tolist()[1][1] end)
T.equal(seen, 2, "averages swapped in")
T.equal(lin.weight:tolist()[1][1], 3, "and swapped back")
pcall(ema.apply, ema, function() error("boom") end)
T.equal(lin.weight:tolist()[1][1], 3, "swapped back after an error")
local ema2 = optim.EMA(lin, { decay = 0.9 })
ema2:load_state_dict(ema:state_dict())
T.equal(ema2.decay, 0.5, "EMA state restored")
T.raises(function() optim.EMA(lin, { decai = 0.9 }) end, "unknown option 'decai'")
