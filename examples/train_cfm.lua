-- The main job: MPMv2 pre-training with conditional flow matching plus particle ID on the
-- bundled JetClass-like jets, writing an encoder-only backbone for downstream tasks.
--   mpmlua examples/train_cfm.lua                 -- small preset, 500 steps of 48 jets: a few minutes on 2 cores
--   mpmlua examples/train_cfm.lua --steps 5000 --out runs/cfm_long
--   mpmlua examples/train_cfm.lua --resume        -- continue from runs/cfm/checkpoint.h5
--   mpirun -n 2 mpmlua examples/train_cfm.lua --batch-size 48   -- data-parallel (docs/distributed.md)
-- It is examples/pretrain.lua with --task cfm fixed; every other option is the same (--help).
-- Output in --out (runs/cfm): backbone.h5, checkpoint.h5, metrics.csv, loss.png, preprocessing.h5.
-- Load the backbone with: local bb, info = mpm.load_backbone("runs/cfm/backbone.h5")
local spec = {}
for _, s in ipairs(mpm.pretrain.OPTIONS) do
  if s[1] ~= "task" and s[1] ~= "no-id" and s[1] ~= "kmeans-k" and s[1] ~= "tokenizer" then spec[#spec + 1] = s end
end
local options = mpm.cli.options(arg, spec, "mpmlua examples/train_cfm.lua [options]")
if options == nil then return end
options.task = "cfm"

local t0 = mpm.clock()
local result = mpm.pretrain.run(options)
if not mpm.distributed.is_main() then return end -- under mpirun, rank 0 reports
-- Losses and speed are this process's steps; a resumed run says which steps those were.
local steps = (result.resumed_after or 0) > 0 and ("steps %d-%d (resumed after step %d)"):format(result.resumed_after + 1,
  result.step, result.resumed_after) or ("%d steps"):format(result.step)
print(("train_cfm: loss %.4f -> %.4f over %s (%.2f steps/s, %.0f s in all); backbone: %s"):format(
  result.first_loss, result.last_loss, steps, result.steps_per_second, mpm.clock() - t0, result.backbone))
