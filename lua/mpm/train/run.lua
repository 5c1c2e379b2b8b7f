-- train.Run: what every training loop shares, in one place. A run owns its directory (claimed
-- and locked, a fresh run never replacing one silently), the rank-0 rule and the per-rank
-- reseed, the checkpoint (its parts, the generator, the stream position) and resume, the
-- metrics file, the progress line and the shutdown. A loop (pre-training, fine-tuning, a new
-- objective) adds only its step and its options:
--
--   local run <close> = train.Run{name = "mytrainer", out = "runs/x", loader = loader, resume = false}
--   run:checkpoint("train-checkpoint", {model = model, optim = opt})
--   local start = run:resume()                      -- 0 for a fresh run
--   local summary = run:loop{steps = 1000, columns = {...}, step = function(step, batch) ... end}
local mpm = require "mpm.core"
local progress = require "mpm.progress"
local plot = require "mpm.plot"
local stream = require "mpm.train.stream"
local loop = require "mpm.train.loop"
local checkpoint = require "mpm.train.checkpoint"
local metrics = require "mpm.train.metrics"
local files, dist = mpm.files, mpm.distributed

local Run = {}
Run.__index = Run

-- The files that say a directory already holds a run, when the caller names none.
local RUN_FILES = { "checkpoint.h5", "metrics.csv", "metrics.jsonl" }

--- train.sharded(loader) -> true when this process is one of several ranks training one model
--- on this loader (under mpirun, with loader option shard = {rank = mpm.distributed.rank(),
--- size = mpm.distributed.size()}); false for one process or a loader without a shard (each
--- rank then trains its own model, as in a distributed sweep). A shard that does not match
--- this job's ranks is an error.
local function sharded(loader)
  local shard, ranks = loader.shard, dist.size()
  if ranks == 1 or shard == nil then return false end
  if type(shard) ~= "table" or shard.size ~= ranks or shard.rank ~= dist.rank() then
    error(("train: the loader's shard does not match this job of %d ranks (rank %d): use shard = {rank = mpm.distributed.rank(), size = mpm.distributed.size()}"):format(
      ranks, dist.rank()), 3)
  end
  return true
end

-- A fresh run (neither resume nor overwrite) must not replace the run already in dir.
local function check_fresh(name, dir, makes)
  for _, file in ipairs(makes) do
    if files.exists(files.join(dir, file)) then
      error(("%s: %s already holds a run (%s); continue it with resume (--resume) or replace it with overwrite (--overwrite)"):format(
        name, dir, file), 0)
    end
  end
end

--- train.Run{name=, out=, resume=false, overwrite=false, makes=, loader=, parallel=, progress="auto",
--- quiet=false, metrics="csv"} -> run (close it: `local run <close> = train.Run{...}`).
--- name prefixes its messages; out is the run directory (false: nothing written); makes lists the
--- files that mark a run already there (default checkpoint.h5, metrics.csv, metrics.jsonl);
--- parallel (default: the loader is sharded over the ranks, train.sharded) makes the ranks train
--- one model: only rank 0 claims out, prints and writes, and every rank starts from rank 0's
--- weights (run:broadcast). resume = true or a checkpoint path continues the run in out.
function Run.new(o)
  local self = setmetatable({ name = o.name or "train", out = o.out or nil, resume_from = o.resume or false,
    overwrite = o.overwrite or false, loader = o.loader, metrics_format = o.metrics or "csv",
    generator = mpm.default_generator(), elapsed_before = 0, start = 0 }, Run)
  if self.metrics_format ~= "csv" and self.metrics_format ~= "jsonl" then
    error(self.name .. ": metrics must be 'csv' or 'jsonl'", 3)
  end
  if self.resume_from and not self.out then
    error(self.name .. ": resume needs out (the run directory holding checkpoint.h5)", 3)
  end
  if o.parallel == nil then self.parallel = o.loader ~= nil and sharded(o.loader) else self.parallel = o.parallel end
  self.main = not self.parallel or dist.is_main()
  self.progress = progress.new(self.main and (o.progress or "auto") or "none", o.quiet)
  if self.out and self.main then
    files.mkdir(self.out)
    self.lock = files.lock(self.out)
    local ok, err = pcall(function()
      files.remove_stale_temporaries(self.out)
      if not self.resume_from and not self.overwrite then check_fresh(self.name, self.out, o.makes or RUN_FILES) end
    end)
    if not ok then self:close(); error(err, 0) end
  end
  return self
