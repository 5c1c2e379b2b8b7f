-- examples/pretrain.lua from the command line: the Lua-only energy-score task
-- (examples/tasks/energy_score.lua) trains by name without any Swift and its loss falls;
-- unknown options are errors; --help lists the options.
local T = require "mpm.testing"
local root = debug.getinfo(1, "S").source:sub(2):match("^(.*)/lua/tests/[^/]*$") or "."
local out = os.tmpname()
os.remove(out)

local function run_script(args)
  local saved = arg
  arg = { [0] = root .. "/examples/pretrain.lua" }
  for i, a in ipairs(args) do arg[i] = a end
  local ok, err = pcall(dofile, root .. "/examples/pretrain.lua")
  arg = saved
  if not ok then error(err, 0) end
end

run_script { "--task", "energy_score", "--preset", "tiny", "--steps", "80", "--batch-size", "16", "--log-every", "1",
  "--data", root .. "/data/jetclass_train.h5", "--val", "none", "--out", out, "--quiet", "--no-id", "--lr", "3e-3" }
local f = assert(io.open(out .. "/metrics.csv"))
local header = f:read("l")
T.equal(header, "step,epoch,time,lr,grad_norm,loss,loss_energy", "metrics columns name the Lua task")
local losses = {}
for line in f:lines() do losses[#losses + 1] = tonumber(line:match("^[^,]*,[^,]*,[^,]*,[^,]*,[^,]*,([^,]*)")) end
f:close()
T.equal(#losses, 80, "one row per step")
local function mean(a, b) local s = 0; for i = a, b do s = s + losses[i] end; return s / (b - a + 1) end
local first, last = mean(1, 10), mean(71, 80)
print(("energy score through pretrain.lua: %.4f -> %.4f"):format(first, last))
T.equal(last < 0.9 * first, true, ("the energy score falls by 10%% (%.4f -> %.4f)"):format(first, last))
local bb = mpm.load_backbone(out .. "/backbone.h5")
T.equal(mpm.nn.is_module(bb), true, "a backbone was written")

T.raises(function() run_script { "--stepz", "3" } end, "unknown option %-%-stepz")
T.raises(function() run_script { "--steps", "many" } end, "%-%-steps expects an integer")
T.raises(function() run_script { "--task", "no_such_task", "--out", out .. "_x", "--quiet" } end, "unknown task 'no_such_task'")
local usage = mpm.cli.usage(mpm.pretrain.OPTIONS, "pretrain")
for _, name in ipairs { "--data", "--steps", "--batch-size", "--lr", "--seed", "--preset", "--out", "--resume" } do
  T.equal(usage:find(name, 1, true) ~= nil, true, "--help lists " .. name)
end
os.execute("rm -rf '" .. out .. "' '" .. out .. "_x'")
