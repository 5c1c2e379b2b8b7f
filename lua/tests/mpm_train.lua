-- The pre-training loop: the same seed gives identical losses; a run stopped at a checkpoint
-- and resumed continues with exactly the losses of an uninterrupted run; a non-finite loss
-- stops the run naming the step and the task; metrics (CSV and JSONL) and the backbone are
-- written and the backbone loads back.
local T = require "mpm.testing"
local root = debug.getinfo(1, "S").source:sub(2):match("^(.*)/lua/tests/[^/]*$") or "."
local data = root .. "/data/jetclass_train.h5"
local base = os.tmpname()
os.remove(base)

local function read_losses(path)
  local f = assert(io.open(path))
  local header = f:read("l")
  local col
  local i = 0
  for name in header:gmatch("[^,]+") do i = i + 1; if name == "loss" then col = i end end
  local losses = {}
  for line in f:lines() do
    local cells = {}
    for cell in (line .. ","):gmatch("([^,]*),") do cells[#cells + 1] = cell end
    losses[tonumber(cells[1])] = cells[col]
  end
  f:close()
  return losses
end

local function job(out, steps, resume, extra)
  local o = { task = "cfm", preset = "tiny", steps = steps, out = out, batch_size = 16, quiet = true, warmup = 2,
    half_life = 6, log_every = 1, val_every = 4, checkpoint_every = 5, data = data, val_jets = 32, max_jets = 160,
    resume = resume or false }
  for k, v in pairs(extra or {}) do o[k] = v end
  return mpm.pretrain.run(o)
end

-- Two runs with the same seed.
local a = job(base .. "_a", 10)
local a2 = job(base .. "_a2", 10)
local la, la2 = read_losses(base .. "_a/metrics.csv"), read_losses(base .. "_a2/metrics.csv")
for step = 1, 10 do T.equal(la2[step], la[step], "same seed, step " .. step .. " loss") end
T.equal(a.last_loss, a2.last_loss, "same seed: last loss")
local other = job(base .. "_c", 3, false, { seed = 2 })
T.equal(other.first_loss ~= a.first_loss, true, "another seed gives another loss")

-- Stopped after 5 steps (the schedule fixed by warmup and half_life), then resumed to 10.
job(base .. "_b", 5)
local resumed = job(base .. "_b", 10, true)
local lb = read_losses(base .. "_b/metrics.csv")
for step = 1, 10 do T.equal(lb[step], la[step], "resumed run, step " .. step .. " loss") end
T.equal(resumed.last_loss, a.last_loss, "resumed run: last loss")
T.equal(resumed.step, 10, "resumed run ends at step 10")
print(("resume: step 6..10 losses identical (last %.6f)"):format(resumed.last_loss))

-- The backbone file loads into an encoder with the trained weights.
local bb, info = mpm.load_backbone(base .. "_a/backbone.h5")
T.equal(info.task, "cfm", "backbone record names the task")
T.equal(info.config.encoder_dim, 32, "backbone config")
local ds = mpm.data.open(data)
local pre = mpm.data.load_preprocessing(base .. "_a/preprocessing.h5")
local batch = pre:transform(ds:read(1, 3), 1)
local particles, with_registers, offsets = bb(batch.features, batch.types, batch.offsets)
T.equal(particles:size(1), batch.features:size(1), "one output row per particle")
T.equal(with_registers:size(1), batch.features:size(1) + 3 * 2, "registers in front of every jet")
T.equal(offsets:size(1), 4, "offsets of the register layout")

-- NaN guard: a Lua task whose loss turns NaN at its third call.
local Bad = mpm.tasks.Task:extend "Bad"
function Bad:init() self.name = "bad"; self.calls = 0; self.scale = mpm.nn.Parameter(mpm.ones(1)) end
function Bad:loss(decoded, target)
  self.calls = self.calls + 1
  local l = (decoded * decoded):mean() * self.scale:sum()
  if self.calls == 3 then return l * (0 / 0) end
  return l
end
local model = mpm.MPM { preset = "tiny" }
local loader = ds:loader { batch_size = 8, shuffle = true, seed = 1, preprocessing = pre, mask = 0.4, max_jets = 64 }
T.raises(function()
  mpm.train.run { model = model, tasks = { Bad() }, loader = loader, steps = 5, quiet = true }
end, "^step 3: loss is NaN %(task bad%)$")

-- JSONL metrics and errors in the options.
local j = mpm.train.run { model = model, tasks = { mpm.tasks.make("reg", model) }, loader = loader, steps = 3,
  quiet = true, out = base .. "_j", metrics = "jsonl", plot = false, backbone = false }
local f = assert(io.open(j.metrics))
local first_line = f:read("l")
f:close()
T.equal(mpm.json.decode(first_line).step, 1, "JSONL rows: one JSON object per line, from step 1")
T.raises(function() mpm.train.run { model = model, tasks = {}, loader = loader, steps = 1 } end, "at least one task")
T.raises(function() mpm.train.run { model = model, tasks = { Bad() }, loader = loader, steps = 1, bogus = 1 } end,
  "unknown option 'bogus'")
T.raises(function() mpm.train.run { model = model, tasks = { {} }, loader = loader, steps = 1 } end, "no loss method")

os.execute("rm -rf '" .. base .. "'_*")
