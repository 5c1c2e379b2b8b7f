-- The built-in tasks: Lua classes around Swift cores (mpm._mpm.new_task), so they are modules
-- like any other (parameters, state dicts, printing) and follow the same protocol as Lua tasks.
-- What each task is, reads and takes comes from the Swift catalogue (TaskCatalogue.swift);
-- the presets (model, tokenizer, K-means and SSFM sizes) from MPMPreset.swift.
local mpm = require "mpm.core"
local Task = require "mpm.tasks.task"
local core, tasks = mpm._mpm, mpm.tasks

--- mpm.tasks.catalogue: the built-in tasks in order, each {name=, class_name=, summary=,
--- input= ("decoded" or "encoded"), weight=, can_sample=, pairs_with_id=, width_option=,
--- mask_range= (or nil), options = {{name=, kind=, doc=, default= (nil: required)}...}}.
tasks.catalogue = core.task_catalogue()

local function options_doc(kind)
  local parts = {}
  for _, o in ipairs(kind.options) do
    parts[#parts + 1] = o.default == nil and ("%s= (required: %s)"):format(o.name, o.doc)
      or ("%s=%s"):format(o.name, tostring(o.default))
  end
  return table.concat(parts, ", ")
end

local function option_lines(kind)
  local lines = {}
  for _, o in ipairs(kind.options) do
    lines[#lines + 1] = ("  %-16s %s%s"):format(o.name, o.doc, o.default == nil and " (required)" or
      (" (default " .. tostring(o.default) .. ")"))
  end
  return table.concat(lines, "\n")
end

tasks.builtin = {}
local kind_of = {}
for _, kind in ipairs(tasks.catalogue) do
  local class = Task:extend(kind.class_name)
  class.__doc = ("mpm.tasks.%s{%s=, weight=%g, %s}: %s. %s is the width of the %s output; "):format(
    kind.class_name, kind.width_option, kind.weight, options_doc(kind), kind.summary, kind.width_option,
    kind.input == "decoded" and "decoder" or "encoder")
    .. ("mpm.tasks.make(%q, model, options) fills it from a model.\n%s"):format(kind.name, option_lines(kind))

  function class:init(options)
    options = options or {}
    if type(options) ~= "table" then error(kind.class_name .. ": options must be a table", 3) end
    local o, weight = {}, nil
    for key, v in pairs(options) do
      if key == "weight" then weight = v else o[key] = v end
    end
    self.core = core.new_task(kind.name, o)
    self.name = kind.name
    self.input = kind.input
    self.weight = weight or kind.weight
  end

  function class:loss(decoded, target) return core.loss(self.core, decoded, target) end

  if kind.can_sample then
    --- task:sample(input, target [, {steps=50, method="midpoint", stochastic=true, generator=}])
    --- -> {features = [Td,7] or nil, types = [Td] (1..8) or nil}: generated dropped particles.
    function class:sample(decoded, target, options) return core.sample(self.core, decoded, target, options) end
  end

  tasks[kind.class_name] = class
  tasks.builtin[kind.name] = class
  kind_of[kind.name] = kind
end

--- mpm.tasks.catalogue_entry(name) -> the catalogue entry of built-in task `name`, or nil.
function tasks.catalogue_entry(name) return kind_of[name] end

--- mpm.tasks.names() -> "id, reg, kmeans, ...": the built-in task names in catalogue order.
function tasks.names()
  local names = {}
  for i, kind in ipairs(tasks.catalogue) do names[i] = kind.name end
  return table.concat(names, ", ")
end

--- mpm.tasks.make(name, model [, options]) -> task: the built-in task `name` (id, reg, kmeans,
--- vqvae, flow, cfm, ssfm) sized for `model` (an mpm.MPM); options as the class takes them.
function tasks.make(name, model, options)
  local class = tasks.builtin[name]
  if class == nil then
    error(("tasks.make: unknown task '%s' (expected one of: %s)"):format(tostring(name), tasks.names()), 2)
  end
  local o = {}
  for k, v in pairs(options or {}) do o[k] = v end
  local kind = kind_of[name]
  if o[kind.width_option] == nil then
    o[kind.width_option] = kind.input == "encoded" and model.config.encoder_dim or model.config.decoder_dim
  end
  return class(o)
end

local presets = {}
for _, p in ipairs(core.presets()) do presets[#presets + 1] = p; presets[p.name] = p end

--- mpm.tasks.preset(name) -> {name=, summary=, model = {mpm.MPM config}, tokenizer =
--- {VQTokenizer config}, kmeans_k=, ssfm = {SSFM options}}: the sizes a preset gives every
--- part of a pre-training run ("paper", "small", "tiny"); a copy, free to change. An unknown
--- name gives nil and a message naming the presets.
function tasks.preset(name)
  local p = presets[name]
  if p == nil then
    local names = {}
    for i, q in ipairs(presets) do names[i] = q.name end
    return nil, ("unknown preset '%s' (expected one of: %s)"):format(tostring(name), table.concat(names, ", "))
  end
  local copy = {}
  for k, v in pairs(p) do
    if type(v) == "table" then
      copy[k] = {}
      for kk, vv in pairs(v) do copy[k][kk] = vv end
    else
      copy[k] = v
    end
  end
  return copy
end

return tasks
