-- The built-in tasks: Lua classes around Swift cores (mpm._mpm.new_task), so they are modules
-- like any other (parameters, state dicts, printing) and follow the same protocol as Lua tasks.
return function(mpm)
  local core, tasks = mpm._mpm, mpm.tasks
  local Task = tasks.Task

  -- kind -> class name and what the options document.
  local kinds = {
    { "id", "ID", "particle identification: Linear -> 8 logits, cross-entropy with label smoothing 0.1 (weight 0.3)",
      "classes=8, label_smoothing=0.1" },
    { "reg", "Regression", "direct regression of the 7 preprocessed features, L1 loss", "features=7" },
    { "kmeans", "KMeans", "classification of the nearest K-means centroid (centroids from mpm.kmeans.fit), smoothing 0.1",
      "centroids=[K,7] tensor (required), label_smoothing=0.1" },
    { "vqvae", "VQVAE", "classification of the code a trained mpm.tasks.VQTokenizer gives each dropped particle",
      "tokenizer= (required), label_smoothing=0.1" },
    { "flow", "Flow", "conditional rational-quadratic spline flow, negative log-likelihood",
      "context_dim=128, couplings=6, width=64, blocks=2, bins=8, tail_bound=4, noise=0.05" },
    { "cfm", "CFM", "conditional flow matching: logit-normal t, velocity x - eps, MSE; samples by ODE",
      "context_dim=128, time_dim=16, hidden=128, depth=3" },
    { "ssfm", "SSFM", "set-to-set flow matching: time-conditioned decoder cross-attending to the encoder output",
      "dim=256, depth=6, heads=4, time_dim=16, context_dim=64" },
  }

  tasks.builtin = {}
  for _, k in ipairs(kinds) do
    local kind, class_name, what, options_doc = k[1], k[2], k[3], k[4]
    local class = Task:extend(class_name)
    class.__doc = ("mpm.tasks.%s{input_dim=, weight=, %s}: %s. input_dim is the decoder width%s; "):format(
      class_name, options_doc, what, kind == "ssfm" and " (here encoder_dim, the encoder width)" or "")
      .. "mpm.tasks.make(name, model, options) fills it from a model."

    function class:init(options)
      options = options or {}
      if type(options) ~= "table" then error(class_name .. ": options must be a table", 3) end
      local o, weight = {}, nil
      for key, v in pairs(options) do
        if key == "weight" then weight = v else o[key] = v end
      end
      self.core = core.new_task(kind, o)
      local info = core.task_info(self.core)
      self.name = info.name
      self.input = info.input
      self.weight = weight or info.weight
    end

    function class:loss(decoded, target) return core.loss(self.core, decoded, target) end

    if kind ~= "vqvae" then
      --- task:sample(input, target [, {steps=50, method="midpoint", stochastic=true, generator=}])
      --- -> {features = [Td,7] or nil, types = [Td] (1..8) or nil}: generated dropped particles.
      function class:sample(decoded, target, options) return core.sample(self.core, decoded, target, options) end
    end

    tasks[class_name] = class
    tasks.builtin[kind] = class
  end

  --- mpm.tasks.make(name, model [, options]) -> task: the built-in task `name` (id, reg, kmeans,
  --- vqvae, flow, cfm, ssfm) sized for `model` (an mpm.MPM); options as the class takes them.
  function tasks.make(name, model, options)
    local class = tasks.builtin[name]
    if class == nil then
      local names = {}
      for k in pairs(tasks.builtin) do names[#names + 1] = k end
      table.sort(names)
      error(("tasks.make: unknown task '%s' (expected one of: %s)"):format(tostring(name), table.concat(names, ", ")), 2)
    end
    local o = {}
    for k, v in pairs(options or {}) do o[k] = v end
    if name == "ssfm" then
      o.encoder_dim = o.encoder_dim or model.config.encoder_dim
    else
      o.input_dim = o.input_dim or model.config.decoder_dim
    end
    return class(o)
  end
end
