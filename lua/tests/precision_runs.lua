-- bf16 mixed precision as an option of every training entry point: mpm.train.run,
-- mpm.finetune.run (and through it the protocols), mpm.pretrain.run and explore.embed run their
-- products in the precision asked for (seen from inside the step), restore fp32 after, keep the
-- losses close to fp32's, and refuse an unknown precision in one line.
local T = require "mpm.testing"
local root = debug.getinfo(1, "S").source:sub(2):match("^(.*)/lua/tests/[^/]*$") or "."
local data = root .. "/data/jetclass_train.h5"
local native = mpm.precision_support("bf16") == "bf16"

mpm.manual_seed(1)
local ds = mpm.data.open(data)
local pre = ds:fit_preprocessing { jets = 200 }
local masked = ds:loader { batch_size = 16, shuffle = true, seed = 1, preprocessing = pre, mask = 0.4, max_jets = 64 }

-- A task that notes the precision its loss was computed in.
local Noting = mpm.tasks.Task:extend "Noting"
function Noting:init(o) self.name = "noting"; self.head = mpm.nn.Linear(o.input_dim, 7); self.seen = {} end
function Noting:loss(decoded, target)
  self.seen[#self.seen + 1] = mpm.precision()
  return (self.head(decoded) - target.features):pow(2):mean()
end

-- The small preset: the tiny one's products are below the size where bf16 pays, so they stay fp32.
local function pretrain_with(precision)
  mpm.manual_seed(3)
  local model = mpm.MPM { preset = "small" }
  local task = Noting { input_dim = model.config.decoder_dim }
  local result = mpm.train.run { model = model, tasks = { task }, loader = masked, steps = 4, quiet = true,
    precision = precision }
  return result, task.seen
end
local fp32, seen32 = pretrain_with("fp32")
local bf16, seen16 = pretrain_with("bf16")
T.equal(seen16[1], "bf16", "train.run: the step runs in bf16")
T.equal(seen32[1], "fp32", "and in fp32 by default")
T.equal(mpm.precision(), "fp32", "fp32 again after the run")
T.close(bf16.last_loss, fp32.last_loss, 0.05 * math.abs(fp32.last_loss), "bf16 losses near fp32's")
if native then T.equal(bf16.last_loss ~= fp32.last_loss, true, "bf16 products round (this CPU has bf16)") end
T.raises(function() mpm.train.run { model = mpm.MPM { preset = "tiny" }, tasks = { Noting { input_dim = 16 } },
  loader = masked, steps = 1, quiet = true, precision = "fp16" } end, "precision must be fp32 or bf16, got fp16")

-- Fine-tuning: a head that notes the precision of its forward.
local plain = ds:loader { batch_size = 16, shuffle = true, seed = 1, preprocessing = pre, max_jets = 64, drop_last = true }
local Head = mpm.nn.Module:extend "NotingHead"
function Head:init() self.inner = mpm.nn.ClassAttentionClassifier(32, 10, { hidden = 16, heads = 2, depth = 1 }); self.seen = {} end
function Head:forward(x, offsets) self.seen[#self.seen + 1] = mpm.precision(); return self.inner(x, offsets) end
local head = Head()
mpm.finetune.run { backbone = mpm.MPM { preset = "tiny" }:backbone(), head = head, loader = plain, steps = 2, quiet = true,
  precision = "bf16" }
T.equal(head.seen[1], "bf16", "finetune.run: the network runs in bf16")
T.raises(function() mpm.finetune.run { head = head, loader = plain, steps = 1, precision = "half" } end,
  "precision must be fp32 or bf16, got half")

-- The command line of pre-training takes --precision; the protocols pass it to fine-tuning.
local usage = mpm.cli.usage(mpm.pretrain.OPTIONS, "pretrain")
T.equal(usage:find("--precision", 1, true) ~= nil, true, "pretrain --help lists --precision")
local names = {}
for _, s in ipairs(mpm.downstream.OPTIONS) do names[s[1]] = true end
T.equal(names.precision, true, "the protocols take --precision")

-- Embeddings: bf16 vectors close to fp32's.
local bb = mpm.MPM { preset = "small" }:backbone()
local e32 = mpm.explore.embed(bb, data, { jets = 32, preprocessing = pre, progress = "none" })
local e16 = mpm.explore.embed(bb, data, { jets = 32, preprocessing = pre, progress = "none", precision = "bf16" })
local gap = (e16.vectors - e32.vectors):abs():max():item() / e32.vectors:abs():max():item()
T.equal(gap < 0.05, true, ("bf16 embeddings within 5%% of fp32's (%.2g)"):format(gap))
if native then T.equal(gap > 0, true, "and rounded") end
T.raises(function() mpm.explore.embed(bb, data, { jets = 4, precision = "fp8" }) end, 'precision must be "fp32" or "bf16", got fp8')
