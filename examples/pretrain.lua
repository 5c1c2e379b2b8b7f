-- MPMv2 pre-training with any reconstruction task:
--   mpmlua examples/pretrain.lua --task cfm                 -- CFM + particle ID (the main job)
--   mpmlua examples/pretrain.lua --task kmeans --steps 2000 --out runs/km
--   mpmlua examples/pretrain.lua --task energy_score        -- a task written only in Lua
--   mpmlua examples/pretrain.lua --task cfm --resume        -- continue runs/cfm
-- Tasks: id, reg, kmeans, vqvae, flow, cfm, ssfm (built in), or any Lua task file (a name in
-- examples/tasks/ or a path). Every continuous task is paired with particle ID unless --no-id.
-- Defaults train the small preset on the bundled jets in a few minutes on 2 cores and write,
-- under --out (runs/<task>): backbone.h5 (encoder-only, for downstream), checkpoint.h5,
-- metrics.csv, loss.png and preprocessing.h5. `--help` lists every option.
local options = mpm.cli.options(arg, mpm.pretrain.OPTIONS, "mpmlua examples/pretrain.lua [options]")
if options == nil then return end

local result = mpm.pretrain.run(options)
if mpm.distributed.is_main() then print(("pretrain: backbone written to %s"):format(result.backbone)) end
