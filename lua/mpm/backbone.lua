-- mpm.backbone: a backbone from what a user names on a command line or in the REPL: a saved
-- backbone file, "random" (a fresh encoder of a preset, the baseline every pre-trained backbone
-- is judged against) or "none" (no backbone: the head reads the particles' inputs directly).
local mpm = require "mpm.core"
local options = require "mpm.options"
local tasks = require "mpm.tasks"
local model_file = require "mpm.tasks.model"
local files = mpm.files
local backbone = {}

--- backbone.INPUT_DIM: the width of what a head reads without a backbone (the particle
--- features and a one-hot of the particle type), from the Swift schema.
backbone.INPUT_DIM = #mpm.data.FEATURES + #mpm.data.PARTICLE_TYPES

--- backbone.inputs(batch) -> [T, backbone.INPUT_DIM]: the features and one-hot particle type of
--- every constituent, what a head reads when there is no backbone ("none").
function backbone.inputs(batch)
  return mpm.cat({ batch.features, batch.types:one_hot(#mpm.data.PARTICLE_TYPES):float() }, 2)
end

--- backbone.from_spec(spec [, {preset="small"}]) -> backbone module or false, record
--- spec: a backbone file (mpm.load_backbone), "random" (a fresh encoder of the preset) or "none".
--- record = {kind = "file" | "random" | "none", path=, dim=, preprocessing= (a path or nil),
--- task=, preset=}.
---   local bb, record = mpm.backbone.from_spec("runs/cfm/backbone.h5")
function backbone.from_spec(spec, o)
  o = options.check("backbone.from_spec", o, { preset = "small" }, 2)
  if spec == "none" then return false, { kind = "none", dim = backbone.INPUT_DIM } end
  if spec == "random" then
    local preset, why = tasks.preset(o.preset)
    if not preset then error("--preset: " .. why, 0) end
    local model = model_file.MPM(preset.model)
    return model:backbone(), { kind = "random", dim = preset.model.encoder_dim, preset = o.preset, config = model.config }
  end
  if type(spec) ~= "string" then error(("backbone: expected a backbone file, 'random' or 'none', got %s"):format(type(spec)), 2) end
  if not files.exists(spec) then error(("--backbone: no such file %s (a backbone.h5, 'random' or 'none')"):format(spec), 0) end
  local bb, record = model_file.load_backbone(spec)
  return bb, { kind = "file", path = spec, dim = record.config.encoder_dim, preprocessing = record.preprocessing,
    task = record.task, preset = record.preset, config = record.config }
end

return backbone
