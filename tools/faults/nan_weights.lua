-- Fault: a checkpoint or backbone whose weights hold NaN or Inf (docs/reliability.md,
-- "Loading"). Before: mpm.load accepted it silently and a resumed run failed much later with
-- a misleading "loss is NaN (task cfm)". Now: one line naming the file and the tensor.
-- usage: mpmlua tools/faults/nan_weights.lua [--short]
local T = require "mpm.testing"
local path = os.tmpname()

local function with_bad(value)
  local w = mpm.randn(8, 4)
  w[3][2] = value
  return { model = { ["encoder.0.weight"] = w, ["encoder.0.bias"] = mpm.zeros(8) }, step = 10 }
end

for _, case in ipairs { { 0 / 0, "NaN" }, { math.huge, "inf" }, { -math.huge, "-inf" } } do
  mpm.save(path, with_bad(case[1]))
  local ok, err = pcall(mpm.load, path)
  T.equal(ok, false, "loading weights holding " .. case[2])
  T.equal(err, "mpm.load: " .. path .. ": tensor 'model.encoder.0.weight' holds " .. case[2], "the error")
end

-- A real model's state dict: the dotted name of the bad tensor is the state-dict key.
local model = mpm.nn.Sequential(mpm.nn.Linear(4, 8), mpm.nn.Linear(8, 2))
local sd = model:state_dict()
mpm.no_grad(function() sd["2.weight"]:fill_(0 / 0) end)
mpm.save(path, { model = sd })
T.raises(function() mpm.load(path) end, "tensor 'model%.2%.weight' holds NaN$")

-- Finite weights (and integer or bool tensors) load as before.
mpm.save(path, { w = mpm.randn(3), ids = mpm.tensor({ 1, 2 }, { dtype = "int64" }), m = mpm.ones(2):gt(0) })
local back = mpm.load(path)
T.equal(back.ids:tolist(), { 1, 2 }, "integer tensors")
os.remove(path)
print("nan_weights: ok")
