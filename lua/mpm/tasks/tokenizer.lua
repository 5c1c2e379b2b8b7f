-- mpm.tasks.VQTokenizer: the VQ-VAE particle tokenizer (transformer encoder -> 32-d latent ->
-- cosine-similarity codebook 512 x 32 -> transformer decoder), trained on its own by
-- examples/train_vqvae.lua and then frozen as the target of the VQVAE task.
local mpm = require "mpm.core"
local check_options = require("mpm.options").check
local nn = require "mpm.nn"
local optim = require "mpm.optim"
local tasks = require "mpm.tasks.builtin"
local core = mpm._mpm
local VQTokenizer = nn.Module:extend "VQTokenizer"
VQTokenizer.__doc = "mpm.tasks.VQTokenizer{dim=128, depth=3, heads=4, codebook_size=512, code_dim=32, beta=0.25, "
  .. "usage_decay=0.99}: the VQ-VAE tokenizer. tok:losses(batch), tok:codes(batch), tok:init_codebook(batch), "
  .. "tok:reset_dead_codes(batch), tok:save(path), mpm.tasks.VQTokenizer.load(path)."

function VQTokenizer:init(options)
  self.core = core.new_tokenizer(options or {})
  self.config = core.tokenizer_config(self.core)
end

--- tok:losses(batch) -> {total=, reconstruction=, codebook=, commitment=, codes=}: the training
--- loss on whole jets (batch.features must be preprocessed); total:backward() trains it.
function VQTokenizer:losses(batch) return core.tokenizer_losses(self.core, batch) end
function VQTokenizer:forward(batch) return self:losses(batch).total end

--- tok:codes(batch) -> int64 [T]: the code (1-based) of every particle.
function VQTokenizer:codes(batch) return core.tokenizer_codes(self.core, batch) end

--- tok:init_codebook(batch [, seed]) -> particles used: k-means of the batch's latents.
function VQTokenizer:init_codebook(batch, seed) return core.tokenizer_init(self.core, batch, seed or 0) end

--- tok:reset_dead_codes(batch [, threshold=0.03]) -> n: moves codes used less than threshold
--- times the uniform rate onto random latents of the batch.
function VQTokenizer:reset_dead_codes(batch, threshold) return core.tokenizer_reset(self.core, batch, threshold or 0.03) end

--- tok:save(path): config and weights in one file (a "tokenizer" record, mpm.records).
function VQTokenizer:save(path)
  mpm.records.save(path, "tokenizer", { config = self.config, state = self.core:state_dict() })
end

--- mpm.tasks.VQTokenizer.load(path) -> tokenizer
function VQTokenizer.load(path)
  local ok, saved = pcall(mpm.records.load, path, "tokenizer")
  if not ok then error("VQTokenizer.load: " .. saved, 2) end
  local tok = VQTokenizer(saved.config)
  tok.core:load_state_dict(saved.state)
  return tok
end

--- mpm.tasks.VQTokenizer.fit(loader [, {steps=1000, lr=1e-3, preset="small", reset_every=50,
--- config={...}, quiet=false}]) -> tokenizer: trains a tokenizer on the loader's (preprocessed)
--- jets with AdamW: codebook from k-means of the first batch's latents, dead codes reset
--- every `reset_every` steps. The sizes come from the preset (mpm.tasks.preset(name).tokenizer)
--- unless config is given: "paper" is D=128 x 3 layers, "small"/"tiny" D=64 x 2.
function VQTokenizer.fit(loader, options)
  options = check_options("VQTokenizer.fit", options,
    { steps = 1000, lr = 1e-3, preset = "small", reset_every = 50, config = false, quiet = false }, 2)
  local steps, reset_every = options.steps, options.reset_every
  local config = options.config
  if not config then
    local preset, why = tasks.preset(options.preset)
    if not preset then error("VQTokenizer.fit: " .. why, 2) end
    config = preset.tokenizer
  end
  local tok = VQTokenizer(config)
  local opt = optim.AdamW(tok, { lr = options.lr, weight_decay = 0 })
  local say = options.quiet and function() end or print
  local step, epoch = 0, 1
  local t0 = mpm.clock()
  while step < steps do
    local any = false
    for batch in loader:iter(epoch) do
      any = true
      if step == 0 then tok:init_codebook(batch, 1) end
      step = step + 1
      opt:zero_grad()
      local l = tok:losses(batch)
      local v = l.total:item()
      if v ~= v then error(("VQTokenizer.fit: step %d: loss is NaN"):format(step), 2) end
      l.total:backward()
      nn.utils.clip_grad_norm_(tok, 1.0)
      opt:step()
      local reset = 0
      if step % reset_every == 0 then reset = tok:reset_dead_codes(batch) end
      if step == 1 or step % math.max(1, steps // 10) == 0 or step == steps then
        say(("tokenizer step %d/%d: loss %.4f (reconstruction %.4f, commitment %.4f)%s, %.1f steps/s"):format(step, steps, v,
          l.reconstruction:item(), l.commitment:item(), reset > 0 and (", " .. reset .. " dead codes reset") or "",
          step / math.max(1e-9, mpm.clock() - t0)))
      end
      if step >= steps then break end
    end
    if not any then error("VQTokenizer.fit: the loader yields no batches", 2) end
    epoch = epoch + 1
  end
  tok:eval()
  return tok
end

return VQTokenizer
