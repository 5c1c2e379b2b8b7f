-- mpm.pretrain: a whole MPM pre-training job from plain options, shared by examples/pretrain.lua
-- and examples/train_cfm.lua. It claims the run directory (a train.Run), fits (or reuses) the
-- preprocessing, builds the masked loaders, the model and the tasks (built-in by name, or a Lua
-- task file), writes the run record (run.h5) and runs mpm.train.run in that run.
local mpm = require "mpm.core"
local cli = require "mpm.cli"
local options = require "mpm.options"
local nn = require "mpm.nn"
local optim = require "mpm.optim"
local data = require "mpm.data"
local tasks = require "mpm.tasks"
local model_file = require "mpm.tasks.model"
local train = require "mpm.train"
local files, dist = mpm.files, mpm.distributed
local exists, join = files.exists, files.join
local pretrain = {}

-- The trainer's options a job passes through unchanged, with the trainer's defaults and help.
local TRAINER_OPTIONS = { steps = true, lr = true, ["weight-decay"] = true, warmup = true, ["half-life"] = true,
  clip = true, ema = true, precision = true, ["val-every"] = true, ["log-every"] = true, ["checkpoint-every"] = true,
  metrics = true, resume = true, overwrite = true, quiet = true }

local function trainer_entry(name, default)
  for _, s in ipairs(train.OPTIONS) do
    if s[1] == name then
      if default == nil then default = s[2] end
      return { s[1], default, s[3], s[4] }
    end
  end
end

--- mpm.pretrain.OPTIONS: the options of a job, {name, default, kind, help} each: read by
--- pretrain.run, by examples/pretrain.lua's command line and by its --help. The trainer's own
--- options come from mpm.train.OPTIONS (a job changes only the default number of steps).
pretrain.OPTIONS = {
  { "task", "cfm", "string", tasks.names():gsub(", ", " | ") .. ", or a Lua task (a name in examples/tasks/ or a .lua file)" },
  { "no-id", false, "flag", "do not add the particle-ID task (MPMv2 pairs every continuous task with it)" },
  { "data", "data/jetclass_train.h5", "string", "training jets (HDF5, reference schema)" },
  { "val", "", "string", "validation jets (default: --data with train -> val, when it exists; 'none' for no validation)" },
  trainer_entry("steps", 500),
  { "batch-size", 48, "integer", "jets per batch" },
  trainer_entry("lr"), trainer_entry("weight-decay"), trainer_entry("warmup"), trainer_entry("half-life"),
  trainer_entry("clip"), trainer_entry("ema"), trainer_entry("precision"),
  { "mask", 0.4, "number", "fraction of each jet's particles dropped (tasks with a mask range, ssfm, draw their own)" },
  { "seed", 1, "integer", "seed of the whole run (initialisation, data order, masking, noise)" },
  { "preset", "small", "string", "model size: small (2 CPU cores, minutes), paper (MPMv2), tiny (tests)" },
  { "max-jets", 0, "integer", "use only the first N training jets (0: all)" },
  { "val-jets", 500, "integer", "validation jets" },
  trainer_entry("val-every"), trainer_entry("log-every"), trainer_entry("checkpoint-every"),
  { "kmeans-k", 0, "integer", "K-means centroids (0: the preset's, 512 for small/tiny, 16384 for paper)" },
  { "tokenizer", "", "string", "trained VQ tokenizer for --task vqvae (default: train one first, see examples/train_vqvae.lua)" },
  { "preprocessing", "", "string", "fitted preprocessing file to reuse (default: fit on the training jets, saved in OUT)" },
  { "preprocessing-jets", 2000, "integer", "jets the preprocessing is fitted on" },
  trainer_entry("metrics"),
  { "out", "", "string", "run directory for the backbone, checkpoints, metrics and plots (default runs/<task>)" },
  trainer_entry("resume"), trainer_entry("overwrite"), trainer_entry("quiet"),
}
local defaults = cli.defaults(pretrain.OPTIONS)

-- Where a Lua task named `name` lives.
local function task_file(name)
  if name:match("%.lua$") then
    if exists(name) then return name end
    error(("--task: no such file %s"):format(name), 0)
  end
  local script_dir = arg and arg[0] and files.dirname(arg[0]) or "."
  for _, candidate in ipairs({ join(script_dir, "tasks/" .. name .. ".lua"), "examples/tasks/" .. name .. ".lua" }) do
    if exists(candidate) then return candidate end
  end
  error(("--task: unknown task '%s' (built-in: %s; or a Lua task file in examples/tasks/)"):format(name, tasks.names()), 0)
end

-- A Lua task file returns a function(model, options) -> task (or a task class taking
-- {input_dim = decoder_dim}).
local function lua_task(path, model, record)
  local chunk, err = loadfile(path)
  if not chunk then error("--task: " .. tostring(err), 0) end
  local made = chunk()
  local task
  if type(made) == "function" then
    task = made(model, record)
  elseif type(made) == "table" and getmetatable(made) and getmetatable(made).__call then
    task = made { input_dim = model.config.decoder_dim }
  else
    error(("--task: %s must return a function(model, options) -> task or a task class"):format(path), 0)
  end
  if type(task) ~= "table" or type(task.loss) ~= "function" then
    error(("--task: %s did not produce a task (an object with a loss method)"):format(path), 0)
  end
  return task
