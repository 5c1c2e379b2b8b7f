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
return function(mpm)
  local train = {}

  local option_defaults = {
    model = "required", tasks = "required", loader = "required", steps = "required",
    lr = 1e-3, weight_decay = 1e-5, betas = false, warmup = false, half_life = false, lr_floor = 1e-3,
    clip = 1.0, ema = 0.999, val_loader = false, val_every = false, val_batches = 4,
    log_every = false, checkpoint_every = false, out = false, resume = false, metrics = "csv",
    plot = true, backbone = true, progress = "auto", quiet = false, backbone_extra = false, on_log = false,
  }

  local function fail(message, level) error("train: " .. message, (level or 1) + 1) end

  local function check_options(o)
    if type(o) ~= "table" then fail("expected an options table", 3) end
    for k in pairs(o) do
      if option_defaults[k] == nil then
        local names = {}
        for name in pairs(option_defaults) do names[#names + 1] = name end
        table.sort(names)
        fail(("unknown option '%s' (expected one of: %s)"):format(tostring(k), table.concat(names, ", ")), 3)
      end
    end
    local c = {}
    for k, v in pairs(option_defaults) do
      if v == "required" and o[k] == nil then fail("option '" .. k .. "' is required", 3) end
      c[k] = o[k]
      if c[k] == nil then c[k] = v end
    end
    if math.type(c.steps) ~= "integer" or c.steps < 1 then fail("steps must be a positive integer", 3) end
    if c.metrics ~= "csv" and c.metrics ~= "jsonl" then fail("metrics must be 'csv' or 'jsonl'", 3) end
    if c.resume and not c.out then fail("resume needs out (the run directory holding checkpoint.h5)", 3) end
    return c
  end

  -- Tasks as a list with unique names (a map name -> task is accepted too).
  local function task_list(tasks)
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

  -- Every parameter of the model and the tasks, each once.
  local function all_parameters(model, tasks)
    local list, seen = {}, {}
    local function add(m)
      if not mpm.nn.is_module(m) then return end
      for _, p in ipairs(m:parameters()) do
        if not seen[p] then seen[p] = true; list[#list + 1] = p end
      end
    end
    add(model)
    for _, t in ipairs(tasks) do add(t.task) end
    return list
  end

  --- mpm.train.parameters(model, tasks) -> list: the trained tensors in the trainer's order
  --- (the model's, then each task's, each once); EMA averages in a checkpoint follow it.
  function train.parameters(model, tasks)
    local list = {}
    for i, t in ipairs(tasks) do list[i] = { task = t } end
    return all_parameters(model, list)
  end

  local function path_join(dir, name) return dir:sub(-1) == "/" and dir .. name or dir .. "/" .. name end
  local function exists(path) local f = io.open(path, "r"); if f then f:close() return true end return false end
  local function mkdir(dir)
    local ok = os.execute("mkdir -p '" .. dir:gsub("'", "'\\''") .. "'")
    if not (ok == true or ok == 0) then fail("cannot create directory " .. dir, 3) end
  end

  local function format_time(seconds)
    if seconds ~= seconds or seconds == math.huge then return "?" end
    seconds = math.floor(seconds + 0.5)
    if seconds < 60 then return seconds .. "s" end
    if seconds < 3600 then return ("%dm%02ds"):format(seconds // 60, seconds % 60) end
    return ("%dh%02dm"):format(seconds // 3600, (seconds % 3600) // 60)
  end

  local function describe(v)
    if v ~= v then return "NaN" end
    if v == math.huge then return "Inf" end
    if v == -math.huge then return "-Inf" end
    return tostring(v)
  end

  -- The data stream: batches in epoch order with its position (epoch, batches taken in it),
  -- so a resumed run continues from the very next batch.
  local Stream = {}
  Stream.__index = Stream

  local function new_stream(loader, epoch, index)
    return setmetatable({ loader = loader, epoch = epoch or 1, index = index or 0 }, Stream)
  end

  function Stream:close()
    if self.iteration then
      local mt = getmetatable(self.iteration)
      if type(mt) == "table" and mt.__close then mt.__close(self.iteration) end
      self.iteration = nil
    end
  end

  function Stream:next()
    for _ = 1, 2 do
      if not self.iteration then
        self.iteration = self.loader:iter(self.epoch)
        for i = 1, self.index do
          if self.iteration() == nil then fail(("resume: epoch %d has fewer than %d batches"):format(self.epoch, i), 3) end
        end
      end
      local batch = self.iteration()
      if batch ~= nil then
        self.index = self.index + 1
        return batch
      end
      self:close()
      if self.index == 0 then fail("the loader yields no batches", 3) end
      self.epoch, self.index = self.epoch + 1, 0
    end
    fail("the loader yields no batches", 3)
  end

  -- Metrics: one row per logged step (window means) and per validation, as CSV or JSONL.
  local Metrics = {}
  Metrics.__index = Metrics

  local function new_metrics(path, format, columns, keep_until)
    local self = setmetatable({ path = path, format = format, columns = columns }, Metrics)
    local kept = {}
    if keep_until and exists(path) then
      local f = io.open(path, "r")
      local first = true
      for line in f:lines() do
        local step
        if format == "csv" then
          if first then first = false else step = tonumber(line:match("^([^,]*)")) end
        else
          step = tonumber(line:match('"step"%s*:%s*(%d+)'))
        end
        if step and step <= keep_until then kept[#kept + 1] = line end
      end
      f:close()
    end
    -- Rewritten in full (header, rows up to the checkpoint), then appended to.
    local f, err = io.open(path, "w")
    if not f then fail("cannot write metrics file " .. path .. ": " .. tostring(err), 4) end
    if format == "csv" then f:write(table.concat(columns, ","), "\n") end
    for _, line in ipairs(kept) do f:write(line, "\n") end
    self.file = f
    f:flush()
    return self
  end

  function Metrics:write(row)
    if self.format == "csv" then
      local cells = {}
      for i, c in ipairs(self.columns) do
        local v = row[c]
        cells[i] = v == nil and "" or (math.type(v) == "integer" and tostring(v) or ("%.8g"):format(v))
      end
      self.file:write(table.concat(cells, ","), "\n")
    else
      local cells = {}
      for _, c in ipairs(self.columns) do
        local v = row[c]
        if v ~= nil then
          local text = math.type(v) == "integer" and tostring(v) or ((v ~= v or v == math.huge or v == -math.huge) and "null" or ("%.8g"):format(v))
          cells[#cells + 1] = ('"%s": %s'):format(c, text)
        end
      end
      self.file:write("{", table.concat(cells, ", "), "}\n")
    end
    self.file:flush()
  end

  function Metrics:close() if self.file then self.file:close(); self.file = nil end end

  --- mpm.train.run{model=, tasks=, loader=, steps=, ...} -> result
  --- Options (defaults): lr (1e-3), weight_decay (1e-5), betas ({0.9, 0.999}), warmup (5% of
  --- steps, at most 50000), half_life (half the steps, at most 100000), lr_floor (1e-3 of lr),
  --- clip (1.0; false for none), ema (decay 0.999, warmed up as min(decay, (1+n)/(10+n)); false
  --- for none), val_loader, val_every (steps/10), val_batches (4), log_every (steps/50),
  --- checkpoint_every (val_every, or steps/5), out (run directory), resume (continue from
  --- out/checkpoint.h5), metrics ("csv" or "jsonl"), plot (true: out/loss.png), backbone (true:
  --- out/backbone.h5 at the end), backbone_extra (fields stored with it), progress ("auto",
  --- "line", "plain", "none"), quiet, on_log (function(row) called at each logged row).
  --- result = {step, first_loss, last_loss, val = {last validation}, elapsed, steps_per_second,
  --- metrics, plot, checkpoint, backbone, ema}.
  function train.run(options)
    local o = check_options(options)
    local model, loader = o.model, o.loader
    if not mpm.nn.is_module(model) then fail("model must be a module (mpm.MPM{...})", 2) end
    local tasks = task_list(o.tasks)
    local params = all_parameters(model, tasks)
    local need_decoded = false
    for _, t in ipairs(tasks) do if t.input == "decoded" then need_decoded = true end end

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

    local out = o.out or nil
    local checkpoint_path = out and path_join(out, "checkpoint.h5") or nil
    if out then mkdir(out) end

    -- Resume.
    local start, stream, elapsed_before = 0, nil, 0
    if o.resume then
      local from = type(o.resume) == "string" and o.resume or checkpoint_path
      if not exists(from) then fail("resume: no checkpoint at " .. from, 2) end
      local ck = mpm.load(from)
      if type(ck) ~= "table" or ck.format ~= "mpm-train-checkpoint" then fail("resume: " .. from .. " is not a training checkpoint", 2) end
      if loader.seed ~= nil and ck.loader_seed ~= nil and ck.loader_seed ~= loader.seed then
        fail(("resume: the loader's seed (%s) differs from the checkpoint's (%s); use the same --seed"):format(
          tostring(loader.seed), tostring(ck.loader_seed)), 2)
      end
      model:load_state_dict(ck.model)
      for _, t in ipairs(tasks) do
        if mpm.nn.is_module(t.task) then
          local sd = ck.tasks and ck.tasks[t.name]
          if sd == nil then fail("resume: the checkpoint has no state for task " .. t.name, 2) end
          t.task:load_state_dict(sd)
        end
      end
      opt:load_state_dict(ck.optim)
      sched:load_state_dict(ck.sched)
      if ema and ck.ema then ema:load_state_dict(ck.ema) end
      generator:set_state(ck.rng)
      start = ck.step
      elapsed_before = ck.elapsed or 0
      stream = new_stream(loader, ck.epoch, ck.batch_index)
    else
      stream = new_stream(loader, 1, 0)
    end
    if start >= steps then
      stream:close()
      return { step = start, elapsed = 0, steps_per_second = 0, checkpoint = checkpoint_path }
    end

    -- Output files.
    local columns = { "step", "epoch", "time", "lr", "grad_norm", "loss" }
    for _, t in ipairs(tasks) do columns[#columns + 1] = "loss_" .. t.name end
    if o.val_loader then
      columns[#columns + 1] = "val_loss"
      for _, t in ipairs(tasks) do columns[#columns + 1] = "val_loss_" .. t.name end
    end
    local metrics_path = out and path_join(out, "metrics." .. o.metrics) or nil
    local metrics = metrics_path and new_metrics(metrics_path, o.metrics, columns, o.resume and start or nil) or nil

    local mode = o.progress
    if mode == "auto" then mode = mpm._mpm.isatty(1) and "line" or "plain" end
    if o.quiet then mode = "none" end
    local say = mode ~= "none" and print or function() end
    local line_open = false
    local function newline_if_needed() if line_open then io.write("\n"); line_open = false end end

    local names = {}
    for _, t in ipairs(tasks) do names[#names + 1] = ("%s (weight %g)"):format(t.name, t.weight) end
    say(("train: %s parameters, tasks %s, steps %d%s, warm-up %d, half-life %d%s"):format(
      tostring(mpm.nn.utils.num_parameters(params)), table.concat(names, ", "), steps,
      start > 0 and (" (resuming after step " .. start .. ")") or "", warmup, half_life,
      out and (", out " .. out) or ""))

    local t0, last_draw = mpm.clock(), 0

    local function save_checkpoint(step)
      if not checkpoint_path then return end
      local task_states = {}
      for _, t in ipairs(tasks) do
        if mpm.nn.is_module(t.task) then task_states[t.name] = t.task:state_dict() end
      end
      mpm.save(checkpoint_path, {
        format = "mpm-train-checkpoint", step = step, epoch = stream.epoch, batch_index = stream.index,
        elapsed = elapsed_before + (mpm.clock() - t0),
        loader_seed = loader.seed, model = model:state_dict(), tasks = task_states,
        optim = opt:state_dict(), sched = sched:state_dict(), ema = ema and ema:state_dict() or nil,
        rng = generator:get_state(),
      })
    end

    local function set_mode(training)
      model:train(training)
      for _, t in ipairs(tasks) do if mpm.nn.is_module(t.task) then t.task:train(training) end end
    end

    local function run_tasks(step, batch)
      local outputs = model(batch, { decode = need_decoded })
      local total, parts = nil, {}
      for _, t in ipairs(tasks) do
        local input = t.input == "encoded" and outputs.encoded or outputs.decoded
        local loss = t.task:loss(input, outputs.target)
        if not mpm.is_tensor(loss) or loss:numel() ~= 1 then
          error(("step %d: task %s returned %s, not a scalar tensor"):format(step, t.name,
            mpm.is_tensor(loss) and ("a tensor of " .. loss:numel() .. " elements") or type(loss)), 0)
        end
        local v = loss:item()
        if v ~= v or v == math.huge or v == -math.huge then
          error(("step %d: loss is %s (task %s)"):format(step, describe(v), t.name), 0)
        end
        parts[t.name] = v
        local weighted = t.weight == 1 and loss or loss * t.weight
        total = total and total + weighted or weighted
      end
      return total, parts
    end

    -- Validation with fixed randomness, leaving the training generator untouched.
    local function validate()
      local saved = generator:get_state()
      generator:manual_seed(20240917)
      set_mode(false)
      local sums, count, total = {}, 0, 0
      local ok, err = pcall(function()
        mpm.no_grad(function()
          local iteration = o.val_loader:iter(1)
          for _ = 1, o.val_batches do
            local batch = iteration()
            if batch == nil then break end
            local loss, parts = run_tasks(0, batch)
            count = count + 1
            total = total + loss:item()
            for name, v in pairs(parts) do sums[name] = (sums[name] or 0) + v end
          end
          local mt = getmetatable(iteration)
          if type(mt) == "table" and mt.__close then mt.__close(iteration) end
        end)
      end)
      set_mode(true)
      generator:set_state(saved)
      if not ok then error(err, 0) end
      if count == 0 then return nil end
      local result = { loss = total / count }
      for name, v in pairs(sums) do result[name] = v / count end
      return result
    end

    t0 = mpm.clock()
    local window = { n = 0, loss = 0, parts = {}, grad = 0 }
    local first_loss, last_loss, last_val, last_grad
    local step = start

    local function row_for(step_now, val)
      local row = { step = step_now, epoch = stream.epoch, time = elapsed_before + mpm.clock() - t0,
        lr = opt.param_groups[1].lr }
      if window.n > 0 then
        row.loss = window.loss / window.n
        row.grad_norm = window.grad / window.n
        for _, t in ipairs(tasks) do
          if window.parts[t.name] then row["loss_" .. t.name] = window.parts[t.name] / window.n end
        end
      end
      if val then
        row.val_loss = val.loss
        for _, t in ipairs(tasks) do row["val_loss_" .. t.name] = val[t.name] end
      end
      return row
    end

    local function progress_text(step_now, row)
      local rate = (step_now - start) / math.max(1e-9, mpm.clock() - t0)
      local parts = {}
      for _, t in ipairs(tasks) do
        local v = row["loss_" .. t.name]
        if v then parts[#parts + 1] = ("%s %.4f"):format(t.name, v) end
      end
      local text = ("step %d/%d | %.2f steps/s | loss %s (%s) | lr %.2e | ETA %s"):format(step_now, steps, rate,
        row.loss and ("%.4f"):format(row.loss) or "-", table.concat(parts, ", "), row.lr,
        format_time((steps - step_now) / math.max(rate, 1e-9)))
      if row.val_loss then text = text .. (" | val %.4f"):format(row.val_loss) end
      return text
    end

    local ok, err = pcall(function()
      while step < steps do
        step = step + 1
        local batch = stream:next()
        opt:zero_grad()
        local total, parts = run_tasks(step, batch)
        total:backward()
        local grad_norm = o.clip and mpm.nn.utils.clip_grad_norm_(params, o.clip) or 0
        if grad_norm ~= grad_norm or grad_norm == math.huge then
          error(("step %d: gradient norm is %s (tasks %s)"):format(step, describe(grad_norm), table.concat(names, ", ")), 0)
        end
        opt:step()
        sched:step()
        if ema then
          ema.decay = math.min(o.ema, (1 + ema.num_updates) / (10 + ema.num_updates))
          ema:update()
        end
        local v = total:item()
        if first_loss == nil then first_loss = v end
        last_loss, last_grad = v, grad_norm
        window.n = window.n + 1
        window.loss = window.loss + v
        window.grad = window.grad + grad_norm
        for name, pv in pairs(parts) do window.parts[name] = (window.parts[name] or 0) + pv end

        local val = nil
        if val_every and (step % val_every == 0 or step == steps) then
          val = validate()
          last_val = val
        end
        local log_now = step % log_every == 0 or step == steps or step == start + 1
        if log_now or val then
          local row = row_for(step, val)
          if metrics then metrics:write(row) end
          if o.on_log then o.on_log(row) end
          local text = progress_text(step, row)
          if mode == "plain" then
            say(text)
          elseif mode == "line" then
            io.write("\r", text, "\27[K")
            io.flush()
            line_open = true
            if val then newline_if_needed() end
          end
          if log_now then window = { n = 0, loss = 0, parts = {}, grad = 0 } end
        elseif mode == "line" and mpm.clock() - last_draw > 0.25 then
          local row = row_for(step, nil)
          io.write("\r", progress_text(step, row), "\27[K")
          io.flush()
          line_open = true
          last_draw = mpm.clock()
        end
        if checkpoint_path and (step % checkpoint_every == 0 or step == steps) then save_checkpoint(step) end
      end
    end)
    newline_if_needed()
    stream:close()
    if metrics then metrics:close() end
    local elapsed = mpm.clock() - t0
    local result = {
      step = step, first_loss = first_loss, last_loss = last_loss, val = last_val, grad_norm = last_grad,
      elapsed = elapsed, steps_per_second = (step - start) / math.max(elapsed, 1e-9),
      metrics = metrics_path, checkpoint = checkpoint_path, ema = ema, optimizer = opt, schedule = sched,
    }
    if out and o.plot and metrics_path then
      result.plot = mpm.plot.loss_curve(metrics_path, path_join(out, "loss.png"))
    end
    if not ok then
      if type(err) == "string" and not err:match("^step %d+:") and not err:match("interrupted") then
        err = ("step %d: %s"):format(step, err)
      end
      say("train: stopped at step " .. step .. (metrics_path and (" (metrics so far: " .. metrics_path .. ")") or ""))
      error(err, 0)
    end
    if out and o.backbone and type(model.save_backbone) == "function" then
      result.backbone = path_join(out, "backbone.h5")
      local extra = {}
      for k, v in pairs(o.backbone_extra or {}) do extra[k] = v end
      extra.steps = step
      model:save_backbone(result.backbone, extra)
    end
    say(("train: %d steps in %s (%.2f steps/s), loss %.4f -> %.4f%s"):format(step - start, format_time(elapsed),
      result.steps_per_second, first_loss or 0 / 0, last_loss or 0 / 0,
      last_val and (", validation %.4f"):format(last_val.loss) or ""))
    return result
  end

  mpm.train = train
end
