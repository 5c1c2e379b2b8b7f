-- mpm.MPM: the MPMv2 masked autoencoder (Swift core mpm._mpm.new_model) as a Lua module, and
-- the encoder-only backbone export for downstream use.
local mpm = require "mpm.core"
local check_options = require("mpm.options").check
local nn = require "mpm.nn"
local core = mpm._mpm
local model = {}
local MPM = nn.Module:extend "MPM"
MPM.__doc = [[mpm.MPM{preset="small"|"paper"|"tiny", encoder_dim=, encoder_depth=, encoder_heads=, registers=,
  decoder_dim=, decoder_depth=, decoder_heads=, mask_tokens=, ff_mult=, layerscale_init=} -> model
The MPMv2 backbone on packed sets: Linear(7->D) + Embedding(8->D) of the kept particles, a
pre-norm transformer encoder with registers, then a decoder (Linear(D->decoder_dim), one
learned mask token per pt rank of the dropped particles, its own transformer layers).
  local out = model(batch)      -- batch from a loader with a mask
  out.decoded  [Td, decoder_dim] at the dropped particles; out.target their truth (mpm.DroppedSet)
  out.encoded  [Tk + B*R, D] encoder output, registers first; out.encoded_offsets
model:backbone() -> the encoder-only module (shared weights); model:save_backbone(path).]]

function MPM:init(options)
  self.core = core.new_model(options or {})
  self.config = core.config(self.core)
end

--- model(batch [, {decode=true}]) -> {decoded=, encoded=, encoded_offsets=, target=}
function MPM:forward(batch, options)
  local decode = check_options("MPM", options, { decode = true }, 2).decode
  return core.forward(self.core, batch, decode ~= false)
end

--- model:backbone() -> module: the embedding and encoder (shared with the model), called as
--- bb(features, types, offsets) -> particles [T, D], with registers [T + B*R, D], their offsets.
function MPM:backbone() return core.backbone(self.core) end

--- model:save_backbone(path [, extra]): the encoder-only weights and config, plus any fields
--- of `extra` (e.g. {preprocessing = "data/preprocessing.h5", task = "cfm"}), in one file.
function MPM:save_backbone(path, extra)
  local record = { config = self.config, state = self:backbone():state_dict() }
  for k, v in pairs(extra or {}) do
    if record[k] ~= nil then error("save_backbone: extra field '" .. tostring(k) .. "' is reserved", 2) end
    record[k] = v
  end
  mpm.records.save(path, "backbone", record)
end

--- mpm.load_backbone(path) -> backbone, record: a backbone saved by model:save_backbone (or a
--- pre-training run), with the saved record (config and extra fields). record.preprocessing is
--- a path that opens from here: the trainer stores it as it was given (relative to where
--- training ran), so when that does not exist the file of that name beside the backbone is used.
---   local bb, record = mpm.load_backbone("runs/cfm/backbone.h5")
---   local pre = mpm.data.load_preprocessing(record.preprocessing)
--- mpm.tasks.model.new_backbone(config) -> backbone: a fresh encoder of a saved config (a
--- backbone record's or a fine-tuned model's), weights to be loaded by the caller.
function model.new_backbone(config) return core.new_backbone(config) end

function model.load_backbone(path)
  local ok, saved = pcall(mpm.records.load, path, "backbone")
  if not ok then error("load_backbone: " .. saved, 2) end
  local bb = model.new_backbone(saved.config)
  bb:load_state_dict(saved.state)
  saved.state = nil
  local pre = saved.preprocessing
  if type(pre) == "string" and not mpm.files.exists(pre) then
    local beside = mpm.files.join(mpm.files.dirname(path), mpm.files.basename(pre))
    if mpm.files.exists(beside) then saved.preprocessing = beside end
  end
  return bb, saved
end

model.MPM = MPM

return model
