-- mpm.downstream: what the protocol scripts (examples/jetclass.lua, cwola.lua, btag.lua) share:
-- a backbone from a file, a random init or none; one classification run that fine-tunes,
-- predicts the test set and writes result.json and predictions.h5; a sweep over a grid of runs
-- that resumes (a run with a result.json is not redone) and writes one CSV; and the sweep plot
-- (a metric against a size, mean and spread over seeds, one line per backbone).
return function(mpm)
  local files = mpm.files
  local downstream = {}


  --- mpm.downstream.backbone(spec [, {preset="small"}]) -> backbone or false, record: spec is a
  --- backbone file (mpm.load_backbone), "random" (a fresh encoder of the preset) or "none".
  --- record = {kind = "file" | "random" | "none", path=, dim=, preprocessing= (a path or nil), task=}.
  function downstream.backbone(spec, options)
    local o = mpm.check_options("downstream.backbone", options, { preset = "small" }, 2)
    if spec == "none" then return false, { kind = "none", dim = 15 } end
    if spec == "random" then
      local preset = assert(mpm.tasks.preset(o.preset))
      local model = mpm.MPM(preset.model)
      return model:backbone(), { kind = "random", dim = preset.model.encoder_dim, preset = o.preset }
    end
    if not files.exists(spec) then error(("--backbone: no such file %s (a backbone.h5, 'random' or 'none')"):format(spec), 0) end
    local bb, record = mpm.load_backbone(spec)
    return bb, { kind = "file", path = spec, dim = record.config.encoder_dim, preprocessing = record.preprocessing, task = record.task,
      preset = record.preset }
  end

  --- mpm.downstream.preprocessing(record, data, out [, path]) -> pre, path: the backbone's fitted
  --- preprocessing (so its inputs look as in pre-training), the one at `path` when given, or for
  --- random init and no backbone one fitted on the training file and saved in out.
  function downstream.preprocessing(record, data, out, path)
    path = path ~= "" and path or record.preprocessing
    if path then
      if not files.exists(path) then error("preprocessing: no such file " .. path, 0) end
      return mpm.data.load_preprocessing(path), path
    end
    local saved = files.join(out, "preprocessing.h5")
    if files.exists(saved) then return mpm.data.load_preprocessing(saved), saved end
    local ds = mpm.data.open(data)
    local pre = ds:fit_preprocessing { jets = math.min(#ds, 2000) }
    pre:save(saved)
    return pre, saved
  end

  -- The metrics of test-set predictions: accuracy and balanced accuracy for several classes;
  -- for one logit (binary) also the ROC AUC, the SIC at fpr 1e-2 and the rejection at 50%.
  local function score(scores, labels, classes)
    local m = mpm.metrics
    if scores:size(2) == 1 then
      local s, truth = scores:reshape(-1), labels - 1
      local sic, tpr, fpr = m.sic(s, truth, { fpr = 0.01 })
      return { auc = m.roc_auc(s, truth), sic = sic, sic_tpr = tpr, sic_fpr = fpr,
        rejection_50 = m.rejection(s, truth, { efficiency = 0.5 }), accuracy = m.accuracy(s:gt(0.5):long() + 1, labels) }
    end
    return { accuracy = m.accuracy(scores, labels), balanced_accuracy = m.balanced_accuracy(scores, labels),
      confusion_matrix = m.confusion_matrix(scores, labels, classes) }
  end

  local run_defaults = {
    backbone = "required", out = "required", train = "required", val = "required", test = "required",
    classes = false, class_names = false, task = false, mode = "finetune", preset = "small", preprocessing = "",
    train_jets = 1000, val_jets = 500, test_jets = 0, seed = 1, steps = 200, batch_size = 100, lr = 0,
    loss = "cross_entropy", patience = 5, keep_best = true, quiet = false, protocol = "classification",
    fit_data = false, extra = false,
  }

  -- The classification task of downstream.classify: a class-attention head on the backbone's
  -- output with registers; the test set's class scores in predictions.h5.
  local function classification(o)
    if math.type(o.classes) ~= "integer" or o.classes < 1 then
      error("downstream.classify: option 'classes' is required (a positive integer)", 0)
    end
    return {
      head = function(dim) return mpm.nn.ClassAttentionClassifier(dim, o.classes) end,
      evaluate = function(fit, test_loader, test_ds)
        local scores, labels, indices = mpm.finetune.predict(fit.predict, test_loader)
        mpm.finetune.save_predictions(files.join(o.out, "predictions.h5"), scores, labels,
          { jet_indices = indices, classes = o.class_names or nil, file = test_ds.path })
        return score(scores, labels, math.max(o.classes, 2)), scores:size(1)
      end,
    }
  end

  --- mpm.downstream.read_result(path) -> the table of a run's result.json.
  function downstream.read_result(path)
    local f = assert(io.open(path))
    local done = mpm.json.decode(f:read("a"))
    f:close()
    return done
  end

  --- mpm.downstream.classify{backbone=, out=, train=, val=, test=, classes=, ...} -> result
  --- One run: train, val and test are jet files (or already opened datasets) whose labels are
  --- 1..classes (classes = 1: one logit, labels 1 = background, 2 = signal); the head is
  --- mpm.nn.ClassAttentionClassifier; train_jets (the first N of the training file), val_jets,
  --- test_jets (0: all), seed, steps, batch_size, lr (0: 1e-3 for random init and no backbone,
  --- 3e-4 for a pre-trained one), mode, patience (false: none), keep_best, loss ("cross_entropy"
  --- or "bce"), fit_data (the file a preprocessing is fitted on for random init and none).
  --- Writes out/result.json (metrics by name, options, backbone, times) and out/predictions.h5.
  --- A run whose out/result.json exists is read back, not redone.
  --- task = {head = function(dim, record) -> module, input = "set" | "particles", loss =
  --- function(logits, batch) -> loss, accuracy = function(logits, batch) -> correct, count,
  --- evaluate = function(fit, test_loader, test_ds, record) -> metrics, test_jets, prepare =
  --- function(train_loader) called before the head is made (optional)} replaces the
  --- classification (head, loss, validation accuracy, test metrics and prediction files) by
  --- another fine-tuning task on the same run (examples/vertexing.lua, tracks.lua); classes is
  --- then not needed.
  function downstream.classify(options)
    local o = mpm.check_options("downstream.classify", options, run_defaults, 2)
    local result_path = files.join(o.out, "result.json")
    if files.exists(result_path) then return downstream.read_result(result_path), true end
    local task = o.task or classification(o)
    local t0 = mpm.clock()
    files.mkdir(o.out)
    mpm.manual_seed(o.seed)
    local backbone, record = downstream.backbone(o.backbone, { preset = o.preset })
    if o.mode == "frozen" and not backbone then error("--mode frozen needs a pre-trained backbone", 0) end
    local mode = (record.kind == "file") and o.mode or "full"
    local function open(v) return type(v) == "string" and mpm.data.open(v) or v end
    local train_ds, val_ds, test_ds = open(o.train), open(o.val), open(o.test)
    if o.train_jets > #train_ds then
      error(("--train-jets %d: %s has only %d jets"):format(o.train_jets, train_ds.path, #train_ds), 0)
    end
    local pre, pre_path = downstream.preprocessing(record, o.fit_data or train_ds.path, o.out, o.preprocessing)
    local loader = train_ds:loader { batch_size = math.min(o.batch_size, o.train_jets), shuffle = true, seed = o.seed,
      preprocessing = pre, max_jets = o.train_jets, drop_last = true }
    local val_loader = val_ds:loader { batch_size = 250, seed = o.seed + 1, preprocessing = pre,
      max_jets = math.min(#val_ds, o.val_jets) }
    local test_loader = test_ds:loader { batch_size = 250, seed = o.seed + 2, preprocessing = pre,
      max_jets = o.test_jets > 0 and math.min(#test_ds, o.test_jets) or nil }
    if task.prepare then task.prepare(loader) end
    local head = task.head(record.dim, record)
    local lr = o.lr > 0 and o.lr or (record.kind == "file" and 3e-4 or 1e-3)
    local fit = mpm.finetune.run { backbone = backbone, head = head, mode = mode, loader = loader,
      val_loader = val_loader, steps = o.steps, lr = lr, loss = task.loss or o.loss, patience = o.patience,
      keep_best = o.keep_best, out = files.join(o.out, "train"), overwrite = true, quiet = o.quiet,
      input = task.input, accuracy = task.accuracy }
    local t_train = mpm.clock() - t0
    local metrics, test_jets = task.evaluate(fit, test_loader, test_ds, record)
    local result = {
      protocol = o.protocol, metrics = metrics,
      backbone = { spec = o.backbone, kind = record.kind, task = record.task, preset = record.preset or o.preset,
        preprocessing = pre_path },
      options = { mode = mode, train_jets = o.train_jets, val_jets = o.val_jets, test_jets = test_jets,
        seed = o.seed, steps = o.steps, batch_size = o.batch_size, lr = lr,
        loss = type(task.loss) == "string" and task.loss or (task.loss and "task" or o.loss), patience = o.patience,
        train = train_ds.path, val = val_ds.path, test = test_ds.path },
      training = { steps = fit.step, best_step = fit.best and fit.best.step, best_val_loss = fit.best and fit.best.loss,
        best_val_accuracy = fit.best and fit.best.accuracy, stopped_early = fit.stopped_early },
      times = { train_seconds = t_train, total_seconds = mpm.clock() - t0 },
      extra = o.extra or nil,
    }
    files.write(result_path, mpm.json.encode(result))
    return result, false
  end

  --- mpm.downstream.sweep{runs=, csv=, columns=, run=, quiet=} -> rows: calls run(r) for each
  --- entry of runs (tables with at least `out`), skipping finished ones (run reads their
  --- result.json back), and rewrites the CSV after every run with one row per finished run:
  --- the `columns` picked from each {run = r, result = result} by column -> function(entry).
  --- Under mpirun the runs are dealt out over the ranks (run i to rank (i - 1) % size); then
  --- rank 0 reads every result.json back and writes the CSV, and returns the rows (the other
  --- ranks return an empty list).
  function downstream.sweep(o)
    local dist = mpm.distributed
    if dist.size() > 1 then
      for i, r in ipairs(o.runs) do
        if (i - 1) % dist.size() == dist.rank() then o.run(r) end
      end
      dist.barrier()
      if not dist.is_main() then return {} end
    end
    local rows = {}
    local function write_csv()
      local lines = { table.concat(o.columns.names, ",") }
      for _, row in ipairs(rows) do
        local cells = {}
        for i, name in ipairs(o.columns.names) do
          local v = row[name]
          cells[i] = v == nil and "" or (math.type(v) == "float" and ("%.6g"):format(v) or tostring(v))
        end
        lines[#lines + 1] = table.concat(cells, ",")
      end
      files.write(o.csv, table.concat(lines, "\n") .. "\n")
    end
    for i, r in ipairs(o.runs) do
      local t0 = mpm.clock()
      local result, reused = o.run(r)
      local row = {}
      for _, name in ipairs(o.columns.names) do row[name] = o.columns[name]({ run = r, result = result }) end
      rows[#rows + 1] = row
      write_csv()
      if not o.quiet then
        print(("sweep %d/%d: %s %s (%s)"):format(i, #o.runs, r.label or r.out,
          o.columns.summary and o.columns.summary({ run = r, result = result }) or "",
          reused and "done before" or ("%.0f s"):format(mpm.clock() - t0)))
      end
    end
    return rows
  end

  --- mpm.downstream.plot_sweep{rows=, x=, y=, group=, path=, xlabel=, ylabel=, title=, logx=true,
  --- baseline=} -> path or nil, message: y against x with one line per group (mean over the rows
  --- sharing x, error bars = standard deviation over seeds); the baseline group (random init) is
  --- drawn dashed.
  function downstream.plot_sweep(o)
    local groups, order = {}, {}
    for _, row in ipairs(o.rows) do
      local g = row[o.group]
      if not groups[g] then groups[g] = {}; order[#order + 1] = g end
      local x = row[o.x]
      groups[g][x] = groups[g][x] or {}
      table.insert(groups[g][x], row[o.y])
    end
    local series = {}
    for _, g in ipairs(order) do
      local xs = {}
      for x in pairs(groups[g]) do xs[#xs + 1] = x end
      table.sort(xs)
      local s = { x = {}, y = {}, yerr = {}, title = tostring(g) }
      for _, x in ipairs(xs) do
        local values, sum = groups[g][x], 0
        for _, v in ipairs(values) do sum = sum + v end
        local mean, var = sum / #values, 0
        for _, v in ipairs(values) do var = var + (v - mean) ^ 2 end
        s.x[#s.x + 1], s.y[#s.y + 1] = x, mean
        s.yerr[#s.yerr + 1] = #values > 1 and math.sqrt(var / (#values - 1)) or 0
      end
      if g == o.baseline then s.style = "yerrorlines dt 2" end
      series[#series + 1] = s
    end
    return mpm.plot.lines { path = o.path, series = series, title = o.title, xlabel = o.xlabel, ylabel = o.ylabel,
      logx = o.logx ~= false, key = "outside right top" }
  end

  --- mpm.downstream.list(text [, convert]) -> list: "a,b,c" split at commas (tonumber with
  --- convert = "number").
  function downstream.list(text, convert)
    local out = {}
    for item in tostring(text):gmatch("[^,]+") do
      item = item:match("^%s*(.-)%s*$")
      if convert == "number" then
        local v = math.tointeger(tonumber(item)) or tonumber(item)
        if v == nil then error(("expected a list of numbers, got '%s'"):format(text), 0) end
        item = v
      end
      out[#out + 1] = item
    end
    return out
  end

  local function name_of(backbone)
    return (backbone == "random" or backbone == "none") and backbone or (backbone:match("([^/]+)/[^/]+$") or backbone)
  end

  --- mpm.downstream.protocol(p, args) -> result or rows: the command line of a protocol script
  --- (examples/jetclass.lua, btag.lua, cwola.lua): one run, or with --sweep the grid backbones x
  --- sizes x seeds, a CSV and the figure. p = {name=, synopsis=, defaults = {option = value},
  --- classes=, class_names=, run = function(o, r) -> classify options (data files, ...),
  --- size = {option=, column=, label=}, metric = {name=, label=}, figure=, title=, note=,
  --- options = extra command-line entries {name, default, type, help}, curves=}.
  --- curves = list of {name=, x=, y=, xlabel=, ylabel=, figure=, title=}: metrics that are
  --- curves rather than one number (result.metrics[name] = list of points {[x]=, [y]=, ...},
  --- e.g. ARI per number of vertices); each gets a figure (y against x, one line per backbone,
  --- spread over seeds) for one run and for the sweep, and the sweep writes their points to
  --- OUT/curves.csv (backbone, size, seed, curve, x, y).
  function downstream.protocol(p, args)
    -- Default data paths are the bundled files: found from the working directory, else
    -- beside the script's examples/ folder, so a script runs from any directory.
    local d, root = {}, files.dirname(files.dirname(args and args[0] or "."))
    for k, v in pairs(p.defaults) do
      if type(v) == "string" and v:match("%.h5$") and not files.kind(v) and files.kind(files.join(root, v)) then
        v = files.join(root, v)
      end
      d[k] = v
    end
    local spec = {
      { "backbone", "random", "string", "a backbone.h5, 'random' or 'none'" },
      { "mode", "finetune", "string", "finetune (frozen, then caught up) or frozen (pre-trained backbones only)" },
      { p.size.option, d[p.size.option], "integer", p.size.help },
      { "seed", 1, "integer", "seed (head init, data order)" },
      { "steps", d.steps or 100, "integer", "training steps" .. (d.patience == false and "" or " (early stopping may end sooner)") },
      { "batch-size", 64, "integer", "jets per batch" },
      { "lr", 0, "number", "learning rate (0: 3e-4 for a pre-trained backbone, 1e-3 for random and none)" },
      { "preset", "small", "string", "encoder size for --backbone random" },
      { "preprocessing", "", "string", "fitted preprocessing (default: the backbone's; for random/none one fitted on " .. d.fit .. ")" },
      { "data", d.data, "string", "training jets" },
      { "val", d.val, "string", "validation jets" },
      { "val-jets", 300, "integer", "validation jets" },
      { "test", d.test, "string", "test jets (the metrics)" },
      { "out", "runs/" .. p.name, "string", "output directory" },
      { "sweep", false, "flag", "run the sweep (backbones x sizes x seeds) instead of one run" },
      { "backbones", "random", "string", "sweep: comma-separated backbones (files, random, none)" },
      { "sizes", d.sizes, "string", "sweep: values of --" .. p.size.option },
      { "seeds", "1,2,3", "string", "sweep: seeds" },
      { "quiet", false, "flag", "no progress output" },
    }
    for _, entry in ipairs(p.options or {}) do spec[#spec + 1] = entry end
    local o = mpm.tasks.cli.options(args, spec, p.synopsis)
    if o == nil then return end
    local size_key = p.size.option:gsub("-", "_")
    if p.note then
      local message = p.note(o)
      if message then print(p.name .. ": " .. message) end
    end
    local function run(r)
      local c = { backbone = r.backbone, out = r.out, train = o.data, val = o.val, test = o.test, classes = p.classes,
        class_names = p.class_names, mode = o.mode, preset = o.preset, preprocessing = o.preprocessing,
        train_jets = r.train_jets, val_jets = o.val_jets, seed = r.seed, steps = o.steps, batch_size = o.batch_size,
        lr = o.lr, quiet = o.quiet or o.sweep, protocol = p.name, fit_data = d.fit }
      for k, v in pairs(p.run(o, r)) do c[k] = v end
      return downstream.classify(c)
    end
    local metric = p.metric.name
    -- The curve metrics of finished runs as rows {backbone, size, seed, x, y}, and their figures.
    local function curve_rows(entries, curve)
      local rows = {}
      for _, e in ipairs(entries) do
        for _, point in ipairs(e.result.metrics[curve.name] or {}) do
          if point[curve.y] ~= nil then
            rows[#rows + 1] = { backbone = name_of(e.run.backbone), size = e.run[size_key], seed = e.run.seed,
              x = point[curve.x], y = point[curve.y] }
          end
        end
      end
      return rows
    end
    local function plot_curves(entries)
      local written = {}
      for _, curve in ipairs(p.curves or {}) do
        local png = downstream.plot_sweep { rows = curve_rows(entries, curve), x = "x", y = "y", group = "backbone",
          baseline = "random", path = files.join(o.out, curve.figure), xlabel = curve.xlabel, ylabel = curve.ylabel,
          title = curve.title, logx = false }
        if png then written[#written + 1] = png end
      end
      return written
    end
    if not o.sweep then
      local r = { backbone = o.backbone, out = o.out, seed = o.seed, train_jets = o.train_jets }
      r[size_key] = o[size_key]
      local result, reused = run(r)
      print(("%s: %s %.4f on %d test jets (%s, %s %d)%s; %s"):format(p.name, metric, result.metrics[metric],
        result.options.test_jets, name_of(o.backbone), p.size.column, o[size_key],
        reused and ", from an earlier run" or "", files.join(o.out, "result.json")))
      local pngs = plot_curves { { run = r, result = result } }
      if #pngs > 0 and not o.quiet then print(p.name .. ": " .. table.concat(pngs, ", ")) end
      return result
    end
    local runs = {}
    for _, backbone in ipairs(downstream.list(o.backbones)) do
      for _, size in ipairs(downstream.list(o.sizes, "number")) do
        for _, seed in ipairs(downstream.list(o.seeds, "number")) do
          local label = ("%s_n%d_s%d"):format(name_of(backbone):gsub("[^%w]", "_"), size, seed)
          local r = { backbone = backbone, seed = seed, label = label, out = files.join(o.out, label),
            train_jets = o.train_jets }
          r[size_key] = size
          runs[#runs + 1] = r
        end
      end
    end
    local extra_metrics = p.metric.extra or {}
    local columns = { names = { "backbone", p.size.column, "seed", metric }, summary = function(e)
      return ("%s %.4f"):format(metric, e.result.metrics[metric])
    end }
    for _, m in ipairs(extra_metrics) do columns.names[#columns.names + 1] = m end
    for _, n in ipairs { "steps", "seconds" } do columns.names[#columns.names + 1] = n end
    columns.backbone = function(e) return name_of(e.run.backbone) end
    columns[p.size.column] = function(e) return e.run[size_key] end
    columns.seed = function(e) return e.run.seed end
    for _, m in ipairs { metric, table.unpack(extra_metrics) } do columns[m] = function(e) return e.result.metrics[m] end end
    columns.steps = function(e) return e.result.training.steps end
    columns.seconds = function(e) return e.result.times.total_seconds end
    files.mkdir(o.out)
    local rows = downstream.sweep { runs = runs, run = run, csv = files.join(o.out, "sweep.csv"), columns = columns,
      quiet = o.quiet }
    if not mpm.distributed.is_main() then return rows end
    local png = p.figure and downstream.plot_sweep { rows = rows, x = p.size.column, y = metric, group = "backbone", baseline = "random",
      path = files.join(o.out, p.figure), xlabel = p.size.label, ylabel = p.metric.label, title = p.title }
    local entries = {}
    for i, r in ipairs(runs) do entries[i] = { run = r, result = downstream.read_result(files.join(r.out, "result.json")) } end
    if p.curves then
      local lines = { "backbone," .. p.size.column .. ",seed,curve,x,y" }
      for _, curve in ipairs(p.curves) do
        for _, c in ipairs(curve_rows(entries, curve)) do
          lines[#lines + 1] = ("%s,%s,%s,%s,%s,%.6g"):format(c.backbone, c.size, c.seed, curve.name .. "." .. curve.y, c.x, c.y)
        end
      end
      files.write(files.join(o.out, "curves.csv"), table.concat(lines, "\n") .. "\n")
    end
    local pngs = plot_curves(entries)
    if png then table.insert(pngs, 1, png) end
    print(("%s sweep: %d runs; %s%s"):format(p.name, #rows, files.join(o.out, "sweep.csv"),
      #pngs > 0 and (", " .. table.concat(pngs, ", ")) or ""))
    return rows
  end

  mpm.downstream = downstream
end
