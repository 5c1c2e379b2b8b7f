-- mpm.train: the pre-training loop for an mpm.MPM model and any set of reconstruction tasks
-- (built-in or written in Lua). One call runs the whole job:
--
--   local result = mpm.train.run{model = model, tasks = {mpm.tasks.make("cfm", model),
--     mpm.tasks.make("id", model)}, loader = train_loader, val_loader = val_loader,
--     steps = 2000, out = "runs/cfm"}
--
-- Each step: forward the masked batch, every task's loss on the dropped particles (weighted by
-- task.weight and summed), backward, gradient clipping, AdamW, the MPMv2 learning-rate
-- schedule (linear warm-up, exponential decay, floor), and an EMA of the weights. Every
-- `val_every` steps it measures the validation losses; every `checkpoint_every` steps it
-- writes `out/checkpoint.h5`, from which `resume = true` continues exactly (model, tasks,
-- optimiser, schedule, EMA, random generator and the loader's position are all restored, so
-- the resumed losses equal those of an uninterrupted run). A non-finite loss stops the run
-- with `step 1234: loss is NaN (task cfm)`. Progress goes to a single updating line on a
-- terminal and to plain lines otherwise; metrics go to `out/metrics.csv` (or .jsonl) and the
-- loss curve to `out/loss.png`.
--
-- The parts are separate so that other trainers (fine-tuning, several processes) reuse them:
-- stream.lua (batches with a resumable position), loop.lua (the step loop, optimiser step, loss
-- checks), checkpoint.lua, metrics.lua, progress.lua, validation.lua.
return function(mpm)
  local train = {}
  mpm.train = train
  for _, part in ipairs { "stream", "loop", "checkpoint", "metrics", "progress", "validation" } do
    require("mpm.train." .. part)(mpm, train)
  end
  local files = mpm.files
  local dist = mpm.distributed

  local option_defaults = {
    model = "required", tasks = "required", loader = "required", steps = "required",
    lr = 1e-3, weight_decay = 1e-5, betas = false, warmup = false, half_life = false, lr_floor = 1e-3,
    clip = 1.0, ema = 0.999, val_loader = false, val_every = false, val_batches = 4,
    log_every = false, checkpoint_every = false, out = false, resume = false, overwrite = false, metrics = "csv",
    plot = true, backbone = true, progress = "auto", quiet = false, backbone_extra = false, on_log = false,
  }

  local run -- the run itself, below train.run, which claims the run directory around it

  --- train.average_ranks(batch, total, parts, names, params [, count]) -> global loss, {name =
  --- global loss}: the backward of one data-parallel step. The losses are means over `count`
  --- terms (default: the dropped particles), so this rank's loss is weighted by its share of the
  --- job's terms (K * n_rank / N) before backward; one allreduce of a flat buffer then averages
  --- the gradients (giving the gradient of the loss over the whole global batch), and one more
  --- the logged losses.
  function train.average_ranks(batch, total, parts, names, params, count)
    local ranks = dist.size()
    count = count or (batch.mask and batch.mask.dropped:numel() or batch.num_particles)
    local counts = mpm.tensor { count }
    dist.allreduce_(counts)
    local weight = counts:item() > 0 and ranks * count / counts:item() or 1
    local scaled = weight == 1 and total or total * weight
    scaled:backward()
    -- A parameter the step did not reach (the decoder under a task reading the encoder, a head
    -- no jet of this rank used) has no gradient. The ranks agree on which ones had one anywhere:
    -- those get zeros where missing (this rank's data contributed nothing), the rest stay
    -- without, as in one process where the optimiser skips them.
    local reached = {}
    for i, p in ipairs(params) do reached[i] = p.grad ~= nil and 1 or 0 end
    local anywhere = mpm.tensor(reached)
    dist.allreduce_(anywhere, "max")
    anywhere = anywhere:tolist()
    local grads = {}
    for i, p in ipairs(params) do
      if anywhere[i] > 0 then
        if p.grad == nil then p.grad = mpm.zeros_like(p) end
        grads[#grads + 1] = p.grad
      end
    end
    dist.allreduce_(grads, "mean")
    local values = { total:item() * weight }
    for i, name in ipairs(names) do values[i + 1] = (parts[name] or 0) * weight end
    local logged = mpm.tensor(values)
    dist.allreduce_(logged, "mean")
    local out = {}
    for i, name in ipairs(names) do if parts[name] then out[name] = logged[i + 1]:item() end end
    return logged[1]:item(), out
  end

  local function fail(message, level) error("train: " .. message, (level or 1) + 1) end

  --- train.sharded(loader) -> true when this process is one of several ranks training one model
  --- on this loader (under mpirun, with loader option shard = {rank = mpm.distributed.rank(),
  --- size = mpm.distributed.size()}); false for one process or a loader without a shard (each
  --- rank then trains its own model, as in a distributed sweep). A shard that does not match
  --- this job's ranks is an error.
  function train.sharded(loader)
    local shard, ranks = loader.shard, dist.size()
    if ranks == 1 or shard == nil then return false end
    if type(shard) ~= "table" or shard.size ~= ranks or shard.rank ~= dist.rank() then
      error(("train: the loader's shard does not match this job of %d ranks (rank %d): use shard = {rank = mpm.distributed.rank(), size = mpm.distributed.size()}"):format(
        ranks, dist.rank()), 3)
    end
    return true
  end

  local function check_options(options)
    local c = mpm.check_options("train", options, option_defaults, 3)
    if math.type(c.steps) ~= "integer" or c.steps < 1 then fail("steps must be a positive integer", 3) end
    if c.metrics ~= "csv" and c.metrics ~= "jsonl" then fail("metrics must be 'csv' or 'jsonl'", 3) end
    if c.resume and not c.out then fail("resume needs out (the run directory holding checkpoint.h5)", 3) end
    if not mpm.nn.is_module(c.model) then fail("model must be a module (mpm.MPM{...})", 3) end
    return c
  end

  --- train.task_list(tasks) -> list of {task=, name=, weight=, input=}: the tasks of a run with
  --- unique names (a list, or a map name -> task), each checked to have a loss method.
  function train.task_list(tasks)
    if type(tasks) ~= "table" then fail("tasks must be a list of tasks", 3) end
    local list = {}
    if #tasks > 0 then
      for i, t in ipairs(tasks) do list[i] = t end
    else
      local names = {}
      for name in pairs(tasks) do names[#names + 1] = name end
      table.sort(names)
      for _, name in ipairs(names) do
        local t = tasks[name]
        if type(t) == "table" and rawget(t, "name") == nil then t.name = name end
        list[#list + 1] = t
      end
    end
    if #list == 0 then fail("at least one task is needed", 3) end
    local seen = {}
    for i, t in ipairs(list) do
      if type(t) ~= "table" or type(t.loss) ~= "function" then
        fail(("task %d has no loss method (a task is anything with task:loss(decoded, target))"):format(i), 3)
      end
      local name = t.name or ("task" .. i)
      if seen[name] then name = name .. i end
      seen[name] = true
      list[i] = { task = t, name = tostring(name), weight = t.weight or 1, input = t.input or "decoded" }
      if type(list[i].weight) ~= "number" then fail("task " .. name .. ": weight must be a number", 3) end
      if list[i].input ~= "decoded" and list[i].input ~= "encoded" then
        fail("task " .. name .. ": input must be 'decoded' or 'encoded'", 3)
      end
    end
    return list
  end

  --- mpm.train.parameters(model, tasks) -> list: the trained tensors in the trainer's order
  --- (the model's, then each task's, each once); EMA averages in a checkpoint follow it.
  function train.parameters(model, tasks)
    local modules = { model }
    for _, t in ipairs(tasks) do modules[#modules + 1] = mpm.nn.is_module(t) and t or false end
    return mpm.nn.utils.parameters_of(modules, "train")
  end

  -- The summed, weighted loss of every task on one batch, and each task's value.
  local function task_losses(model, tasks, need_decoded, step, batch)
    local outputs = model(batch, { decode = need_decoded })
    local total, parts = nil, {}
    for _, t in ipairs(tasks) do
      local input = t.input == "encoded" and outputs.encoded or outputs.decoded
      local loss = t.task:loss(input, outputs.target)
      parts[t.name] = train.check_loss(step, t.name, loss)
      local weighted = t.weight == 1 and loss or loss * t.weight
      total = total and total + weighted or weighted
    end
    return total, parts
  end

  -- The task states of a checkpoint, by task name.
  local function task_states(tasks)
    return train.state_of(function()
      local states = {}
      for _, t in ipairs(tasks) do
        if mpm.nn.is_module(t.task) then states[t.name] = t.task:state_dict() end
      end
      return states
    end, function(states)
      for _, t in ipairs(tasks) do
        if mpm.nn.is_module(t.task) then
          local sd = states[t.name]
          if sd == nil then error("train: resume: the checkpoint has no state for task " .. t.name, 0) end
          t.task:load_state_dict(sd)
        end
      end
    end)
  end

  --- mpm.train.run{model=, tasks=, loader=, steps=, ...} -> result
  --- Options (defaults): lr (1e-3), weight_decay (1e-5), betas ({0.9, 0.999}), warmup (5% of
  --- steps, at most 50000), half_life (half the steps, at most 100000), lr_floor (1e-3 of lr),
  --- clip (1.0; false for none), ema (decay 0.999, warmed up as min(decay, (1+n)/(10+n)); false
  --- for none), val_loader, val_every (steps/10), val_batches (4), log_every (steps/50),
  --- checkpoint_every (val_every, or steps/5), out (run directory, locked while the run writes
  --- it), resume (continue from out/checkpoint.h5; a finished run only writes what it lacks),
  --- overwrite (replace a run already in out), metrics ("csv" or "jsonl"), plot (true: out/loss.png), backbone (true:
  --- out/backbone.h5 at the end), backbone_extra (fields stored with it), progress ("auto",
  --- "line", "plain", "none"), quiet, on_log (function(row) called at each logged row).
  --- result = {step, first_loss, last_loss, val = {last validation}, elapsed, steps_per_second,
  --- metrics, plot, checkpoint, backbone, ema, finished (true when resuming a finished run)}.
  --- Under mpirun (mpm.distributed.size() > 1) every rank runs it with a loader sharded by
  --- rank (loader option shard): the initial weights come from rank 0, each step's gradients
  --- are averaged over the ranks (one allreduce of a flat buffer) before clipping, the logged
  --- losses are the global means, and only rank 0 claims `out`, prints and writes files; every
  --- rank reads the checkpoint when resuming (docs/distributed.md).
  function train.run(options)
    local o = check_options(options)
    if not o.out or not dist.is_main() then return run(o) end
    return train.claim(o.out, run, o)
  end

  --- train.claim(dir, fn, ...) -> fn(...): runs fn while this process holds the run directory
  --- dir (created if needed, locked with mpm.files.lock, temporaries of dead processes removed)
  --- and gives it up afterwards, also when fn fails (the error is raised again unchanged).
  function train.claim(dir, fn, ...)
    files.mkdir(dir)
    local lock = files.lock(dir)
    local results = table.pack(pcall(function(...)
      files.remove_stale_temporaries(dir)
      return fn(...)
    end, ...))
    files.unlock(lock)
    if not results[1] then error(results[2], 0) end
    return table.unpack(results, 2, results.n)
  end

  --- train.check_fresh(dir, o): a run without resume or overwrite must not replace the run
  --- already in dir (one with a checkpoint or metrics).
  function train.check_fresh(dir, o)
    if o.resume or o.overwrite or not dist.is_main() then return end
    for _, name in ipairs { "checkpoint.h5", "metrics.csv", "metrics.jsonl", "run.h5" } do
      if files.exists(files.join(dir, name)) then
        error(("train: %s already holds a run (%s); continue it with resume (--resume) or replace it with overwrite (--overwrite)"):format(
          dir, name), 0)
      end
    end
  end

  -- A finished run resumed: write what it lacks (backbone, plot) and report from its metrics.
  local function complete(o, model, start, checkpoint_path, metrics_path, progress)
    local result = { step = start, elapsed = 0, steps_per_second = 0, checkpoint = checkpoint_path, finished = true }
    if not dist.is_main() then return result end
    local wrote = {}
    if metrics_path and files.exists(metrics_path) then
      result.metrics = metrics_path
      local data = mpm.plot.read_metrics(metrics_path)
      local losses = {}
      for _, v in ipairs(data.loss or {}) do if v == v then losses[#losses + 1] = v end end
      result.first_loss, result.last_loss = losses[1], losses[#losses]
      local png = files.join(o.out, "loss.png")
      if o.plot and not files.exists(png) then
        result.plot = mpm.plot.loss_curve(metrics_path, png)
        if result.plot then wrote[#wrote + 1] = "loss.png" end
      end
    end
    if o.backbone and type(model.save_backbone) == "function" then
      result.backbone = files.join(o.out, "backbone.h5")
      if not files.exists(result.backbone) then
        local extra = {}
        for k, v in pairs(o.backbone_extra or {}) do extra[k] = v end
        extra.steps = start
        model:save_backbone(result.backbone, extra)
        wrote[#wrote + 1] = "backbone.h5"
      end
    end
    progress:say(("train: the run in %s already finished at step %d%s"):format(o.out, start,
      #wrote > 0 and ("; wrote the missing " .. table.concat(wrote, ", ")) or "; nothing to do"))
    return result
  end

  function run(o)
    local model, loader = o.model, o.loader
    local tasks = train.task_list(o.tasks)
    local modules = { model }
    local need_decoded = false
    for _, t in ipairs(tasks) do
      modules[#modules + 1] = t.task
      if t.input == "decoded" then need_decoded = true end
    end
    local params = train.parameters(model, { table.unpack(modules, 2) })

    local steps = o.steps
    local warmup = o.warmup or math.min(50000, math.ceil(0.05 * steps))
    local half_life = o.half_life or math.max(1, math.min(100000, steps // 2))
    local val_every = o.val_loader and (o.val_every or math.max(1, steps // 10)) or nil
    local log_every = o.log_every or math.max(1, steps // 50)
    local checkpoint_every = o.checkpoint_every or val_every or math.max(1, steps // 5)

    local opt = mpm.optim.AdamW(params, { lr = o.lr, weight_decay = o.weight_decay, betas = o.betas or nil })
    local sched = mpm.optim.lr_scheduler.WarmupExpDecay(opt, { warmup = warmup, half_life = half_life, floor = o.lr_floor })
    local ema = o.ema and mpm.optim.EMA(params, { decay = o.ema }) or nil
    local generator = mpm.default_generator()
    local ranks, main = dist.size(), dist.is_main()
    if ranks > 1 and not train.sharded(loader) then
      fail(("under mpirun with %d ranks the loader needs shard = {rank = mpm.distributed.rank(), size = %d} (each rank its part of every batch)"):format(
        ranks, ranks), 2)
    end
    -- Every rank starts from rank 0's weights (a resumed run then loads the same checkpoint).
    if ranks > 1 then dist.broadcast_(params, 0) end

    local out = o.out or nil
    if out then train.check_fresh(out, o) end
    local checkpoint = out and train.Checkpoint {
      path = files.join(out, "checkpoint.h5"), format = "mpm-train-checkpoint", optional = { ema = true },
      parts = { model = model, tasks = task_states(tasks), optim = opt, sched = sched, ema = ema,
        rng = train.state_of(function() return generator:get_state() end, function(s) generator:set_state(s) end) },
    }

    -- Resume: every part restored, and the stream placed after the last batch it gave.
    local start, stream, elapsed_before = 0, nil, 0
    if o.resume then
      local ck = checkpoint:load(type(o.resume) == "string" and o.resume or nil)
      if loader.seed ~= nil and ck.loader_seed ~= nil and ck.loader_seed ~= loader.seed then
        fail(("resume: the loader's seed (%s) differs from the checkpoint's (%s); use the same --seed"):format(
          tostring(loader.seed), tostring(ck.loader_seed)), 2)
      end
      checkpoint:restore(ck)
      start, elapsed_before = ck.step, ck.elapsed or 0
      stream = train.Stream(loader, ck.epoch, ck.batch_index)
    else
      stream = train.Stream(loader, 1, 0)
    end
    local metrics_path = out and main and files.join(out, "metrics." .. o.metrics) or nil
    local progress = train.Progress(main and o.progress or "none", o.quiet)
    if start >= steps then
      stream:close()
      if not out then return { step = start, elapsed = 0, steps_per_second = 0, finished = true } end
      return complete(o, model, start, checkpoint.path, metrics_path, progress)
    end

    local columns = { "step", "epoch", "time", "lr", "grad_norm", "loss" }
    for _, t in ipairs(tasks) do columns[#columns + 1] = "loss_" .. t.name end
    if o.val_loader then
      columns[#columns + 1] = "val_loss"
      for _, t in ipairs(tasks) do columns[#columns + 1] = "val_loss_" .. t.name end
    end
    local metrics = metrics_path and train.Metrics(metrics_path, o.metrics, columns, o.resume and start or nil) or nil

    local names, labels = {}, {}
    for _, t in ipairs(tasks) do
      names[#names + 1] = t.name
      labels[#labels + 1] = ("%s (weight %g)"):format(t.name, t.weight)
    end
    labels = table.concat(labels, ", ")
    progress:say(("train: %s parameters, tasks %s, steps %d%s, warm-up %d, half-life %d%s"):format(
      tostring(mpm.nn.utils.num_parameters(params)), labels, steps,
      start > 0 and (" (resuming after step " .. start .. ")") or "", warmup, half_life,
      out and (", out " .. out) or ""))

    local t0 = mpm.clock()
    local summary, err = train.loop {
      start = start, steps = steps, names = names, progress = progress,
      log_every = log_every, val_every = val_every, checkpoint_every = checkpoint_every,
      step = function(step)
        local batch = stream:next()
        opt:zero_grad()
        -- Ranks start from one generator state; without this their tasks would draw the same
        -- noise for different particles. Keyed by (seed, step, rank), so resume stays exact.
        if ranks > 1 then generator:manual_seed(((loader.seed or 0) * 1000003 + step) * 4096 + dist.rank()) end
        local total, parts = task_losses(model, tasks, need_decoded, step, batch)
        if ranks > 1 then
          total, parts = train.average_ranks(batch, total, parts, names, params)
        else
          total:backward()
        end
        local grad_norm = train.optimizer_step { step = step, params = params, optimizer = opt, schedule = sched,
          clip = o.clip, ema = ema, ema_decay = o.ema, names = labels }
        return { loss = type(total) == "number" and total or total:item(), parts = parts, grad_norm = grad_norm }
      end,
      validate = function()
        return train.validate { loader = o.val_loader, batches = o.val_batches, modules = modules,
          generator = generator, evaluate = function(batch) return task_losses(model, tasks, need_decoded, 0, batch) end }
      end,
      row = function(step)
        return { step = step, epoch = stream.epoch, time = elapsed_before + mpm.clock() - t0, lr = opt.param_groups[1].lr }
      end,
      metrics = metrics, on_log = o.on_log or nil,
      checkpoint = checkpoint and main and function(step)
        checkpoint:save { step = step, epoch = stream.epoch, batch_index = stream.index,
          elapsed = elapsed_before + (mpm.clock() - t0), loader_seed = loader.seed }
      end,
    }
    stream:close()
    if metrics then metrics:close() end
    local result = {
      step = summary.step, first_loss = summary.first_loss, last_loss = summary.last_loss, val = summary.val,
      grad_norm = summary.grad_norm, elapsed = summary.elapsed, steps_per_second = summary.steps_per_second,
      metrics = metrics_path, checkpoint = checkpoint and checkpoint.path, ema = ema, optimizer = opt, schedule = sched,
    }
    if out and main and o.plot and metrics_path then
      result.plot = mpm.plot.loss_curve(metrics_path, files.join(out, "loss.png"))
    end
    if err then
      progress:say("train: stopped at step " .. summary.step .. (metrics_path and (" (metrics so far: " .. metrics_path .. ")") or ""))
      error(err, 0)
    end
    if out and main and o.backbone and type(model.save_backbone) == "function" then
      result.backbone = files.join(out, "backbone.h5")
      local extra = {}
      for k, v in pairs(o.backbone_extra or {}) do extra[k] = v end
      extra.steps = summary.step
      model:save_backbone(result.backbone, extra)
    end
    progress:say(("train: %d steps in %s (%.2f steps/s), loss %.4f -> %.4f%s"):format(summary.step - start,
      train.format_time(summary.elapsed), summary.steps_per_second, summary.first_loss or 0 / 0,
      summary.last_loss or 0 / 0, summary.val and (", validation %.4f"):format(summary.val.loss) or ""))
    return result
  end
end
