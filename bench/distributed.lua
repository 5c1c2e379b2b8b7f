-- make bench, data-parallel part: pre-training steps/s of the small preset (cfm + id, global
-- batch 48, no validation) in one process and under `mpirun -n 2`, and the communication share
-- of a K = 2 step (the time of one allreduce of the gradient buffer, measured alone, over the
-- step time). Skipped with a message where mpirun is missing.
--   mpmlua bench/distributed.lua [--steps 30]
-- Under mpirun with --allreduce P it is the allreduce timer: P floats, the fastest of 20.
local o = mpm.cli.options(arg, {
  { "steps", 30, "integer", "training steps of each run" },
  { "allreduce", false, "integer", "internal: time one allreduce of this many floats" },
}, "mpmlua bench/distributed.lua [options]")
if o == nil then return end
local d = mpm.distributed
if o.allreduce then
  local buffer = mpm.randn(o.allreduce)
  d.allreduce_(buffer, "mean")
  local seconds = mpm.timeit(function() d.barrier(); d.allreduce_(buffer, "mean") end, 20)
  if d.is_main() then print(("allreduce %.6f"):format(seconds)) end
  return
end
local steps = o.steps

local function capture(command)
  local pipe = assert(io.popen(command .. " 2>&1"))
  local text = pipe:read("a")
  local ok = pipe:close()
  return text, ok
end
local mpirun = capture("command -v mpirun"):match("^(%S+)")
if not mpirun then print("distributed: skipped (mpirun not found; tools/install-deps.sh installs openmpi-bin)"); return end
local host = arg[-1] or "mpmlua"
local root = debug.getinfo(1, "S").source:sub(2):match("^(.*)/bench/[^/]*$") or "."
local dir = os.tmpname()
os.remove(dir)
mpm.files.mkdir(dir)
local env = "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 "

-- Steps per second from the run's metrics.csv (time column), after the first logged step so
-- start-up (preprocessing fit, first allocations) is left out.
local function steps_per_second(out)
  local data = mpm.plot.read_metrics(out .. "/metrics.csv")
  local n = #data.step
  return (data.step[n] - data.step[1]) / (data.time[n] - data.time[1])
end
local function train(ranks)
  local out = ("%s/k%d"):format(dir, ranks)
  local job = ("%s %s/examples/train_cfm.lua --preset small --steps %d --batch-size 48 --val none --max-jets 2000 --log-every 1 --quiet --out %s"):format(
    mpm.files.quote(host), root, steps, mpm.files.quote(out))
  local command = ranks == 1 and job or ("%s%s -n %d %s"):format(env, mpirun, ranks, job)
  local text, ok = capture(command)
  if not ok then error("distributed bench: " .. command .. " failed:\n" .. text, 0) end
  return steps_per_second(out)
end

local one, two = train(1), train(2)
-- The gradient buffer's size: the model's and tasks' weights in the K = 1 run's checkpoint.
local function count(t)
  local n = 0
  for _, v in pairs(t) do
    if mpm.is_tensor(v) then n = n + v:numel() elseif type(v) == "table" then n = n + count(v) end
  end
  return n
end
local saved = mpm.load(dir .. "/k1/checkpoint.h5")
local parameters = count(saved.model) + count(saved.tasks)
local text = capture(("%s%s -n 2 %s %s/bench/distributed.lua --allreduce %d"):format(env, mpirun, mpm.files.quote(host), root, parameters))
local allreduce = tonumber(text:match("allreduce (%S+)"))
print(("\ndata-parallel pre-training, small preset, cfm + id, global batch 48, %d steps (%s)"):format(steps, os.date("%Y-%m-%d")))
print(("  K = 1              %6.2f steps/s"):format(one))
print(("  K = 2 (mpirun)     %6.2f steps/s  (%.2fx)"):format(two, two / one))
if allreduce then
  print(("  allreduce of the gradients (%d floats, %.1f MB): %.2f ms = %.1f%% of a K = 2 step"):format(
    parameters, parameters * 4 / 1e6, allreduce * 1e3, 100 * allreduce * two))
end
os.execute("rm -rf " .. mpm.files.quote(dir))
