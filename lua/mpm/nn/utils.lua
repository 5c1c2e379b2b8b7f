-- mpm.nn.utils: helpers around training steps.
return function(mpm)
  local nn = mpm.nn
  local utils = {}

  local function parameter_list(params, fname)
    if nn.is_module(params) then return params:parameters() end
    if mpm.is_tensor(params) then return { params } end
    if type(params) ~= "table" then error(fname .. ": expected a module, a tensor or a list of tensors, got " .. type(params), 3) end
    return params
  end

  --- mpm.nn.utils.clip_grad_norm_(params, max_norm) -> total norm: scales all gradients so their
  --- joint L2 norm is at most max_norm (coefficient max_norm / (norm + 1e-6), as PyTorch) and
  --- returns the norm before clipping. params: a module, a tensor or a list of tensors.
  function utils.clip_grad_norm_(params, max_norm)
    if type(max_norm) ~= "number" then error("clip_grad_norm_: max_norm must be a number, got " .. type(max_norm), 2) end
    return nn._clip_grad_norm(parameter_list(params, "clip_grad_norm_"), max_norm)
  end

  --- mpm.nn.utils.num_parameters(params) -> number of elements.
  function utils.num_parameters(params)
    local n = 0
    for _, p in ipairs(parameter_list(params, "num_parameters")) do n = n + p:numel() end
    return n
  end

  nn.utils = utils
end
