-- train.run: the pre-training loop for an mpm.MPM model and any set of reconstruction tasks
-- (built-in or written in Lua), on a train.Run (lua/mpm/train/run.lua: the directory,
-- checkpoints, exact resume, metrics, progress and the ranks under mpirun are the run's):
--
--   local result = mpm.train.run{model = model, tasks = {mpm.tasks.make("cfm", model),
--     mpm.tasks.make("id", model)}, loader = train_loader, val_loader = val_loader,
--     steps = 2000, out = "runs/cfm"}
--
-- Each step: forward the masked batch, every task's loss on the dropped particles (weighted by
-- task.weight and summed), backward, gradient clipping, AdamW, the MPMv2 learning-rate
-- schedule (linear warm-up, exponential decay, floor), and an EMA of the weights. This file is
-- that step and its options.
local mpm = require "mpm.core"
local options = require "mpm.options"
local autograd = require "mpm.autograd"
local cli = require "mpm.cli"
local nn = require "mpm.nn"
local optim = require "mpm.optim"
local plot = require "mpm.plot"
local progress = require "mpm.progress"
local loop = require "mpm.train.loop"
local validation = require "mpm.train.validation"
local run = require "mpm.train.run"
local task_set = require "mpm.train.tasks"
local files = mpm.files
local pretraining = {}

--- train.OPTIONS (pretraining.OPTIONS): the options of train.run, one entry each {name, default, kind, help}: read
--- by train.run and by the pre-training command line (mpm.pretrain.OPTIONS includes the entries
--- with a kind), so both have the same defaults and help. false stands for "derived" (the help says
--- from what) or "none"; options without a kind are Lua-only.
pretraining.OPTIONS = {
  { "model", "required" }, { "tasks", "required" }, { "loader", "required" }, { "val_loader", false },
  { "steps", "required", "integer", "training steps" },
  { "lr", 1e-3, "number", "maximum learning rate (AdamW)" },
  { "weight-decay", 1e-5, "number", "AdamW weight decay" },
  { "betas", false }, { "lr_floor", 1e-3 },
  { "warmup", false, "integer", "warm-up steps (default 5% of the steps, at most 50000)" },
  { "half-life", false, "integer", "learning-rate half-life in steps after warm-up (default half the steps, at most 100000)" },
  { "clip", 1.0, "number", "gradient clipping norm (0: none)" },
  { "ema", 0.999, "number", "EMA decay of the weights (0: none)" },
  { "val-every", false, "integer", "validate every N steps (default 10 times per run)" },
  { "val_batches", 4 },
  { "log-every", false, "integer", "log every N steps (default 50 times per run)" },
  { "checkpoint-every", false, "integer", "checkpoint every N steps (default at each validation)" },
  { "out", false }, { "run", false },
  { "resume", false, "flag", "continue the run in OUT from its last checkpoint (a finished run only writes what it lacks)" },
  { "overwrite", false, "flag", "replace a run already in OUT (without it, or --resume, that is an error)" },
  { "metrics", "csv", "string", "metrics file format: csv or jsonl" },
  { "precision", "fp32", "string", "matrix products: fp32, or bf16 (bfloat16 inputs, fp32 accumulation; weights, optimiser state, norms and losses stay fp32; runs in fp32, saying so, where the CPU has no bf16)" },
  { "plot", true }, { "backbone", true }, { "backbone_extra", false }, { "progress", "auto" },
  { "quiet", false, "flag", "no progress output" }, { "on_log", false },
}
local defaults = cli.defaults(pretraining.OPTIONS)

local function fail(message) error("train: " .. message, 3) end
local function check(given)
  local o = options.check("train", given, defaults, 3)
  if math.type(o.steps) ~= "integer" or o.steps < 1 then fail("steps must be a positive integer") end
  if not nn.is_module(o.model) then fail("model must be a module (mpm.MPM{...})") end
  if o.precision ~= "fp32" and o.precision ~= "bf16" then fail(("precision must be fp32 or bf16, got %s"):format(tostring(o.precision))) end
  if o.clip == 0 then o.clip = false end
  if o.ema == 0 then o.ema = false end
  return o
end