end

--- mpm.pretrain.build_run_tasks(model, record, dir) -> tasks: the tasks of a run record (what
--- pretrain.run saves as DIR/run.h5), with centroids and tokenizer read from DIR.
function pretrain.build_run_tasks(model, record, dir)
  local kind, list = record.task, {}
  local entry = tasks.catalogue_entry(kind)
  if entry then
    local task_options = {}
    if kind == "kmeans" then
      task_options.centroids = mpm.load(join(dir, "centroids.h5")).centroids
    elseif kind == "vqvae" then
      task_options.tokenizer = tasks.VQTokenizer.load(record.tokenizer or join(dir, "tokenizer.h5")).core
    elseif kind == "ssfm" then
      task_options = assert(tasks.preset(record.preset)).ssfm
    end
    list[1] = tasks.make(kind, model, task_options)
  else
    list[1] = lua_task(record.task_file or task_file(kind), model, record)
  end
  if record.with_id and (entry == nil or entry.pairs_with_id) then list[#list + 1] = tasks.make("id", model) end
  return list
end

--- mpm.pretrain.load_run(dir [, {ema=true}]) -> model, tasks, preprocessing, record: a
--- pre-training run (DIR/run.h5 and DIR/checkpoint.h5) rebuilt for evaluation, with the EMA
--- weights (what MPMv2 samples with) unless ema = false. Modules are in eval mode.
---   local model, tasks, pre = mpm.pretrain.load_run("runs/cfm")
function pretrain.load_run(dir, o)
  o = options.check("load_run", o, { ema = true }, 2)
  local record_path, checkpoint_path = join(dir, "run.h5"), join(dir, "checkpoint.h5")
  if not exists(record_path) or not exists(checkpoint_path) then
    error(("load_run: %s has no run.h5 and checkpoint.h5 (train one with examples/pretrain.lua --out %s)"):format(dir, dir), 2)
  end
  local record = mpm.records.load(record_path, "run")
  local ck = mpm.records.load(checkpoint_path, "train-checkpoint")
  local model = model_file.MPM { preset = record.preset }
  local list = pretrain.build_run_tasks(model, record, dir)
  model:load_state_dict(ck.model)
  for i, t in ipairs(list) do
    local name = t.name or ("task" .. i)
    if nn.is_module(t) and ck.tasks[name] then t:load_state_dict(ck.tasks[name]) end
  end
  if o.ema and ck.ema then
    local ema = optim.EMA(train.parameters(model, list))
    ema:load_state_dict(ck.ema)
    ema:copy_to()
  end
  model:eval()
  for _, t in ipairs(list) do if nn.is_module(t) then t:eval() end end
  return model, list, data.load_preprocessing(record.preprocessing), record
end

-- The masked loaders of a job: training (sharded over the ranks under mpirun) and validation.
local function loaders(o, ds, pre, mask)
  local ranks = dist.size()
  if o.batch_size % ranks ~= 0 then
    error(("--batch-size %d must be divisible by the %d ranks (each takes an equal part of every batch)"):format(
      o.batch_size, ranks), 0)
  end
  local loader = ds:loader { batch_size = o.batch_size, shuffle = true, seed = o.seed, preprocessing = pre,
    mask = mask, drop_last = true, max_jets = o.max_jets > 0 and o.max_jets or nil,
    shard = ranks > 1 and { rank = dist.rank(), size = ranks } or nil }
  local val_path = o.val
  if val_path == "" then
    local guess = o.data:gsub("train", "val")
    val_path = (guess ~= o.data and exists(guess)) and guess or "none"
  end
  if val_path == "none" then return loader end
  local vds = data.open(val_path)
  return loader, vds:loader { batch_size = o.batch_size, shuffle = false, seed = o.seed + 1, preprocessing = pre,
    mask = mask, max_jets = math.min(#vds, o.val_jets) }
end

-- What a task needs fitted before the model trains: K-means centroids, or a VQ tokenizer
-- (trained first when none is given). Written by rank 0 into the run directory.
local function prepare_task(o, kind, preset, out, ds, pre, loader)
  if kind == "kmeans" and not exists(join(out, "centroids.h5")) then
    local k = o.kmeans_k > 0 and o.kmeans_k or preset.kmeans_k
    local jets = math.min(#ds, o.max_jets > 0 and o.max_jets or #ds)
    local b = pre:transform(ds:read(1, jets), o.seed)
    if not o.quiet then print(("kmeans: fitting %d centroids to %d particles"):format(k, b.features:size(1))) end
    mpm.save(join(out, "centroids.h5"), { centroids = mpm.kmeans.fit(b.features, { k = k, seed = o.seed }) })
  elseif kind == "vqvae" and o.tokenizer == "" and not exists(join(out, "tokenizer.h5")) then
    if not o.quiet then print("vqvae: no --tokenizer given; training one first (" .. join(out, "tokenizer.h5") .. ")") end
    local tok = tasks.VQTokenizer.fit(loader, { steps = math.max(200, o.steps // 2), preset = o.preset, quiet = o.quiet })
    tok:save(join(out, "tokenizer.h5"))
    return true
  elseif kind == "vqvae" and o.tokenizer ~= "" and not exists(o.tokenizer) then
    error("--tokenizer: no such file " .. o.tokenizer, 0)
  end
end

--- mpm.pretrain.folder(runs, {steps=, batch_size=, preset=, data=}) -> path: where make paper
--- (examples/paper.lua) keeps the pre-training runs of one budget, one task per subfolder, named
--- by the settings so a changed budget or data file is a new run, never a resumed one; the
--- scorecard finds the built-in tasks' backbones there.
---   mpm.pretrain.folder("runs/paper", {steps = 2500, batch_size = 64, preset = "small", data = "data/jetclass_train.h5"})
function pretrain.folder(runs, o)
  return join(runs, ("pretrain/%dx%d_%s_%s"):format(o.steps, o.batch_size, o.preset, files.basename(o.data):gsub("%.h5$", "")))
end

--- mpm.pretrain.run(options) -> result, model, task list, {preprocessing, loader, val_loader,
--- out}: runs a pre-training job. options: the keys of mpm.pretrain.OPTIONS with underscores
--- (batch_size, no_id, ...); under mpirun only rank 0 claims and writes OUT.
---   mpm.pretrain.run{task = "kmeans", steps = 2000, out = "runs/km"}
function pretrain.run(given)
  local o = options.check("pretrain", given, defaults, 2)
  local kind = o.task
  local entry = tasks.catalogue_entry(kind)
  local preset, why = tasks.preset(o.preset)
  if not preset then error("--preset: " .. why, 0) end
  local out = o.out ~= "" and o.out or ("runs/" .. (kind:match("([^/]+)%.lua$") or kind))
  -- The job holds the run directory from here: it writes preprocessing, centroids and the run
  -- record before the trainer starts, and a fresh job must not replace a run in OUT.
  local run <close> = train.Run { name = "train", out = out, resume = o.resume, overwrite = o.overwrite,
    parallel = dist.size() > 1, metrics = o.metrics, quiet = o.quiet,
    makes = { "checkpoint.h5", "metrics.csv", "metrics.jsonl", "run.h5" } }
  local record_path = join(out, "run.h5")
  if o.resume and exists(record_path) then
    local previous = mpm.records.load(record_path, "run")
    if previous.task ~= kind then
      error(("--resume: %s holds a '%s' run, not '%s' (resume it with --task %s)"):format(out,
        tostring(previous.task), kind, tostring(previous.task)), 0)
    end
  end

  mpm.manual_seed(o.seed)
  local ds = data.open(o.data)
  -- Rank 0 fits or reads the preprocessing first; every rank then reads the same file.
  local pre_path = o.preprocessing ~= "" and o.preprocessing or join(out, "preprocessing.h5")
  local pre
  if run.main then
    if o.resume and not exists(pre_path) then error("--resume: " .. pre_path .. " is missing", 0) end
    pre = data.preprocessing { file = o.preprocessing, save = join(out, "preprocessing.h5"), fit_on = ds,
      jets = o.preprocessing_jets }
  end
  if dist.size() > 1 then
    dist.barrier()
    pre = data.load_preprocessing(pre_path)
  end
  local loader, val_loader = loaders(o, ds, pre, entry and entry.mask_range or o.mask)

  local model = model_file.MPM { preset = o.preset }
  if run.main and prepare_task(o, kind, preset, out, ds, pre, loader) then
    -- The tokenizer's training drew from the generator: start the model as a job without it would.
    mpm.manual_seed(o.seed)
    model = model_file.MPM { preset = o.preset }
  end
  local record = { task = kind, preset = o.preset, with_id = not o.no_id, seed = o.seed,
    task_file = (entry == nil) and task_file(kind) or nil, tokenizer = o.tokenizer ~= "" and o.tokenizer or nil,
    preprocessing = pre_path, data = o.data }
  if dist.size() > 1 then dist.barrier() end
  local list = pretrain.build_run_tasks(model, record, out)
  if run.main then mpm.records.save(record_path, "run", record) end

  local passed = { model = model, tasks = list, loader = loader, val_loader = val_loader or false, out = out, run = run,
    backbone_extra = { task = kind, preprocessing = pre_path, data = o.data, seed = o.seed, preset = o.preset } }
  for name in pairs(TRAINER_OPTIONS) do
    local key = name:gsub("-", "_")
    passed[key] = o[key]
  end
  local result = train.run(passed)
  return result, model, list, { preprocessing = pre, loader = loader, val_loader = val_loader, out = out }
end

return pretrain