end

--- run:use_loader(loader): the training loader of a run opened before its loader existed (a job
--- that claims its directory first, then prepares its data).
function Run:use_loader(loader)
  if self.loader == nil then self.loader = loader end
end

--- run:close(): ends the run: the stream and the metrics file closed, the directory unlocked.
--- Called by `<close>` also when the run fails, so a failed run leaves its directory usable.
function Run:close()
  if self.stream then self.stream:close(); self.stream = nil end
  if self.metrics then self.metrics:close(); self.metrics = nil end
  if self.lock then files.unlock(self.lock); self.lock = nil end
end
Run.__close = Run.close

--- run:path(name) -> out/name, or nil when the run writes no files (or this rank does not).
function Run:path(name)
  if self.out and self.main then return files.join(self.out, name) end
end

--- run:say(text): one line on rank 0 (nothing when quiet).
function Run:say(text) self.progress:say(text) end

--- run:broadcast(params): every rank starts from rank 0's weights (a no-op in one process).
function Run:broadcast(params)
  if self.parallel then dist.broadcast_(params, 0) end
end

--- run:reseed(step): ranks start from one generator state; without a reseed their tasks would
--- draw the same noise for different particles. Keyed by (loader seed, step, rank), so a resumed
--- run draws what an uninterrupted one does. A no-op in one process.
function Run:reseed(step)
  if self.parallel then
    self.generator:manual_seed(((self.loader.seed or 0) * 1000003 + step) * 4096 + dist.rank())
  end
end

--- run:checkpoint(kind, parts [, optional]): what out/checkpoint.h5 holds (a record of `kind`,
--- mpm.records): each part has state_dict/load_state_dict (modules, optimisers, schedules, EMA,
--- or train.state_of(get, set)); the generator and the stream position are added here. optional
--- names parts a checkpoint may lack.
function Run:checkpoint(kind, parts, optional)
  if not self.out then return end
  local all = { rng = checkpoint.state_of(function() return self.generator:get_state() end,
    function(s) self.generator:set_state(s) end) }
  for name, part in pairs(parts) do all[name] = part end
  self.saver = checkpoint.Checkpoint { path = files.join(self.out, "checkpoint.h5"), kind = kind, parts = all,
    optional = optional }
end

--- run:resume() -> start step, checkpoint record or nil: restores every part from the
--- checkpoint when resuming (the stream placed after the last batch it gave) and opens the
--- stream of the loader; a fresh run starts at step 0.
function Run:resume()
  local epoch, index, record = 1, 0, nil
  if self.resume_from then
    record = self.saver:load(type(self.resume_from) == "string" and self.resume_from or nil)
    local seed = self.loader and self.loader.seed
    if seed ~= nil and record.loader_seed ~= nil and record.loader_seed ~= seed then
      error(("%s: resume: the loader's seed (%s) differs from the checkpoint's (%s); use the same --seed"):format(
        self.name, tostring(seed), tostring(record.loader_seed)), 0)
    end
    self.saver:restore(record)
    self.start, self.elapsed_before = record.step, record.elapsed or 0
    epoch, index = record.epoch, record.batch_index
  end
  if self.loader then self.stream = stream.Stream(self.loader, epoch, index) end
  return self.start, record
end

--- run:backward(total, parts, names, params [, count]) -> loss, {name = loss}: the backward of a
--- step. In one process total:backward(); with parallel ranks this rank's loss is weighted by its
--- share of the job's `count` terms (default: the dropped particles) before backward, one
--- allreduce of a flat buffer averages the gradients (giving the gradient of the loss over the
--- whole global batch) and one more the logged losses.
function Run:backward(batch, total, parts, names, params, count)
  if not self.parallel then
    total:backward()
    return total:item(), parts
  end
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