-- What a pre-training run leaves at its end: the loss curve and the backbone.
local function products(o, r, step)
  local list = {}
  local metrics_path = r:metrics_path()
  if o.plot and metrics_path then
    list[#list + 1] = { "loss.png", function(path) return plot.loss_curve(metrics_path, path) ~= nil end }
  end
  if o.backbone and type(o.model.save_backbone) == "function" then
    list[#list + 1] = { "backbone.h5", function(path)
      local extra = {}
      for k, v in pairs(o.backbone_extra or {}) do extra[k] = v end
      extra.steps = step
      o.model:save_backbone(path, extra)
    end }
  end
  return list
end

local function run_in(o, r)
  local model, loader = o.model, o.loader
  local tasks = task_set.list(o.tasks)
  local modules, need_decoded = { model }, false
  for _, t in ipairs(tasks) do
    modules[#modules + 1] = t.task
    if t.input == "decoded" then need_decoded = true end
  end
  local params = task_set.parameters(model, { table.unpack(modules, 2) })
  local steps = o.steps
  local warmup = o.warmup or math.min(50000, math.ceil(0.05 * steps))
  local half_life = o.half_life or math.max(1, math.min(100000, steps // 2))
  local opt = optim.AdamW(params, { lr = o.lr, weight_decay = o.weight_decay, betas = o.betas or nil })
  local sched = optim.lr_scheduler.WarmupExpDecay(opt, { warmup = warmup, half_life = half_life, floor = o.lr_floor })
  local ema = o.ema and optim.EMA(params, { decay = o.ema }) or nil
  if mpm.distributed.size() > 1 and not r.parallel then
    fail(("under mpirun with %d ranks the loader needs shard = {rank = mpm.distributed.rank(), size = %d} (each rank its part of every batch)"):format(
      mpm.distributed.size(), mpm.distributed.size()))
  end
  local _, fallback = mpm.precision_support(o.precision)
  if fallback then r:say("train: " .. fallback) end
  r:use_loader(loader)
  r:broadcast(params)
  r:checkpoint("train-checkpoint", { model = model, tasks = task_set.states(tasks), optim = opt, sched = sched, ema = ema },
    { ema = true })
  local start = r:resume()
  if start >= steps then
    local result = r:finished(products(o, r, start))
    result.plot, result.backbone = result.paths["loss.png"], result.paths["backbone.h5"]
    return result
  end

  local names, labels = {}, {}
  local columns = { "step", "epoch", "time", "lr", "grad_norm", "loss" }
  for _, t in ipairs(tasks) do
    names[#names + 1] = t.name
    labels[#labels + 1] = ("%s (weight %g)"):format(t.name, t.weight)
    columns[#columns + 1] = "loss_" .. t.name
  end
  if o.val_loader then
    columns[#columns + 1] = "val_loss"
    for _, t in ipairs(tasks) do columns[#columns + 1] = "val_loss_" .. t.name end
  end
  labels = table.concat(labels, ", ")
  r:say(("train: %s parameters, tasks %s, steps %d%s, warm-up %d, half-life %d%s"):format(
    tostring(nn.utils.num_parameters(params)), labels, steps,
    start > 0 and (" (resuming after step " .. start .. ")") or "", warmup, half_life, o.out and (", out " .. o.out) or ""))

  local summary = r:loop {
    steps = steps, columns = columns, names = names, val_every = o.val_every, log_every = o.log_every,
    checkpoint_every = o.checkpoint_every, on_log = o.on_log or nil,
    step = function(step, batch)
      opt:zero_grad()
      local total, parts = autograd.autocast(o.precision, task_set.losses, model, tasks, need_decoded, step, batch)
      local loss
      loss, parts = r:backward(batch, total, parts, names, params)
      local grad_norm = loop.optimizer_step { step = step, params = params, optimizer = opt, schedule = sched,
        clip = o.clip, ema = ema, ema_decay = o.ema, names = labels }
      return { loss = loss, parts = parts, grad_norm = grad_norm }
    end,
    validate = o.val_loader and function()
      return validation.validate { loader = o.val_loader, batches = o.val_batches, modules = modules,
        generator = r.generator, evaluate = function(batch)
          return autograd.autocast(o.precision, task_set.losses, model, tasks, need_decoded, 0, batch)
        end }
    end or nil,
    row = function() return { lr = opt.param_groups[1].lr } end,
  }
  local result = {
    step = summary.step, resumed_after = start, first_loss = summary.first_loss, last_loss = summary.last_loss, val = summary.val,
    grad_norm = summary.grad_norm, elapsed = summary.elapsed, steps_per_second = summary.steps_per_second,
    metrics = r:metrics_path(), checkpoint = r.saver and r.saver.path, ema = ema, optimizer = opt, schedule = sched,
  }
  if summary.error then
    result.plot = r:finish(products({ plot = o.plot, model = model }, r, summary.step))["loss.png"]
    r:say("train: stopped at step " .. summary.step .. (result.metrics and (" (metrics so far: " .. result.metrics .. ")") or ""))
    error(summary.error, 0)
  end
  local paths = r:finish(products(o, r, summary.step))
  result.plot, result.backbone = paths["loss.png"], paths["backbone.h5"]
  r:say(("train: %d steps in %s (%.2f steps/s), loss %.4f -> %.4f%s"):format(summary.step - start,
    progress.format_time(summary.elapsed), summary.steps_per_second, summary.first_loss or 0 / 0,
    summary.last_loss or 0 / 0, summary.val and (", validation %.4f"):format(summary.val.loss) or ""))
  return result
end

--- mpm.train.run{model=, tasks=, loader=, steps=, ...} -> result
--- The options and their defaults are train.OPTIONS (help(mpm.train.OPTIONS) or
--- `examples/pretrain.lua --help`): lr, weight_decay, betas ({0.9, 0.999}), warmup, half_life,
--- lr_floor (1e-3 of lr), clip, ema, val_loader, val_every, val_batches (4), log_every,
--- checkpoint_every, out (run directory), run (a train.Run the caller already holds for out),
--- resume (true, or a checkpoint path), overwrite, metrics, plot (out/loss.png), backbone
--- (out/backbone.h5 at the end), backbone_extra (fields stored with it), progress ("auto",
--- "line", "plain", "none"), quiet, on_log (function(row) called at each logged row).
--- result = {step, resumed_after (0 for a fresh run), first_loss, last_loss, val = {last validation},
--- elapsed, steps_per_second (losses and times are this process's steps, resumed_after+1..step),
--- metrics, plot, checkpoint, backbone, ema, finished (true when resuming a finished run)}.
--- Under mpirun every rank runs it with a loader sharded by rank (loader option shard): rank 0's
--- weights are broadcast, each step's gradients averaged over the ranks before clipping, the
--- logged losses are the global means, and only rank 0 writes (docs/distributed.md).
function pretraining.run(given)
  local o = check(given)
  if o.run then return run_in(o, o.run) end
  local r <close> = run.Run { name = "train", out = o.out, resume = o.resume, overwrite = o.overwrite,
    loader = o.loader, metrics = o.metrics, progress = o.progress, quiet = o.quiet }
  return run_in(o, r)
end

return pretraining
