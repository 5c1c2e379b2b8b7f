-- A reconstruction task written only in Lua: a stochastic generator head trained with the
-- energy score, a strictly proper scoring rule for multivariate distributions (Gneiting &
-- Raftery 2007). For each dropped particle the head maps [decoder output, noise z] to a
-- candidate particle; with two independent draws a, b and the truth x the loss is
--   ES = (|a - x| + |b - x|) / 2 - |a - b| / 2        (|.| the Euclidean norm),
-- whose expectation is minimised only when the head samples the true conditional
-- distribution: like flow matching it learns the whole posterior, not its mean, and needs no
-- tokenizer and no Swift. Train it with
--   mpmlua examples/pretrain.lua --task energy_score
-- A task file returns a function(model, options) -> task (see docs/pretraining.md).
local EnergyScore = mpm.tasks.Task:extend "EnergyScore"

--- EnergyScore{input_dim=, noise_dim=8, width=128, depth=2}
function EnergyScore:init(options)
  self.name = "energy"
  self.noise_dim = options.noise_dim or 8
  self.net = mpm.nn.MLP(options.input_dim + self.noise_dim, 7,
    { width = options.width or 128, depth = options.depth or 2, activation = "silu" })
end

-- One candidate particle per row of `decoded`.
function EnergyScore:draw(decoded, generator)
  local z = mpm.randn(decoded:size(1), self.noise_dim, generator and { generator = generator } or nil)
  return self.net(mpm.cat({ decoded, z }, 2))
end

local function norm(x) return ((x * x):sum(2) + 1e-8):sqrt() end

function EnergyScore:loss(decoded, target)
  if target.count == 0 then return decoded:sum() * 0 end
  local x = target.features
  local a, b = self:draw(decoded), self:draw(decoded)
  return ((norm(a - x) + norm(b - x)) * 0.5 - norm(a - b) * 0.5):mean()
end

function EnergyScore:sample(decoded, target, options)
  local generator = options and options.generator
  return { features = mpm.no_grad(function() return self:draw(decoded, generator) end) }
end

return function(model, options)
  return EnergyScore { input_dim = model.config.decoder_dim }
end
