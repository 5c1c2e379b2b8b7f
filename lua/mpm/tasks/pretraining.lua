-- mpm.tasks.pretrain: a whole MPM pre-training job from plain options, shared by
-- examples/pretrain.lua and examples/train_cfm.lua. It opens the data, fits (or reuses) the
-- preprocessing, builds the masked loaders, the model and the tasks (built-in by name, or a
-- Lua task file), and runs mpm.train.run, writing everything under `out`.
return function(mpm)
  local tasks = mpm.tasks
  local exists, join = mpm.files.exists, mpm.files.join

  -- The option table of a job, with every default. `pretrain.lua --help` prints the same list.
  tasks.pretrain_options = {
    { "task", "cfm", "string", tasks.names():gsub(", ", " | ") .. ", or a Lua task (a name in examples/tasks/ or a .lua file)" },
    { "no-id", false, "flag", "do not add the particle-ID task (MPMv2 pairs every continuous task with it)" },
    { "data", "data/jetclass_train.h5", "string", "training jets (HDF5, reference schema)" },
    { "val", "", "string", "validation jets (default: --data with train -> val, when it exists; 'none' for no validation)" },
    { "steps", 500, "integer", "training steps" },
    { "batch-size", 48, "integer", "jets per batch" },
    { "lr", 1e-3, "number", "maximum learning rate (AdamW)" },
    { "weight-decay", 1e-5, "number", "AdamW weight decay" },
    { "warmup", 0, "integer", "warm-up steps (0: 5% of the steps)" },
    { "half-life", 0, "integer", "learning-rate half-life in steps after warm-up (0: half the steps)" },
    { "clip", 1.0, "number", "gradient clipping norm (0: none)" },
    { "ema", 0.999, "number", "EMA decay of the weights (0: none)" },
    { "mask", 0.4, "number", "fraction of each jet's particles dropped (tasks with a mask range, ssfm, draw their own)" },
    { "seed", 1, "integer", "seed of the whole run (initialisation, data order, masking, noise)" },
    { "preset", "small", "string", "model size: small (2 CPU cores, minutes), paper (MPMv2), tiny (tests)" },
    { "max-jets", 0, "integer", "use only the first N training jets (0: all)" },
    { "val-jets", 500, "integer", "validation jets" },
    { "val-every", 0, "integer", "validate every N steps (0: 10 times per run)" },
    { "log-every", 0, "integer", "log every N steps (0: 50 times per run)" },
    { "checkpoint-every", 0, "integer", "checkpoint every N steps (0: at each validation)" },
    { "kmeans-k", 0, "integer", "K-means centroids (0: the preset's, 512 for small/tiny, 16384 for paper)" },
    { "tokenizer", "", "string", "trained VQ tokenizer for --task vqvae (default: train one first, see examples/train_vqvae.lua)" },
    { "preprocessing", "", "string", "fitted preprocessing file to reuse (default: fit on the training jets, saved in OUT)" },
    { "metrics", "csv", "string", "metrics file format: csv or jsonl" },
    { "out", "", "string", "run directory for the backbone, checkpoints, metrics and plots (default runs/<task>)" },
    { "resume", false, "flag", "continue the run in OUT from its last checkpoint (a finished run only writes what it lacks)" },
    { "overwrite", false, "flag", "replace a run already in OUT (without it, or --resume, that is an error)" },
    { "quiet", false, "flag", "no progress output" },
  }

  -- Where a Lua task named `name` lives.
  local function task_file(name)
    if name:match("%.lua$") then
      if exists(name) then return name end
      error(("--task: no such file %s"):format(name), 0)
    end
    local script_dir = arg and arg[0] and mpm.files.dirname(arg[0]) or "."
    for _, candidate in ipairs({ join(script_dir, "tasks/" .. name .. ".lua"), "examples/tasks/" .. name .. ".lua" }) do
      if exists(candidate) then return candidate end
    end
    error(("--task: unknown task '%s' (built-in: %s; or a Lua task file in examples/tasks/)"):format(name,
      tasks.names()), 0)
  end

  -- A Lua task file returns a function(model, options) -> task (or a task class taking
  -- {input_dim = decoder_dim}).
  local function lua_task(path, model, options)
    local chunk, err = loadfile(path)
    if not chunk then error("--task: " .. tostring(err), 0) end
    local made = chunk()
    local task
    if type(made) == "function" then
      task = made(model, options)
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

  --- mpm.tasks.build_run_tasks(model, record, dir) -> tasks: the tasks of a run record (what
  --- pretrain saves as DIR/run.h5), with centroids and tokenizer read from DIR.
  function tasks.build_run_tasks(model, record, dir)
    local kind, list = record.task, {}
    local entry = tasks.catalogue_entry(kind)
    if entry then
      local options = {}
      if kind == "kmeans" then
        options.centroids = mpm.load(join(dir, "centroids.h5")).centroids
      elseif kind == "vqvae" then
        options.tokenizer = tasks.VQTokenizer.load(record.tokenizer or join(dir, "tokenizer.h5")).core
      elseif kind == "ssfm" then
        options = assert(tasks.preset(record.preset)).ssfm
      end
      list[1] = tasks.make(kind, model, options)
    else
      list[1] = lua_task(record.task_file or task_file(kind), model, record)
    end
    if record.with_id and (entry == nil or entry.pairs_with_id) then list[#list + 1] = tasks.make("id", model) end
    return list
  end

  --- mpm.tasks.load_run(dir [, {ema=true}]) -> model, tasks, preprocessing, record: a
  --- pre-training run (DIR/run.h5 and DIR/checkpoint.h5) rebuilt for evaluation, with the EMA
  --- weights (what MPMv2 samples with) unless ema = false. Modules are in eval mode.
  function tasks.load_run(dir, options)
    options = options or {}
    local record_path, checkpoint_path = join(dir, "run.h5"), join(dir, "checkpoint.h5")
    if not exists(record_path) or not exists(checkpoint_path) then
      error(("load_run: %s has no run.h5 and checkpoint.h5 (train one with examples/pretrain.lua --out %s)"):format(dir, dir), 2)
    end
    local record = mpm.load(record_path)
    local ck = mpm.load(checkpoint_path)
    local model = mpm.MPM { preset = record.preset }
    local list = tasks.build_run_tasks(model, record, dir)
    model:load_state_dict(ck.model)
    for i, t in ipairs(list) do
      local name = t.name or ("task" .. i)
      if mpm.nn.is_module(t) and ck.tasks[name] then t:load_state_dict(ck.tasks[name]) end
    end
    if options.ema ~= false and ck.ema then
      local params = mpm.train.parameters(model, list)
      local averages = ck.ema.averages
      mpm.no_grad(function()
        for i, p in ipairs(params) do p:copy_(averages[i]) end
      end)
    end
    model:eval()
    for _, t in ipairs(list) do if mpm.nn.is_module(t) then t:eval() end end
    local pre = mpm.data.load_preprocessing(record.preprocessing)
    return model, list, pre, record
  end

  local run_job -- the job itself, run while the run directory is claimed

  --- mpm.tasks.pretrain(options) -> result, model, task list: runs a pre-training job.
  --- options: the keys of mpm.tasks.pretrain_options with underscores (batch_size, no_id, ...).
  function tasks.pretrain(options)
    local defaults = {}
    for _, s in ipairs(tasks.pretrain_options) do defaults[(s[1]:gsub("-", "_"))] = s[2] end
    local o = mpm.check_options("pretrain", options, defaults, 2)
    local kind = o.task
    local entry = tasks.catalogue_entry(kind)
    local preset, why = tasks.preset(o.preset)
    if not preset then error("--preset: " .. why, 0) end
    if o.metrics ~= "csv" and o.metrics ~= "jsonl" then error("--metrics must be csv or jsonl", 0) end
    local out = o.out ~= "" and o.out or ("runs/" .. (kind:match("([^/]+)%.lua$") or kind))
    -- Under mpirun only rank 0 claims and writes OUT; the others read what it wrote.
    if not mpm.distributed.is_main() then return run_job(o, kind, entry, preset, out) end
    -- The whole job holds the run directory: it writes preprocessing, centroids and the run
    -- record before the trainer starts.
    return mpm.train.claim(out, function()
      mpm.train.check_fresh(out, o)
      return run_job(o, kind, entry, preset, out)
    end)
  end

  function run_job(o, kind, entry, preset, out)
    local dist = mpm.distributed
    local main, ranks = dist.is_main(), dist.size()
    local say = (o.quiet or not main) and function() end or print
    local record_path = join(out, "run.h5")
    if o.resume and exists(record_path) then
      local previous = mpm.load(record_path)
      if previous.task ~= kind then
        error(("--resume: %s holds a '%s' run, not '%s' (resume it with --task %s)"):format(out,
          tostring(previous.task), kind, tostring(previous.task)), 0)
      end
    end

    mpm.manual_seed(o.seed)
    local ds = mpm.data.open(o.data)
    -- Preprocessing: reused when given or already in the run directory (resume), else fitted.
    local pre_path = o.preprocessing ~= "" and o.preprocessing or join(out, "preprocessing.h5")
    local pre
    if not main then
      -- rank 0 fits or reads it first (below); every rank then reads the same file
    elseif exists(pre_path) then
      pre = mpm.data.load_preprocessing(pre_path)
    else
      if o.resume then error("--resume: " .. pre_path .. " is missing", 0) end
      pre = ds:fit_preprocessing { jets = math.min(#ds, 2000) }
      pre:save(pre_path)
    end
    if ranks > 1 then
      dist.barrier()
      pre = mpm.data.load_preprocessing(pre_path)
    end

    local max_jets = o.max_jets > 0 and o.max_jets or nil
    local mask = entry and entry.mask_range or o.mask
    if o.batch_size % ranks ~= 0 then
      error(("--batch-size %d must be divisible by the %d ranks (each takes an equal part of every batch)"):format(
        o.batch_size, ranks), 0)
    end
    local loader = ds:loader { batch_size = o.batch_size, shuffle = true, seed = o.seed, preprocessing = pre,
      mask = mask, drop_last = true, max_jets = max_jets,
      shard = ranks > 1 and { rank = dist.rank(), size = ranks } or nil }
    local val_loader
    local val_path = o.val
    if val_path == "" then
      local guess = o.data:gsub("train", "val")
      val_path = (guess ~= o.data and exists(guess)) and guess or "none"
    end
    if val_path ~= "none" then
      local vds = mpm.data.open(val_path)
      val_loader = vds:loader { batch_size = o.batch_size, shuffle = false, seed = o.seed + 1, preprocessing = pre,
        mask = mask, max_jets = math.min(#vds, o.val_jets) }
    end

    local model = mpm.MPM { preset = o.preset }
    local list, record = nil, nil
    if not main then
      -- centroids and tokenizer come from rank 0 (the barrier below)
    elseif kind == "kmeans" and not exists(join(out, "centroids.h5")) then
      local k = o.kmeans_k > 0 and o.kmeans_k or preset.kmeans_k
      local jets = math.min(#ds, max_jets or #ds)
      local b = pre:transform(ds:read(1, jets), o.seed)
      say(("kmeans: fitting %d centroids to %d particles"):format(k, b.features:size(1)))
      mpm.save(join(out, "centroids.h5"), { centroids = mpm.kmeans.fit(b.features, { k = k, seed = o.seed }) })
    elseif kind == "vqvae" and o.tokenizer == "" and not exists(join(out, "tokenizer.h5")) then
      say("vqvae: no --tokenizer given; training one first (" .. join(out, "tokenizer.h5") .. ")")
      local tok = tasks.VQTokenizer.fit(loader, { steps = math.max(200, o.steps // 2), preset = o.preset, quiet = o.quiet })
      tok:save(join(out, "tokenizer.h5"))
      mpm.manual_seed(o.seed)
      model = mpm.MPM { preset = o.preset }
    elseif kind == "vqvae" and o.tokenizer ~= "" and not exists(o.tokenizer) then
      error("--tokenizer: no such file " .. o.tokenizer, 0)
    end
    record = { format = "mpm-run", task = kind, preset = o.preset, with_id = not o.no_id, seed = o.seed,
      task_file = (entry == nil) and task_file(kind) or nil, tokenizer = o.tokenizer ~= "" and o.tokenizer or nil,
      preprocessing = pre_path, data = o.data }
    if ranks > 1 then dist.barrier() end
    list = tasks.build_run_tasks(model, record, out)
    if main then mpm.save(join(out, "run.h5"), record) end

    local result = mpm.train.run {
      model = model, tasks = list, loader = loader, val_loader = val_loader, steps = o.steps, lr = o.lr,
      weight_decay = o.weight_decay, warmup = o.warmup > 0 and o.warmup or nil,
      half_life = o.half_life > 0 and o.half_life or nil, clip = o.clip > 0 and o.clip or false,
      ema = o.ema > 0 and o.ema or false, val_every = o.val_every > 0 and o.val_every or nil,
      log_every = o.log_every > 0 and o.log_every or nil,
      checkpoint_every = o.checkpoint_every > 0 and o.checkpoint_every or nil, out = out, resume = o.resume,
      overwrite = true, -- the job checked OUT before writing its record there
      metrics = o.metrics, quiet = o.quiet,
      backbone_extra = { task = kind, preprocessing = pre_path, data = o.data, seed = o.seed, preset = o.preset },
    }
    return result, model, list, { preprocessing = pre, loader = loader, val_loader = val_loader, out = out }
  end
end
