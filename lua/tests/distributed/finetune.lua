-- Run by DistributedTests with and without mpirun: fine-tuning a head (and a random-init tiny
-- backbone, mode "full") data-parallel. With K ranks each takes 1/K of every global batch of 32
-- jets (loader shard), and rank 0 prints the per-step losses, which must match one process.
-- Dropout is 0 so that nothing random differs between the runs. arg[1]: the run directory.
local d = mpm.distributed
local root = debug.getinfo(1, "S").source:sub(2):match("^(.*)/lua/tests/distributed/[^/]*$") or "."
mpm.manual_seed(11)
local ds = mpm.data.open(root .. "/data/btag_train.h5")
local pre = ds:fit_preprocessing { jets = 200 }
local backbone = mpm.MPM { preset = "tiny" }:backbone()
local head = mpm.nn.ClassAttentionClassifier(backbone.dim or 32, 3, { dropout = 0 })
local loader = ds:loader { batch_size = 32, shuffle = true, seed = 5, preprocessing = pre, max_jets = 320, drop_last = true,
  shard = d.size() > 1 and { rank = d.rank(), size = d.size() } or nil }
local losses = {}
local result = mpm.finetune.run { backbone = backbone, head = head, mode = "full", loader = loader, steps = 12,
  lr = 1e-3, warmup = 2, log_every = 1, quiet = true, out = arg[1], overwrite = true,
  on_log = function(row) losses[#losses + 1] = ("%.9g"):format(row.loss) end }
local sum = 0
for _, p in ipairs(head:parameters()) do sum = sum + p:abs():sum():item() end
if d.is_main() then
  print("losses: " .. table.concat(losses, " "))
  print(("weights: %.9g"):format(sum))
  print("files: " .. tostring(mpm.files.exists(arg[1] .. "/metrics.csv")) .. " " .. tostring(mpm.files.exists(arg[1] .. "/checkpoint.h5")))
end
