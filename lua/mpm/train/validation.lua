-- train.validate: the mean losses over the first batches of a validation loader, in eval
-- mode, without gradients, with fixed randomness (masking, noise) that leaves the training
-- generator exactly where it was.
local mpm = require "mpm.core"
local autograd = require "mpm.autograd"
local nn = require "mpm.nn"
local stream = require "mpm.train.stream"
local validation = {}

--- train.set_training(modules, mode): train (true) or eval (false) mode for every module of
--- the list (entries that are not modules are skipped).
function validation.set_training(modules, mode)
  for _, m in ipairs(modules) do if nn.is_module(m) then m:train(mode) end end
end

--- train.validate{loader=, batches=, evaluate=function(batch) -> loss, parts, modules=,
--- generator=, seed=20240917} -> {loss = mean, [part name] = mean} or nil (no batches).
function validation.validate(o)
  local generator = o.generator or mpm.default_generator()
  local saved = generator:get_state()
  generator:manual_seed(o.seed or 20240917)
  validation.set_training(o.modules, false)
  local sums, count, total = {}, 0, 0
  local ok, err = pcall(autograd.no_grad, function()
    stream.each_batch(o.loader, 1, o.batches, function(batch)
      local loss, parts = o.evaluate(batch)
      count = count + 1
      total = total + (mpm.is_tensor(loss) and loss:item() or loss)
      for name, v in pairs(parts or {}) do sums[name] = (sums[name] or 0) + v end
    end)
  end)
  validation.set_training(o.modules, true)
  generator:set_state(saved)
  if not ok then error(err, 0) end
  if count == 0 then return nil end
  local result = { loss = total / count }
  for name, v in pairs(sums) do result[name] = v / count end
  return result
end

return validation