--- run:finish(products [, only_missing]) -> {file = path}, {files written}: the files a run
--- leaves at its end, on the process that writes: products = list of {file, write} where
--- write(path) returns false when it wrote nothing (gnuplot missing); only_missing (a finished
--- run resumed) writes only those the directory lacks.
function Run:finish(products, only_missing)
  local paths, written = {}, {}
  for _, product in ipairs(products) do
    local file, write = product[1], product[2]
    local path = self:path(file)
    if path and not (only_missing and files.exists(path)) and write(path) ~= false then
      paths[file], written[#written + 1] = path, file
    elseif path and files.exists(path) then
      paths[file] = path
    end
  end
  return paths, written
end

--- run:finished(products) -> result: a finished run resumed: writes the products it lacks and
--- reports its step and first and last loss, read back from its metrics file.
function Run:finished(products)
  local result = { step = self.start, elapsed = 0, steps_per_second = 0, finished = true,
    checkpoint = self.saver and self.saver.path }
  local metrics_path = self:metrics_path()
  -- A rank other than 0 writes no file and names none.
  if not metrics_path then result.paths = {}; return result end
  if files.exists(metrics_path) then
    result.metrics = metrics_path
    local losses = {}
    for _, v in ipairs(plot.read_metrics(metrics_path).loss or {}) do if v == v then losses[#losses + 1] = v end end
    result.first_loss, result.last_loss = losses[1], losses[#losses]
  end
  local paths, wrote = self:finish(products, true)
  result.paths = paths
  self:say(("%s: the run in %s already finished at step %d%s"):format(self.name, self.out, self.start,
    #wrote > 0 and ("; wrote the missing " .. table.concat(wrote, ", ")) or "; nothing to do"))
  return result
end

--- run:metrics_path() -> out/metrics.csv (or .jsonl), or nil where this process writes none.
function Run:metrics_path() return self:path("metrics." .. self.metrics_format) end

--- run:loop{steps=, columns=, step=function(step, batch) -> {loss=, parts=, grad_norm=},
--- names=, val_names=, validate=, stop=, row=, log_every=, val_every=, checkpoint_every=,
--- on_log=} -> summary: train.loop with the run's parts wired in: one batch of the stream per
--- step (the rank reseeded first), the metrics file (rows before a resumed run's checkpoint kept),
--- the progress line, and the checkpoint (with the stream position and the elapsed time) every
--- checkpoint_every steps. Defaults scale with the run: val_every steps/10 (when validate is
--- given), log_every steps/50, checkpoint_every val_every or steps/5. An error inside the loop
--- closes the run's files and is raised again as "step N: message".
function Run:loop(o)
  local steps = o.steps
  local val_every = o.validate and (o.val_every or math.max(1, steps // 10)) or nil
  local path = self:metrics_path()
  if path then
    self.metrics = metrics.Metrics(path, self.metrics_format, o.columns, self.resume_from and self.start or nil)
  end
  local t0 = mpm.clock()
  local function elapsed() return self.elapsed_before + mpm.clock() - t0 end
  local summary, err = loop.loop {
    start = self.start, steps = steps, names = o.names, val_names = o.val_names, progress = self.progress,
    log_every = o.log_every or math.max(1, steps // 50), val_every = val_every,
    checkpoint_every = o.checkpoint_every or val_every or math.max(1, steps // 5),
    step = function(step)
      local batch = self.stream:next()
      self:reseed(step)
      return o.step(step, batch)
    end,
    validate = o.validate, stop = o.stop, metrics = self.metrics, on_log = o.on_log,
    row = function(step)
      local row = o.row and o.row(step) or {}
      row.step, row.epoch, row.time = step, self.stream.epoch, elapsed()
      return row
    end,
    checkpoint = self.saver and self.main and function(step)
      self.saver:save { step = step, epoch = self.stream.epoch, batch_index = self.stream.index,
        elapsed = elapsed(), loader_seed = self.loader.seed }
    end,
  }
  if self.stream then self.stream:close() end
  if self.metrics then self.metrics:close(); self.metrics = nil end
  summary.error = err
  return summary
end

return { Run = Run.new, sharded = sharded }
