-- mpm.nn.utils: helpers around training steps.
local mpm = require "mpm.core"
local nn = require "mpm.nn.module"
local utils = {}

--- mpm.nn.utils.parameters_of(x [, what="parameters" [, level=1]]) -> list of tensors: what
--- x trains: a module's parameters, a tensor, or a list of tensors and modules (each tensor
--- once, in order). what names the caller in errors.
function utils.parameters_of(x, what, level)
  what, level = what or "parameters", (level or 1) + 1
  if nn.is_module(x) then return x:parameters() end
  if mpm.is_tensor(x) then return { x } end
  if type(x) ~= "table" then error(what .. ": expected a module, a tensor or a list of tensors, got " .. type(x), level) end
  local list, seen = {}, {}
  local function add(p)
    if not seen[p] then seen[p] = true; list[#list + 1] = p end
  end
  for i, v in ipairs(x) do
    if nn.is_module(v) then
      for _, p in ipairs(v:parameters()) do add(p) end
    elseif mpm.is_tensor(v) then
      add(v)
    elseif v ~= false and v ~= nil then
      error(what .. ": entry " .. i .. " is a " .. type(v) .. ", expected a tensor or a module", level)
    end
  end
  return list
end
local parameters_of = utils.parameters_of

--- mpm.nn.utils.clip_grad_norm_(params, max_norm) -> total norm: scales all gradients so their
--- joint L2 norm is at most max_norm (coefficient max_norm / (norm + 1e-6), as PyTorch) and
--- returns the norm before clipping. params: a module, a tensor or a list of tensors.
function utils.clip_grad_norm_(params, max_norm)
  if type(max_norm) ~= "number" then error("clip_grad_norm_: max_norm must be a number, got " .. type(max_norm), 2) end
  return nn._clip_grad_norm(parameters_of(params, "clip_grad_norm_", 2), max_norm)
end

--- mpm.nn.utils.num_parameters(params) -> number of elements.
function utils.num_parameters(params)
  local n = 0
  for _, p in ipairs(parameters_of(params, "num_parameters", 2)) do n = n + p:numel() end
  return n
end

return utils
